/**
 * The platform's client for a CA's certificate query interface (docs/platform.md, protocol):
 * a CMS SignedData over `{ ca, serials, nonce, at }` signed by the platform's identity is POSTed
 * to the CA's `endpoints.query`; the answer must be a SignedData by the CA's registered
 * platform-access certificate (only that one counts, whatever the SignedData carries) over
 * `{ ca, nonce, at, certificates: [...] }` with our nonce and a time within the replay window.
 * Every failure is a QueryFailure in plain words.
 */
import { randomBytes } from 'node:crypto';
import { ParseError, SignedDataDoc, serialFromHex, serialToHex, verifyCms, type Certificate } from '@health-pki/pki';
import { boundedFetch, FetchFailure } from './fetch.js';
import { MAX_QUERY_SERIALS, QUERY_WINDOW_MS, type QueryEntry, type QueryStatus } from '../query-protocol.js';

export { MAX_QUERY_SERIALS, QUERY_WINDOW_MS, type QueryEntry, type QueryStatus } from '../query-protocol.js';

/** Largest answer accepted: 100 certificates of a few KB each, plus the signature. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/** The checked answer. */
export interface QueryAnswer {
  ca: string;
  nonce: string;
  at: string;
  certificates: QueryEntry[];
}

/** A query that failed: unreachable CA, refusal, bad signature, malformed answer. */
export class QueryFailure extends Error {}

/** Signs the platform's queries (the trust list's identity). */
export interface QuerySigner {
  signContent(content: Buffer, at: Date): Promise<Buffer>;
}

/** What one query needs. */
export interface QueryRequest {
  /** The CA's query interface URL. */
  url: string;
  /** The CA's name as registered on the platform. */
  ca: string;
  serials: string[];
  /** The CA's registered platform-access certificate: the answer must be signed by it. */
  accessCertificate: Certificate;
  signer: QuerySigner;
  timeoutMs?: number;
  clock?: () => Date;
}

/** A serial in the protocol's form: lower-case hex of the INTEGER's bytes, as the CA service and pki's serialHex write it. */
export function normalizeSerial(serial: string): string {
  const clean = serial.trim().replace(/^0x/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(clean)) return clean;
  // Positive, as RFC 5280 wants serials: a first byte with the top bit set gets its 00 back.
  return serialToHex(serialFromHex(clean));
}

const HEX = /^[0-9a-f]{1,64}$/;
const STATUSES: readonly QueryStatus[] = ['good', 'revoked', 'unknown'];

/** Asks the CA about `serials` and returns its verified answer. */
export async function queryCertificates(q: QueryRequest): Promise<QueryAnswer> {
  const clock = q.clock ?? (() => new Date());
  const serials = q.serials.map(normalizeSerial);
  if (serials.length === 0 || serials.length > MAX_QUERY_SERIALS) throw new QueryFailure(`a query asks about 1 to ${MAX_QUERY_SERIALS} serials`);
  const nonce = randomBytes(16).toString('hex');
  const at = clock();
  const der = await q.signer.signContent(Buffer.from(JSON.stringify({ ca: q.ca, serials, nonce, at: at.toISOString() }), 'utf8'), at);
  let res;
  try {
    res = await boundedFetch(q.url, { method: 'POST', body: der, contentType: 'application/cms', accept: 'application/cms', maxBytes: MAX_ANSWER_BYTES, timeoutMs: q.timeoutMs });
  } catch (e) {
    if (e instanceof FetchFailure) throw new QueryFailure(e.message);
    throw e;
  }
  if (res.status !== 200) {
    const said = res.contentType.includes('json') ? ` (${res.body.toString('utf8').slice(0, 300)})` : '';
    throw new QueryFailure(`the query interface answered HTTP ${res.status}${said}`);
  }
  let doc: SignedDataDoc;
  try {
    doc = SignedDataDoc.parse(res.body);
  } catch (e) {
    throw new QueryFailure(`the answer is not a CMS SignedData${e instanceof Error ? `: ${e.message}` : ''}`);
  }
  let verdict: ReturnType<typeof verifyCms>;
  try {
    verdict = verifyCms(doc, { certificates: [q.accessCertificate] });
  } catch (e) {
    if (e instanceof ParseError) throw new QueryFailure(`the answer's signature cannot be read: ${e.message}`);
    throw e;
  }
  // A forger may put a certificate of its own in the SignedData: only the registered one counts.
  if (verdict.signers.length !== 1 || !verdict.valid || !verdict.signerCertificate?.der.equals(q.accessCertificate.der)) {
    throw new QueryFailure(`the answer is not signed by the CA's registered platform-access certificate${verdict.error ? ` (${verdict.error})` : ''}`);
  }
  const answer = parseAnswer(doc.content ?? Buffer.alloc(0));
  if (answer.nonce !== nonce) throw new QueryFailure('the answer does not carry the nonce of the query (a replayed or misrouted answer)');
  const answeredAt = Date.parse(answer.at);
  if (Math.abs(answeredAt - clock().getTime()) > QUERY_WINDOW_MS) throw new QueryFailure(`the answer is dated ${answer.at}, more than 5 minutes from the platform's clock`);
  const asked = new Set(serials);
  for (const c of answer.certificates) if (!asked.has(c.serial)) throw new QueryFailure(`the answer describes serial ${c.serial}, which was not asked about`);
  return answer;
}

function parseAnswer(content: Buffer): QueryAnswer {
  let v: unknown;
  try {
    v = JSON.parse(content.toString('utf8'));
  } catch {
    throw new QueryFailure('the signed answer is not JSON');
  }
  if (!isObject(v)) throw new QueryFailure('the signed answer is not a JSON object');
  if (typeof v.ca !== 'string' || typeof v.nonce !== 'string' || typeof v.at !== 'string' || Number.isNaN(Date.parse(v.at))) throw new QueryFailure('the signed answer lacks "ca", "nonce" or an ISO "at"');
  if (!Array.isArray(v.certificates) || v.certificates.length > MAX_QUERY_SERIALS) throw new QueryFailure(`"certificates" must be an array of at most ${MAX_QUERY_SERIALS} entries`);
  const certificates = v.certificates.map((c, i): QueryEntry => {
    if (!isObject(c) || typeof c.serial !== 'string' || !HEX.test(normalizeSerial(c.serial))) throw new QueryFailure(`certificates[${i}] has no hexadecimal serial`);
    if (!STATUSES.includes(c.status as QueryStatus)) throw new QueryFailure(`certificates[${i}].status must be good, revoked or unknown`);
    const out: QueryEntry = { serial: normalizeSerial(c.serial), status: c.status as QueryStatus };
    for (const f of ['revokedAt', 'reason', 'profile', 'class', 'notBefore', 'notAfter', 'subject', 'certificate'] as const) {
      const value = c[f];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value.length > 20_000) throw new QueryFailure(`certificates[${i}].${f} must be a text`);
      out[f] = value;
    }
    return out;
  });
  return { ca: v.ca, nonce: v.nonce, at: v.at, certificates };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

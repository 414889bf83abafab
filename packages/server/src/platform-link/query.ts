/**
 * The CA side of the certificate query interface (docs/platform.md "CA side", protocol:
 * the platform asks a CA about certificates):
 *   POST /api/v1/platform-access/:ca/query   application/cms, CMS SignedData (attached JSON
 *   `{ ca, serials[1..100], nonce, at }`) signed by the platform's signing certificate
 * Public transport: the request is authenticated by the platform's signature against the
 * platform certificate this service was configured with, and refused when `at` is more than five
 * minutes off or its nonce was seen in the last ten minutes. The answer is CMS SignedData signed
 * by the CA's platform-access identity: `{ ca, nonce, at, certificates: [{ serial, status, … }] }`.
 */
import type { FastifyInstance } from 'fastify';
import { ParseError, PkiError, SignedDataDoc, signCmsDer, verifyCms, type Certificate } from '@health-pki/pki';
import { InvalidRequestError, NotFoundError, ServiceError, TooLargeError, UnauthenticatedError } from '../errors.js';
import type { CertificateAuthorities, CertificateRecord } from '../ca/authority.js';
import type { AccessIdentities } from './identity.js';
import { statsClass } from './events.js';
import { MAX_QUERY_SERIALS, QUERY_WINDOW_MS, type QueryEntry } from '../platform/query-protocol.js';

/** The largest request accepted: 100 serials of 64 hex digits and a signature fit in well under this. */
export const QUERY_LIMIT = 32 * 1024;
/** How far the request's `at` may be from this service's clock. */
export const REPLAY_WINDOW_MS = QUERY_WINDOW_MS;
const MAX_SERIALS = MAX_QUERY_SERIALS;
const MAX_NONCES = 100_000;

/** What the query route needs. */
export interface QueryDeps {
  ca: CertificateAuthorities;
  identities: AccessIdentities;
  /** The platform's signing certificate (pinned); without it every query is refused. */
  platformCertificate(): Promise<Certificate | undefined>;
  clock?: () => Date;
}

/** One certificate in the answer. */
export type QueriedCertificate = QueryEntry;

/** The request's content, checked. */
interface QueryRequest {
  ca: string;
  serials: string[];
  nonce: string;
  at: string;
}

class UnknownCaError extends NotFoundError {
  constructor(name: string) {
    super('platform.query.ca', `this CA service has no CA "${name}"`);
  }
}

/** Answers the platform's certificate queries for the CAs of this service. */
export class CertificateQuery {
  private readonly nonces = new Map<string, number>();
  private readonly clock: () => Date;

  constructor(private readonly deps: QueryDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Checks a signed request for CA `name` and returns the signed answer (DER). */
  async answer(name: string, body: Buffer): Promise<Buffer> {
    const platform = await this.deps.platformCertificate();
    if (!platform) throw new ServiceError(422, 'platform.unconfigured', 'this CA service is not connected to a platform (start it with --platform-url and --platform-cert, or --platform embedded)');
    const request = this.authenticate(body, platform);
    if (request.ca !== name) throw new InvalidRequestError('platform.query.ca', `the signed request names CA "${request.ca}" but was sent to the interface of "${name}"`);
    await this.deps.ca.getAuthority(name).catch((e: unknown) => {
      throw e instanceof NotFoundError ? new UnknownCaError(name) : e;
    });
    this.remember(request.nonce);
    const certificates: QueriedCertificate[] = [];
    for (const serial of request.serials) certificates.push(await this.lookup(name, serial));
    const identity = await this.deps.identities.get(name);
    const content = { ca: name, nonce: request.nonce, at: this.clock().toISOString(), certificates };
    return signCmsDer({ content: Buffer.from(JSON.stringify(content), 'utf8'), signer: identity.key, cert: identity.certificate, signingTime: this.clock() });
  }

  private authenticate(body: Buffer, platform: Certificate): QueryRequest {
    let doc: SignedDataDoc;
    try {
      doc = SignedDataDoc.parse(body);
    } catch (e) {
      if (e instanceof ParseError || e instanceof PkiError) throw new InvalidRequestError('platform.query.malformed', `the body is not a CMS SignedData: ${e.message}`);
      throw e;
    }
    if (!doc.content) throw new InvalidRequestError('platform.query.malformed', 'the SignedData carries no content (send the JSON request attached)');
    let verdict: ReturnType<typeof verifyCms>;
    try {
      verdict = verifyCms(doc, { certificates: [platform] });
    } catch (e) {
      if (e instanceof ParseError || e instanceof PkiError) throw new UnauthenticatedError(`the request's signature cannot be read: ${e.message}`);
      throw e;
    }
    // A forger may carry a certificate of its own in the SignedData: only the pinned one counts.
    if (verdict.signers.length !== 1 || !verdict.valid || !verdict.signerCertificate?.der.equals(platform.der)) {
      throw new UnauthenticatedError(`the query is not signed by the platform's certificate this CA service was configured with${verdict.error ? ` (${verdict.error})` : ''}`);
    }
    const request = parseRequest(doc.content);
    const skew = Math.abs(Date.parse(request.at) - this.clock().getTime());
    if (skew > REPLAY_WINDOW_MS) throw new InvalidRequestError('platform.query.stale', `the query was made at ${request.at}, more than 5 minutes from this service's time (${this.clock().toISOString()}); a replayed or delayed query is refused`);
    const seen = this.nonces.get(request.nonce);
    if (seen !== undefined && seen > this.clock().getTime()) throw new InvalidRequestError('platform.query.replayed', `nonce ${request.nonce} was already used: a replayed query is refused`);
    return request;
  }

  /** Remembers a nonce for twice the window, so a replay within the window is refused; old nonces are dropped. */
  private remember(nonce: string): void {
    const now = this.clock().getTime();
    if (this.nonces.size >= MAX_NONCES) {
      for (const [n, until] of this.nonces) if (until <= now) this.nonces.delete(n);
      // Still full: a flood of fresh signed queries. Forget the oldest; the `at` window still bounds replays.
      while (this.nonces.size >= MAX_NONCES) this.nonces.delete(this.nonces.keys().next().value!);
    }
    this.nonces.set(nonce, now + 2 * REPLAY_WINDOW_MS);
  }

  private async lookup(name: string, serial: string): Promise<QueriedCertificate> {
    let r: CertificateRecord;
    try {
      r = await this.deps.ca.getCertificate(name, serial);
    } catch (e) {
      if (e instanceof NotFoundError) return { serial, status: 'unknown' };
      throw e;
    }
    const revoked = r.status !== 'valid';
    return {
      serial,
      // A certificate on hold is revoked with reason certificateHold, as OCSP says it.
      status: revoked ? 'revoked' : 'good',
      ...(revoked ? { revokedAt: r.revokedAt ?? undefined, reason: r.reason ?? undefined } : {}),
      profile: r.profile,
      class: statsClass(r.profile),
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      subject: r.subject,
      certificate: derToPem(r.der),
    };
  }
}

function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function parseRequest(content: Buffer): QueryRequest {
  let v: unknown;
  try {
    v = JSON.parse(content.toString('utf8'));
  } catch {
    throw bad('the signed content is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('the signed content must be a JSON object { ca, serials, nonce, at }');
  const o = v as Record<string, unknown>;
  if (typeof o.ca !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(o.ca)) throw bad('"ca" must be the CA\'s name');
  if (!Array.isArray(o.serials) || o.serials.length === 0 || o.serials.length > MAX_SERIALS) throw bad(`"serials" must list 1-${MAX_SERIALS} serial numbers`);
  const serials = o.serials.map((s, i) => {
    if (typeof s !== 'string' || !/^[0-9a-f]{1,64}$/.test(s)) throw bad(`serials[${i}] must be lower-case hex (1-64 digits)`);
    return s;
  });
  if (typeof o.nonce !== 'string' || !/^[0-9a-f]{16,64}$/.test(o.nonce)) throw bad('"nonce" must be 16-64 lower-case hex digits');
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at)) || !/^\d{4}-\d{2}-\d{2}T/.test(o.at)) throw bad('"at" must be an ISO-8601 date-time');
  return { ca: o.ca, serials, nonce: o.nonce, at: o.at };
}

function bad(message: string): InvalidRequestError {
  return new InvalidRequestError('platform.query.malformed', message);
}

/** Media types the query is accepted with. */
const QUERY_TYPES = ['application/cms', 'application/pkcs7-mime'];

/** Adds POST /api/v1/platform-access/:ca/query (public transport, authenticated by the platform's signature). */
export async function registerQueryRoute(app: FastifyInstance, query: CertificateQuery): Promise<void> {
  // Encapsulated, so that the binary body parsers stay with this route.
  await app.register(async (scope) => {
    for (const type of QUERY_TYPES) scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: QUERY_LIMIT }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { ca: string } }>(
      '/api/v1/platform-access/:ca/query',
      {
        config: { access: 'public' },
        bodyLimit: QUERY_LIMIT,
        schema: { summary: "The platform's certificate query (CMS SignedData signed by the platform; answer signed by the CA's platform-access certificate)", tags: ['platform'] },
      },
      async (req, reply) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0) throw new InvalidRequestError('platform.query.malformed', `send the signed query as ${QUERY_TYPES.join(' or ')}`);
        if (body.length > QUERY_LIMIT) throw new TooLargeError('platform.query.size', `a query is at most ${QUERY_LIMIT} bytes`);
        return reply.type('application/cms').header('cache-control', 'no-store').send(await query.answer(req.params.ca, body));
      },
    );
  });
}

/**
 * The sync messages a CA sends the platform (certificate information sync and blacklist sync).
 * A batch is one CMS SignedData, signed by the CA's platform-access certificate, whose content is
 * JSON `{ ca, messages: [{ seq, kind, serial, profile, class, province?, at, notAfter?, replaces?, reason? }] }`.
 * One signature per batch, so verification costs once per batch rather than once per event;
 * `seq` numbers the CA's events (1, 2, 3, …) and is what makes application exactly-once.
 */
import { createHash } from 'node:crypto';
import { signCmsDer, type Certificate, type PrivateKey } from '@health-pki/pki';
import { InvalidRequestError } from '../../errors.js';

/** What happened to a certificate. */
export type SyncKind = 'issued' | 'renewed' | 'revoked';

/** The kinds a message may carry. */
export const SYNC_KINDS: readonly SyncKind[] = ['issued', 'renewed', 'revoked'];

/** One event of a CA: an issuance, a renewal (a new certificate replacing another) or a revocation. */
export interface SyncMessage {
  /** The CA's event number, from 1, without gaps (the outbox assigns it). */
  seq: number;
  kind: SyncKind;
  /** Serial number of the certificate, lower-case hex. */
  serial: string;
  /** Certificate profile name (e.g. "person-sign"); may be omitted on revocations. */
  profile?: string;
  /** Certificate class for statistics (e.g. "person", "organisation", "device"); may be omitted on revocations. */
  class?: string;
  /** Province code the certificate serves (GB/T 2260, e.g. "110000"). */
  province?: string;
  /** When it happened at the CA (ISO-8601). */
  at: string;
  /** The certificate's notAfter (issued, renewed). */
  notAfter?: string;
  /** The serial the renewed certificate replaces. */
  replaces?: string;
  /** Revocation reason (RFC 5280 name). */
  reason?: string;
}

/** A signed batch's content. */
export interface SyncBatch {
  ca: string;
  messages: SyncMessage[];
}

/** At most this many messages in one batch. */
export const MAX_BATCH = 1000;

const HEX = /^[0-9a-f]{1,64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** Signs a batch as the CA (CMS SignedData, attached JSON content). */
export function signSyncBatch(batch: SyncBatch, key: PrivateKey, cert: Certificate, at: Date = new Date()): Buffer {
  return signCmsDer({ content: Buffer.from(JSON.stringify(batch), 'utf8'), signer: key, cert, signingTime: at });
}

/** A stable digest of one message: a repeated seq must carry the same event. */
export function messageDigest(m: SyncMessage): string {
  const canonical = [m.seq, m.kind, m.serial, m.profile ?? null, m.class ?? null, m.province ?? null, m.at, m.notAfter ?? null, m.replaces ?? null, m.reason ?? null];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Parses and checks a batch's JSON content; anything malformed is a 400 naming the fault. */
export function parseSyncBatch(content: Buffer): SyncBatch {
  let v: unknown;
  try {
    v = JSON.parse(content.toString('utf8'));
  } catch {
    throw bad('the signed content is not JSON');
  }
  if (!isObject(v)) throw bad('the signed content is not a JSON object');
  const { ca, messages } = v;
  if (typeof ca !== 'string' || !NAME.test(ca)) throw bad('"ca" must be the CA\'s registered name');
  if (!Array.isArray(messages) || messages.length === 0) throw bad('"messages" must be a non-empty array');
  if (messages.length > MAX_BATCH) throw bad(`a batch holds at most ${MAX_BATCH} messages, this one ${messages.length}`);
  const seen = new Set<number>();
  const out = messages.map((m, i) => parseMessage(m, i));
  for (const m of out) {
    if (seen.has(m.seq)) throw bad(`seq ${m.seq} occurs twice in the batch`);
    seen.add(m.seq);
  }
  return { ca, messages: out };
}

function parseMessage(m: unknown, i: number): SyncMessage {
  const at = `messages[${i}]`;
  if (!isObject(m)) throw bad(`${at} is not an object`);
  if (!Number.isSafeInteger(m.seq) || (m.seq as number) < 1 || (m.seq as number) > 2 ** 31 - 1) throw bad(`${at}.seq must be a positive integer`);
  if (!SYNC_KINDS.includes(m.kind as SyncKind)) throw bad(`${at}.kind must be one of ${SYNC_KINDS.join(', ')}`);
  if (typeof m.serial !== 'string' || !HEX.test(m.serial)) throw bad(`${at}.serial must be lower-case hex`);
  if (typeof m.at !== 'string' || !ISO.test(m.at) || Number.isNaN(Date.parse(m.at))) throw bad(`${at}.at must be an ISO-8601 date-time`);
  const kind = m.kind as SyncKind;
  const text = (field: string, pattern: RegExp, required: boolean): string | undefined => {
    const value = m[field];
    if (value === undefined || value === null) {
      if (required) throw bad(`${at}.${field} is required for "${kind}"`);
      return undefined;
    }
    if (typeof value !== 'string' || !pattern.test(value)) throw bad(`${at}.${field} is malformed`);
    return value;
  };
  const issuing = kind !== 'revoked';
  const out: SyncMessage = { seq: m.seq as number, kind, serial: m.serial, at: new Date(m.at).toISOString() };
  const profile = text('profile', NAME, issuing);
  const cls = text('class', NAME, issuing);
  const province = text('province', /^[0-9A-Za-z-]{1,16}$/, false);
  const notAfter = text('notAfter', ISO, false);
  const replaces = text('replaces', HEX, false);
  const reason = text('reason', /^[A-Za-z]{1,32}$/, false);
  if (profile !== undefined) out.profile = profile;
  if (cls !== undefined) out.class = cls;
  if (province !== undefined) out.province = province;
  if (notAfter !== undefined) out.notAfter = new Date(notAfter).toISOString();
  if (replaces !== undefined) out.replaces = replaces;
  if (reason !== undefined) out.reason = reason;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): InvalidRequestError {
  return new InvalidRequestError('platform.sync.malformed', message);
}

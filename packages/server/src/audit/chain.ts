/**
 * The hash chain of the audit log: the canonical encoding of an entry and its SHA-256 hash. Pure,
 * so that the service (appending), the verifier and the migration of old rows compute the same
 * bytes. Documented in docs/audit.md; changing it needs a new tag ("hpki-audit-entry-v2").
 *
 * Encoding v1: the ASCII tag "hpki-audit-entry-v1", then each field as a 4-byte big-endian byte
 * length followed by its UTF-8 bytes, in this order: seq (decimal, no leading zeros), id, at,
 * actor, action, target, details (the JSON text exactly as stored), prev_hash (lower-case hex).
 * Length prefixes make the encoding injective: no two different entries share their bytes.
 */
import { createHash } from 'node:crypto';

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

const ENTRY_TAG = Buffer.from('hpki-audit-entry-v1', 'ascii');

/** The fields of an entry that its hash covers. */
export interface ChainedFields {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prevHash: string;
}

/** The canonical bytes of an entry (see the module comment). */
export function entryEncoding(e: ChainedFields): Buffer {
  const fields = [String(e.seq), e.id, e.at, e.actor, e.action, e.target, e.details, e.prevHash].map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(ENTRY_TAG.length + fields.reduce((n, f) => n + 4 + f.length, 0));
  let o = ENTRY_TAG.copy(out, 0);
  for (const f of fields) {
    o = out.writeUInt32BE(f.length, o);
    o += f.copy(out, o);
  }
  return out;
}

/** SHA-256 of the entry's canonical encoding, lower-case hex. */
export function entryHash(e: ChainedFields): string {
  return createHash('sha256').update(entryEncoding(e)).digest('hex');
}

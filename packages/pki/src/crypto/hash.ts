import { createHash, getHashes } from 'node:crypto';
import { OID } from '../oids.js';
import { UnsupportedError } from '../errors.js';

/** Hash functions the library uses, by Node/OpenSSL name. */
export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'sm3';

const HASH_OIDS: Record<HashName, string> = {
  sha1: OID.sha1,
  sha224: OID.sha224,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
  sm3: OID.sm3,
};

/** Digest of `data` with the named hash. */
export function digest(hash: HashName, ...data: Uint8Array[]): Buffer {
  const h = createHash(hash);
  for (const d of data) h.update(d);
  return h.digest();
}

/** The OID of a hash algorithm. */
export function hashOid(hash: HashName): string {
  return HASH_OIDS[hash];
}

/** The hash named by an OID, or an UnsupportedError. */
export function hashFromOid(oid: string): HashName {
  const found = (Object.keys(HASH_OIDS) as HashName[]).find((h) => HASH_OIDS[h] === oid);
  if (!found) throw new UnsupportedError(`unsupported hash algorithm ${oid}`);
  return found;
}

/** True when Node's OpenSSL provides the hash (SM3 is present in Node 20 builds with OpenSSL 3). */
export function hashAvailable(hash: HashName): boolean {
  return getHashes().includes(hash);
}

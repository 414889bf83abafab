/**
 * SM3 (GB/T 32905) and HMAC-SM3, thin wrappers over Node's OpenSSL: named entry points for the
 * Chinese commercial cryptography so that callers need not know OpenSSL's algorithm names.
 */
import { createHash, createHmac } from 'node:crypto';

/** SM3 digest (32 bytes) of the concatenation of `data`. */
export function sm3(...data: Uint8Array[]): Buffer {
  const h = createHash('sm3');
  for (const d of data) h.update(d);
  return h.digest();
}

/** HMAC-SM3 (RFC 2104 with SM3, as in GM/T 0042) of the concatenation of `data` under `key`. */
export function hmacSm3(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const h = createHmac('sm3', key);
  for (const d of data) h.update(d);
  return h.digest();
}

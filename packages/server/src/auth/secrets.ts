/** Bearer secrets: random, shown once, stored only as their SHA-256. */
import { createHash, randomBytes } from 'node:crypto';

/** The stored form of a secret token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of bytes, lower-case hex (certificate fingerprints, SPKI hashes). */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

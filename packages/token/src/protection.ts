/**
 * How a token protects its contents at rest: a random data key seals the contents (AEAD), and the
 * data key is wrapped twice — once under a key derived from the user PIN, once under a key derived
 * from the admin PIN — so the admin (or the CA holding the admin PIN) can set a new user PIN
 * without knowing the old one. A PIN is checked by whether its wrap opens (the AEAD tag), so the
 * file holds no PIN hash to test guesses against other than the wrap itself.
 *
 * KDFs: scrypt (memory-hard, the default) or PBKDF2-HMAC-SM3 (for deployments that must use only
 * national algorithms). AEADs: SM4-GCM (default, 128-bit key) or AES-256-GCM.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { PkiError, sm4GcmDecrypt, sm4GcmEncrypt } from '@health-pki/pki';
import { TokenError } from './errors.js';

/** Parameters of the PIN key derivation, stored with the token. */
export type KdfParams = { alg: 'scrypt'; N: number; r: number; p: number } | { alg: 'pbkdf2-sm3'; iterations: number };

/** The authenticated cipher sealing the contents and the wrapped data keys. */
export type CipherName = 'sm4-gcm' | 'aes-256-gcm';

/** An AEAD output as stored: IV, ciphertext and tag. */
export interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** scrypt N = 2^15, r = 8, p = 1: 32 MiB and about a quarter of a second per PIN try on a 2-core server. */
export const DEFAULT_KDF: KdfParams = { alg: 'scrypt', N: 1 << 15, r: 8, p: 1 };
export const DEFAULT_CIPHER: CipherName = 'sm4-gcm';

/**
 * Bounds on KDF parameters read from a file or an unblock request: below them a PIN is too cheap
 * to guess offline, above them one derivation could exhaust the memory or time of whoever runs it
 * (the CA answers unblock requests whose parameters the holder's file chose).
 */
export const KDF_LIMITS = {
  scryptMinN: 1 << 10,
  scryptMaxN: 1 << 20,
  scryptMaxR: 16,
  scryptMaxP: 4,
  pbkdf2MinIterations: 1_000,
  pbkdf2MaxIterations: 10_000_000,
} as const;

/** Checks KDF parameters against KDF_LIMITS; a TokenError `reason` otherwise. */
export function checkKdfParams(k: KdfParams, reason = 'format'): KdfParams {
  const bad = (why: string): never => {
    throw new TokenError(reason, `KDF parameters out of bounds: ${why}`);
  };
  if (k.alg === 'scrypt') {
    const { N, r, p } = k;
    if (!Number.isInteger(N) || N < KDF_LIMITS.scryptMinN || N > KDF_LIMITS.scryptMaxN || (N & (N - 1)) !== 0) bad(`scrypt N=${N}`);
    if (!Number.isInteger(r) || r < 1 || r > KDF_LIMITS.scryptMaxR) bad(`scrypt r=${r}`);
    if (!Number.isInteger(p) || p < 1 || p > KDF_LIMITS.scryptMaxP) bad(`scrypt p=${p}`);
  } else if (k.alg === 'pbkdf2-sm3') {
    const it = k.iterations;
    if (!Number.isInteger(it) || it < KDF_LIMITS.pbkdf2MinIterations || it > KDF_LIMITS.pbkdf2MaxIterations) bad(`PBKDF2 iterations=${it}`);
  } else {
    bad(`unknown KDF ${String((k as { alg?: unknown }).alg)}`);
  }
  return k;
}

/** Key length of a cipher: 16 bytes for SM4, 32 for AES-256. */
export function keyLength(cipher: CipherName): number {
  return cipher === 'sm4-gcm' ? 16 : 32;
}

/** PINs are compared as their UTF-8 bytes after Unicode NFC, so the same PIN typed on two systems derives the same key. */
function pinBytes(pin: string): Buffer {
  return Buffer.from(pin.normalize('NFC'), 'utf8');
}

/** Derives the key-encryption key of a PIN. */
export function deriveKek(pin: string, salt: Uint8Array, kdf: KdfParams, cipher: CipherName): Buffer {
  checkKdfParams(kdf);
  const len = keyLength(cipher);
  if (kdf.alg === 'scrypt') {
    // maxmem: 128·N·r bytes are needed; leave headroom for the rest.
    return scryptSync(pinBytes(pin), salt, len, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + (16 << 20) });
  }
  return pbkdf2Sync(pinBytes(pin), salt, kdf.iterations, len, 'sm3');
}

/** Seals `plaintext` under `key` with a fresh 12-byte IV; `aad` binds it to where it belongs. */
export function seal(cipher: CipherName, key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed {
  const iv = randomBytes(12);
  if (cipher === 'sm4-gcm') {
    const { ciphertext, tag } = sm4GcmEncrypt(key, iv, plaintext, aad);
    return { iv, ciphertext, tag };
  }
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ciphertext, tag: c.getAuthTag() };
}

/** Opens a Sealed; undefined when the key is wrong or anything was altered. */
export function unseal(cipher: CipherName, key: Uint8Array, s: Sealed, aad: Uint8Array): Buffer | undefined {
  if (key.length !== keyLength(cipher) || s.tag.length !== 16) return undefined;
  try {
    if (cipher === 'sm4-gcm') return sm4GcmDecrypt(key, s.iv, s.ciphertext, s.tag, aad);
    const d = createDecipheriv('aes-256-gcm', key, s.iv);
    d.setAAD(aad);
    d.setAuthTag(s.tag);
    return Buffer.concat([d.update(s.ciphertext), d.final()]);
  } catch (e) {
    if (e instanceof PkiError && e.code !== 'crypto.decrypt') throw e;
    return undefined;
  }
}

/** The associated data of a wrapped data key: format, token, application and PIN role. */
export function wrapAad(tokenId: string, application: string, role: 'user' | 'admin'): Buffer {
  return Buffer.from(`hpki-soft-token/1\0wrap\0${tokenId}\0${application}\0${role}`, 'utf8');
}

/** The associated data of an application's sealed contents. */
export function contentsAad(tokenId: string, application: string): Buffer {
  return Buffer.from(`hpki-soft-token/1\0contents\0${tokenId}\0${application}`, 'utf8');
}

/** Rules for new PINs; GM/T 0016 tokens commonly take 6 to 16 characters, we allow up to 64. */
export const PIN_RULES = { minLength: 6, maxLength: 64 } as const;

/** Refuses a new PIN that breaks PIN_RULES (TokenError "pin.policy"). */
export function checkNewPin(pin: string, what: string): void {
  const n = [...pin.normalize('NFC')].length;
  if (n < PIN_RULES.minLength || n > PIN_RULES.maxLength) {
    throw new TokenError('pin.policy', `the ${what} must be ${PIN_RULES.minLength} to ${PIN_RULES.maxLength} characters`);
  }
  if (/[\0\r\n]/.test(pin)) throw new TokenError('pin.policy', `the ${what} must not contain NUL or line breaks`);
}

/** A random admin PIN for the CA to record at issuance: 24 characters of base32, 120 bits. */
export function generateAdminPin(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // 32 symbols without I, O, 0, 1
  return [...randomBytes(24)].map((b) => alphabet[b & 31]).join('');
}

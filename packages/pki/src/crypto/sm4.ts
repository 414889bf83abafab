/**
 * SM4 (GB/T 32907) block cipher modes: ECB and CBC come from Node's OpenSSL; GCM (NIST SP 800-38D
 * with SM4, as RFC 8998 uses it) is assembled here because Node 20 has no native sm4-gcm — the
 * counter mode is OpenSSL's 'sm4-ctr', GHASH is computed in JS with 8-bit tables.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual, type Cipher, type Decipher } from 'node:crypto';
import { PkiError } from '../errors.js';

/** Options of the ECB and CBC modes. */
export interface Sm4Options {
  /** PKCS#7 padding (default true); without it the input must be a whole number of 16-byte blocks. */
  padding?: boolean;
}

/** Result of SM4-GCM encryption. */
export interface Sm4GcmSealed {
  ciphertext: Buffer;
  /** The 16-byte authentication tag. */
  tag: Buffer;
}

const EMPTY = new Uint8Array(0);

function inputError(message: string): PkiError {
  return new PkiError('crypto.input', message);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16) throw inputError('an SM4 key is 16 bytes');
}

function run(c: Cipher | Decipher, data: Uint8Array, padding: boolean, decrypting: boolean): Buffer {
  if (!padding && data.length % 16 !== 0) throw inputError('without padding, SM4 input must be a multiple of 16 bytes');
  c.setAutoPadding(padding);
  try {
    return Buffer.concat([c.update(data), c.final()]);
  } catch (e) {
    // Bad padding or a truncated block; one message for both, so that no padding oracle appears.
    if (decrypting) throw new PkiError('crypto.decrypt', 'SM4 decryption failed', { cause: e });
    throw e;
  }
}

/** SM4-ECB encryption (PKCS#7 padding unless `padding: false`). */
export function sm4EncryptEcb(key: Uint8Array, data: Uint8Array, opts: Sm4Options = {}): Buffer {
  checkKey(key);
  return run(createCipheriv('sm4-ecb', key, null), data, opts.padding ?? true, false);
}

/** SM4-ECB decryption; a padding failure is a PkiError "crypto.decrypt". */
export function sm4DecryptEcb(key: Uint8Array, data: Uint8Array, opts: Sm4Options = {}): Buffer {
  checkKey(key);
  return run(createDecipheriv('sm4-ecb', key, null), data, opts.padding ?? true, true);
}

/** SM4-CBC encryption with a 16-byte IV (PKCS#7 padding unless `padding: false`). */
export function sm4EncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array, opts: Sm4Options = {}): Buffer {
  checkKey(key);
  if (iv.length !== 16) throw inputError('an SM4-CBC IV is 16 bytes');
  return run(createCipheriv('sm4-cbc', key, iv), data, opts.padding ?? true, false);
}

/** SM4-CBC decryption; a padding failure is a PkiError "crypto.decrypt". */
export function sm4DecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array, opts: Sm4Options = {}): Buffer {
  checkKey(key);
  if (iv.length !== 16) throw inputError('an SM4-CBC IV is 16 bytes');
  return run(createDecipheriv('sm4-cbc', key, iv), data, opts.padding ?? true, true);
}

/** One SM4 block encryption E_K(block). */
function encryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  return createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(block);
}

/** R[b]: what the byte b shifted out of the low end contributes after reduction by x¹²⁸ + x⁷ + x² + x + 1. */
const REDUCE = new Uint32Array(256);
for (let b = 0; b < 256; b++) {
  let w0 = 0;
  let w3 = b;
  for (let i = 0; i < 8; i++) {
    const lsb = w3 & 1;
    w3 >>>= 1;
    w0 >>>= 1;
    if (lsb) w0 ^= 0xe1000000;
  }
  REDUCE[b] = w0 >>> 0;
}

/**
 * GHASH of SP 800-38D §6.4 with Shoup's 8-bit tables: T[b] = b·H for every byte value b (in GCM's
 * reflected bit order), so one block costs 16 table lookups and 15 shifts by eight bits.
 */
class Ghash {
  private readonly table = new Uint32Array(1024);
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;

  constructor(h: Buffer) {
    const t = this.table;
    let v = [h.readUInt32BE(0), h.readUInt32BE(4), h.readUInt32BE(8), h.readUInt32BE(12)] as [number, number, number, number];
    // T[0x80] = H, T[0x40] = H·x, …, T[0x01] = H·x⁷; every other entry is a XOR of these.
    for (let bit = 0x80; bit > 0; bit >>= 1) {
      t.set(v, bit * 4);
      const lsb = v[3] & 1;
      v = [(v[0] >>> 1) ^ (lsb ? 0xe1000000 : 0), (v[1] >>> 1) | (v[0] << 31), (v[2] >>> 1) | (v[1] << 31), (v[3] >>> 1) | (v[2] << 31)];
    }
    for (let b = 2; b < 256; b <<= 1) {
      for (let j = 1; j < b; j++) {
        for (let w = 0; w < 4; w++) t[(b + j) * 4 + w] = t[b * 4 + w]! ^ t[j * 4 + w]!;
      }
    }
  }

  /** Absorbs `data`, zero-padded to whole blocks (A and C are padded separately in GCM). */
  update(data: Uint8Array): this {
    const full = data.length - (data.length % 16);
    for (let o = 0; o < full; o += 16) this.block(data, o);
    if (full < data.length) {
      const last = new Uint8Array(16);
      last.set(data.subarray(full));
      this.block(last, 0);
    }
    return this;
  }

  private block(d: Uint8Array, o: number): void {
    const t = this.table;
    const x0 = (this.y0 ^ ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!)) >>> 0;
    const x1 = (this.y1 ^ ((d[o + 4]! << 24) | (d[o + 5]! << 16) | (d[o + 6]! << 8) | d[o + 7]!)) >>> 0;
    const x2 = (this.y2 ^ ((d[o + 8]! << 24) | (d[o + 9]! << 16) | (d[o + 10]! << 8) | d[o + 11]!)) >>> 0;
    const x3 = (this.y3 ^ ((d[o + 12]! << 24) | (d[o + 13]! << 16) | (d[o + 14]! << 8) | d[o + 15]!)) >>> 0;
    // Horner over the bytes, last byte first: Z ← Z·x⁸ ⊕ T[byte].
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    for (let j = 15; j >= 0; j--) {
      const out = z3 & 0xff;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ REDUCE[out]!;
      const w = j < 4 ? x0 : j < 8 ? x1 : j < 12 ? x2 : x3;
      const i = ((w >>> (24 - 8 * (j & 3))) & 0xff) << 2;
      z0 ^= t[i]!;
      z1 ^= t[i + 1]!;
      z2 ^= t[i + 2]!;
      z3 ^= t[i + 3]!;
    }
    this.y0 = z0;
    this.y1 = z1;
    this.y2 = z2;
    this.y3 = z3;
  }

  /** The current GHASH value (16 bytes). */
  digest(): Buffer {
    const out = Buffer.alloc(16);
    out.writeUInt32BE(this.y0 >>> 0, 0);
    out.writeUInt32BE(this.y1 >>> 0, 4);
    out.writeUInt32BE(this.y2 >>> 0, 8);
    out.writeUInt32BE(this.y3 >>> 0, 12);
    return out;
  }
}

/** The 64-bit big-endian bit lengths of A and C that close the GHASH input. */
function lengthBlock(aLen: number, cLen: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(aLen) * 8n, 0);
  b.writeBigUInt64BE(BigInt(cLen) * 8n, 8);
  return b;
}

/**
 * GCTR of SP 800-38D with OpenSSL's CTR mode. GCM increments only the low 32 bits of the counter
 * while OpenSSL carries into the upper 96; the two differ only when the low word wraps, so the
 * input is split there.
 */
export function gctr(key: Uint8Array, counter: Buffer, data: Uint8Array): Buffer {
  const blocks = Math.ceil(data.length / 16);
  const low = counter.readUInt32BE(12);
  const untilWrap = 2 ** 32 - low;
  if (blocks <= untilWrap) return createCipheriv('sm4-ctr', key, counter).update(data);
  const wrapped = Buffer.from(counter);
  wrapped.writeUInt32BE(0, 12);
  const split = untilWrap * 16;
  return Buffer.concat([createCipheriv('sm4-ctr', key, counter).update(data.subarray(0, split)), createCipheriv('sm4-ctr', key, wrapped).update(data.subarray(split))]);
}

/** H, the pre-counter block J0, and its successor, per SP 800-38D §7.1 steps 1–2. */
function gcmSetup(key: Uint8Array, iv: Uint8Array): { ghashKey: Buffer; j0: Buffer; first: Buffer } {
  checkKey(key);
  if (iv.length === 0) throw inputError('an SM4-GCM IV must not be empty');
  const ghashKey = encryptBlock(key, Buffer.alloc(16));
  let j0: Buffer;
  if (iv.length === 12) {
    j0 = Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]);
  } else {
    j0 = new Ghash(ghashKey).update(iv).update(lengthBlock(0, iv.length)).digest();
  }
  const first = Buffer.from(j0);
  first.writeUInt32BE((j0.readUInt32BE(12) + 1) >>> 0, 12);
  return { ghashKey, j0, first };
}

/** GCM's length limit on the plaintext: 2³⁹ − 256 bits. */
const MAX_GCM_BYTES = 2 ** 36 - 32;

function gcmTag(key: Uint8Array, ghashKey: Buffer, j0: Buffer, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  const s = new Ghash(ghashKey).update(aad).update(ciphertext).update(lengthBlock(aad.length, ciphertext.length)).digest();
  const tag = encryptBlock(key, j0);
  for (let i = 0; i < 16; i++) tag[i]! ^= s[i]!;
  return tag;
}

/** SM4-GCM authenticated encryption (RFC 8998, SP 800-38D) with a 16-byte tag; a 12-byte IV is the normal choice. */
export function sm4GcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Sm4GcmSealed {
  const { ghashKey, j0, first } = gcmSetup(key, iv);
  if (plaintext.length > MAX_GCM_BYTES) throw inputError('SM4-GCM plaintext too long');
  const ciphertext = gctr(key, first, plaintext);
  return { ciphertext, tag: gcmTag(key, ghashKey, j0, aad, ciphertext) };
}

/** SM4-GCM decryption; a wrong tag (compared in constant time) is a PkiError "crypto.decrypt" and nothing is decrypted. */
export function sm4GcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array = EMPTY): Buffer {
  const { ghashKey, j0, first } = gcmSetup(key, iv);
  const expected = gcmTag(key, ghashKey, j0, aad, ciphertext);
  if (tag.length !== 16 || !timingSafeEqual(expected, tag)) throw new PkiError('crypto.decrypt', 'SM4-GCM authentication failed');
  return gctr(key, first, ciphertext);
}

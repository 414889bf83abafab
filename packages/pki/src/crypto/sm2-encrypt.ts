/**
 * SM2 public-key encryption (GB/T 32918.4, GM/T 0003.4) on the recommended curve, in the
 * GM/T 0009 ASN.1 form that OpenSSL, GmSSL and BouncyCastle exchange:
 * SM2Cipher ::= SEQUENCE { XCoordinate INTEGER, YCoordinate INTEGER, HASH OCTET STRING (32),
 * CipherText OCTET STRING } — that is C1, C3, C2. Node has no native SM2 encryption.
 */
import { AsnConvert, AsnIntegerBigIntConverter, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { randomBytes } from 'node:crypto';
import { ParseError, PkiError, parsing } from '../errors.js';
import { SM2_CURVE, decryptPlain, decryptWithShared, encryptWithShared, mod, toBig, type Sm2CipherParts } from './sm2-core.js';
import { decodePoint, multiplyBase, multiplySecret, onCurve, Sm2Point } from './sm2-arith.js';

/** The GM/T 0009 SM2Cipher structure. */
class Sm2Cipher {
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter }) x = 0n;
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter }) y = 0n;
  @AsnProp({ type: AsnPropTypes.OctetString }) hash = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.OctetString }) cipherText = new ArrayBuffer(0);
}

/** k·Q by the fast fixed-pattern multiplication (noble's complete formulas only defensively: for the SM2 order it has no exceptional scalar). */
function sharedPoint(x: bigint, y: bigint, k: bigint): { x: bigint; y: bigint } {
  return multiplySecret(x, y, k) ?? Sm2Point.fromAffine({ x, y }).multiply(k).toAffine();
}

/** Encrypts `plaintext` to an SM2 public point (65-byte uncompressed) and returns SM2Cipher DER. */
export function sm2Encrypt(publicPoint: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const P = decodePoint(publicPoint);
  if (!P) throw new ParseError('SM2 public key', 'not an uncompressed point of the SM2 curve');
  // With an empty message t is empty, and "t is all zero" would hold for every k.
  if (plaintext.length === 0) throw new PkiError('crypto.input', 'SM2 cannot encrypt an empty message');
  for (;;) {
    const k = mod(toBig(randomBytes(40)), SM2_CURVE.n - 1n) + 1n;
    const C1 = multiplyBase(k);
    const S = sharedPoint(P.x, P.y, k);
    const parts = encryptWithShared(C1.x, C1.y, S.x, S.y, plaintext);
    if (parts) return encodeSm2Cipher(parts);
  }
}

/**
 * Decrypts SM2Cipher DER with the 32-byte private scalar d. Malformed DER gives a ParseError;
 * a ciphertext that does not decrypt (wrong key, tampered, C1 off the curve) a PkiError with
 * code "crypto.decrypt" that does not say which check failed.
 */
export function sm2Decrypt(d: Uint8Array, ciphertext: Uint8Array): Buffer {
  const parts = decodeSm2Cipher(ciphertext);
  const dd = toBig(d);
  if (dd < 1n || dd >= SM2_CURVE.n) throw new ParseError('SM2 private key', 'not a scalar in [1, n − 1]');
  let plain: Buffer | undefined;
  if (onCurve(parts.x1, parts.y1)) {
    const S = multiplySecret(parts.x1, parts.y1, dd);
    plain = S ? decryptWithShared(S.x, S.y, parts.c3, parts.c2) : decryptPlain(SM2_CURVE, dd, parts);
  }
  if (!plain) throw new PkiError('crypto.decrypt', 'SM2 decryption failed');
  return plain;
}

/** DER of SM2Cipher from its parts. */
export function encodeSm2Cipher(parts: Sm2CipherParts): Uint8Array {
  const c = new Sm2Cipher();
  c.x = parts.x1;
  c.y = parts.y1;
  c.hash = new Uint8Array(parts.c3).buffer;
  c.cipherText = new Uint8Array(parts.c2).buffer;
  return new Uint8Array(AsnConvert.serialize(c));
}

/** The parts of SM2Cipher DER; strict: anything that does not re-encode to the same bytes is rejected. */
export function decodeSm2Cipher(der: Uint8Array): Sm2CipherParts {
  const c = parsing('SM2 ciphertext', () => AsnConvert.parse(Buffer.from(der), Sm2Cipher));
  const parts = { x1: c.x, y1: c.y, c3: Buffer.from(c.hash), c2: Buffer.from(c.cipherText) };
  if (parts.x1 < 0n || parts.y1 < 0n || parts.x1 >= SM2_CURVE.p || parts.y1 >= SM2_CURVE.p) {
    throw new ParseError('SM2 ciphertext', 'C1 coordinate out of range');
  }
  if (parts.c3.length !== 32) throw new ParseError('SM2 ciphertext', 'HASH must be 32 bytes');
  if (parts.c2.length === 0) throw new ParseError('SM2 ciphertext', 'empty CipherText');
  if (!Buffer.from(encodeSm2Cipher(parts)).equals(Buffer.from(der))) throw new ParseError('SM2 ciphertext', 'not DER');
  return parts;
}

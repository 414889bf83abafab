/**
 * SM2 digital signatures (GB/T 32918.2, GM/T 0003.2) with a configurable user ID.
 * Node's OpenSSL signs SM2 only with an empty user ID, so the signature scheme is ours; curve
 * arithmetic comes from @noble/curves and SM3 from Node's crypto.
 */
import { createHash, randomBytes } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { ParseError } from '../errors.js';
import { decodeEcdsaSignature, encodeEcdsaSignature } from './ecdsa-der.js';

/** The curve parameters of GM/T 0003.5 (the "SM2 recommended curve"). */
export const SM2_CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  h: 1n,
} as const;

/** The default user ID of GM/T 0009: the ASCII string "1234567812345678". */
export const SM2_DEFAULT_USER_ID: Uint8Array = Buffer.from('1234567812345678', 'ascii');

const Point = weierstrass(SM2_CURVE);
const { n } = SM2_CURVE;

function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}
function to32(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}
function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function invert(a: bigint, m: bigint): bigint {
  // Extended Euclid; inputs here are public or blinded, and BigInt gives no constant time anyway.
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) of GB/T 32918.2 §5.5. */
export function sm2Za(publicPoint: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Buffer {
  if (userId.length > 0x1fff) throw new ParseError('SM2 user ID', 'longer than 8191 bytes');
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(userId.length * 8);
  return createHash('sm3')
    .update(entl)
    .update(userId)
    .update(to32(SM2_CURVE.a))
    .update(to32(SM2_CURVE.b))
    .update(to32(SM2_CURVE.Gx))
    .update(to32(SM2_CURVE.Gy))
    .update(publicPoint.subarray(1, 65))
    .digest();
}

function messageDigest(publicPoint: Uint8Array, message: Uint8Array, userId: Uint8Array): bigint {
  return toBig(createHash('sm3').update(sm2Za(publicPoint, userId)).update(message).digest());
}

/** The uncompressed public point (65 bytes) of a 32-byte private scalar. */
export function sm2PublicFromPrivate(d: Uint8Array): Uint8Array {
  return Point.BASE.multiply(toBig(d)).toBytes(false);
}

/** Signs `message` (the digest e = SM3(Z_A ‖ M) is computed here) and returns DER SEQUENCE{r, s}. */
export function sm2Sign(d: Uint8Array, publicPoint: Uint8Array, message: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Uint8Array {
  const dd = toBig(d);
  const e = messageDigest(publicPoint, message, userId);
  const dInv = invert(dd + 1n, n);
  for (;;) {
    const k = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const x1 = Point.BASE.multiply(k).toAffine().x;
    const r = mod(e + x1, n);
    if (r === 0n || r + k === n) continue;
    const s = mod(dInv * (k - r * dd), n);
    if (s === 0n) continue;
    return encodeEcdsaSignature(r, s);
  }
}

/** Verifies a DER SEQUENCE{r, s} SM2 signature over `message` for the given public point and user ID. */
export function sm2Verify(publicPoint: Uint8Array, message: Uint8Array, signature: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): boolean {
  const sig = decodeEcdsaSignature(signature);
  if (!sig) return false;
  const { r, s } = sig;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const t = mod(r + s, n);
  if (t === 0n) return false;
  let P;
  try {
    P = Point.fromBytes(publicPoint);
  } catch {
    return false;
  }
  const e = messageDigest(publicPoint, message, userId);
  const sum = Point.BASE.multiply(s).add(P.multiplyUnsafe(t));
  if (sum.is0()) return false;
  return mod(e + sum.toAffine().x, n) === r;
}

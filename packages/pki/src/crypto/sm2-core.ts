/**
 * The SM2 algorithms of GB/T 32918 written once, plainly, over any prime curve with an explicit
 * nonce, on @noble/curves. This is the reference path: the published examples (which use the
 * standard's example curve, not the recommended one) test it, and the fast paths of sm2.ts and
 * sm2-encrypt.ts are checked against it. Not re-exported from the package: a caller-chosen
 * nonce is for known-answer tests only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { ParseError } from '../errors.js';

/** Domain parameters of a prime-field SM2 curve y² = x³ + ax + b with base point G of order n. */
export interface Sm2Curve {
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly Gx: bigint;
  readonly Gy: bigint;
  readonly h: bigint;
}

/** The curve parameters of GM/T 0003.5 (the "SM2 recommended curve"). */
export const SM2_CURVE: Sm2Curve = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  h: 1n,
});

type PointCtor = ReturnType<typeof weierstrass<bigint>>;
const pointCtors = new WeakMap<Sm2Curve, PointCtor>();

/** The @noble/curves point class of a curve (built once per parameter object). */
export function curvePoint(curve: Sm2Curve): PointCtor {
  let ctor = pointCtors.get(curve);
  if (!ctor) {
    ctor = weierstrass(curve);
    pointCtors.set(curve, ctor);
  }
  return ctor;
}

/** Big-endian unsigned bytes to bigint. */
export function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'));
}

/** bigint to exactly 32 big-endian bytes (every SM2 coordinate and scalar here is 256-bit). */
export function to32(x: bigint): Buffer {
  return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}

/** The non-negative residue of a modulo m. */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** a⁻¹ mod m by extended Euclid (BigInt gives no constant time in any case). */
export function invert(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(s0, m);
}

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) of GB/T 32918.2 §5.5. */
export function zaOn(curve: Sm2Curve, publicPoint: Uint8Array, userId: Uint8Array): Buffer {
  if (userId.length > 0x1fff) throw new ParseError('SM2 user ID', 'longer than 8191 bytes');
  if (publicPoint.length !== 65 || publicPoint[0] !== 4) throw new ParseError('SM2 public key', 'expected an uncompressed 65-byte point');
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(userId.length * 8);
  return createHash('sm3')
    .update(entl)
    .update(userId)
    .update(to32(curve.a))
    .update(to32(curve.b))
    .update(to32(curve.Gx))
    .update(to32(curve.Gy))
    .update(publicPoint.subarray(1, 65))
    .digest();
}

/** e = SM3(Z_A ‖ M) as an integer (GB/T 32918.2 §6.1 steps A1–A2). */
export function messageDigestOn(curve: Sm2Curve, publicPoint: Uint8Array, message: Uint8Array, userId: Uint8Array): bigint {
  return toBig(createHash('sm3').update(zaOn(curve, publicPoint, userId)).update(message).digest());
}

/**
 * Steps A5–A6 of GB/T 32918.2 §6.1 given the nonce k and x1 = x(kG): returns (r, s), or
 * undefined when the standard says to pick another k. `dPlus1Inv` is (1 + d)⁻¹ mod n.
 */
export function signWithNonce(curve: Sm2Curve, d: bigint, dPlus1Inv: bigint, e: bigint, k: bigint, x1: bigint): { r: bigint; s: bigint } | undefined {
  const { n } = curve;
  const r = mod(e + x1, n);
  if (r === 0n || r + k === n) return undefined;
  const s = mod(dPlus1Inv * (k - r * d), n);
  return s === 0n ? undefined : { r, s };
}

/** Signs digest e with the given nonce, all in plain noble arithmetic (for known-answer tests). */
export function signPlain(curve: Sm2Curve, d: bigint, e: bigint, k: bigint): { r: bigint; s: bigint } | undefined {
  const x1 = curvePoint(curve).BASE.multiply(k).toAffine().x;
  return signWithNonce(curve, d, invert(d + 1n, curve.n), e, k, x1);
}

/** x(s·G + t·P), or undefined for the point at infinity, in plain noble arithmetic. */
export function linearCombinationXPlain(curve: Sm2Curve, s: bigint, t: bigint, publicPoint: Uint8Array): bigint | undefined {
  const Point = curvePoint(curve);
  const P = Point.fromBytes(publicPoint);
  const sum = Point.BASE.multiplyUnsafe(s).add(P.multiplyUnsafe(t));
  return sum.is0() ? undefined : sum.toAffine().x;
}

/** Steps B1–B7 of GB/T 32918.2 §7.1 for digest e, in plain noble arithmetic. */
export function verifyPlain(curve: Sm2Curve, publicPoint: Uint8Array, e: bigint, r: bigint, s: bigint): boolean {
  const { n } = curve;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const t = mod(r + s, n);
  if (t === 0n) return false;
  let x: bigint | undefined;
  try {
    x = linearCombinationXPlain(curve, s, t, publicPoint);
  } catch {
    return false; // not a point of this curve
  }
  return x !== undefined && mod(e + x, n) === r;
}

/** KDF of GB/T 32918.4 §5.4.3 with SM3: SM3(Z ‖ ct) for ct = 1, 2, … truncated to `length` bytes. */
export function kdf(z: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const ct = Buffer.alloc(4);
  for (let off = 0, i = 1; off < length; off += 32, i++) {
    ct.writeUInt32BE(i);
    createHash('sm3').update(z).update(ct).digest().copy(out, off);
  }
  return out;
}

/** The three parts of an SM2 ciphertext: C1 = kG (coordinates), C3 = SM3(x2 ‖ M ‖ y2), C2 = M ⊕ t. */
export interface Sm2CipherParts {
  x1: bigint;
  y1: bigint;
  c3: Buffer;
  c2: Buffer;
}

/**
 * Steps A3–A8 of GB/T 32918.4 §6.1 given C1 and the shared point (x2, y2) = k·P_B; undefined
 * when t is all zero (the standard says to pick another k).
 */
export function encryptWithShared(x1: bigint, y1: bigint, x2: bigint, y2: bigint, message: Uint8Array): Sm2CipherParts | undefined {
  const x2b = to32(x2);
  const y2b = to32(y2);
  const t = kdf(Buffer.concat([x2b, y2b]), message.length);
  if (!t.some((b) => b !== 0)) return undefined;
  for (let i = 0; i < t.length; i++) t[i]! ^= message[i]!;
  const c3 = createHash('sm3').update(x2b).update(message).update(y2b).digest();
  return { x1, y1, c3, c2: t };
}

/** Encrypts with the given nonce in plain noble arithmetic (for known-answer tests). */
export function encryptPlain(curve: Sm2Curve, publicPoint: Uint8Array, message: Uint8Array, k: bigint): Sm2CipherParts | undefined {
  const Point = curvePoint(curve);
  const C1 = Point.BASE.multiply(k).toAffine();
  const S = Point.fromBytes(publicPoint).multiply(k).toAffine();
  return encryptWithShared(C1.x, C1.y, S.x, S.y, message);
}

/**
 * Steps B4–B7 of GB/T 32918.4 §7.1 given the shared point (x2, y2) = d_B·C1: the plaintext, or
 * undefined when t is all zero or C3 does not match (compared in constant time).
 */
export function decryptWithShared(x2: bigint, y2: bigint, c3: Uint8Array, c2: Uint8Array): Buffer | undefined {
  const x2b = to32(x2);
  const y2b = to32(y2);
  const m = kdf(Buffer.concat([x2b, y2b]), c2.length);
  const allZero = !m.some((b) => b !== 0);
  for (let i = 0; i < m.length; i++) m[i]! ^= c2[i]!;
  const u = createHash('sm3').update(x2b).update(m).update(y2b).digest();
  const ok = c3.length === 32 && timingSafeEqual(u, c3);
  return ok && !allZero ? m : undefined;
}

/** Decrypts in plain noble arithmetic: C1 must be on the curve (for known-answer tests and checks). */
export function decryptPlain(curve: Sm2Curve, d: bigint, parts: Sm2CipherParts): Buffer | undefined {
  const Point = curvePoint(curve);
  const C1 = Point.fromAffine({ x: parts.x1, y: parts.y1 });
  C1.assertValidity();
  const S = C1.multiply(d).toAffine();
  return decryptWithShared(S.x, S.y, parts.c3, parts.c2);
}

/**
 * Fast point arithmetic on the SM2 recommended curve for the hot paths of sm2.ts and
 * sm2-encrypt.ts: Jacobian coordinates, a = −3 doubling, mixed (Jacobian + affine) addition and
 * lazy reduction (sums and differences are left unreduced, only products are reduced mod p),
 * which needs far fewer BigInt operations than the complete formulas of @noble/curves.
 *
 * The formulas are not complete: adding a point to itself, to its negation or to infinity gives
 * Z = 0, and Z stays 0 through every later step. Every caller checks Z at the end and falls back
 * to the complete formulas of @noble/curves (sm2-core.ts), so exceptional inputs — which an
 * attacker can craft in a signature — cost time but never give a wrong answer.
 */
import { SM2_CURVE, curvePoint, invert, mod, toBig } from './sm2-core.js';

const { p, n, b } = SM2_CURVE;

/** A point (X/Z², Y/Z³); coordinates may be unreduced or negative. Z ≡ 0 means "recompute". */
export interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint;
}

/** Affine points as parallel coordinate arrays, each coordinate reduced into [0, p). */
interface AffineList {
  xs: bigint[];
  ys: bigint[];
}

/** acc ← 2·acc (dbl-2001-b, a = −3): 3M + 5S. */
function double(acc: Jacobian): void {
  const { x, y, z } = acc;
  const delta = (z * z) % p;
  const gamma = (y * y) % p;
  const beta = (x * gamma) % p;
  const alpha = (3n * (x - delta) * (x + delta)) % p;
  const x3 = (alpha * alpha - 8n * beta) % p;
  acc.y = (alpha * (4n * beta - x3) - 8n * gamma * gamma) % p;
  acc.z = (2n * y * z) % p;
  acc.x = x3;
}

/** acc ← acc + (x2, y2) for an affine point (madd, Z2 = 1): 8M + 3S, seven reductions. */
function addAffine(acc: Jacobian, x2: bigint, y2: bigint): void {
  const { x, y, z } = acc;
  const zz = (z * z) % p;
  const h = (x2 * zz) % p - x;
  const r = (y2 * z * zz) % p - y;
  const hh = (h * h) % p;
  const hhh = h * hh; // left unreduced: one % on a wider number is cheaper than two
  const v = x * hh;
  const x3 = (r * r - hhh - 2n * v) % p;
  acc.y = (r * (v - x3) - y * hhh) % p;
  acc.z = (z * h) % p;
  acc.x = x3;
}

/** Adds an affine point to an accumulator that may still be empty. */
function accumulate(acc: Jacobian | undefined, x: bigint, y: bigint): Jacobian {
  if (!acc) return { x, y, z: 1n };
  addAffine(acc, x, y);
  return acc;
}

/** Affine form of a list of Jacobian points with a single inversion (Montgomery's trick). */
function normalizeAll(points: Jacobian[]): AffineList {
  const prefix: bigint[] = new Array(points.length);
  let acc = 1n;
  for (let i = 0; i < points.length; i++) {
    prefix[i] = acc;
    acc = (acc * points[i]!.z) % p;
  }
  let inv = invert(acc, p); // throws if some Z ≡ 0, which the table builders below never produce
  const xs: bigint[] = new Array(points.length);
  const ys: bigint[] = new Array(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const { x, y, z } = points[i]!;
    const zi = (inv * prefix[i]!) % p;
    inv = (inv * z) % p;
    const zi2 = (zi * zi) % p;
    xs[i] = mod(x * zi2, p);
    ys[i] = mod(((y * zi2) % p) * zi, p);
  }
  return { xs, ys };
}

/** The affine point of acc, or undefined when the fast formulas hit an exceptional case. */
export function toAffine(acc: Jacobian | undefined): { x: bigint; y: bigint } | undefined {
  if (!acc || mod(acc.z, p) === 0n) return undefined;
  const zi = invert(acc.z, p);
  const zi2 = (zi * zi) % p;
  return { x: mod(acc.x * zi2, p), y: mod(((acc.y * zi2) % p) * zi, p) };
}

/** Whether x(acc) ≡ R (mod n), without an inversion: x ∈ [0, p) and p > n, so x is R or R + n. */
export function xMatchesModN(acc: Jacobian, R: bigint): boolean {
  const zz = (acc.z * acc.z) % p;
  if (mod(acc.x - R * zz, p) === 0n) return true;
  return R + n < p && mod(acc.x - (R + n) * zz, p) === 0n;
}

/** Whether acc went through an exceptional case (or is infinity) and must be recomputed. */
export function isExceptional(acc: Jacobian | undefined): boolean {
  return !acc || mod(acc.z, p) === 0n;
}

/** Windows of the comb: 32 bytes of an odd scalar below 2^256, plus the final digit 1. */
const WINDOWS = 33;

/**
 * Regular recoding of an odd m < 2^256 into 33 odd digits d_i ∈ [−255, 255] with m = Σ d_i·2^(8i):
 * d_i = (m_i mod 512) − 256 and m_(i+1) = (m_i − d_i)/256, which in bytes is "byte i (with its low
 * bit set, except byte 0, which is odd anyway), plus 256 if the next byte is odd, minus 256".
 */
function regularDigits(m: bigint): Int16Array {
  const bytes = Buffer.from(m.toString(16).padStart(64, '0'), 'hex'); // big-endian
  const digits = new Int16Array(WINDOWS);
  for (let i = 0; i < 32; i++) {
    const byte = bytes[31 - i]! | 1;
    const nextOdd = i < 31 ? bytes[30 - i]! & 1 : 0;
    digits[i] = byte + 256 * nextOdd - 256;
  }
  digits[32] = 1;
  return digits;
}

/**
 * A fixed-base comb: the affine odd multiples j·2^(8i)·B (j = 1, 3, …, 255) for each of 33 windows.
 * With the regular recoding, k·B is exactly 33 mixed additions and no doublings, the same
 * operations for every k — noble's notion of constant time (BigInt itself is not), so the G table
 * also serves the secret nonces of signing and encryption.
 */
export class Comb {
  private readonly xs: bigint[];
  private readonly ys: bigint[];

  constructor(x: bigint, y: bigint) {
    // Bases B_i = 2^(8i)·B and their doubles, made affine together for the mixed additions.
    const bases: Jacobian[] = [];
    const cur: Jacobian = { x, y, z: 1n };
    for (let i = 0; i < WINDOWS; i++) {
      bases.push({ ...cur });
      double(cur);
      bases.push({ ...cur });
      for (let j = 1; j < 8; j++) double(cur);
    }
    const base = normalizeAll(bases);
    const multiples: Jacobian[] = [];
    for (let i = 0; i < WINDOWS; i++) {
      const [bx, by, tx, ty] = [base.xs[2 * i]!, base.ys[2 * i]!, base.xs[2 * i + 1]!, base.ys[2 * i + 1]!];
      const acc: Jacobian = { x: bx, y: by, z: 1n };
      multiples.push({ ...acc });
      // (j + 2)·B_i = j·B_i + 2·B_i: never exceptional, as j is odd and so never ±2.
      for (let j = 3; j < 256; j += 2) {
        addAffine(acc, tx, ty);
        multiples.push({ ...acc });
      }
    }
    ({ xs: this.xs, ys: this.ys } = normalizeAll(multiples));
  }

  /**
   * acc + k·B for 1 ≤ k < n. From an empty acc, the partial sums (low windows first) are odd, so
   * never ±the next even-weighted term as integers; only the top windows, where sums pass n, can
   * be exceptional — a handful of scalars such as 2^256 − n and n − 254·2^248, flagged by Z = 0.
   */
  addMultiple(acc: Jacobian | undefined, k: bigint): Jacobian | undefined {
    const flip = (k & 1n) === 0n; // the recoding needs an odd scalar: k·B = −((n − k)·B), n being odd
    const digits = regularDigits(flip ? n - k : k);
    for (let i = 0; i < WINDOWS; i++) {
      const d = digits[i]!;
      const at = i * 128 + ((Math.abs(d) - 1) >> 1);
      const y = this.ys[at]!;
      const negated = -y; // computed either way, so that the sign of a digit does not change the work
      acc = accumulate(acc, this.xs[at]!, d > 0 !== flip ? y : negated);
    }
    return acc;
  }
}

/** Affine odd multiples Q, 3Q, …, (2·count − 1)Q of an affine point Q (never exceptional: Q has odd prime order). */
function oddMultiples(x: bigint, y: bigint, count: number): AffineList {
  const twice: Jacobian = { x, y, z: 1n };
  double(twice);
  const t = toAffine(twice)!;
  const acc: Jacobian = { x, y, z: 1n };
  const list: Jacobian[] = [{ ...acc }];
  for (let i = 1; i < count; i++) {
    addAffine(acc, t.x, t.y);
    list.push({ ...acc });
  }
  return normalizeAll(list);
}

/**
 * t·Q for a public scalar by left-to-right sliding windows of width 5. No step is exceptional:
 * the running multiple is always larger than the window value added to it and below n.
 */
function multiplyPublic(x: bigint, y: bigint, t: bigint): Jacobian | undefined {
  const w = 5;
  const table = oddMultiples(x, y, 1 << (w - 1));
  const bits = t.toString(2);
  let acc: Jacobian | undefined;
  for (let i = 0; i < bits.length; ) {
    if (bits[i] === '0') {
      if (acc) double(acc);
      i++;
      continue;
    }
    let j = Math.min(i + w, bits.length);
    while (bits[j - 1] === '0') j--;
    if (acc) for (let k = i; k < j; k++) double(acc);
    const at = (parseInt(bits.slice(i, j), 2) - 1) >> 1;
    acc = accumulate(acc, table.xs[at]!, table.ys[at]!);
    i = j;
  }
  return acc;
}

/**
 * k·Q for a secret scalar 1 ≤ k < n with a fixed sequence of operations (4 doublings and one
 * addition per window, all digits odd and non-zero), like noble's constant-time ladder but about
 * five times faster. BigInt itself is not constant time, as with every JS implementation.
 * Only the last addition could be exceptional, when the odd scalar m ≡ 2·d₀ (mod n); for the SM2
 * order (n ≡ 3 mod 32) no m in [1, n − 1] is, so undefined is returned only defensively.
 */
export function multiplySecret(x: bigint, y: bigint, k: bigint): { x: bigint; y: bigint } | undefined {
  const w = 4;
  // The recoding needs an odd scalar; for even k use n − k (n is odd) and negate the result.
  const negate = (k & 1n) === 0n;
  let m = negate ? n - k : k;
  const count = 64;
  const digits = new Int32Array(count);
  const mask = (1n << BigInt(w + 1)) - 1n;
  for (let i = 0; i < count - 1; i++) {
    const d = Number(m & mask) - (1 << w);
    digits[i] = d;
    m = (m - BigInt(d)) >> BigInt(w);
  }
  digits[count - 1] = Number(m);
  const table = oddMultiples(x, y, 1 << (w - 1));
  const top = (digits[count - 1]! - 1) >> 1;
  const acc: Jacobian = { x: table.xs[top]!, y: table.ys[top]!, z: 1n };
  for (let i = count - 2; i >= 0; i--) {
    for (let j = 0; j < w; j++) double(acc);
    const d = digits[i]!;
    const at = (Math.abs(d) - 1) >> 1;
    const negated = -table.ys[at]!; // computed either way, as in Comb.addMultiple
    addAffine(acc, table.xs[at]!, d > 0 ? table.ys[at]! : negated);
  }
  const out = toAffine(acc);
  if (out && negate) out.y = mod(-out.y, p);
  return out;
}

let baseComb: Comb | undefined;

/** The comb of the base point G (built on first use, about 30 ms). */
function gComb(): Comb {
  return (baseComb ??= new Comb(SM2_CURVE.Gx, SM2_CURVE.Gy));
}

/** Whether (x, y) with 0 ≤ x, y < p satisfies y² = x³ − 3x + b. */
export function onCurve(x: bigint, y: bigint): boolean {
  return x < p && y < p && mod(y * y - x * x * x + 3n * x - b, p) === 0n;
}

/** The coordinates of an uncompressed 65-byte point, or undefined if it is not a point of the curve. */
export function decodePoint(point: Uint8Array): { x: bigint; y: bigint } | undefined {
  if (point.length !== 65 || point[0] !== 4) return undefined;
  const x = toBig(point.subarray(1, 33));
  const y = toBig(point.subarray(33));
  return onCurve(x, y) ? { x, y } : undefined;
}

/**
 * What is kept about a public key: its coordinates, how often it was used, and — once it has
 * been used often enough to pay for itself — its own comb table (CA and OCSP keys verify
 * thousands of signatures, CSR keys one).
 */
export class PublicKeyEntry {
  uses = 0;
  table: Comb | undefined;
  constructor(
    readonly x: bigint,
    readonly y: bigint,
  ) {}
}

/** Uses after which a key gets its comb table (building one costs about 20 verifications without it). */
export const TABLE_AFTER_USES = 16;
/**
 * Keys remembered (for their use counts), and how many of them may hold a table (~0.5 MB each).
 * Tables go to the first keys that earn them and leave only with their key's cache entry, so a
 * working set of more hot keys than tables never makes tables be rebuilt over and over.
 */
const CACHE_SIZE = 256;
const MAX_TABLES = 16;
const cache = new Map<string, PublicKeyEntry>();
let tables = 0;

/** The cached entry of an uncompressed public point, or undefined if it is not a point of the curve. */
export function publicKeyEntry(point: Uint8Array): PublicKeyEntry | undefined {
  if (point.length !== 65) return undefined;
  const hex = Buffer.from(point.buffer, point.byteOffset, point.byteLength).toString('hex');
  let entry = cache.get(hex);
  if (entry) {
    cache.delete(hex); // re-insert: Map order is the LRU order
  } else {
    const xy = decodePoint(point);
    if (!xy) return undefined;
    entry = new PublicKeyEntry(xy.x, xy.y);
    if (cache.size >= CACHE_SIZE) {
      const [oldest, evicted] = cache.entries().next().value!;
      if (evicted.table) tables--;
      cache.delete(oldest);
    }
  }
  cache.set(hex, entry);
  if (++entry.uses >= TABLE_AFTER_USES && !entry.table && tables < MAX_TABLES) {
    entry.table = new Comb(entry.x, entry.y);
    tables++;
  }
  return entry;
}

/** s·G + t·P for public scalars 1 ≤ s, t < n (signature verification); check the result with isExceptional. */
export function linearCombination(s: bigint, t: bigint, key: PublicKeyEntry): Jacobian | undefined {
  // The doublings of the sliding-window t·P must come before any comb point is added.
  const acc = key.table ? key.table.addMultiple(undefined, t) : multiplyPublic(key.x, key.y, t);
  return gComb().addMultiple(acc, s);
}

/**
 * k·G for 1 ≤ k < n with the same 33 additions for every k (nonces of signing and encryption); the
 * few exceptional scalars of the comb (a chance of about 2⁻²⁵⁰ for a random nonce) go to noble.
 */
export function multiplyBase(k: bigint): { x: bigint; y: bigint } {
  return toAffine(gComb().addMultiple(undefined, k)) ?? Sm2Point.BASE.multiply(k).toAffine();
}

/** The curve's noble point class, for the complete-formula fallbacks. */
export const Sm2Point = curvePoint(SM2_CURVE);

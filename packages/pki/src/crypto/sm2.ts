/**
 * SM2 digital signatures (GB/T 32918.2, GM/T 0003.2) with a configurable user ID, on the
 * recommended curve. Node's OpenSSL signs SM2 only with an empty user ID, so the scheme is ours,
 * on the fast arithmetic of sm2-arith.ts: k·G through the comb of G (the same 33 additions for
 * every nonce) and verification through combs and sliding windows. sm2-core.ts holds the plain,
 * curve-parameterised reference these paths are tested against.
 */
import { createECDH, createHash, randomBytes, type ECDH } from 'node:crypto';
import { ParseError } from '../errors.js';
import { decodeEcdsaSignature, encodeEcdsaSignature } from './ecdsa-der.js';
import { SM2_CURVE, invert, mod, signWithNonce, toBig, verifyPlain, zaOn } from './sm2-core.js';
import { isExceptional, linearCombination, multiplyBase, publicKeyEntry, xMatchesModN } from './sm2-arith.js';

export { SM2_CURVE } from './sm2-core.js';

/** The default user ID of GM/T 0009: the ASCII string "1234567812345678". */
export const SM2_DEFAULT_USER_ID: Uint8Array = Buffer.from('1234567812345678', 'ascii');

const { n } = SM2_CURVE;

/** OpenSSL's constant-time scalar multiplication on the SM2 curve, for key pairs (JS is single-threaded, so one object serves). */
let ecdh: ECDH | undefined;

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) of GB/T 32918.2 §5.5. */
export function sm2Za(publicPoint: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Buffer {
  return zaOn(SM2_CURVE, publicPoint, userId);
}

function messageDigest(publicPoint: Uint8Array, message: Uint8Array, userId: Uint8Array): bigint {
  return toBig(createHash('sm3').update(sm2Za(publicPoint, userId)).update(message).digest());
}

/** The uncompressed public point (65 bytes) of a 32-byte private scalar, computed by OpenSSL. */
export function sm2PublicFromPrivate(d: Uint8Array): Uint8Array {
  try {
    const e = (ecdh ??= createECDH('SM2'));
    e.setPrivateKey(d);
    return new Uint8Array(e.getPublicKey());
  } catch (err) {
    throw new ParseError('SM2 private key', 'not a scalar in [1, n − 1]', { cause: err });
  }
}

/** (1 + d)⁻¹ mod n per private-key buffer: it is the same for every signature of a key. */
const inverseCache = new WeakMap<Uint8Array, { d: bigint; inv: bigint }>();

function onePlusDInverse(dBytes: Uint8Array, d: bigint): bigint {
  const hit = inverseCache.get(dBytes);
  if (hit && hit.d === d) return hit.inv; // the buffer may have been overwritten since
  if (d < 1n || d > n - 2n) throw new ParseError('SM2 private key', 'not a scalar in [1, n − 2]');
  const inv = invert(d + 1n, n);
  inverseCache.set(dBytes, { d, inv });
  return inv;
}

/** Signs `message` (the digest e = SM3(Z_A ‖ M) is computed here) and returns DER SEQUENCE{r, s}. */
export function sm2Sign(d: Uint8Array, publicPoint: Uint8Array, message: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Uint8Array {
  const dd = toBig(d);
  const inv = onePlusDInverse(d, dd);
  const e = messageDigest(publicPoint, message, userId);
  for (;;) {
    // k uniform in [1, n − 1]: 320 random bits reduced mod n − 1 leave a bias below 2⁻⁶⁴.
    const k = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const sig = signWithNonce(SM2_CURVE, dd, inv, e, k, multiplyBase(k).x);
    if (sig) return encodeEcdsaSignature(sig.r, sig.s);
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
  const key = publicKeyEntry(publicPoint);
  if (!key || userId.length > 0x1fff) return false;
  const e = messageDigest(publicPoint, message, userId);
  // x(s·G + t·P) must equal r − e modulo n.
  const sum = linearCombination(s, t, key);
  if (isExceptional(sum)) return verifyPlain(SM2_CURVE, publicPoint, e, r, s);
  return xMatchesModN(sum!, mod(r - e, n));
}

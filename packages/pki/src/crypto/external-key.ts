/**
 * Private keys held by a device (an HSM reached through PKCS#11, in packages/server): the library
 * sees only the public half and a `KeySigner`, and `signData` hands every signature to it, so
 * every builder (certificates, CRLs, OCSP, CMS, time-stamps) signs with such a key unchanged.
 * The library stays pure: the device code lives in the caller; here are only the key wrapper and
 * the two encodings a device's raw signing mechanisms need (ECDSA r‖s → DER, RSA DigestInfo).
 */
import { PkiError, UnsupportedError } from '../errors.js';
import { derAlgorithm, derOctetString, derTlv } from '../encoding/der-writer.js';
import { encodeEcdsaSignature } from './ecdsa-der.js';
import { hashOid, type HashName } from './hash.js';
import type { KeySigner, PrivateKey, PublicKey } from './keys.js';

/** Wraps a device-held key: its public half plus the signer that signs inside the device. */
export function externalPrivateKey(publicKey: PublicKey, signer: KeySigner): PrivateKey {
  if (publicKey.kind !== 'rsa' && publicKey.kind !== 'ec') {
    // SM2 would need the device to compute Z with the GM/T 0009 user ID: a different contract.
    throw new UnsupportedError(`a device-held ${publicKey.kind} key cannot sign here; device keys must be RSA or ECDSA`);
  }
  const held = (what: string) => (): never => {
    throw new PkiError('key.external', `the private key is held by ${signer.description}: its ${what} cannot be read`);
  };
  const key = { kind: publicKey.kind, curve: publicKey.curve, bits: publicKey.bits, publicKey, signer };
  // Getters, not values: code that tries to export or clone the key fails with a clear message.
  Object.defineProperty(key, 'pkcs8', { get: held('PKCS#8'), enumerable: false });
  Object.defineProperty(key, 'node', { get: held('KeyObject'), enumerable: false });
  return key as unknown as PrivateKey;
}

/** True for a key whose private half is held by a device. */
export function isExternalKey(key: PrivateKey): boolean {
  return key.signer !== undefined;
}

/** DER ECDSA-Sig-Value from the fixed-size r‖s a PKCS#11 CKM_ECDSA signature is. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2) throw new PkiError('key.external', `an ECDSA signature r‖s of ${raw.length} bytes is malformed`);
  const half = raw.length / 2;
  const big = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).toString('hex'));
  return Buffer.from(encodeEcdsaSignature(big(raw.subarray(0, half)), big(raw.subarray(half))));
}

/** The DigestInfo (PKCS#1 v1.5, RFC 8017 §9.2) that a raw RSA mechanism (CKM_RSA_PKCS) signs. */
export function rsaDigestInfo(hash: HashName, digest: Uint8Array): Buffer {
  if (hash === 'sm3') throw new UnsupportedError('RSA with SM3 is not a signature algorithm this library uses');
  return derTlv(0x30, [derAlgorithm(hashOid(hash), true), derOctetString(digest)]);
}

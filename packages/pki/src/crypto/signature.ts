import { constants, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { OID } from '../oids.js';
import { PkiError, UnsupportedError } from '../errors.js';
import { hashFromOid, type HashName } from './hash.js';
import type { PrivateKey, PublicKey } from './keys.js';
import { SM2_DEFAULT_USER_ID, sm2Sign, sm2Verify } from './sm2.js';

/** Options for signing and verifying. */
export interface SignatureOptions {
  /** Hash for RSA and ECDSA (default: SHA-256, SHA-384 for P-384). SM2 always uses SM3. */
  hash?: HashName;
  /** SM2 user ID (GM/T 0009); default "1234567812345678". */
  sm2UserId?: Uint8Array;
}

interface SigAlg {
  oid: string;
  name: string;
  kind: 'rsa' | 'ecdsa' | 'dsa' | 'sm2' | 'rsa-pss' | 'ed25519';
  hash?: HashName;
  /** RSA algorithm identifiers carry an explicit NULL parameter (RFC 4055); ECDSA and SM2 carry none. */
  nullParams?: boolean;
}

const SIG_ALGS: SigAlg[] = [
  { oid: OID.sha1WithRsa, name: 'sha1WithRSAEncryption', kind: 'rsa', hash: 'sha1', nullParams: true },
  { oid: OID.sha224WithRsa, name: 'sha224WithRSAEncryption', kind: 'rsa', hash: 'sha224', nullParams: true },
  { oid: OID.sha256WithRsa, name: 'sha256WithRSAEncryption', kind: 'rsa', hash: 'sha256', nullParams: true },
  { oid: OID.sha384WithRsa, name: 'sha384WithRSAEncryption', kind: 'rsa', hash: 'sha384', nullParams: true },
  { oid: OID.sha512WithRsa, name: 'sha512WithRSAEncryption', kind: 'rsa', hash: 'sha512', nullParams: true },
  { oid: OID.ecdsaWithSha1, name: 'ecdsa-with-SHA1', kind: 'ecdsa', hash: 'sha1' },
  { oid: OID.ecdsaWithSha224, name: 'ecdsa-with-SHA224', kind: 'ecdsa', hash: 'sha224' },
  { oid: OID.ecdsaWithSha256, name: 'ecdsa-with-SHA256', kind: 'ecdsa', hash: 'sha256' },
  { oid: OID.ecdsaWithSha384, name: 'ecdsa-with-SHA384', kind: 'ecdsa', hash: 'sha384' },
  { oid: OID.ecdsaWithSha512, name: 'ecdsa-with-SHA512', kind: 'ecdsa', hash: 'sha512' },
  { oid: OID.dsaWithSha1, name: 'dsa-with-SHA1', kind: 'dsa', hash: 'sha1' },
  { oid: OID.dsaWithSha256, name: 'dsa-with-SHA256', kind: 'dsa', hash: 'sha256' },
  { oid: OID.sm2WithSm3, name: 'SM2-with-SM3', kind: 'sm2', hash: 'sm3' },
  { oid: OID.rsassaPss, name: 'RSASSA-PSS', kind: 'rsa-pss' },
  { oid: OID.ed25519, name: 'Ed25519', kind: 'ed25519' },
];

/** A readable name for a signature algorithm OID (the OID itself when unknown). */
export function signatureAlgorithmName(oid: string): string {
  return SIG_ALGS.find((a) => a.oid === oid)?.name ?? oid;
}

/** The hash a signature algorithm uses, when it names one. */
export function signatureHash(oid: string): HashName | undefined {
  return SIG_ALGS.find((a) => a.oid === oid)?.hash;
}

function defaultHash(key: PrivateKey | PublicKey): HashName {
  if (key.kind === 'sm2') return 'sm3';
  if (key.kind === 'ec' && key.curve === 'P-384') return 'sha384';
  if (key.kind === 'ec' && key.curve === 'P-521') return 'sha512';
  return 'sha256';
}

/** The AlgorithmIdentifier that `sign` will use for this key and options. */
export function signatureAlgorithmFor(key: PrivateKey | PublicKey, opts: SignatureOptions = {}): AlgorithmIdentifier {
  const kind = key.kind === 'ec' ? 'ecdsa' : key.kind;
  const hash = key.kind === 'sm2' ? 'sm3' : (opts.hash ?? defaultHash(key));
  const alg = SIG_ALGS.find((a) => a.kind === kind && a.hash === hash);
  if (!alg) throw new UnsupportedError(`cannot sign with a ${key.kind} key and ${hash}`);
  return new AlgorithmIdentifier({ algorithm: alg.oid, parameters: alg.nullParams ? null : undefined });
}

/** Signs `data` and returns the signature with the AlgorithmIdentifier describing it. */
export function signData(key: PrivateKey, data: Uint8Array, opts: SignatureOptions = {}): { algorithm: AlgorithmIdentifier; signature: Buffer } {
  const algorithm = signatureAlgorithmFor(key, opts);
  const alg = SIG_ALGS.find((a) => a.oid === algorithm.algorithm)!;
  let signature: Buffer;
  if (key.signer) {
    signature = Buffer.from(key.signer.sign(data, alg.hash!));
  } else if (alg.kind === 'sm2') {
    signature = Buffer.from(sm2Sign(key.sm2D!, key.publicKey.sm2Point!, data, opts.sm2UserId ?? SM2_DEFAULT_USER_ID));
  } else if (alg.kind === 'rsa') {
    signature = nodeSign(alg.hash!, data, { key: key.node, padding: constants.RSA_PKCS1_PADDING });
  } else {
    signature = nodeSign(alg.hash!, data, key.node);
  }
  return { algorithm, signature };
}

/**
 * Verifies a signature made with the algorithm `algorithm` (an AlgorithmIdentifier or its OID).
 * Returns false for a wrong signature or a key that does not fit the algorithm; throws
 * UnsupportedError only for an algorithm this library does not know.
 */
export function verifyData(
  key: PublicKey,
  algorithm: AlgorithmIdentifier | string,
  data: Uint8Array,
  signature: Uint8Array,
  opts: SignatureOptions = {},
): boolean {
  const oid = typeof algorithm === 'string' ? algorithm : algorithm.algorithm;
  const alg = SIG_ALGS.find((a) => a.oid === oid);
  if (!alg) throw new UnsupportedError(`unsupported signature algorithm ${oid}`);
  try {
    switch (alg.kind) {
      case 'sm2':
        return key.kind === 'sm2' && sm2Verify(key.sm2Point!, data, signature, opts.sm2UserId ?? SM2_DEFAULT_USER_ID);
      case 'rsa':
        return key.kind === 'rsa' && nodeVerify(alg.hash!, data, { key: key.node, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'ecdsa':
        return key.kind === 'ec' && nodeVerify(alg.hash!, data, key.node, signature);
      case 'dsa':
        return key.kind === 'dsa' && nodeVerify(alg.hash!, data, key.node, signature);
      case 'ed25519':
        return key.kind === 'ed25519' && nodeVerify(null, data, key.node, signature);
      case 'rsa-pss': {
        if (key.kind !== 'rsa' && key.kind !== 'rsa-pss') return false;
        const p = pssParams(algorithm);
        return nodeVerify(p.hash, data, { key: key.node, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }, signature);
      }
    }
  } catch (e) {
    if (e instanceof PkiError) throw e;
    return false; // malformed signature bytes are simply a failed verification
  }
}

/**
 * Pairwise consistency test (FIPS 140 style): signs a fresh random message with `key` and checks
 * the signature with `publicKey` (e.g. the public key of the CA certificate the key signs for).
 * False when the key does not belong to that public key or the signature does not verify.
 */
export function pairwiseConsistent(key: PrivateKey, publicKey: PublicKey): boolean {
  const message = randomBytes(64);
  try {
    const { algorithm, signature } = signData(key, message);
    return verifyData(publicKey, algorithm, message, signature);
  } catch (e) {
    if (e instanceof UnsupportedError) throw e;
    return false;
  }
}

/**
 * Whether each signature `key` makes should still be verified after signing, even once the key
 * passed `pairwiseConsistent`: yes for keys held by a device (it signs out of our sight) and for
 * SM2 (signed by this library's own code); no for software RSA and ECDSA keys, which OpenSSL
 * signs with the same code the pairwise test exercised.
 */
export function needsSignatureCheckEachTime(key: PrivateKey): boolean {
  return key.signer !== undefined || (key.kind !== 'ec' && key.kind !== 'rsa');
}

function pssParams(algorithm: AlgorithmIdentifier | string): { hash: HashName; saltLength: number } {
  if (typeof algorithm === 'string' || !algorithm.parameters) return { hash: 'sha1', saltLength: 20 };
  const p = AsnConvert.parse(algorithm.parameters, RsaSaPssParams);
  const hash = hashFromOid(p.hashAlgorithm.algorithm);
  const mgfHash = hashFromOid(AsnConvert.parse(p.maskGenAlgorithm.parameters!, AlgorithmIdentifier).algorithm);
  if (mgfHash !== hash) throw new UnsupportedError('RSASSA-PSS with an MGF1 hash different from the message hash');
  return { hash, saltLength: p.saltLength };
}

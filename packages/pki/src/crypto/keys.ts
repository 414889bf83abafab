import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, type JsonWebKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { ECPrivateKey } from '@peculiar/asn1-ecc';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { OID } from '../oids.js';
import { ParseError, PkiError, UnsupportedError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { childTlvs, expectTlv, readBitString, readOid, type Tlv } from '../encoding/der.js';
import { sm2PublicFromPrivate } from './sm2.js';
import type { HashName } from './hash.js';

/** The key algorithms a CA or a holder may generate. */
export const KEY_ALGORITHMS = ['sm2', 'p256', 'p384', 'rsa2048', 'rsa3072'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** What kind of key: RSA, ECDSA on a NIST curve, SM2, or a verify-only legacy kind. */
export type KeyKind = 'rsa' | 'ec' | 'sm2' | 'dsa' | 'ed25519' | 'rsa-pss';

/** A public key, with its SubjectPublicKeyInfo DER and a Node KeyObject ready to use. */
export interface PublicKey {
  readonly kind: KeyKind;
  /** Named curve for EC keys: "P-256", "P-384", "P-521" or "SM2". */
  readonly curve?: string;
  /** Modulus length for RSA/DSA, field size for EC. */
  readonly bits: number;
  readonly spki: Buffer;
  readonly node: KeyObject;
  /** SM2 only: the uncompressed public point 04‖x‖y (65 bytes). */
  readonly sm2Point?: Uint8Array;
}

/**
 * A private key, with its unencrypted PKCS#8 DER, its public half and a Node KeyObject; or a key
 * held by a device (an HSM), which has only its public half and a `signer` (see external-key.ts).
 */
export interface PrivateKey {
  readonly kind: KeyKind;
  readonly curve?: string;
  readonly bits: number;
  /** Throws for a key held by a device: its private half never leaves it. */
  readonly pkcs8: Buffer;
  /** Throws for a key held by a device. */
  readonly node: KeyObject;
  readonly publicKey: PublicKey;
  /** SM2 only: the 32-byte private scalar. */
  readonly sm2D?: Uint8Array;
  /** Present when the key lives in a device that signs for us; `signData` then goes through it. */
  readonly signer?: KeySigner;
}

/** Something outside this process that signs with a private key it keeps (an HSM through PKCS#11). */
export interface KeySigner {
  /** Where the key is, for messages and audit (e.g. "PKCS#11 token hpki, key id 0a1b…"). */
  readonly description: string;
  /**
   * Signs `data` hashed with `hash` and returns the signature as X.509 carries it: a DER
   * ECDSA-Sig-Value for EC keys, the PKCS#1 v1.5 signature for RSA keys. Synchronous, as
   * PKCS#11 calls are, so that every builder keeps its synchronous signing API.
   */
  sign(data: Uint8Array, hash: HashName): Uint8Array;
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  SM2: 'SM2',
};
const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521, SM2: 256 };

/** Generates a fresh key pair for one of the supported algorithms. */
export function generateKey(alg: KeyAlgorithm): PrivateKey {
  switch (alg) {
    case 'rsa2048':
    case 'rsa3072':
      return wrapPrivate(generateKeyPairSync('rsa', { modulusLength: alg === 'rsa2048' ? 2048 : 3072 }).privateKey);
    case 'p256':
    case 'p384':
      return wrapPrivate(generateKeyPairSync('ec', { namedCurve: alg === 'p256' ? 'prime256v1' : 'secp384r1' }).privateKey);
    case 'sm2': {
      // Node generates an ECDSA-typed key on the SM2 curve; re-importing its PKCS#8 gives an SM2 key.
      const k = generateKeyPairSync('ec', { namedCurve: 'SM2' }).privateKey;
      return importPrivateKey(k.export({ type: 'pkcs8', format: 'der' }));
    }
    default:
      throw new UnsupportedError(`unknown key algorithm ${String(alg)}; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
}

/** Describes a key as the algorithm name used by `generateKey`, when it is one of those. */
export function keyAlgorithmOf(key: PublicKey | PrivateKey): KeyAlgorithm | undefined {
  if (key.kind === 'sm2') return 'sm2';
  if (key.kind === 'ec') return key.curve === 'P-256' ? 'p256' : key.curve === 'P-384' ? 'p384' : undefined;
  if (key.kind === 'rsa') return key.bits === 2048 ? 'rsa2048' : key.bits === 3072 ? 'rsa3072' : undefined;
  return undefined;
}

/**
 * Imports a private key from PEM or DER: PKCS#8 (plain or password-encrypted), SEC1 "EC PRIVATE KEY"
 * or PKCS#1 "RSA PRIVATE KEY". A passphrase is needed only for the encrypted form.
 */
export function importPrivateKey(input: Uint8Array | string, passphrase?: string): PrivateKey {
  const bytes = typeof input === 'string' ? Buffer.from(input) : Buffer.from(input);
  const isPem = bytes.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
  try {
    // wrapPrivate is inside the try: OpenSSL accepts some keys it then cannot re-export
    // (e.g. an oversized SEC1 scalar), and that too is bad input, not a crash.
    const node = isPem ? createPrivateKey({ key: bytes.toString('utf8'), format: 'pem', passphrase }) : tryDer(bytes, passphrase);
    return wrapPrivate(node);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    if (/passphrase|decrypt|interrupted or cancelled/i.test(msg)) {
      throw new PkiError('key.passphrase', passphrase ? 'wrong passphrase for the encrypted private key' : 'the private key is encrypted: give its passphrase');
    }
    throw new ParseError('private key', msg, { cause: e });
  }
}

function tryDer(der: Buffer, passphrase?: string): KeyObject {
  const attempts: Array<() => KeyObject> = [
    () => createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase }),
    () => createPrivateKey({ key: der, format: 'der', type: 'sec1' }),
    () => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }),
  ];
  let first: unknown;
  for (const a of attempts) {
    try {
      return a();
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

/** Imports a public key from a SubjectPublicKeyInfo in PEM or DER. */
export function importPublicKey(input: Uint8Array | string): PublicKey {
  const der = toDer(input, ['PUBLIC KEY'], 'public key');
  return publicKeyFromSpki(der);
}

/** Builds a PublicKey from SubjectPublicKeyInfo DER (as found in certificates and CSRs). */
export function publicKeyFromSpki(spki: Uint8Array): PublicKey {
  const der = Buffer.from(spki);
  const info = parsing('public key', () => readSpki(der));
  let node: KeyObject;
  try {
    node = importSpki(der, info);
  } catch (e) {
    if (info.algorithm === OID.sm2Sign || info.algorithm === OID.sm2Encrypt) {
      throw new UnsupportedError('SM2 keys must use id-ecPublicKey with the SM2 curve (GM/T 0015)');
    }
    throw new ParseError('public key', e instanceof Error ? e.message : String(e), { cause: e });
  }
  return describePublic(node, der, info.key);
}

/** The parts of a SubjectPublicKeyInfo that choosing an import path needs. */
interface SpkiInfo {
  algorithm: string;
  /** The parameters TLV of the AlgorithmIdentifier, when present. */
  params?: Uint8Array;
  /** The subjectPublicKey BIT STRING's bytes (for SM2 and EC keys, the point). */
  key: Uint8Array;
}

/**
 * Reads SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, parameters OPTIONAL },
 * subjectPublicKey BIT STRING } by hand: a schema decode costs more than everything else here but the import.
 */
function readSpki(der: Buffer): SpkiInfo {
  const top = expectTlv(der, 0, 0x30, 'public key');
  if (top.end !== der.length) throw new ParseError('public key', 'trailing bytes after SubjectPublicKeyInfo');
  const parts = childTlvs(der, top, 'public key');
  if (parts.length !== 2 || parts[0]!.tag !== 0x30) throw new ParseError('public key', 'expected an AlgorithmIdentifier and a BIT STRING');
  const alg = childTlvs(der, parts[0]!, 'public key');
  if (alg.length < 1 || alg.length > 2) throw new ParseError('public key', 'AlgorithmIdentifier must be an OID and optional parameters');
  return {
    algorithm: readOid(der, alg[0]!, 'public key'),
    params: alg[1] && der.subarray(alg[1].start, alg[1].end),
    key: new Uint8Array(readBitString(der, parts[1]!, 'public key').bytes),
  };
}

/**
 * Makes the KeyObject. OpenSSL 3 decodes DER keys through its generic decoder, ~150-300 µs a key;
 * importing the same RSA or P-256 key as a JWK takes 5-100 µs. The JWK path is used only when the
 * key it makes exports back to exactly the given DER, so the result is the key the DER import gives.
 */
function importSpki(der: Buffer, info: SpkiInfo): KeyObject {
  const jwk = jwkFor(info);
  if (jwk) {
    try {
      const node = createPublicKey({ key: jwk, format: 'jwk' });
      // A P-256 SPKI in its one DER form is known to export as itself: the export (a third of the import) is spared.
      if (jwk.kty === 'EC' ? isDerP256Spki(der) : node.export({ type: 'spki', format: 'der' }).equals(der)) return node;
    } catch {
      // not importable this way: the DER import below gives the real answer
    }
  }
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

const NULL_PARAMS = Buffer.from([0x05, 0x00]);
/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }: what OpenSSL writes before a P-256 point. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** Whether `der` is the DER SPKI of an uncompressed P-256 point, byte for byte as OpenSSL exports it. */
function isDerP256Spki(der: Buffer): boolean {
  return der.length === P256_SPKI_PREFIX.length + 65 && der[P256_SPKI_PREFIX.length] === 0x04 && der.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX);
}
const P256_PARAMS = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);

/** A JWK for an RSA key or an uncompressed P-256 point (P-384's JWK import is slower than DER). */
function jwkFor(info: SpkiInfo): JsonWebKey | undefined {
  const params = info.params && Buffer.from(info.params.buffer, info.params.byteOffset, info.params.length);
  if (info.algorithm === OID.rsaEncryption && params?.equals(NULL_PARAMS)) {
    const rsa = readRsaPublicKey(info.key);
    return rsa && { kty: 'RSA', n: base64url(rsa.n), e: base64url(rsa.e) };
  }
  if (info.algorithm === OID.ecPublicKey && params?.equals(P256_PARAMS) && info.key.length === 65 && info.key[0] === 4) {
    return { kty: 'EC', crv: 'P-256', x: base64url(info.key.subarray(1, 33)), y: base64url(info.key.subarray(33)) };
  }
  return undefined;
}

/** RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, magnitudes only; undefined for anything unusual. */
function readRsaPublicKey(key: Uint8Array): { n: Uint8Array; e: Uint8Array } | undefined {
  try {
    const top = expectTlv(key, 0, 0x30);
    const [n, e, ...rest] = childTlvs(key, top);
    if (top.end !== key.length || !n || !e || rest.length || n.tag !== 0x02 || e.tag !== 0x02) return undefined;
    const magnitude = (t: Tlv) => (key[t.valueStart] === 0 ? key.subarray(t.valueStart + 1, t.end) : key.subarray(t.valueStart, t.end));
    // Negative or empty INTEGERs are left to the DER import to judge.
    if (n.end === n.valueStart || e.end === e.valueStart || key[n.valueStart]! & 0x80 || key[e.valueStart]! & 0x80) return undefined;
    return { n: magnitude(n), e: magnitude(e) };
  } catch {
    return undefined;
  }
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

function describePublic(node: KeyObject, spki: Buffer, point?: Uint8Array): PublicKey {
  const type = node.asymmetricKeyType;
  const details = node.asymmetricKeyDetails ?? {};
  if (type === undefined || (type === 'ec' && details.namedCurve === 'SM2')) {
    const p = point ?? new Uint8Array(parsing('public key', () => AsnConvert.parse(spki, SubjectPublicKeyInfo)).subjectPublicKey);
    if (p.length !== 65 || p[0] !== 4) throw new ParseError('public key', 'SM2 public key must be an uncompressed point of 65 bytes');
    return { kind: 'sm2', curve: 'SM2', bits: 256, spki, node, sm2Point: p };
  }
  if (type === 'ec') {
    const curve = CURVE_NAMES[details.namedCurve ?? ''];
    if (!curve) throw new UnsupportedError(`unsupported elliptic curve ${details.namedCurve}`);
    return { kind: 'ec', curve, bits: CURVE_BITS[curve]!, spki, node };
  }
  if (type === 'rsa' || type === 'rsa-pss' || type === 'dsa') {
    return { kind: type, bits: details.modulusLength ?? 0, spki, node };
  }
  if (type === 'ed25519') return { kind: 'ed25519', bits: 256, spki, node };
  throw new UnsupportedError(`unsupported public key type ${type}`);
}

function wrapPrivate(node: KeyObject): PrivateKey {
  const pkcs8 = node.export({ type: 'pkcs8', format: 'der' });
  const pubNode = createPublicKey(node);
  const spki = pubNode.export({ type: 'spki', format: 'der' });
  const pub = describePublic(pubNode, spki);
  if (pub.kind !== 'sm2') return { kind: pub.kind, curve: pub.curve, bits: pub.bits, pkcs8, node, publicKey: pub };
  // Node cannot sign SM2 with a user ID, so our own SM2 code needs the raw scalar.
  const d = sm2ScalarFromPkcs8(pkcs8);
  let smNode = node;
  if (node.asymmetricKeyType === 'ec') smNode = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const point = pub.sm2Point ?? sm2PublicFromPrivate(d);
  return { kind: 'sm2', curve: 'SM2', bits: 256, pkcs8, node: smNode, sm2D: d, publicKey: { ...pub, sm2Point: point } };
}

function sm2ScalarFromPkcs8(pkcs8: Buffer): Uint8Array {
  const info = AsnConvert.parse(pkcs8, PrivateKeyInfo);
  const ec = AsnConvert.parse(info.privateKey.buffer, ECPrivateKey);
  const raw = new Uint8Array(ec.privateKey.buffer);
  if (raw.length > 32) throw new ParseError('private key', 'SM2 private key longer than 32 bytes');
  const d = new Uint8Array(32);
  d.set(raw, 32 - raw.length);
  return d;
}

/** Output encodings for keys. */
export type KeyFormat = 'pem' | 'der';

/** Exports a private key as PKCS#8, password-encrypted (AES-256-CBC, PBKDF2) when a passphrase is given. */
export function exportPrivateKey(key: PrivateKey, format: KeyFormat = 'pem', passphrase?: string): Buffer {
  if (passphrase !== undefined) {
    if (passphrase.length < 4) throw new PkiError('key.passphrase', 'passphrase must be at least 4 characters');
    const opts = { type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } as const;
    return format === 'der' ? key.node.export({ ...opts, format: 'der' }) : Buffer.from(key.node.export({ ...opts, format: 'pem' }));
  }
  return format === 'der' ? key.pkcs8 : Buffer.from(toPem('PRIVATE KEY', key.pkcs8));
}

/** Exports a public key as SubjectPublicKeyInfo. */
export function exportPublicKey(key: PublicKey, format: KeyFormat = 'pem'): Buffer {
  return format === 'der' ? key.spki : Buffer.from(toPem('PUBLIC KEY', key.spki));
}

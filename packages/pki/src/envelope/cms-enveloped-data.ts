/**
 * CMS EnvelopedData (RFC 5652 §6) for RSA and ECDSA deployments, where the key management centre
 * returns an escrowed encryption key as a PKCS#8 wrapped to the holder's signing certificate (SM2
 * deployments use the GM/T 0009 SM2EnvelopedKey instead). Recipients:
 * - RSA: KeyTransRecipientInfo with RSAES-OAEP (SHA-256, MGF1-SHA-256; RFC 8017, RFC 4055), or
 *   RSAES-PKCS1-v1_5 for old recipients. We open only OAEP: Node refuses PKCS#1 v1.5 decryption
 *   (CVE-2023-46809, the Marvin timing attack) and so do we.
 * - EC (P-256, P-384): KeyAgreeRecipientInfo, ephemeral-static ECDH with the X9.63 KDF
 *   (dhSinglePass-stdDH-sha256kdf-scheme, RFC 5753) and AES key wrap (RFC 3394).
 * Content: AES-256-CBC (AES-128/192-CBC accepted when opening). Recipients are named by issuer
 * and serial number, which `openssl cms -decrypt -recip cert.pem` matches.
 */
import { createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, constants, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  CMSVersion,
  ContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  IssuerAndSerialNumber,
  KeyAgreeRecipientIdentifier,
  KeyAgreeRecipientInfo,
  KeyTransRecipientInfo,
  OriginatorIdentifierOrKey,
  OriginatorPublicKey,
  RecipientEncryptedKey,
  RecipientEncryptedKeys,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
} from '@peculiar/asn1-cms';
import { RsaEsOaepParams, id_mgf1, id_pSpecified, id_RSAES_OAEP } from '@peculiar/asn1-rsa';
import { ECParameters } from '@peculiar/asn1-ecc';
import { ParseError, PkiError, UnsupportedError, parsing } from '../errors.js';
import { OID } from '../oids.js';
import { hashFromOid, type HashName } from '../crypto/hash.js';
import { importPrivateKey, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import type { Certificate } from '../x509/certificate.js';
import { EnvelopeError } from './errors.js';

/** How the content-encryption key reaches an RSA recipient. */
export type RsaKeyTransport = 'rsa-oaep-sha256' | 'rsa-pkcs1';

/** Options of buildEnvelopedData. */
export interface EnvelopeOptions {
  /** For RSA recipients (default "rsa-oaep-sha256"; "rsa-pkcs1" only for recipients that lack OAEP). */
  rsaKeyTransport?: RsaKeyTransport;
  /** The inner content type (default id-data). */
  contentType?: string;
}

const AES_CBC: Record<string, number> = {
  '2.16.840.1.101.3.4.1.2': 16, // aes128-CBC
  '2.16.840.1.101.3.4.1.22': 24, // aes192-CBC
  '2.16.840.1.101.3.4.1.42': 32, // aes256-CBC
};
const AES256_CBC = '2.16.840.1.101.3.4.1.42';
const AES_WRAP: Record<string, number> = {
  '2.16.840.1.101.3.4.1.5': 16, // id-aes128-wrap
  '2.16.840.1.101.3.4.1.25': 24, // id-aes192-wrap
  '2.16.840.1.101.3.4.1.45': 32, // id-aes256-wrap
};
const AES256_WRAP = '2.16.840.1.101.3.4.1.45';
/** RFC 5753 / SEC 1 dhSinglePass-stdDH-*kdf-scheme OIDs and the hash of their KDF. */
const ECDH_SCHEMES: Record<string, HashName> = {
  '1.3.133.16.840.63.0.2': 'sha1',
  '1.3.132.1.11.0': 'sha224',
  '1.3.132.1.11.1': 'sha256',
  '1.3.132.1.11.2': 'sha384',
  '1.3.132.1.11.3': 'sha512',
};
const ECDH_SHA256_SCHEME = '1.3.132.1.11.1';
const NODE_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

/** ECC-CMS-SharedInfo of RFC 5753 §7.2, the KDF's context. */
class EccCmsSharedInfo {
  @AsnProp({ type: AlgorithmIdentifier }) keyInfo = new AlgorithmIdentifier();
  @AsnProp({ type: AsnPropTypes.OctetString, context: 0, optional: true }) entityUInfo?: ArrayBuffer;
  @AsnProp({ type: AsnPropTypes.OctetString, context: 2 }) suppPubInfo = new ArrayBuffer(0);
}

function issuerAndSerial(cert: Certificate): IssuerAndSerialNumber {
  return new IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: new Uint8Array(cert.serialNumber).buffer as ArrayBuffer });
}

function sameIssuerAndSerial(a: IssuerAndSerialNumber | undefined, cert: Certificate): boolean {
  if (!a) return false;
  let issuer: Buffer;
  try {
    issuer = Buffer.from(AsnConvert.serialize(a.issuer));
  } catch {
    return false; // a name the schema cannot even re-encode (e.g. a bad PrintableString) is not this certificate's issuer
  }
  return issuer.equals(cert.issuerDer) && Buffer.from(a.serialNumber).equals(cert.serialNumber);
}

function oaepSha256(): AlgorithmIdentifier {
  const sha256 = new AlgorithmIdentifier({ algorithm: OID.sha256, parameters: null });
  const params = new RsaEsOaepParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: id_mgf1, parameters: AsnConvert.serialize(sha256) }),
  });
  return new AlgorithmIdentifier({ algorithm: id_RSAES_OAEP, parameters: AsnConvert.serialize(params) });
}

/** The OAEP hash named by the parameters; anything but the same hash for MGF1 and an empty label is unsupported. */
function oaepHash(alg: AlgorithmIdentifier): HashName {
  if (!alg.parameters) return 'sha1';
  const p = parsing('RSAES-OAEP parameters', () => AsnConvert.parse(alg.parameters!, RsaEsOaepParams));
  const hash = hashFromOid(p.hashAlgorithm.algorithm);
  if (p.maskGenAlgorithm.algorithm !== id_mgf1 || !p.maskGenAlgorithm.parameters) throw new UnsupportedError('RSAES-OAEP: only MGF1 is supported');
  const mgfHash = hashFromOid(parsing('RSAES-OAEP parameters', () => AsnConvert.parse(p.maskGenAlgorithm.parameters!, AlgorithmIdentifier)).algorithm);
  if (mgfHash !== hash) throw new UnsupportedError('RSAES-OAEP: the MGF1 hash must be the OAEP hash');
  // pSource absent (asn1-rsa then fills in its default) or pSpecified with an empty label.
  const src = p.pSourceAlgorithm;
  const isDefault = Buffer.from(AsnConvert.serialize(src)).equals(Buffer.from(AsnConvert.serialize(new RsaEsOaepParams().pSourceAlgorithm)));
  const emptyLabel = src.algorithm === id_pSpecified && src.parameters != null && Buffer.from(src.parameters).equals(Buffer.from([0x04, 0x00]));
  if (!isDefault && !emptyLabel) throw new UnsupportedError('RSAES-OAEP: labels are not supported');
  return hash;
}

function rsaRecipient(cek: Buffer, cert: Certificate, transport: RsaKeyTransport): RecipientInfo {
  const pub = cert.publicKey;
  const oaep = transport === 'rsa-oaep-sha256';
  const encryptedKey = publicEncrypt(
    oaep ? { key: pub.node, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } : { key: pub.node, padding: constants.RSA_PKCS1_PADDING },
    cek,
  );
  const ktri = new KeyTransRecipientInfo({
    version: CMSVersion.v0,
    rid: new RecipientIdentifier({ issuerAndSerialNumber: issuerAndSerial(cert) }),
    keyEncryptionAlgorithm: oaep ? oaepSha256() : new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }),
    encryptedKey: new OctetString(encryptedKey),
  });
  return new RecipientInfo({ ktri });
}

/** The X9.63 KDF (SEC 1 §3.6.1) with ECC-CMS-SharedInfo, giving the key-encryption key. */
function x963Kdf(hash: HashName, z: Buffer, wrapAlg: string, keyBytes: number, ukm?: ArrayBuffer): Buffer {
  const info = new EccCmsSharedInfo();
  info.keyInfo = new AlgorithmIdentifier({ algorithm: wrapAlg });
  if (ukm) info.entityUInfo = ukm;
  const bits = Buffer.alloc(4);
  bits.writeUInt32BE(keyBytes * 8);
  info.suppPubInfo = new Uint8Array(bits).buffer as ArrayBuffer;
  const shared = Buffer.from(AsnConvert.serialize(info));
  const out: Buffer[] = [];
  for (let counter = 1, have = 0; have < keyBytes; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(z).update(c).update(shared).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, keyBytes);
}

const WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function aesWrap(kek: Buffer, cek: Buffer): Buffer {
  const c = createCipheriv(`id-aes${kek.length * 8}-wrap`, kek, WRAP_IV);
  return Buffer.concat([c.update(cek), c.final()]);
}

function aesUnwrap(kek: Buffer, wrapped: Uint8Array): Buffer {
  const d = createDecipheriv(`id-aes${kek.length * 8}-wrap`, kek, WRAP_IV);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

function ecRecipient(cek: Buffer, cert: Certificate): RecipientInfo {
  const pub = cert.publicKey;
  const curve = NODE_CURVES[pub.curve ?? ''];
  if (pub.kind !== 'ec' || !curve) throw new UnsupportedError(`CMS EnvelopedData: cannot agree a key with a ${pub.kind} ${pub.curve ?? ''} recipient`);
  const eph = generateKeyPairSync('ec', { namedCurve: curve });
  const z = diffieHellman({ privateKey: eph.privateKey, publicKey: pub.node });
  const kek = x963Kdf('sha256', z, AES256_WRAP, 32);
  const ephSpki = AsnConvert.parse(eph.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const kari = new KeyAgreeRecipientInfo({
    version: CMSVersion.v3,
    originator: new OriginatorIdentifierOrKey({
      // RFC 5753 §3.1.1: the originator's algorithm is id-ecPublicKey with the parameters absent.
      originatorKey: new OriginatorPublicKey({ algorithm: new AlgorithmIdentifier({ algorithm: OID.ecPublicKey }), publicKey: ephSpki.subjectPublicKey }),
    }),
    keyEncryptionAlgorithm: new AlgorithmIdentifier({ algorithm: ECDH_SHA256_SCHEME, parameters: AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: AES256_WRAP })) }),
    recipientEncryptedKeys: new RecipientEncryptedKeys([
      new RecipientEncryptedKey({ rid: new KeyAgreeRecipientIdentifier({ issuerAndSerialNumber: issuerAndSerial(cert) }), encryptedKey: new OctetString(aesWrap(kek, cek)) }),
    ]),
  });
  return new RecipientInfo({ kari });
}

/** Encrypts `content` for each recipient certificate (RSA or EC) and returns the ContentInfo DER. */
export function buildEnvelopedData(content: Uint8Array, recipients: Certificate[], opts: EnvelopeOptions = {}): Buffer {
  if (recipients.length === 0) throw new PkiError('envelope.input', 'CMS EnvelopedData needs at least one recipient');
  const cek = randomBytes(32);
  const iv = randomBytes(16);
  try {
    const infos = recipients.map((cert) => {
      const kind = cert.publicKey.kind;
      if (kind === 'rsa') return rsaRecipient(cek, cert, opts.rsaKeyTransport ?? 'rsa-oaep-sha256');
      if (kind === 'ec') return ecRecipient(cek, cert);
      throw new UnsupportedError(`CMS EnvelopedData: no recipient scheme for ${kind} keys${kind === 'sm2' ? ' (SM2 holders get an SM2EnvelopedKey)' : ''}`);
    });
    const c = createCipheriv('aes-256-cbc', cek, iv);
    const ciphertext = Buffer.concat([c.update(content), c.final()]);
    const env = new EnvelopedData({
      version: infos.every((i) => i.ktri?.version === CMSVersion.v0) ? CMSVersion.v0 : CMSVersion.v2,
      recipientInfos: new RecipientInfos(infos),
      encryptedContentInfo: new EncryptedContentInfo({
        contentType: opts.contentType ?? OID.cmsData,
        contentEncryptionAlgorithm: new AlgorithmIdentifier({ algorithm: AES256_CBC, parameters: AsnConvert.serialize(new OctetString(iv)) }),
        encryptedContent: new EncryptedContent({ value: new OctetString(ciphertext) }),
      }),
    });
    return Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: OID.cmsEnvelopedData, content: AsnConvert.serialize(env) })));
  } finally {
    cek.fill(0);
  }
}

/** An EnvelopedData read from its ContentInfo, for inspection. */
export function parseEnvelopedData(der: Uint8Array): EnvelopedData {
  return parsing('CMS EnvelopedData', () => {
    const ci = AsnConvert.parse(Buffer.from(der), ContentInfo);
    if (ci.contentType !== OID.cmsEnvelopedData) throw new ParseError('CMS EnvelopedData', `content type ${ci.contentType} is not id-envelopedData`);
    const env = AsnConvert.parse(ci.content, EnvelopedData);
    if (env.recipientInfos.length === 0) throw new ParseError('CMS EnvelopedData', 'no recipients');
    return env;
  });
}

function recipientFailure(cause?: unknown): EnvelopeError {
  return new EnvelopeError('recipient', 'CMS EnvelopedData: this key cannot open the envelope (wrong recipient, or the envelope was altered)', { cause });
}

/** The content-encryption key from a KeyTransRecipientInfo, or undefined when it does not open. */
function openKtri(ktri: KeyTransRecipientInfo, key: PrivateKey): Buffer | undefined {
  const alg = ktri.keyEncryptionAlgorithm;
  if (alg.algorithm === OID.rsaEncryption) {
    throw new UnsupportedError('CMS EnvelopedData: RSAES-PKCS1-v1_5 key transport cannot be opened safely (Marvin attack); use RSAES-OAEP');
  }
  if (alg.algorithm !== id_RSAES_OAEP) throw new UnsupportedError(`CMS EnvelopedData: key transport ${alg.algorithm} is not supported`);
  const hash = oaepHash(alg);
  try {
    return privateDecrypt({ key: key.node, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from(ktri.encryptedKey.buffer));
  } catch {
    return undefined;
  }
}

function originatorPublicKey(kari: KeyAgreeRecipientInfo, key: PrivateKey): KeyObject {
  const ok = kari.originator.originatorKey;
  if (!ok) throw new UnsupportedError('CMS EnvelopedData: only ephemeral-static ECDH (originatorKey) is supported');
  // The originator's key is on the recipient's curve; its algorithm carries no curve itself.
  const curveOid = key.curve === 'P-256' ? OID.secp256r1 : key.curve === 'P-384' ? OID.secp384r1 : key.curve === 'P-521' ? OID.secp521r1 : undefined;
  if (!curveOid) throw new UnsupportedError(`CMS EnvelopedData: key agreement on ${key.curve ?? key.kind} is not supported`);
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID.ecPublicKey, parameters: AsnConvert.serialize(new ECParameters({ namedCurve: curveOid })) }),
    subjectPublicKey: ok.publicKey,
  });
  try {
    return createPublicKey({ key: Buffer.from(AsnConvert.serialize(spki)), format: 'der', type: 'spki' });
  } catch (e) {
    throw new ParseError('CMS EnvelopedData', 'the originator public key is not a point of the recipient curve', { cause: e });
  }
}

/** The content-encryption key from a KeyAgreeRecipientInfo entry, or undefined when it does not open. */
function openKari(kari: KeyAgreeRecipientInfo, rek: RecipientEncryptedKey, key: PrivateKey): Buffer | undefined {
  const scheme = ECDH_SCHEMES[kari.keyEncryptionAlgorithm.algorithm];
  if (!scheme) throw new UnsupportedError(`CMS EnvelopedData: key agreement ${kari.keyEncryptionAlgorithm.algorithm} is not supported`);
  const params = kari.keyEncryptionAlgorithm.parameters;
  if (!params) throw new ParseError('CMS EnvelopedData', 'key agreement without a key-wrap algorithm');
  const wrap = parsing('CMS EnvelopedData', () => AsnConvert.parse(params, AlgorithmIdentifier)).algorithm;
  const kekBytes = AES_WRAP[wrap];
  if (!kekBytes) throw new UnsupportedError(`CMS EnvelopedData: key wrap ${wrap} is not supported`);
  const z = diffieHellman({ privateKey: key.node, publicKey: originatorPublicKey(kari, key) });
  const kek = x963Kdf(scheme, z, wrap, kekBytes, kari.ukm ? kari.ukm.buffer : undefined);
  try {
    return aesUnwrap(kek, Buffer.from(rek.encryptedKey.buffer));
  } catch {
    return undefined;
  } finally {
    kek.fill(0);
  }
}

/** Every recipient entry that could be `key`'s, the one naming `certificate` first. */
function candidates(env: EnvelopedData, key: PrivateKey, certificate?: Certificate): Array<() => Buffer | undefined> {
  const named: Array<() => Buffer | undefined> = [];
  const others: Array<() => Buffer | undefined> = [];
  for (const ri of env.recipientInfos) {
    if (ri.ktri && key.kind === 'rsa') {
      const ktri = ri.ktri;
      const mine = certificate !== undefined && sameIssuerAndSerial(ktri.rid.issuerAndSerialNumber, certificate);
      (mine ? named : others).push(() => openKtri(ktri, key));
    } else if (ri.kari && key.kind === 'ec') {
      const kari = ri.kari;
      for (const rek of kari.recipientEncryptedKeys) {
        const mine = certificate !== undefined && sameIssuerAndSerial(rek.rid.issuerAndSerialNumber, certificate);
        (mine ? named : others).push(() => openKari(kari, rek, key));
      }
    }
  }
  // With a certificate, only the entries naming it are tried (as OpenSSL does with -recip).
  return certificate !== undefined ? named : others;
}

function decryptContent(eci: EncryptedContentInfo, cek: Buffer): Buffer {
  const alg = eci.contentEncryptionAlgorithm;
  const keyBytes = AES_CBC[alg.algorithm];
  if (!keyBytes) throw new UnsupportedError(`CMS EnvelopedData: content encryption ${alg.algorithm} is not supported`);
  if (cek.length !== keyBytes) throw recipientFailure();
  const iv = alg.parameters ? Buffer.from(parsing('CMS EnvelopedData', () => AsnConvert.parse(alg.parameters!, OctetString)).buffer) : Buffer.alloc(0);
  if (iv.length !== 16) throw new ParseError('CMS EnvelopedData', 'the AES-CBC IV must be 16 bytes');
  const ec = eci.encryptedContent;
  const ciphertext = ec?.value ? Buffer.from(ec.value.buffer) : Buffer.concat((ec?.constructedValue ?? []).map((o) => Buffer.from(o.buffer)));
  try {
    const d = createDecipheriv(`aes-${keyBytes * 8}-cbc`, cek, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch (e) {
    throw recipientFailure(e);
  }
}

/**
 * Opens an EnvelopedData with the recipient's private key (and, optionally, their certificate to
 * pick the entry) and returns the content. EnvelopeError "envelope.recipient" when no entry opens.
 */
export function openEnvelopedData(der: Uint8Array, key: PrivateKey, certificate?: Certificate): Buffer {
  const env = parseEnvelopedData(der);
  if (key.kind !== 'rsa' && key.kind !== 'ec') throw new UnsupportedError(`CMS EnvelopedData: cannot open with a ${key.kind} key`);
  for (const attempt of candidates(env, key, certificate)) {
    const cek = attempt();
    if (!cek) continue;
    try {
      return decryptContent(env.encryptedContentInfo, cek);
    } finally {
      cek.fill(0);
    }
  }
  throw recipientFailure();
}

/** Envelopes a private key (its PKCS#8) for the holder of `recipient`: the KMC's delivery for RSA/ECDSA holders. */
export function envelopePrivateKey(key: PrivateKey, recipient: Certificate, opts: EnvelopeOptions = {}): Buffer {
  return buildEnvelopedData(key.pkcs8, [recipient], opts);
}

/**
 * Opens an enveloped PKCS#8; EnvelopeError "envelope.content" when the content is not a private
 * key, "envelope.mismatch" when `expected` is given and the key is not its private half.
 */
export function openEnvelopedPrivateKey(der: Uint8Array, key: PrivateKey, certificate?: Certificate, expected?: PublicKey): PrivateKey {
  const content = openEnvelopedData(der, key, certificate);
  let opened: PrivateKey;
  try {
    opened = importPrivateKey(content);
  } catch (e) {
    throw new EnvelopeError('content', 'CMS EnvelopedData: the content is not a PKCS#8 private key', { cause: e });
  } finally {
    content.fill(0);
  }
  if (expected && !opened.publicKey.spki.equals(expected.spki)) {
    throw new EnvelopeError('mismatch', 'CMS EnvelopedData: the enveloped private key does not match the expected public key');
  }
  return opened;
}

/**
 * Building certificates: the TBSCertificate is written in one pass from bytes (names, key,
 * extensions already encoded) and the Certificate is made from the parts written, without a re-parse.
 */
import { randomFillSync } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { ParseError, PkiError, parsing } from '../errors.js';
import { readTlv } from '../encoding/der.js';
import { DerWriter, derAlgorithm, derOid, derTimeLength, isUtcTime, tlvLength } from '../encoding/der-writer.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor, type SignatureOptions } from '../crypto/signature.js';
import { basicConstraintsExt, extensionLength, extensionParts, keyUsageExt, subjectKeyIdentifierExt, writeExtension, type ExtensionParts, type KeyUsageName } from './extensions.js';
import { addDays, wholeSeconds } from './time.js';
import { Certificate, W, certificateFromParts, checkName, readAlgorithm, readSpki, type CertificateFields, type RawAlgorithm, type RawExtension, type RawSpki } from './certificate.js';

/**
 * A fresh serial number: 16 random bytes (more than the 64 bits CA/B and RFC 5280 guidance ask
 * for), positive, with no leading zero byte.
 */
export function randomSerial(): Buffer {
  if (randomPoolOffset + 16 > randomPool.length) {
    // Each call into the CSPRNG costs microseconds whatever its size; one 4 KiB fill serves 256 serials.
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const b = Buffer.from(randomPool.subarray(randomPoolOffset, randomPoolOffset + 16));
  randomPoolOffset += 16;
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

const randomPool = Buffer.allocUnsafeSlow(4096);
let randomPoolOffset = randomPool.length;

/** Everything a new certificate needs besides the signing key. */
export interface CertificateTemplate {
  serialNumber?: Uint8Array;
  subject: x.Name;
  /** Issuer name, or its DER (e.g. the issuing CA's `subjectDer`, reused byte for byte); defaults to the subject (self-signed). */
  issuer?: x.Name | Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKey;
  extensions?: x.Extension[];
}

/** [0] EXPLICIT INTEGER 2: version v3. */
const V3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);

/**
 * Builds and signs a v3 certificate. The TBSCertificate is measured, then written in one pass from
 * parts that are already bytes (key, names, extension values, memoised OIDs and algorithm
 * identifiers): a schema round trip would cost tens of times the signature, and every temporary
 * object on this path measurably slows the signature that follows it. The Certificate is made
 * from those parts rather than by reading its DER back.
 */
export function buildCertificate(tpl: CertificateTemplate, signer: PrivateKey, opts?: SignatureOptions): Certificate {
  const algorithm = encodeAlgorithm(signatureAlgorithmFor(signer, opts));
  const parts = tbsParts(tpl, algorithm.der);
  const tbs = writeTbs(parts);
  const { signature } = signData(signer, tbs.der, opts);
  const der = writeCertificate(tbs.der, algorithm.der, signature);
  const base = der.length - tbs.der.length - algorithm.der.length - tlvLength(signature.length + 1); // where the TBS starts
  const view = (offset: number, length: number) => der.subarray(base + offset, base + offset + length);
  return certificateFromParts(der, {
    tbsDer: view(0, tbs.der.length),
    version: 3,
    serial: view(tbs.serial, parts.serial.length),
    innerAlgorithm: algorithm.raw,
    issuerDer: view(tbs.issuer, nameSize(parts.issuer)),
    subjectDer: view(tbs.subject, nameSize(parts.subject)),
    notBefore: wholeSeconds(tpl.notBefore),
    notAfter: wholeSeconds(tpl.notAfter),
    utcTimes: [isUtcTime(tpl.notBefore), isUtcTime(tpl.notAfter)],
    spkiDer: view(tbs.spki, parts.spki.length),
    spki: checkedSpki(tpl.publicKey.spki),
    uniqueIds: false,
    extensionsPresent: parts.extensions.length > 0,
    signatureAlgorithm: algorithm.raw,
    signature,
    publicKey: tpl.publicKey,
  });
}

/** The DER of a Name as a certificate built from it carries it (equal to the schema encoder's). */
export function nameDer(name: x.Name): Buffer {
  const parts = nameParts(name);
  if (parts instanceof Uint8Array) return Buffer.from(parts);
  const w = new DerWriter(nameSize(parts));
  writeName(w, parts);
  return w.result();
}

/** A TBSCertificate's fields as bytes (or, for names, ready to be written), to be measured and written. */
interface TbsParts {
  serial: Uint8Array;
  algorithm: Buffer;
  issuer: NameParts;
  notBefore: Date;
  notAfter: Date;
  subject: NameParts;
  spki: Buffer;
  extensions: ExtensionParts[];
}

/** The template's fields as bytes, each checked as parsing would check it. */
function tbsParts(tpl: CertificateTemplate, algorithm: Buffer): TbsParts {
  const serial = tpl.serialNumber ?? randomSerial();
  if (serial.length === 0) throw new PkiError('options.serialNumber', 'the serial number must have at least one byte');
  const subject = nameParts(tpl.subject);
  checkedSpki(tpl.publicKey.spki);
  return {
    serial,
    algorithm,
    issuer: tpl.issuer === undefined ? subject : issuerDer(tpl.issuer),
    notBefore: tpl.notBefore,
    notAfter: tpl.notAfter,
    subject,
    spki: tpl.publicKey.spki,
    extensions: (tpl.extensions ?? []).map(extensionParts),
  };
}

/** The TBSCertificate DER and the offsets in it of the parts a Certificate keeps views of. */
interface WrittenTbs {
  der: Buffer;
  serial: number;
  issuer: number;
  subject: number;
  spki: number;
}

/** Writes TBSCertificate ::= SEQUENCE { [0] v3, serial, signature, issuer, validity, subject, spki, [3] extensions }. */
function writeTbs(p: TbsParts): WrittenTbs {
  const validity = derTimeLength(p.notBefore) + derTimeLength(p.notAfter);
  let extensions = 0;
  for (const e of p.extensions) extensions += tlvLength(extensionLength(e));
  const extensionsField = p.extensions.length ? tlvLength(tlvLength(extensions)) : 0;
  const length = V3.length + tlvLength(p.serial.length) + p.algorithm.length + nameSize(p.issuer) + tlvLength(validity) + nameSize(p.subject) + p.spki.length + extensionsField;
  const w = new DerWriter(tlvLength(length));
  w.header(0x30, length);
  w.bytes(V3);
  w.header(0x02, p.serial.length);
  const serial = w.position;
  w.bytes(p.serial);
  w.bytes(p.algorithm);
  const issuer = w.position;
  writeName(w, p.issuer);
  w.header(0x30, validity);
  w.time(p.notBefore);
  w.time(p.notAfter);
  const subject = w.position;
  writeName(w, p.subject);
  const spki = w.position;
  w.bytes(p.spki);
  if (p.extensions.length) writeExtensions(w, p.extensions, extensions);
  return { der: w.result(), serial, issuer, subject, spki };
}

/** Writes extensions [3] EXPLICIT SEQUENCE OF Extension, whose list content is `length` bytes. */
function writeExtensions(w: DerWriter, extensions: ExtensionParts[], length: number): void {
  w.header(0xa3, tlvLength(length));
  w.header(0x30, length);
  for (const e of extensions) writeExtension(w, e);
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
function writeCertificate(tbs: Buffer, algorithm: Buffer, signature: Buffer): Buffer {
  const length = tbs.length + algorithm.length + tlvLength(signature.length + 1);
  const w = new DerWriter(tlvLength(length));
  w.header(0x30, length);
  w.bytes(tbs);
  w.bytes(algorithm);
  w.header(0x03, signature.length + 1);
  w.byte(0); // no unused bits
  w.bytes(signature);
  return w.result();
}

// SubjectPublicKeyInfo buffers already read: keys are immutable and often reused (a CA's own
// certificates, tests, benches); reading is what keeps a built certificate and its parse alike.
const READ_SPKI = new WeakMap<Buffer, RawSpki>();

/** A template key's SubjectPublicKeyInfo parts, checked as parsing would check them. */
function checkedSpki(spki: Buffer): RawSpki {
  let raw = READ_SPKI.get(spki);
  if (!raw) {
    raw = parsing('public key', () => {
      const t = readTlv(spki, 0, 'public key');
      if (t.end !== spki.length) throw new ParseError('public key', 'trailing bytes after SubjectPublicKeyInfo');
      return readSpki(spki, t);
    });
    READ_SPKI.set(spki, raw);
  }
  return raw;
}

/** The issuer name from a template: given bytes must be a well-formed Name, and are written as they are. */
function issuerDer(issuer: x.Name | Uint8Array): NameParts {
  if (!(issuer instanceof Uint8Array)) return nameParts(issuer);
  parsing('issuer name', () => {
    const t = readTlv(issuer, 0, 'issuer name');
    if (t.end !== issuer.length) throw new ParseError('issuer name', 'expected the DER of one Name');
    checkName(issuer, t, 'issuer name');
  });
  return issuer;
}

/** An AlgorithmIdentifier's DER with its parts as a parsed certificate holds them. */
interface EncodedAlgorithm {
  der: Buffer;
  raw: RawAlgorithm;
}

/** An AlgorithmIdentifier encoded; absent and NULL parameters (all signatureAlgorithmFor makes) take the memoised path. */
function encodeAlgorithm(a: x.AlgorithmIdentifier): EncodedAlgorithm {
  if (a.parameters === undefined || a.parameters === null) {
    const der = derAlgorithm(a.algorithm, a.parameters === null);
    return { der, raw: a.parameters === null ? { oid: a.algorithm, params: der.subarray(der.length - 2) } : { oid: a.algorithm } };
  }
  const der = Buffer.from(AsnConvert.serialize(a));
  return { der, raw: readAlgorithm(der, readTlv(der, 0, W)) };
}

// The AttributeValue CHOICE alternatives in the order the schema encoder tries them.
const VALUE_CHOICES = ['teletexString', 'printableString', 'universalString', 'utf8String', 'bmpString', 'ia5String', 'anyValue'] as const;
/** A lone UTF-16 surrogate, which the schema encoder rejects and Buffer would silently replace. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Any surrogate: a cheap test that spares most names the Unicode-aware one above. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A Name ready to write: its DER when the schema encoder had to make it, else the attributes the
 * direct encoder writes straight into the TBSCertificate.
 */
type NameParts = Uint8Array | { length: number; atvs: Array<{ oid: Buffer; value: StringValue }> };

/**
 * Prepares a Name. Single-valued RDNs with UTF8String, PrintableString or IA5String values (all
 * that parseName makes, and nearly all real names) are measured here and written by writeName;
 * anything else goes through the schema encoder, whose output the direct path matches byte for byte.
 */
function nameParts(name: x.Name): NameParts {
  const atvs: Array<{ oid: Buffer; value: StringValue }> = [];
  let length = 0;
  for (let i = 0; i < name.length; i++) {
    const rdn = name[i]!;
    const oid = rdn.length === 1 ? oidOrUndefined(rdn[0]!.type) : undefined;
    const value = oid && stringValue(rdn[0]!.value);
    if (!value) return Buffer.from(AsnConvert.serialize(name));
    atvs.push({ oid: oid!, value });
    length += tlvLength(tlvLength(oid!.length + tlvLength(value.byteLength))); // SET { SEQUENCE { type, value } }
  }
  return { length, atvs };
}

/** The whole Name TLV's size. */
function nameSize(n: NameParts): number {
  return n instanceof Uint8Array ? n.length : tlvLength(n.length);
}

/** Writes Name ::= SEQUENCE OF SET { SEQUENCE { type, value } }. */
function writeName(w: DerWriter, n: NameParts): void {
  if (n instanceof Uint8Array) {
    w.bytes(n);
    return;
  }
  w.header(0x30, n.length);
  for (const { oid, value } of n.atvs) {
    const atvLength = oid.length + tlvLength(value.byteLength);
    w.header(0x31, tlvLength(atvLength));
    w.header(0x30, atvLength);
    w.bytes(oid);
    w.header(value.tag, value.byteLength);
    w.text(value.text, value.encoding, value.byteLength);
  }
}

/** An attribute type's OID DER, or undefined when der-writer refuses it (the schema encoder then decides). */
function oidOrUndefined(type: string): Buffer | undefined {
  try {
    return derOid(type);
  } catch {
    return undefined;
  }
}

/** An attribute value the direct Name encoder writes: its string tag, text and encoded size. */
interface StringValue {
  tag: number;
  text: string;
  encoding: 'utf8' | 'latin1';
  byteLength: number;
}

/** The value of one of the three common string choices, or undefined for the schema encoder to handle. */
function stringValue(v: x.AttributeValue): StringValue | undefined {
  for (const choice of VALUE_CHOICES) {
    const text: unknown = v[choice];
    if (text === undefined) continue;
    if (typeof text !== 'string') return undefined;
    // Printable and IA5 strings are written one byte per UTF-16 unit, as the schema encoder does.
    if (choice === 'printableString') return { tag: 0x13, text, encoding: 'latin1', byteLength: text.length };
    if (choice === 'ia5String') return { tag: 0x16, text, encoding: 'latin1', byteLength: text.length };
    if (choice === 'utf8String' && !(ANY_SURROGATE.test(text) && LONE_SURROGATE.test(text))) return { tag: 0x0c, text, encoding: 'utf8', byteLength: Buffer.byteLength(text, 'utf8') };
    return undefined;
  }
  return undefined;
}

/**
 * A self-signed end-entity certificate for a service's own signing key (the KMC, a CA's
 * KMC-access identity, the audit key): not a CA, only the given usages, trusted by pinning it.
 */
export function selfSignedSigningCertificate(key: PrivateKey, subject: x.Name, opts: { notBefore: Date; days: number; usages?: KeyUsageName[] }): Certificate {
  const notBefore = wholeSeconds(opts.notBefore);
  return buildCertificate(
    {
      serialNumber: randomSerial(),
      subject,
      notBefore,
      notAfter: addDays(notBefore, opts.days),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(false), keyUsageExt(opts.usages ?? ['digitalSignature']), subjectKeyIdentifierExt(key.publicKey)],
    },
    key,
  );
}

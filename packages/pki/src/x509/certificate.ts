import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { ParseError, PkiError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { childTlvs, expectTlv, readBitString, readBoolean, readDerTime, readIntegerBytes, readOid, readSmallInteger, readTlv, type Tlv } from '../encoding/der.js';
import { DerWriter, derAlgorithm, derOid, derTimeLength, isUtcTime, tlvLength } from '../encoding/der-writer.js';
import { publicKeyFromSpki, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor, verifyData, type SignatureOptions } from '../crypto/signature.js';
import {
  EXT,
  decodeExtension,
  extensionLength,
  extensionParts,
  keyUsageNames,
  readAuthorityKeyId,
  readBasicConstraints,
  readKeyIdentifier,
  readKeyUsageNames,
  readOidList,
  readPolicyOids,
  writeExtension,
  type ExtensionParts,
  type KeyUsageName,
} from './extensions.js';
import { formatName } from './name.js';
import { readIdentity, type HealthIdentity } from './identity.js';
import { wholeSeconds } from './time.js';

/** One extension as read from the certificate: OID, criticality and the extnValue contents. */
export interface RawExtension {
  extnID: string;
  critical: boolean;
  value: Buffer;
}

/** An AlgorithmIdentifier as read: its OID and, when present, the parameters TLV. */
export interface RawAlgorithm {
  oid: string;
  params?: Buffer;
}

/** A SubjectPublicKeyInfo as read: its algorithm and the subjectPublicKey bits. */
export interface RawSpki {
  algorithm: RawAlgorithm;
  key: Uint8Array;
}

/**
 * What parsing reads eagerly: cheap, needed by nearly every caller, and all checked at parse time.
 * `extensions` is left out only by buildCertificate, whose own DER is read back on first use.
 */
export interface CertificateFields {
  tbsDer: Buffer;
  version: number;
  serial: Buffer;
  /** The signature field inside the TBSCertificate (RFC 5280 requires it to equal the outer one). */
  innerAlgorithm: RawAlgorithm;
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** Whether each time is a UTCTime (else a GeneralizedTime), as the schema objects record it. */
  utcTimes: [boolean, boolean];
  spkiDer: Buffer;
  spki: RawSpki;
  /** issuerUniqueID or subjectUniqueID present: rare, and left to the schema decoder. */
  uniqueIds: boolean;
  /** Whether the [3] extensions field is present (it may hold an empty list). */
  extensionsPresent: boolean;
  extensions?: RawExtension[];
  signatureAlgorithm: RawAlgorithm;
  signature: Buffer;
  /** The subject key, when the builder already holds it imported from these very SPKI bytes. */
  publicKey?: PublicKey;
}

/** Makes a Certificate from DER that buildCertificate just wrote and the fields it wrote it from. */
let fromParts: (der: Buffer, fields: CertificateFields) => Certificate;

/** A Certificate from DER the builder just wrote and the fields it wrote it from (no re-parse). */
export function certificateFromParts(der: Buffer, fields: CertificateFields): Certificate {
  return fromParts(der, fields);
}

/**
 * A parsed X.509 certificate that keeps the exact bytes it was read from. Parsing walks the DER
 * once by hand (a schema decode of a whole certificate costs ~100 times more); the @peculiar
 * objects (`asn`, `tbs`, `issuer`, `subject`, the decoded extensions) are made on first use.
 */
export class Certificate {
  /** The whole certificate, DER. */
  readonly der: Buffer;
  /** The signed part exactly as received; signatures are checked over these bytes. */
  readonly tbsDer: Buffer;
  /** The issuer and subject names exactly as encoded (for name chaining and OCSP CertIDs). */
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  private readonly fields: CertificateFields;
  private cachedAsn?: x.Certificate;
  private cachedTbs?: x.TBSCertificate;
  private cachedIssuer?: x.Name;
  private cachedSubject?: x.Name;
  private cachedExtensions?: readonly x.Extension[];
  private cachedAlgorithm?: x.AlgorithmIdentifier;
  private cachedKey?: PublicKey;

  private constructor(der: Buffer, fields: CertificateFields) {
    this.der = der;
    this.fields = fields;
    this.tbsDer = fields.tbsDer;
    this.issuerDer = fields.issuerDer;
    this.subjectDer = fields.subjectDer;
    this.cachedKey = fields.publicKey;
  }

  /** Parses a certificate from PEM or DER; bad input is a ParseError. */
  static parse(input: Uint8Array | string): Certificate {
    const der = looksLikeDer(input) ? Buffer.from(input) : toDer(input, ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'], 'certificate');
    return parsing('certificate', () => new Certificate(der, readCertificate(der)));
  }

  static {
    // buildCertificate knows every field of the DER it wrote; reading them back would only cost time.
    fromParts = (der, fields) => new Certificate(der, fields);
  }

  /** The whole certificate as @peculiar objects, decoded on first use. */
  get asn(): x.Certificate {
    this.cachedAsn ??= parsing('certificate', () => AsnConvert.parse(this.der, x.Certificate));
    return this.cachedAsn;
  }
  /**
   * The TBSCertificate as @peculiar objects. Assembled from the fields already read (a full schema
   * decode costs ~0.6 ms, and validation and OCSP only want the key and algorithm from here); it
   * equals the full decode's, which test/der-fastpath.test.ts checks on every PKITS certificate.
   */
  get tbs(): x.TBSCertificate {
    this.cachedTbs ??= this.cachedAsn || this.fields.uniqueIds ? this.asn.tbsCertificate : parsing('certificate', () => this.assembleTbs());
    return this.cachedTbs;
  }
  private assembleTbs(): x.TBSCertificate {
    const f = this.fields;
    const validity = new x.Validity();
    validity.notBefore = new x.Time(f.utcTimes[0] ? { utcTime: f.notBefore } : { generalTime: f.notBefore });
    validity.notAfter = new x.Time(f.utcTimes[1] ? { utcTime: f.notAfter } : { generalTime: f.notAfter });
    return new x.TBSCertificate({
      version: f.version - 1,
      serialNumber: ownBuffer(f.serial),
      signature: algorithmIdentifier(f.innerAlgorithm),
      issuer: this.issuer,
      validity,
      subject: this.subject,
      subjectPublicKeyInfo: new x.SubjectPublicKeyInfo({ algorithm: algorithmIdentifier(f.spki.algorithm), subjectPublicKey: ownBuffer(f.spki.key) }),
      extensions: f.extensionsPresent ? new x.Extensions([...this.extensions]) : undefined,
    });
  }
  /** X.509 version number: 1, 2 or 3. */
  get version(): number {
    return this.fields.version;
  }
  /** Serial number bytes as encoded (two's complement, big-endian). */
  get serialNumber(): Buffer {
    return Buffer.from(this.fields.serial);
  }
  /** Serial number as lower-case hex without a leading sign byte. */
  get serialHex(): string {
    return serialToHex(this.fields.serial);
  }
  get issuer(): x.Name {
    this.cachedIssuer ??= parsing('certificate', () => decodeName(this.issuerDer));
    return this.cachedIssuer;
  }
  get subject(): x.Name {
    this.cachedSubject ??= parsing('certificate', () => decodeName(this.subjectDer));
    return this.cachedSubject;
  }
  get issuerText(): string {
    return formatName(this.issuer);
  }
  get subjectText(): string {
    return formatName(this.subject);
  }
  get notBefore(): Date {
    return this.fields.notBefore;
  }
  get notAfter(): Date {
    return this.fields.notAfter;
  }
  /** The SubjectPublicKeyInfo exactly as encoded. */
  get spkiDer(): Buffer {
    return this.fields.spkiDer;
  }
  /** The subject public key; ParseError or UnsupportedError when it cannot be used. */
  get publicKey(): PublicKey {
    this.cachedKey ??= publicKeyFromSpki(this.spkiDer);
    return this.cachedKey;
  }
  /** The OID of the signature field inside the TBSCertificate (RFC 5280 wants it equal to the outer one). */
  get tbsSignatureAlgorithmOid(): string {
    return this.fields.innerAlgorithm.oid;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier {
    this.cachedAlgorithm ??= algorithmIdentifier(this.fields.signatureAlgorithm);
    return this.cachedAlgorithm;
  }
  get signatureValue(): Buffer {
    return Buffer.from(this.fields.signature);
  }
  get extensions(): readonly x.Extension[] {
    this.cachedExtensions ??= this.rawExtensions.map((e) => new x.Extension({ extnID: e.extnID, critical: e.critical, extnValue: new OctetString(ownBuffer(e.value)) }));
    return this.cachedExtensions;
  }
  /** The extensions as read: OID, criticality and the extnValue bytes. */
  get rawExtensions(): readonly RawExtension[] {
    // A certificate this library built has well-formed extensions by construction: read them now.
    this.fields.extensions ??= parsing('certificate', () => readOptionalFields(this.tbsDer, childTlvs(this.tbsDer, readTlv(this.tbsDer, 0, W), W).slice(7)).extensions);
    return this.fields.extensions;
  }
  /**
   * Reads the extension with this OID by hand (`read` returns undefined for forms it leaves to the
   * schema) or else with the schema decoder: `absent` when there is no such extension.
   */
  private fastDecoded<T, S extends object>(oid: string, read: (value: Buffer) => T | undefined, type: new () => S, convert: (decoded: S) => T): T | undefined {
    const raw = this.rawExtension(oid);
    if (!raw) return undefined;
    const fast = read(raw.value);
    return fast !== undefined ? fast : convert(decodeExtension(this.extension(oid)!, type));
  }
  /** The extension with this OID, if present. */
  extension(oid: string): x.Extension | undefined {
    // Asking for an absent extension spares making the schema objects of all the others.
    return this.rawExtension(oid) && this.extensions.find((e) => e.extnID === oid);
  }
  /** The extension with this OID as read (OID, criticality, extnValue bytes), if present. */
  rawExtension(oid: string): RawExtension | undefined {
    return this.rawExtensions.find((e) => e.extnID === oid);
  }
  /** Decodes the extension with this OID with the given schema, if present. */
  decoded<T extends object>(oid: string, type: new () => T): T | undefined {
    const e = this.extension(oid);
    return e ? decodeExtension(e, type) : undefined;
  }
  get basicConstraints(): x.BasicConstraints | undefined {
    return this.fastDecoded(EXT.basicConstraints, readBasicConstraints, x.BasicConstraints, (bc) => bc);
  }
  get isCa(): boolean {
    return this.basicConstraints?.cA === true;
  }
  /** Key usage names, or undefined when the extension is absent (any usage allowed). */
  get keyUsage(): KeyUsageName[] | undefined {
    return this.fastDecoded(EXT.keyUsage, readKeyUsageNames, x.KeyUsage, keyUsageNames);
  }
  get extKeyUsage(): string[] | undefined {
    return this.fastDecoded(EXT.extKeyUsage, readOidList, x.ExtendedKeyUsage, (eku) => [...eku]);
  }
  get subjectKeyId(): Buffer | undefined {
    return this.fastDecoded(EXT.subjectKeyIdentifier, readKeyIdentifier, x.SubjectKeyIdentifier, (ski) => Buffer.from(ski.buffer));
  }
  get authorityKeyId(): Buffer | undefined {
    const aki = this.fastDecoded(EXT.authorityKeyIdentifier, readAuthorityKeyId, x.AuthorityKeyIdentifier, (a) => (a.keyIdentifier ? Buffer.from(a.keyIdentifier.buffer) : null));
    return aki ?? undefined;
  }
  get subjectAltNames(): x.GeneralName[] {
    return [...(this.decoded(EXT.subjectAltName, x.SubjectAlternativeName) ?? [])];
  }
  /** Policy OIDs from certificatePolicies. */
  get policies(): string[] {
    return this.fastDecoded(EXT.certificatePolicies, readPolicyOids, x.CertificatePolicies, (ps) => [...ps].map((p) => p.policyIdentifier)) ?? [];
  }
  /** URIs from cRLDistributionPoints full names. */
  get crlUrls(): string[] {
    const dps = this.decoded(EXT.crlDistributionPoints, x.CRLDistributionPoints) ?? [];
    return [...dps].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap((g) => (g.uniformResourceIdentifier ? [g.uniformResourceIdentifier] : [])));
  }
  /** OCSP and CA-issuer URIs from authorityInfoAccess. */
  get aia(): { ocsp: string[]; caIssuers: string[] } {
    const ads = [...(this.decoded(EXT.authorityInfoAccess, x.AuthorityInfoAccessSyntax) ?? [])];
    const pick = (m: string) => ads.filter((a) => a.accessMethod === m && a.accessLocation.uniformResourceIdentifier).map((a) => a.accessLocation.uniformResourceIdentifier!);
    return { ocsp: pick(x.id_ad_ocsp), caIssuers: pick(x.id_ad_caIssuers) };
  }
  /** Identity numbers from the GB/T 20518 extensions. */
  get identity(): HealthIdentity {
    return readIdentity(this.rawExtensions);
  }
  /** Issuer and subject are the same name (byte-equal encoding). */
  get isSelfIssued(): boolean {
    return this.issuerDer.equals(this.subjectDer);
  }
  /** True when the certificate is within its validity period at `at`. */
  isValidAt(at: Date): boolean {
    return at >= this.notBefore && at <= this.notAfter;
  }
  /** Checks this certificate's signature with the issuer's public key. */
  verifySignature(issuerKey: PublicKey, opts?: SignatureOptions): boolean {
    return verifyData(issuerKey, this.signatureAlgorithm, this.tbsDer, this.signatureValue, opts);
  }
  toPem(): string {
    return toPem('CERTIFICATE', this.der);
  }
}

/**
 * Formats serial number bytes (a DER INTEGER's content) as lower-case hex without the sign byte.
 * RFC 5280 wants positive serials, but some CAs (and PKITS) issue negative ones: those get a "-"
 * and their magnitude, so that no two serials share a text form.
 */
export function serialToHex(serial: Uint8Array): string {
  const b = Buffer.from(serial);
  if (b.length === 0) return '0';
  if (b[0]! & 0x80) {
    const magnitude = (1n << BigInt(b.length * 8)) - BigInt('0x' + b.toString('hex'));
    return '-' + magnitude.toString(16);
  }
  const trimmed = b.length > 1 && b[0] === 0 ? b.subarray(1) : b;
  return trimmed.toString('hex');
}

/** Parses hex (with optional colons or 0x) into positive INTEGER bytes. */
export function serialFromHex(hex: string): Buffer {
  const clean = hex.replace(/^0x/i, '').replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(clean)) throw new ParseError('serial number', `"${hex}" is not hexadecimal`);
  let b = Buffer.from(clean.length % 2 ? '0' + clean : clean, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return b;
}


// ---------------------------------------------------------------------------------------------
// Reading

/**
 * One SEQUENCE with a long-form length that spans the input exactly: every DER certificate, and
 * no text (in UTF-8 a byte 0x81-0x84 cannot follow an ASCII "0"). Spares toDer's search of the
 * bytes for a PEM header, a fifth of a parse.
 */
function looksLikeDer(input: Uint8Array | string): input is Uint8Array {
  if (typeof input === 'string' || input.length < 4 || input[0] !== 0x30) return false;
  const n = input[1]! - 0x80;
  if (n < 1 || n > 4 || input.length < 2 + n) return false;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + input[2 + i]!;
  return 2 + n + length === input.length;
}

export const W = 'certificate';

/** Reads everything CertificateFields holds, checking the structure of each part it touches. */
function readCertificate(der: Buffer): CertificateFields {
  const top = expectTlv(der, 0, 0x30, W);
  if (top.end !== der.length) throw new ParseError(W, `${der.length - top.end} trailing bytes after the certificate`);
  const parts = childTlvs(der, top, W);
  if (parts.length !== 3) throw new ParseError(W, 'expected tbsCertificate, signatureAlgorithm, signatureValue');
  const [tbsT, algT, sigT] = parts as [Tlv, Tlv, Tlv];
  if (tbsT.tag !== 0x30) throw new ParseError(W, 'tbsCertificate must be a SEQUENCE');
  const signature = Buffer.from(readBitString(der, sigT, 'certificate signature').bytes);
  return readTbs(der, tbsT, readAlgorithm(der, algT), signature);
}

/** The TBSCertificate fields (RFC 5280 §4.1): version, serial, names, validity, key, extensions. */
function readTbs(der: Buffer, tbsT: Tlv, signatureAlgorithm: RawAlgorithm, signature: Buffer): CertificateFields {
  const f = childTlvs(der, tbsT, W);
  let version = 1;
  let i = 0;
  if (f[0]?.tag === 0xa0) {
    const v = readTlv(der, f[0].valueStart, W);
    if (v.end !== f[0].end) throw new ParseError(W, 'version must hold exactly one INTEGER');
    version = readSmallInteger(der, v, 'certificate version') + 1;
    i = 1;
  }
  if (f.length < i + 6) throw new ParseError(W, 'tbsCertificate has too few fields');
  const [serialT, innerAlgT, issuerT, validityT, subjectT, spkiT] = f.slice(i, i + 6) as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv];
  checkName(der, issuerT, 'issuer');
  checkName(der, subjectT, 'subject');
  const validity = childTlvs(der, expectTlv(der, validityT.start, 0x30, 'validity'), 'validity');
  if (validity.length !== 2) throw new ParseError(W, 'validity must hold notBefore and notAfter');
  const optional = readOptionalFields(der, f.slice(i + 6));
  return {
    tbsDer: der.subarray(tbsT.start, tbsT.end),
    version,
    serial: readIntegerBytes(der, serialT, 'serial number'),
    innerAlgorithm: readAlgorithm(der, innerAlgT),
    issuerDer: der.subarray(issuerT.start, issuerT.end),
    subjectDer: der.subarray(subjectT.start, subjectT.end),
    notBefore: readDerTime(der, validity[0]!, 'notBefore'),
    notAfter: readDerTime(der, validity[1]!, 'notAfter'),
    utcTimes: [validity[0]!.tag === 0x17, validity[1]!.tag === 0x17],
    spkiDer: der.subarray(spkiT.start, spkiT.end),
    spki: readSpki(der, spkiT),
    ...optional,
    signatureAlgorithm,
    signature,
  };
}

/** issuerUniqueID [1], subjectUniqueID [2] and extensions [3], each optional, in that order. */
function readOptionalFields(der: Buffer, rest: Tlv[]): { uniqueIds: boolean; extensionsPresent: boolean; extensions: RawExtension[] } {
  const out = { uniqueIds: false, extensionsPresent: false, extensions: [] as RawExtension[] };
  let last = 0;
  for (const t of rest) {
    const n = t.tag === 0x81 || t.tag === 0xa1 ? 1 : t.tag === 0x82 || t.tag === 0xa2 ? 2 : t.tag === 0xa3 ? 3 : 0;
    if (n <= last) throw new ParseError(W, `unexpected field with tag 0x${t.tag.toString(16)} in tbsCertificate`);
    last = n;
    if (n === 3) {
      out.extensionsPresent = true;
      out.extensions = readExtensions(der, t);
    } else out.uniqueIds = true;
  }
  return out;
}

/** extensions [3] EXPLICIT Extensions */
function readExtensions(der: Buffer, wrapper: Tlv): RawExtension[] {
  const list = expectTlv(der, wrapper.valueStart, 0x30, 'extensions');
  if (list.end !== wrapper.end) throw new ParseError(W, 'extensions [3] must hold exactly one SEQUENCE');
  return readExtensionList(der, list);
}

/** Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function readExtensionList(der: Buffer, list: Tlv): RawExtension[] {
  return childTlvs(der, list, 'extensions').map((e) => {
    if (e.tag !== 0x30) throw new ParseError('extensions', 'each extension must be a SEQUENCE');
    const p = childTlvs(der, e, 'extension');
    if (p.length < 2 || p.length > 3) throw new ParseError('extension', 'expected extnID, optional critical, extnValue');
    const value = p[p.length - 1]!;
    if (value.tag !== 0x04) throw new ParseError('extension', 'extnValue must be an OCTET STRING');
    return {
      extnID: readOid(der, p[0]!, 'extension'),
      critical: p.length === 3 ? readBoolean(der, p[1]!, 'extension critical flag') : false,
      value: der.subarray(value.valueStart, value.end),
    };
  });
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
export function readAlgorithm(der: Buffer, t: Tlv): RawAlgorithm {
  if (t.tag !== 0x30) throw new ParseError(W, 'AlgorithmIdentifier must be a SEQUENCE');
  const p = childTlvs(der, t, 'algorithm');
  if (p.length < 1 || p.length > 2) throw new ParseError('algorithm', 'expected an OID and optional parameters');
  const oid = readOid(der, p[0]!, 'algorithm');
  return p[1] ? { oid, params: der.subarray(p[1].start, p[1].end) } : { oid };
}

/** The AlgorithmIdentifier object the schema decoder would give: NULL parameters are `null`, others their TLV. */
export function algorithmIdentifier(a: RawAlgorithm): x.AlgorithmIdentifier {
  const isNull = a.params?.length === 2 && a.params[0] === 0x05 && a.params[1] === 0x00;
  const parameters = a.params === undefined ? undefined : isNull ? null : new Uint8Array(a.params).buffer;
  return new x.AlgorithmIdentifier({ algorithm: a.oid, parameters });
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }: the structure, so that lazy decoding has solid ground. */
export function checkName(der: Uint8Array, t: Tlv, what: string): void {
  if (t.tag !== 0x30) throw new ParseError(W, `${what} must be a SEQUENCE`);
  for (const rdn of childTlvs(der, t, what)) {
    if (rdn.tag !== 0x31) throw new ParseError(what, 'each RDN must be a SET');
    for (const atv of childTlvs(der, rdn, what)) {
      if (atv.tag !== 0x30) throw new ParseError(what, 'each attribute must be a SEQUENCE');
      const p = childTlvs(der, atv, what);
      if (p.length !== 2) throw new ParseError(what, 'an attribute is a type and one value');
      readOid(der, p[0]!, what);
    }
  }
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } */
export function readSpki(der: Buffer, t: Tlv): RawSpki {
  if (t.tag !== 0x30) throw new ParseError(W, 'subjectPublicKeyInfo must be a SEQUENCE');
  const p = childTlvs(der, t, 'subjectPublicKeyInfo');
  if (p.length !== 2) throw new ParseError('subjectPublicKeyInfo', 'expected an algorithm and a BIT STRING');
  return { algorithm: readAlgorithm(der, p[0]!), key: readBitString(der, p[1]!, 'subjectPublicKey').bytes };
}

/** An ArrayBuffer holding exactly these bytes, as the schema objects hold their values. */
function ownBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

/**
 * Decodes Name DER (checked by checkName) into the objects the schema decoder makes. UTF8String,
 * PrintableString and IA5String values, nearly all there are, are decoded here (~50 times
 * faster); a name with anything else is handed whole to the schema decoder.
 */
export function decodeName(der: Buffer): x.Name {
  const rdns: x.RelativeDistinguishedName[] = [];
  for (const rdnT of childTlvs(der, readTlv(der, 0, W), W)) {
    const atvs: x.AttributeTypeAndValue[] = [];
    for (const atvT of childTlvs(der, rdnT, W)) {
      const [typeT, valueT] = childTlvs(der, atvT, W) as [Tlv, Tlv];
      const value = decodeStringValue(der, valueT);
      if (!value) return AsnConvert.parse(der, x.Name);
      atvs.push(new x.AttributeTypeAndValue({ type: readOid(der, typeT, 'name'), value }));
    }
    rdns.push(new x.RelativeDistinguishedName(atvs));
  }
  return new x.Name(rdns);
}

// Fatal, so that bytes the schema decoder would read its own lenient way are left to it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An AttributeValue for the three common string types, or undefined for the schema decoder to handle. */
function decodeStringValue(der: Buffer, t: Tlv): x.AttributeValue | undefined {
  const bytes = der.subarray(t.valueStart, t.end);
  // Printable and IA5 strings: one character per byte, as the schema decoder reads them.
  if (t.tag === 0x13) return new x.AttributeValue({ printableString: bytes.toString('latin1') });
  if (t.tag === 0x16) return new x.AttributeValue({ ia5String: bytes.toString('latin1') });
  if (t.tag !== 0x0c) return undefined;
  try {
    return new x.AttributeValue({ utf8String: UTF8.decode(bytes) });
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Building

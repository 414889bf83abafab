import { randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { sequenceChildren, tlvBytes } from '../encoding/der.js';
import { publicKeyFromSpki, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { EXT, decodeExtension, keyUsageNames, type KeyUsageName } from './extensions.js';
import { formatName } from './name.js';
import { readIdentity, type HealthIdentity } from './identity.js';
import { toAsnTime } from './time.js';

/** A parsed X.509 certificate that keeps the exact bytes it was read from. */
export class Certificate {
  /** The whole certificate, DER. */
  readonly der: Buffer;
  /** The signed part exactly as received; signatures are checked over these bytes. */
  readonly tbsDer: Buffer;
  readonly asn: x.Certificate;
  /** The issuer and subject names exactly as encoded (for name chaining and OCSP CertIDs). */
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  private cachedKey?: PublicKey;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'certificate');
    if (top.length !== 3) throw new ParseError('certificate', 'expected tbsCertificate, signatureAlgorithm, signatureValue');
    this.tbsDer = tlvBytes(der, top[0]!);
    this.asn = AsnConvert.parse(der, x.Certificate);
    const tbsParts = sequenceChildren(this.tbsDer, 'tbsCertificate');
    // With a v2/v3 certificate the [0] version comes first; issuer and subject follow serial and signature.
    const base = tbsParts[0]!.tag === 0xa0 ? 1 : 0;
    if (tbsParts.length < base + 6) throw new ParseError('certificate', 'tbsCertificate has too few fields');
    this.issuerDer = tlvBytes(this.tbsDer, tbsParts[base + 2]!);
    this.subjectDer = tlvBytes(this.tbsDer, tbsParts[base + 4]!);
  }

  /** Parses a certificate from PEM or DER; bad input is a ParseError. */
  static parse(input: Uint8Array | string): Certificate {
    const der = toDer(input, ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'], 'certificate');
    return parsing('certificate', () => new Certificate(der));
  }

  get tbs(): x.TBSCertificate {
    return this.asn.tbsCertificate;
  }
  /** X.509 version number: 1, 2 or 3. */
  get version(): number {
    return this.tbs.version + 1;
  }
  /** Serial number bytes as encoded (two's complement, big-endian). */
  get serialNumber(): Buffer {
    return Buffer.from(this.tbs.serialNumber);
  }
  /** Serial number as lower-case hex without a leading sign byte. */
  get serialHex(): string {
    return serialToHex(this.serialNumber);
  }
  get issuer(): x.Name {
    return this.tbs.issuer;
  }
  get subject(): x.Name {
    return this.tbs.subject;
  }
  get issuerText(): string {
    return formatName(this.issuer);
  }
  get subjectText(): string {
    return formatName(this.subject);
  }
  get notBefore(): Date {
    return this.tbs.validity.notBefore.getTime();
  }
  get notAfter(): Date {
    return this.tbs.validity.notAfter.getTime();
  }
  get spkiDer(): Buffer {
    return Buffer.from(AsnConvert.serialize(this.tbs.subjectPublicKeyInfo));
  }
  /** The subject public key; ParseError or UnsupportedError when it cannot be used. */
  get publicKey(): PublicKey {
    this.cachedKey ??= publicKeyFromSpki(this.spkiDer);
    return this.cachedKey;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier {
    return this.asn.signatureAlgorithm;
  }
  get signatureValue(): Buffer {
    return Buffer.from(this.asn.signatureValue);
  }
  get extensions(): readonly x.Extension[] {
    return this.tbs.extensions ?? [];
  }
  /** The extension with this OID, if present. */
  extension(oid: string): x.Extension | undefined {
    return this.extensions.find((e) => e.extnID === oid);
  }
  /** Decodes the extension with this OID with the given schema, if present. */
  decoded<T extends object>(oid: string, type: new () => T): T | undefined {
    const e = this.extension(oid);
    return e ? decodeExtension(e, type) : undefined;
  }
  get basicConstraints(): x.BasicConstraints | undefined {
    return this.decoded(EXT.basicConstraints, x.BasicConstraints);
  }
  get isCa(): boolean {
    return this.basicConstraints?.cA === true;
  }
  /** Key usage names, or undefined when the extension is absent (any usage allowed). */
  get keyUsage(): KeyUsageName[] | undefined {
    const ku = this.decoded(EXT.keyUsage, x.KeyUsage);
    return ku ? keyUsageNames(ku) : undefined;
  }
  get extKeyUsage(): string[] | undefined {
    const eku = this.decoded(EXT.extKeyUsage, x.ExtendedKeyUsage);
    return eku ? [...eku] : undefined;
  }
  get subjectKeyId(): Buffer | undefined {
    const ski = this.decoded(EXT.subjectKeyIdentifier, x.SubjectKeyIdentifier);
    return ski ? Buffer.from(ski.buffer) : undefined;
  }
  get authorityKeyId(): Buffer | undefined {
    const aki = this.decoded(EXT.authorityKeyIdentifier, x.AuthorityKeyIdentifier);
    return aki?.keyIdentifier ? Buffer.from(aki.keyIdentifier.buffer) : undefined;
  }
  get subjectAltNames(): x.GeneralName[] {
    return [...(this.decoded(EXT.subjectAltName, x.SubjectAlternativeName) ?? [])];
  }
  /** Policy OIDs from certificatePolicies. */
  get policies(): string[] {
    return [...(this.decoded(EXT.certificatePolicies, x.CertificatePolicies) ?? [])].map((p) => p.policyIdentifier);
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
    return readIdentity(this.extensions);
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

/**
 * A fresh serial number: 16 random bytes (more than the 64 bits CA/B and RFC 5280 guidance ask
 * for), positive, with no leading zero byte.
 */
export function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

/** Everything a new certificate needs besides the signing key. */
export interface CertificateTemplate {
  serialNumber?: Uint8Array;
  subject: x.Name;
  /** Issuer name; defaults to the subject (self-signed). */
  issuer?: x.Name;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKey;
  extensions?: x.Extension[];
}

/** Builds and signs a v3 certificate. */
export function buildCertificate(tpl: CertificateTemplate, signer: PrivateKey, opts?: SignatureOptions): Certificate {
  const spki = AsnConvert.parse(tpl.publicKey.spki, x.SubjectPublicKeyInfo);
  const tbs = new x.TBSCertificate({
    version: x.Version.v3,
    serialNumber: new Uint8Array(tpl.serialNumber ?? randomSerial()).buffer as ArrayBuffer,
    signature: signatureAlgorithmFor(signer, opts),
    issuer: tpl.issuer ?? tpl.subject,
    validity: new x.Validity(),
    subject: tpl.subject,
    subjectPublicKeyInfo: spki,
    extensions: tpl.extensions && tpl.extensions.length ? new x.Extensions(tpl.extensions) : undefined,
  });
  tbs.validity.notBefore = toAsnTime(tpl.notBefore);
  tbs.validity.notAfter = toAsnTime(tpl.notAfter);
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const { signature } = signData(signer, tbsDer, opts);
  const cert = new x.Certificate({ tbsCertificate: tbs, signatureAlgorithm: tbs.signature, signatureValue: new Uint8Array(signature).buffer as ArrayBuffer });
  return Certificate.parse(Buffer.from(AsnConvert.serialize(cert)));
}

/**
 * Reading CMS SignedData (RFC 5652 §5) and its GM/T 0010 twin. The structure is walked by hand
 * so that the signed attributes, names and certificates keep the exact bytes they were signed
 * with; @peculiar/asn1-cms gives the object view on demand. Input must be DER: BER forms such as
 * indefinite lengths or constructed OCTET STRINGs are a ParseError, not a crash.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { readTlv, sequenceChildren, tlvBytes, type Tlv, childTlvs, readOid } from '../encoding/der.js';
import { Certificate } from '../x509/certificate.js';
import { OID } from '../oids.js';

/** One attribute: its type OID and the DER of each value. */
export interface CmsAttribute {
  type: string;
  values: Buffer[];
}

/** How a SignerInfo names its certificate. */
export interface SignerIdentifierInfo {
  /** issuerAndSerialNumber: the issuer Name DER and serial INTEGER content bytes. */
  issuerDer?: Buffer;
  serialNumber?: Buffer;
  /** subjectKeyIdentifier. */
  keyId?: Buffer;
}

/** One SignerInfo, with the exact bytes a verifier needs. */
export interface SignerInfoView {
  version: number;
  sid: SignerIdentifierInfo;
  digestAlgorithm: x.AlgorithmIdentifier;
  /** The signed attributes re-tagged as SET OF (0x31), i.e. the bytes the signature covers. */
  signedAttrsDer?: Buffer;
  signedAttributes?: CmsAttribute[];
  signatureAlgorithm: x.AlgorithmIdentifier;
  signature: Buffer;
  /** The digest and signature AlgorithmIdentifiers exactly as encoded (RFC 6211 compares these bytes). */
  digestAlgorithmDer: Buffer;
  signatureAlgorithmDer: Buffer;
}

const SIGNED_DATA_TYPES: readonly string[] = [OID.cmsSignedData, OID.gmSignedData];

/** A parsed SignedData ContentInfo that keeps its exact bytes. */
export class SignedDataDoc {
  readonly der: Buffer;
  /** The ContentInfo type: id-signedData, or GM/T 0010 signedData (1.2.156.10197.6.1.4.2.2). */
  readonly contentType: string;
  readonly version: number;
  readonly digestAlgorithms: x.AlgorithmIdentifier[];
  /** The encapsulated content's type (id-data or GM/T 0010 data for plain content). */
  readonly eContentType: string;
  /** The signed content when attached; undefined for a detached signature. */
  readonly content?: Buffer;
  /** Certificates carried in the SignedData (other certificate choices are skipped). */
  readonly certificates: Certificate[];
  readonly signerInfos: SignerInfoView[];
  private cachedAsn?: { contentInfo: ContentInfo; signedData: SignedData };

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'CMS');
    if (top.length !== 2 || top[0]!.tag !== 0x06 || top[1]!.tag !== 0xa0) throw new ParseError('CMS', 'expected ContentInfo { contentType, [0] content }');
    this.contentType = readOid(der, top[0]!);
    if (!SIGNED_DATA_TYPES.includes(this.contentType)) throw new ParseError('CMS', `content type ${this.contentType} is not SignedData`);
    const sdT = readTlv(der, top[1]!.valueStart, 'CMS');
    if (sdT.end !== top[1]!.end) throw new ParseError('CMS', 'trailing bytes after SignedData');
    const sd = tlvBytes(der, sdT);
    const parts = sequenceChildren(sd, 'SignedData');
    let i = 0;
    const versionT = expectTag(parts[i++], 0x02, 'version');
    this.version = smallInt(sd, versionT);
    const algsT = expectTag(parts[i++], 0x31, 'digestAlgorithms');
    this.digestAlgorithms = childTlvs(sd, algsT, 'CMS').map((t) => parseAlg(sd, t));
    const encapT = expectTag(parts[i++], 0x30, 'encapContentInfo');
    const encap = childTlvs(sd, encapT, 'CMS');
    this.eContentType = readOid(sd, expectTag(encap[0], 0x06, 'eContentType'));
    if (encap[1]) {
      if (encap[1].tag !== 0xa0 || encap.length > 2) throw new ParseError('CMS', 'eContent must be [0] EXPLICIT');
      const octets = readTlv(sd, encap[1].valueStart, 'CMS');
      if (octets.tag === 0x24) throw new ParseError('CMS', 'constructed (BER) OCTET STRING content is not DER');
      if (octets.tag !== 0x04 || octets.end !== encap[1].end) throw new ParseError('CMS', 'eContent must be one OCTET STRING');
      this.content = Buffer.from(sd.subarray(octets.valueStart, octets.end));
    }
    this.certificates = [];
    if (parts[i]?.tag === 0xa0) {
      for (const c of childTlvs(sd, parts[i]!, 'CMS')) if (c.tag === 0x30) this.certificates.push(Certificate.parse(tlvBytes(sd, c)));
      i++;
    }
    if (parts[i]?.tag === 0xa1) i++; // revocation info is carried, not interpreted here
    const infosT = expectTag(parts[i++], 0x31, 'signerInfos');
    if (i !== parts.length) throw new ParseError('CMS', 'unexpected fields after signerInfos');
    this.signerInfos = childTlvs(sd, infosT, 'CMS').map((t) => parseSignerInfo(sd, t));
  }

  /** Parses a SignedData ContentInfo from DER or PEM ("CMS" / "PKCS7"); bad input is a ParseError. */
  static parse(input: Uint8Array | string): SignedDataDoc {
    const der = toDer(input, ['CMS', 'PKCS7'], 'CMS');
    return parsing('CMS', () => new SignedDataDoc(der));
  }

  /** True for the GM/T 0010 flavour (SM2 OIDs for the content types). */
  get isGm(): boolean {
    return this.contentType === OID.gmSignedData;
  }
  get isDetached(): boolean {
    return this.content === undefined;
  }
  /** The @peculiar object view of ContentInfo and SignedData (decoded on first use). */
  get asn(): { contentInfo: ContentInfo; signedData: SignedData } {
    this.cachedAsn ??= parsing('CMS', () => {
      const contentInfo = AsnConvert.parse(this.der, ContentInfo);
      return { contentInfo, signedData: AsnConvert.parse(contentInfo.content, SignedData) };
    });
    return this.cachedAsn;
  }
  toPem(): string {
    return toPem('CMS', this.der);
  }
}

function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new ParseError('CMS', `${what} missing or of the wrong type`);
  return t;
}

function smallInt(buf: Buffer, t: Tlv): number {
  const len = t.end - t.valueStart;
  if (len < 1 || len > 2 || buf[t.valueStart]! & 0x80) throw new ParseError('CMS', 'version must be a small non-negative INTEGER');
  return buf.readUIntBE(t.valueStart, len);
}

function parseAlg(buf: Buffer, t: Tlv): x.AlgorithmIdentifier {
  if (t.tag !== 0x30) throw new ParseError('CMS', 'AlgorithmIdentifier must be a SEQUENCE');
  return AsnConvert.parse(buf.subarray(t.start, t.end), x.AlgorithmIdentifier);
}


function parseSignerInfo(sd: Buffer, t: Tlv): SignerInfoView {
  if (t.tag !== 0x30) throw new ParseError('CMS', 'SignerInfo must be a SEQUENCE');
  const f = childTlvs(sd, t, 'CMS');
  let i = 0;
  const version = smallInt(sd, expectTag(f[i++], 0x02, 'SignerInfo version'));
  const sidT = f[i++];
  const sid: SignerIdentifierInfo = {};
  if (sidT?.tag === 0x30) {
    const [issuer, serial, extra] = childTlvs(sd, sidT, 'CMS');
    if (!issuer || issuer.tag !== 0x30 || !serial || serial.tag !== 0x02 || extra) throw new ParseError('CMS', 'malformed issuerAndSerialNumber');
    sid.issuerDer = tlvBytes(sd, issuer);
    sid.serialNumber = Buffer.from(sd.subarray(serial.valueStart, serial.end));
  } else if (sidT?.tag === 0x80) {
    sid.keyId = Buffer.from(sd.subarray(sidT.valueStart, sidT.end));
  } else {
    throw new ParseError('CMS', 'SignerInfo sid must be issuerAndSerialNumber or [0] subjectKeyIdentifier');
  }
  const digestAlgT = expectTag(f[i++], 0x30, 'digestAlgorithm');
  const digestAlgorithm = parseAlg(sd, digestAlgT);
  let signedAttrsDer: Buffer | undefined;
  let signedAttributes: CmsAttribute[] | undefined;
  if (f[i]?.tag === 0xa0) {
    const attrsT = f[i++]!;
    // The signature covers the attributes with their universal SET OF tag, not the [0] (RFC 5652 §5.4).
    signedAttrsDer = tlvBytes(sd, attrsT);
    signedAttrsDer[0] = 0x31;
    signedAttributes = childTlvs(sd, attrsT, 'CMS').map((a) => parseAttribute(sd, a));
  }
  const sigAlgT = expectTag(f[i++], 0x30, 'signatureAlgorithm');
  const signatureAlgorithm = parseAlg(sd, sigAlgT);
  const sigT = expectTag(f[i++], 0x04, 'signature');
  if (f[i]?.tag === 0xa1) i++;
  if (i !== f.length) throw new ParseError('CMS', 'unexpected fields in SignerInfo');
  return {
    version,
    sid,
    digestAlgorithm,
    signedAttrsDer,
    signedAttributes,
    signatureAlgorithm,
    signature: Buffer.from(sd.subarray(sigT.valueStart, sigT.end)),
    digestAlgorithmDer: tlvBytes(sd, digestAlgT),
    signatureAlgorithmDer: tlvBytes(sd, sigAlgT),
  };
}

function parseAttribute(buf: Buffer, t: Tlv): CmsAttribute {
  if (t.tag !== 0x30) throw new ParseError('CMS', 'Attribute must be a SEQUENCE');
  const [typeT, valuesT, extra] = childTlvs(buf, t, 'CMS');
  if (!typeT || !valuesT || valuesT.tag !== 0x31 || extra) throw new ParseError('CMS', 'Attribute must be { type, SET OF values }');
  return { type: readOid(buf, typeT), values: childTlvs(buf, valuesT, 'CMS').map((v) => tlvBytes(buf, v)) };
}

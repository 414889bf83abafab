import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { childTlvs, expectTlv, readBitString, readOid, type Tlv } from '../encoding/der.js';
import { publicKeyFromSpki, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { signData, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { OID } from '../oids.js';
import { algorithmIdentifier, checkName, decodeName, readAlgorithm, readExtensionList, readSpki, type RawAlgorithm, type RawExtension } from './certificate.js';
import { formatName } from './name.js';

const W = 'certification request';

/** What parsing reads eagerly, every part checked at parse time. */
interface CsrFields {
  infoDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** The extensions of the first extensionRequest attribute's first value. */
  requested: RawExtension[];
  signatureAlgorithm: RawAlgorithm;
  signature: Buffer;
}

/**
 * A parsed PKCS#10 certification request that keeps its exact bytes. Parsing walks the DER once
 * by hand (a schema decode costs ~0.4 ms, as much as the proof of possession); the @peculiar
 * objects (`asn`, `subject`, the requested extensions) are made on first use.
 */
export class CertificationRequestDoc {
  readonly der: Buffer;
  /** The signed CertificationRequestInfo exactly as received. */
  readonly infoDer: Buffer;
  /** The subject Name exactly as received. */
  readonly subjectDer: Buffer;
  private readonly fields: CsrFields;
  private cachedAsn?: CertificationRequest;
  private cachedSubject?: x.Name;
  private cachedKey?: PublicKey;

  private constructor(der: Buffer) {
    this.der = der;
    this.fields = readRequest(der);
    this.infoDer = this.fields.infoDer;
    this.subjectDer = this.fields.subjectDer;
  }

  /** Parses a CSR from PEM or DER. */
  static parse(input: Uint8Array | string): CertificationRequestDoc {
    const der = toDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], W);
    return parsing(W, () => new CertificationRequestDoc(der));
  }

  /** The whole request as @peculiar objects, decoded on first use. */
  get asn(): CertificationRequest {
    this.cachedAsn ??= parsing(W, () => AsnConvert.parse(this.der, CertificationRequest));
    return this.cachedAsn;
  }
  get subject(): x.Name {
    this.cachedSubject ??= parsing(W, () => decodeName(this.subjectDer));
    return this.cachedSubject;
  }
  get subjectText(): string {
    return formatName(this.subject);
  }
  /** The SubjectPublicKeyInfo exactly as received (checked to be DER). */
  get spkiDer(): Buffer {
    return this.fields.spkiDer;
  }
  get publicKey(): PublicKey {
    this.cachedKey ??= publicKeyFromSpki(this.spkiDer);
    return this.cachedKey;
  }
  /** Extensions requested through the PKCS#9 extensionRequest attribute, as read. */
  get rawRequestedExtensions(): readonly RawExtension[] {
    return this.fields.requested;
  }
  /** Extensions requested through the PKCS#9 extensionRequest attribute. */
  get requestedExtensions(): x.Extension[] {
    return this.rawRequestedExtensions.map((e) => new x.Extension({ extnID: e.extnID, critical: e.critical, extnValue: new OctetString(new Uint8Array(e.value)) }));
  }
  /** Proof of possession: the request is signed by the key it carries. */
  verifySignature(opts?: SignatureOptions): boolean {
    const alg = this.fields.signatureAlgorithm;
    // Parameters matter for RSA-PSS only; the common case spares building the schema object.
    return verifyData(this.publicKey, alg.params ? algorithmIdentifier(alg) : alg.oid, this.infoDer, this.fields.signature, opts);
  }
  toPem(): string {
    return toPem('CERTIFICATE REQUEST', this.der);
  }
}

/** CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING } (RFC 2986). */
function readRequest(der: Buffer): CsrFields {
  const top = expectTlv(der, 0, 0x30, W);
  if (top.end !== der.length) throw new ParseError(W, `${der.length - top.end} trailing bytes after the request`);
  const parts = childTlvs(der, top, W);
  if (parts.length !== 3) throw new ParseError(W, 'expected certificationRequestInfo, signatureAlgorithm, signature');
  const [infoT, algT, sigT] = parts as [Tlv, Tlv, Tlv];
  if (infoT.tag !== 0x30) throw new ParseError(W, 'certificationRequestInfo must be a SEQUENCE');
  // The readers shared with certificates name a certificate in their outermost errors: check those here.
  if (algT.tag !== 0x30) throw new ParseError(W, 'signatureAlgorithm must be a SEQUENCE');
  const signatureAlgorithm = readAlgorithm(der, algT);
  const signature = Buffer.from(readBitString(der, sigT, 'request signature').bytes);
  return { ...readInfo(der, infoT), signatureAlgorithm, signature };
}

/**
 * CertificationRequestInfo ::= SEQUENCE { version INTEGER, subject Name, subjectPKInfo,
 * attributes [0] IMPLICIT SET OF Attribute } — attributes optional, as the schema reads it.
 */
function readInfo(der: Buffer, infoT: Tlv): Omit<CsrFields, 'signatureAlgorithm' | 'signature'> {
  const f = childTlvs(der, infoT, W);
  if (f.length < 3 || f.length > 4) throw new ParseError(W, 'certificationRequestInfo must hold version, subject, subjectPKInfo and attributes');
  const [versionT, subjectT, spkiT, attrsT] = f as [Tlv, Tlv, Tlv, Tlv | undefined];
  if (versionT.tag !== 0x02 || versionT.end === versionT.valueStart) throw new ParseError(W, 'version must be an INTEGER');
  if (subjectT.tag !== 0x30) throw new ParseError(W, 'subject must be a SEQUENCE');
  if (spkiT.tag !== 0x30) throw new ParseError(W, 'subjectPKInfo must be a SEQUENCE');
  checkName(der, subjectT, 'subject');
  readSpki(der, spkiT);
  // The key goes into the certificate as received, so it must be DER and whole octets (the schema
  // re-encoding before normalised both).
  requireMinimalLengths(der, spkiT, 'subjectPKInfo');
  const bits = childTlvs(der, spkiT, W)[1]!;
  if (der[bits.valueStart] !== 0) throw new ParseError(W, 'the public key BIT STRING must not have unused bits');
  let requested: RawExtension[] | undefined;
  if (attrsT) {
    if (attrsT.tag !== 0xa0) throw new ParseError(W, `expected attributes [0], got tag 0x${attrsT.tag.toString(16)}`);
    for (const attr of childTlvs(der, attrsT, 'attributes')) {
      if (attr.tag !== 0x30) throw new ParseError('attributes', 'each attribute must be a SEQUENCE');
      const p = childTlvs(der, attr, 'attribute');
      if (p.length !== 2 || p[1]!.tag !== 0x31) throw new ParseError('attribute', 'an attribute is a type and a SET of values');
      const type = readOid(der, p[0]!, 'attribute');
      const values = childTlvs(der, p[1]!, 'attribute');
      // The first extensionRequest attribute counts (its first value), as the schema-based reader had it.
      if (type === OID.extensionRequest && requested === undefined) requested = values[0] ? readExtensionList(der, expectTlv(der, values[0].start, 0x30, 'extensions')) : [];
    }
  }
  return {
    infoDer: der.subarray(infoT.start, infoT.end),
    subjectDer: der.subarray(subjectT.start, subjectT.end),
    spkiDer: der.subarray(spkiT.start, spkiT.end),
    requested: requested ?? [],
  };
}

/** Refuses BER length forms (long form where the short one fits, leading zero octets) anywhere in a TLV tree. */
function requireMinimalLengths(der: Buffer, t: Tlv, what: string): void {
  const headerLength = t.valueStart - t.start;
  const length = t.end - t.valueStart;
  let minimal = 2;
  if (length >= 0x80) for (let v = length; v > 0; v = Math.floor(v / 256)) minimal++;
  if (headerLength !== minimal) throw new ParseError(W, `${what} uses a non-DER length encoding`);
  if (t.tag & 0x20) for (const c of childTlvs(der, t, what)) requireMinimalLengths(der, c, what);
}

/** Builds and signs a PKCS#10 request for `key`, with optional requested extensions. */
export function buildCsr(subject: x.Name, key: PrivateKey, extensions: x.Extension[] = [], opts?: SignatureOptions): CertificationRequestDoc {
  const info = new CertificationRequestInfo({
    subject,
    subjectPKInfo: AsnConvert.parse(key.publicKey.spki, x.SubjectPublicKeyInfo),
  });
  if (extensions.length) {
    info.attributes.push(new x.Attribute({ type: OID.extensionRequest, values: [AsnConvert.serialize(new x.Extensions(extensions))] }));
  }
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  const { algorithm, signature } = signData(key, infoDer, opts);
  const req = new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: algorithm, signature: new Uint8Array(signature).buffer as ArrayBuffer });
  return CertificationRequestDoc.parse(Buffer.from(AsnConvert.serialize(req)));
}

import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { sequenceChildren, tlvBytes } from '../encoding/der.js';
import { publicKeyFromSpki, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { signData, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { OID } from '../oids.js';
import { formatName } from './name.js';

/** A parsed PKCS#10 certification request that keeps its exact bytes. */
export class CertificationRequestDoc {
  readonly der: Buffer;
  /** The signed CertificationRequestInfo exactly as received. */
  readonly infoDer: Buffer;
  readonly asn: CertificationRequest;
  private cachedKey?: PublicKey;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'certification request');
    if (top.length !== 3) throw new ParseError('certification request', 'expected certificationRequestInfo, signatureAlgorithm, signature');
    this.infoDer = tlvBytes(der, top[0]!);
    this.asn = AsnConvert.parse(der, CertificationRequest);
  }

  /** Parses a CSR from PEM or DER. */
  static parse(input: Uint8Array | string): CertificationRequestDoc {
    const der = toDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], 'certification request');
    return parsing('certification request', () => new CertificationRequestDoc(der));
  }

  get subject(): x.Name {
    return this.asn.certificationRequestInfo.subject;
  }
  get subjectText(): string {
    return formatName(this.subject);
  }
  get spkiDer(): Buffer {
    return Buffer.from(AsnConvert.serialize(this.asn.certificationRequestInfo.subjectPKInfo));
  }
  get publicKey(): PublicKey {
    this.cachedKey ??= publicKeyFromSpki(this.spkiDer);
    return this.cachedKey;
  }
  /** Extensions requested through the PKCS#9 extensionRequest attribute. */
  get requestedExtensions(): x.Extension[] {
    const attr = this.asn.certificationRequestInfo.attributes.find((a) => a.type === OID.extensionRequest);
    if (!attr || attr.values.length === 0) return [];
    return parsing('certification request', () => [...AsnConvert.parse(attr.values[0]!, x.Extensions)]);
  }
  /** Proof of possession: the request is signed by the key it carries. */
  verifySignature(opts?: SignatureOptions): boolean {
    return verifyData(this.publicKey, this.asn.signatureAlgorithm, this.infoDer, Buffer.from(this.asn.signature), opts);
  }
  toPem(): string {
    return toPem('CERTIFICATE REQUEST', this.der);
  }
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

/**
 * Making CMS SignedData (RFC 5652) with one signer and signed attributes, and the GM/T 0010
 * flavour for SM2: content types 1.2.156.10197.6.1.4.2.1/.2, SM3 digest, SM2 signature with the
 * GM/T 0009 default user ID over the DER of the signed attributes.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { PkiError } from '../errors.js';
import { derOctetString, derOid, derSetOf, derTime, derTlv } from '../encoding/der-writer.js';
import { digest, hashOid, type HashName } from '../crypto/hash.js';
import type { PrivateKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor } from '../crypto/signature.js';
import type { Certificate } from '../x509/certificate.js';
import { OID } from '../oids.js';
import { SignedDataDoc, type CmsAttribute } from './signed-data.js';

/**
 * Which OID names SM2 in a GM/T 0010 SignerInfo: GM/T 0010 itself specifies sm2-1
 * (1.2.156.10197.1.301.1); GmSSL 3 writes and demands SM2-with-SM3 (1.2.156.10197.1.501), and
 * BouncyCastle's CMS verifier knows only the latter.
 */
export type Sm2CmsSignatureOid = 'sm2-1' | 'sm2-with-sm3';

/** Options of signCms. */
export interface CmsSignOptions {
  content: Uint8Array;
  signer: PrivateKey;
  /** The signer's certificate; it names the signer (issuerAndSerialNumber). */
  cert: Certificate;
  /** Further certificates to include (the chain up to, not necessarily including, the root). */
  chain?: Certificate[];
  /** Leave the content out (a detached signature over content carried elsewhere). */
  detached?: boolean;
  /** signingTime attribute; default now, `false` to leave it out. */
  signingTime?: Date | false;
  /** Put the signer certificate and chain in the SignedData (default true). */
  includeCertificates?: boolean;
  /** Digest for RSA/ECDSA (default SHA-256, SHA-384 for P-384); SM2 always uses SM3. */
  hash?: HashName;
  /** GM/T 0010 OIDs for the content types (default: when the signer key is SM2). */
  gm?: boolean;
  /** SM2 signature OID in the SignerInfo (default 'sm2-1', as GM/T 0010 specifies). */
  sm2SignatureOid?: Sm2CmsSignatureOid;
  /** SM2 user ID (default "1234567812345678"). */
  sm2UserId?: Uint8Array;
  /**
   * The encapsulated content's type (default id-data, or GM/T 0010 data). Any other type, such as
   * id-ct-TSTInfo for a time-stamp token, makes the SignedData version 3 (RFC 5652 §5.1).
   */
  eContentType?: string;
  /** Further signed attributes, each value as DER (e.g. ESS signingCertificateV2 for time-stamp tokens). */
  signedAttributes?: CmsAttribute[];
  /** Add the RFC 6211 CMSAlgorithmProtection attribute naming the digest and signature algorithms. */
  algorithmProtection?: boolean;
}

/** Signs content into a SignedData ContentInfo (DER) and returns it parsed. */
export function signCms(opts: CmsSignOptions): SignedDataDoc {
  return SignedDataDoc.parse(signCmsDer(opts));
}

/**
 * Signs content into a SignedData ContentInfo and returns its DER without parsing it back, for
 * callers that sign many (a time-stamp authority) and need only the bytes.
 */
export function signCmsDer(opts: CmsSignOptions): Buffer {
  const key = opts.signer;
  const sm2 = key.kind === 'sm2';
  const gm = opts.gm ?? sm2;
  if (gm && !sm2) throw new PkiError('options.cms', 'GM/T 0010 SignedData is for SM2 signers');
  if (!opts.cert.publicKey.spki.equals(key.publicKey.spki)) throw new PkiError('options.cms', 'the certificate does not belong to the signing key');
  const hash: HashName = sm2 ? 'sm3' : (opts.hash ?? (key.kind === 'ec' && key.curve === 'P-384' ? 'sha384' : 'sha256'));
  const plainData = gm ? OID.gmData : OID.cmsData;
  const dataType = opts.eContentType ?? plainData;
  const signedType = gm ? OID.gmSignedData : OID.cmsSignedData;

  // RFC 5754 and GmSSL: hash AlgorithmIdentifiers without parameters.
  const digestAlg = derTlv(0x30, [derOid(hashOid(hash))]);
  const sigAlg = signerSignatureAlgorithm(key, hash, gm, opts.sm2SignatureOid);
  const attrs = [attribute(OID.contentType, derOid(dataType))];
  if (opts.signingTime !== false) attrs.push(attribute(OID.signingTime, derTime(opts.signingTime ?? new Date())));
  attrs.push(attribute(OID.messageDigest, derOctetString(digest(hash, opts.content))));
  // RFC 6211: [1] IMPLICIT replaces the signature AlgorithmIdentifier's SEQUENCE tag.
  if (opts.algorithmProtection) attrs.push(attribute(OID.cmsAlgorithmProtection, derTlv(0x30, [digestAlg, Buffer.concat([Buffer.from([0xa1]), sigAlg.subarray(1)])])));
  for (const a of opts.signedAttributes ?? []) attrs.push(derTlv(0x30, [derOid(a.type), derSetOf(a.values)]));
  const signedAttrs = derSetOf(attrs);
  const { signature } = signData(key, signedAttrs, { hash, sm2UserId: opts.sm2UserId });

  const signerInfo = derTlv(0x30, [
    derTlv(0x02, [Buffer.from([1])]), // v1: issuerAndSerialNumber
    derTlv(0x30, [opts.cert.issuerDer, derTlv(0x02, [opts.cert.serialNumber])]),
    digestAlg,
    derTlv(0xa0, [signedAttrs.subarray(headerLength(signedAttrs))]),
    sigAlg,
    derOctetString(signature),
  ]);
  const encap = derTlv(0x30, [derOid(dataType), ...(opts.detached ? [] : [derTlv(0xa0, [derOctetString(opts.content)])])]);
  const certs = opts.includeCertificates === false ? [] : [opts.cert, ...(opts.chain ?? [])].map((c) => c.der);
  const signedData = derTlv(0x30, [
    // v1: id-data content, v1 SignerInfo, only X.509 certificates; v3 for any other content type.
    derTlv(0x02, [Buffer.from([dataType === plainData ? 1 : 3])]),
    derSetOf([digestAlg]),
    encap,
    ...(certs.length ? [implicitSet(0xa0, certs)] : []),
    derSetOf([signerInfo]),
  ]);
  return derTlv(0x30, [derOid(signedType), derTlv(0xa0, [signedData])]);
}

function attribute(type: string, value: Buffer): Buffer {
  return derTlv(0x30, [derOid(type), derTlv(0x31, [value])]);
}

/** [n] IMPLICIT SET OF: DER-sorted elements under a context tag. */
export function implicitSet(tag: number, elements: Buffer[]): Buffer {
  const set = derSetOf(elements);
  return derTlv(tag, [set.subarray(headerLength(set))]);
}

function headerLength(tlv: Buffer): number {
  return tlv[1]! & 0x80 ? 2 + (tlv[1]! & 0x7f) : 2;
}

/**
 * The SignerInfo signatureAlgorithm: rsaEncryption for RSA (as OpenSSL and most CMS code write
 * it), ecdsa-with-SHA* for ECDSA (RFC 5753), and for SM2 the chosen GM OID, without parameters.
 */
function signerSignatureAlgorithm(key: PrivateKey, hash: HashName, gm: boolean, sm2Oid: Sm2CmsSignatureOid | undefined): Buffer {
  // Written by hand (not AsnConvert.serialize): a time-stamp authority pays this on every token.
  if (key.kind === 'rsa') return derTlv(0x30, [derOid(OID.rsaEncryption), DER_NULL]);
  if (key.kind === 'sm2') return derTlv(0x30, [derOid(gm && (sm2Oid ?? 'sm2-1') === 'sm2-1' ? OID.sm2Sign : OID.sm2WithSm3)]);
  const alg = signatureAlgorithmFor(key, { hash });
  if (alg.parameters !== undefined && alg.parameters !== null) return Buffer.from(AsnConvert.serialize(alg));
  return derTlv(0x30, alg.parameters === null ? [derOid(alg.algorithm), DER_NULL] : [derOid(alg.algorithm)]);
}

const DER_NULL = Buffer.from([0x05, 0x00]);

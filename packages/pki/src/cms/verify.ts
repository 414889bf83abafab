/** Verifying CMS SignedData signatures (RFC 5652 §5.6), GM/T 0010 included. */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { PkiError, parsing } from '../errors.js';
import { readTlv, readOid } from '../encoding/der.js';
import { digest, hashFromOid, type HashName } from '../crypto/hash.js';
import { signatureAlgorithmFor, verifyData } from '../crypto/signature.js';
import { keyIdentifier } from '../x509/extensions.js';
import type { Certificate } from '../x509/certificate.js';
import { OID } from '../oids.js';
import { SignedDataDoc, type CmsAttribute, type SignerInfoView } from './signed-data.js';

/** The verdict on one SignerInfo. */
export interface CmsSignerResult {
  valid: boolean;
  error?: string;
  /** The certificate the SignerInfo names, when found. */
  certificate?: Certificate;
  signingTime?: Date;
  digestAlgorithm: string;
  signatureAlgorithm: string;
}

/** The verdict on a SignedData: valid when it has signers and every one verifies. */
export interface CmsVerifyResult {
  valid: boolean;
  error?: string;
  /** The first signer's certificate and signing time. */
  signerCertificate?: Certificate;
  signingTime?: Date;
  /** The signed content (attached, or the detached content given). */
  content?: Buffer;
  eContentType: string;
  signers: CmsSignerResult[];
}

/** Options of verifyCms. */
export interface CmsVerifyOptions {
  /** The content of a detached signature. */
  content?: Uint8Array;
  /** Candidate signer certificates besides those inside the SignedData. */
  certificates?: Certificate[];
  /** SM2 user ID (default "1234567812345678"). */
  sm2UserId?: Uint8Array;
}

/**
 * Checks every SignerInfo: the certificate it names, the contentType and messageDigest
 * attributes, and the signature. It does not validate the signer's certificate chain (that is
 * path validation's job). Malformed input is a ParseError; a failed check is `valid: false`.
 */
export function verifyCms(input: Uint8Array | string | SignedDataDoc, opts: CmsVerifyOptions = {}): CmsVerifyResult {
  const doc = input instanceof SignedDataDoc ? input : SignedDataDoc.parse(input);
  const base = { eContentType: doc.eContentType, signers: [] as CmsSignerResult[] };
  if (doc.content && opts.content && !doc.content.equals(Buffer.from(opts.content))) {
    return { ...base, valid: false, error: 'detached content given for a SignedData with different attached content' };
  }
  const content = doc.content ?? (opts.content ? Buffer.from(opts.content) : undefined);
  if (!content) return { ...base, valid: false, error: 'the signature is detached and no content was given' };
  if (doc.signerInfos.length === 0) return { ...base, valid: false, content, error: 'no SignerInfo' };
  const candidates = [...doc.certificates, ...(opts.certificates ?? [])];
  const signers = doc.signerInfos.map((si) => verifySigner(doc, si, content, candidates, opts));
  const firstBad = signers.find((s) => !s.valid);
  return {
    valid: !firstBad,
    error: firstBad?.error,
    signerCertificate: signers[0]!.certificate,
    signingTime: signers[0]!.signingTime,
    content,
    eContentType: doc.eContentType,
    signers,
  };
}

function verifySigner(doc: SignedDataDoc, si: SignerInfoView, content: Buffer, candidates: Certificate[], opts: CmsVerifyOptions): CmsSignerResult {
  const result: CmsSignerResult = { valid: false, digestAlgorithm: si.digestAlgorithm.algorithm, signatureAlgorithm: si.signatureAlgorithm.algorithm };
  const fail = (error: string) => ({ ...result, error });
  const cert = candidates.find((c) => namesCertificate(si, c));
  if (!cert) return fail('no certificate matches the SignerInfo');
  result.certificate = cert;
  let hash: HashName;
  try {
    hash = hashFromOid(si.digestAlgorithm.algorithm);
  } catch (e) {
    if (e instanceof PkiError) return fail(e.message);
    throw e;
  }
  let signedBytes: Buffer = content;
  if (si.signedAttrsDer) {
    const attrs = si.signedAttributes!;
    const one = (type: string) => {
      const found = attrs.filter((a) => a.type === type);
      return found.length === 1 && found[0]!.values.length === 1 ? found[0]!.values[0]! : undefined;
    };
    const ct = one(OID.contentType);
    if (!ct || oidOf(ct) !== doc.eContentType) return fail('contentType attribute missing or different from eContentType');
    const md = one(OID.messageDigest);
    const mdT = md ? readTlv(md, 0, 'messageDigest') : undefined;
    if (!md || mdT!.tag !== 0x04) return fail('messageDigest attribute missing');
    if (!md.subarray(mdT!.valueStart).equals(digest(hash, content))) return fail('messageDigest does not match the content');
    const protection = attrs.filter((a) => a.type === OID.cmsAlgorithmProtection);
    if (protection.length) {
      const problem = algorithmProtectionProblem(protection, si);
      if (problem) return fail(problem);
    }
    const st = one(OID.signingTime);
    if (st) result.signingTime = parsing('CMS signingTime', () => AsnConvert.parse(st, x.Time).getTime());
    signedBytes = si.signedAttrsDer;
  }
  const algorithm = signatureAlgorithmOf(si, cert, hash);
  if (!algorithm) return fail(`unsupported signature algorithm ${si.signatureAlgorithm.algorithm}`);
  let ok: boolean;
  try {
    ok = verifyData(cert.publicKey, algorithm, signedBytes, si.signature, { sm2UserId: opts.sm2UserId });
  } catch (e) {
    if (e instanceof PkiError) return fail(e.message);
    throw e;
  }
  return ok ? { ...result, valid: true } : fail('signature is invalid');
}

/**
 * RFC 6211 §2: a CMSAlgorithmProtection attribute must occur once, with one value, and name
 * exactly the SignerInfo's digest and signature algorithms; otherwise an attacker could have
 * swapped an algorithm. Returns what is wrong, or undefined.
 */
function algorithmProtectionProblem(attrs: CmsAttribute[], si: SignerInfoView): string | undefined {
  const bad = 'CMSAlgorithmProtection attribute does not match the SignerInfo algorithms';
  if (attrs.length !== 1 || attrs[0]!.values.length !== 1) return 'CMSAlgorithmProtection attribute must have exactly one value';
  const v = attrs[0]!.values[0]!;
  try {
    const seq = readTlv(v, 0, 'CMSAlgorithmProtection');
    if (seq.tag !== 0x30 || seq.end !== v.length) return bad;
    const digestT = readTlv(v, seq.valueStart, 'CMSAlgorithmProtection');
    if (digestT.tag !== 0x30 || !v.subarray(digestT.start, digestT.end).equals(si.digestAlgorithmDer)) return bad;
    if (digestT.end === seq.end) return bad; // a signature needs signatureAlgorithm [1]
    const sigT = readTlv(v, digestT.end, 'CMSAlgorithmProtection');
    if (sigT.tag !== 0xa1 || sigT.end !== seq.end) return bad;
    // [1] IMPLICIT: the same bytes as the AlgorithmIdentifier apart from the tag.
    const sig = si.signatureAlgorithmDer;
    return v.subarray(sigT.start + 1, sigT.end).equals(sig.subarray(1)) ? undefined : bad;
  } catch (e) {
    if (e instanceof PkiError) return bad;
    throw e;
  }
}

/** True when the SignerInfo's identifier names this certificate. */
function namesCertificate(si: SignerInfoView, cert: Certificate): boolean {
  if (si.sid.keyId) {
    const ski = cert.subjectKeyId ?? keyIdentifier(cert.publicKey);
    return ski.equals(si.sid.keyId);
  }
  return si.sid.issuerDer!.equals(cert.issuerDer) && sameInteger(si.sid.serialNumber!, cert.serialNumber);
}

function sameInteger(a: Buffer, b: Buffer): boolean {
  const trim = (s: Buffer) => (s.length > 1 && s[0] === 0 && s[1]! < 0x80 ? s.subarray(1) : s);
  return trim(a).equals(trim(b));
}

function oidOf(valueDer: Buffer): string | undefined {
  try {
    return readOid(valueDer, readTlv(valueDer, 0));
  } catch {
    return undefined;
  }
}

/**
 * The signature algorithm to verify with. SignerInfos often name only the key algorithm
 * (rsaEncryption, id-ecPublicKey, GM/T 0010's sm2-1); the digest algorithm completes it.
 */
function signatureAlgorithmOf(si: SignerInfoView, cert: Certificate, hash: HashName): x.AlgorithmIdentifier | string | undefined {
  const oid = si.signatureAlgorithm.algorithm;
  if (oid === OID.sm2Sign || oid === OID.sm2WithSm3) return hash === 'sm3' ? OID.sm2WithSm3 : undefined;
  if (oid === OID.rsaEncryption || oid === OID.ecPublicKey) {
    try {
      return signatureAlgorithmFor(cert.publicKey, { hash });
    } catch {
      return undefined;
    }
  }
  return si.signatureAlgorithm;
}

/**
 * verifyRecord: who signed what, and when — checked so that it holds years later. The time that
 * counts is the signature time-stamp's genTime (a trusted third party's), not the signer's claim:
 * the signer's certificate must have a valid path at genTime and must not have been revoked at or
 * before genTime. A revocation after genTime keeps the signature valid. Revocation data is
 * re-fetched when online; the archived data (OCSP responses, CRLs, certificates) is used as well,
 * and alone when offline, so a record verifies after its certificates expired.
 */
import { ParseError, PathValidator, PkiError, SignedDataDoc, verifyCms, verifyTimeStampToken, type Certificate, type HealthIdentity, type RevocationReason } from '@health-pki/pki';
import { ATTR, decodeCertValues, decodeRevocationValues } from '../evidence/archive.js';
import { collectRevocationData } from '../evidence/collect.js';
import type { FetchOptions } from '../evidence/fetch.js';
import { revocationStatusAt } from '../evidence/status.js';
import { readUnsignedAttributes, signatureValue } from './unsigned-attributes.js';
import { resolveTrust, type TrustSource } from './trust.js';

/** Why a record was refused. */
export type RecordFailureCode =
  /** Not a DER SignedData with one SignerInfo, or an archived attribute cannot be read. */
  | 'malformed'
  /** The data is not what was signed (messageDigest differs). */
  | 'tampered'
  /** The signature (or its attributes) does not verify, or no certificate matches the signer. */
  | 'badSignature'
  /** No signature time-stamp, and one is required. */
  | 'noTimestamp'
  /** The time-stamp does not verify, stamps something else, or comes from an untrusted TSA. */
  | 'badTimestamp'
  /** The signed signingTime claims a moment after the time-stamp. */
  | 'signingTimeAfterTimestamp'
  /** The signer's certificate has no valid path to the trust anchors at the signing time. */
  | 'untrustedSigner'
  /** The signer's certificate may not make signatures (keyUsage). */
  | 'keyUsage'
  /** A certificate of the signer's path was revoked at or before the signing time. */
  | 'revokedBeforeSigning'
  /** No OCSP response or CRL, fresh or archived, tells whether the signer's path was revoked then. */
  | 'revocationUnknown';

/** The signer as the verified certificate names them. */
export interface RecordSignerInfo {
  certificate: Certificate;
  subject: string;
  issuer: string;
  serialHex: string;
  identity: HealthIdentity;
}

/** The verdict on a signed record. */
export interface RecordVerification {
  valid: boolean;
  /** For a refusal: a stable code and a sentence for a person. */
  reason?: { code: RecordFailureCode; message: string };
  signer?: RecordSignerInfo;
  /** The trusted signing time: the time-stamp's genTime (the claimed time when unstamped records are allowed). */
  signingTime?: Date;
  /** What the signer's signingTime attribute claims. */
  claimedSigningTime?: Date;
  timeStamp?: { genTime: Date; serialHex: string; policy: string; tsa: string };
  /** The signer's certificate status relative to the signing time, and where it came from. */
  revocation?: { status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date; reason?: RevocationReason; source?: 'ocsp' | 'crl'; fromArchive: boolean };
  /** The certificate path used, leaf first, anchor last. */
  path?: Certificate[];
  /** The signed content (the data given, or the content the SignedData carries). */
  content?: Buffer;
}

/** Options of verifyRecord. */
export interface VerifyRecordOptions extends FetchOptions {
  /** Whom signers' certificates must chain to: the trust list (a TrustStore) or CA certificates. */
  trust: TrustSource;
  /** Whom the TSA must chain to (default: `trust`), or a pinned TSA certificate. */
  tsaTrust?: TrustSource;
  tsaCert?: Certificate;
  /** Re-fetch revocation data (default true); offline, only the archived data counts. */
  online?: boolean;
  /** Accept a record without a time-stamp, trusting its claimed signing time (default false). */
  allowUntimestamped?: boolean;
  /** How far the claimed signingTime may lie after genTime (default 5 minutes: clocks differ). */
  maxClockSkewMs?: number;
}

/**
 * Verifies a signed record over `data` (see the module comment); `data` may be undefined when the
 * SignedData carries its content. Never throws for bad input: it says why.
 */
export async function verifyRecord(data: Uint8Array | undefined, signed: Uint8Array | string, opts: VerifyRecordOptions): Promise<RecordVerification> {
  try {
    return await verifyInner(data, signed, opts);
  } catch (e) {
    if (e instanceof ParseError) return refuse('malformed', `the signed record cannot be read: ${e.message}`);
    // Anything else pki refuses on purpose (an unsupported algorithm in a crafted archive, …) is
    // still a statement about the input, not a crash of the verifier.
    if (e instanceof PkiError) return refuse('malformed', `the signed record cannot be verified: ${e.message}`);
    throw e;
  }
}

function refuse(code: RecordFailureCode, message: string, more: Partial<RecordVerification> = {}): RecordVerification {
  return { ...more, valid: false, reason: { code, message } };
}

async function verifyInner(data: Uint8Array | undefined, signed: Uint8Array | string, opts: VerifyRecordOptions): Promise<RecordVerification> {
  if (resolveTrust(opts.trust).anchors.length === 0) return refuse('untrustedSigner', 'nothing is trusted: the trust list is empty');
  const doc = SignedDataDoc.parse(signed);
  if (doc.signerInfos.length !== 1) return refuse('malformed', `a signed record has exactly one signer, this one ${doc.signerInfos.length}`);
  const unsigned = readUnsignedAttributes(doc.der);
  const one = (type: string) => unsigned.filter((a) => a.type === type).flatMap((a) => a.values);
  const archivedCerts = one(ATTR.certValues).flatMap(decodeCertValues);
  const archivedRev = one(ATTR.revocationValues).map(decodeRevocationValues);

  const cms = verifyCms(doc, { content: data, certificates: archivedCerts });
  const cert = cms.signerCertificate;
  if (!cms.valid || !cert) {
    const code = /messageDigest does not match|different attached content/.test(cms.error ?? '') ? 'tampered' : 'badSignature';
    if (!data && !doc.content) return refuse('malformed', 'the signature is detached and no data was given');
    return refuse(code, code === 'tampered' ? 'the data is not what was signed (its digest differs from the signed messageDigest)' : `the signature does not verify: ${cms.error}`);
  }
  const signer: RecordSignerInfo = { certificate: cert, subject: cert.subjectText, issuer: cert.issuerText, serialHex: cert.serialHex, identity: cert.identity };
  const claimed = cms.signingTime;
  const base: Partial<RecordVerification> = { signer, claimedSigningTime: claimed, content: cms.content };

  // The trusted time: the signature time-stamp's genTime.
  const tokens = one(ATTR.signatureTimeStampToken);
  let at: Date;
  let tsaPath: Certificate[] | undefined;
  if (tokens.length === 0) {
    if (!opts.allowUntimestamped || !claimed) return refuse('noTimestamp', 'the signature carries no time-stamp, so when it was made cannot be proven', base);
    at = claimed;
  } else {
    if (tokens.length > 1) return refuse('badTimestamp', `the signature carries ${tokens.length} time-stamp tokens; one is expected`, base);
    const tsaTrust = resolveTrust(opts.tsaTrust ?? opts.trust);
    const ts = verifyTimeStampToken(tokens[0]!, { data: signatureValue(doc), trusted: opts.tsaCert ? undefined : tsaTrust.anchors, tsaCert: opts.tsaCert, intermediates: [...tsaTrust.intermediates, ...archivedCerts] });
    if (!ts.valid) {
      const what = ts.code === 'imprintMismatch' ? 'it stamps another signature' : ts.message;
      return refuse('badTimestamp', `the signature's time-stamp is refused (${ts.code}): ${what}`, base);
    }
    at = ts.genTime;
    tsaPath = ts.path; // undefined for a pinned TSA certificate: trusted directly
    base.timeStamp = { genTime: ts.genTime, serialHex: ts.serialHex, policy: ts.policy, tsa: ts.tsaCert.subjectText };
    if (claimed && claimed.getTime() - at.getTime() > (opts.maxClockSkewMs ?? 300_000)) {
      return refuse('signingTimeAfterTimestamp', `the signer claims ${claimed.toISOString()}, after the time-stamp ${at.toISOString()}`, { ...base, signingTime: at });
    }
  }
  base.signingTime = at;

  // The signer's certificate: a valid path at the signing time (expiry afterwards does not matter).
  const trust = resolveTrust(opts.trust);
  const validator = new PathValidator({ anchors: trust.anchors, intermediates: [...trust.intermediates, ...doc.certificates, ...archivedCerts] });
  const path = validator.validate(cert, { time: at, checkRevocation: false });
  if (!path.valid) return refuse('untrustedSigner', `the signer's certificate was not valid at ${at.toISOString()}: ${path.reason.message}`, base);
  base.path = path.path;
  const ku = cert.keyUsage;
  if (ku && !ku.includes('digitalSignature') && !ku.includes('nonRepudiation')) return refuse('keyUsage', `"${cert.subjectText}" may not sign (keyUsage ${ku.join(', ')})`, base);

  // Revocation of every certificate below the anchor (the signer's path, then the TSA's), relative to the signing time.
  const archived = { ocsp: archivedRev.flatMap((r) => r.ocsp), crls: archivedRev.flatMap((r) => r.crls) };
  const none = { ocsp: [], crls: [], problems: [] };
  const [fresh, freshTsa] = opts.online === false ? [none, none] : await Promise.all([collectRevocationData(path.path, opts), tsaPath ? collectRevocationData(tsaPath, opts) : none]);
  const evidence = { ocsp: [...fresh.ocsp, ...freshTsa.ocsp, ...archived.ocsp], crls: [...fresh.crls, ...freshTsa.crls, ...archived.crls] };
  const freshDer = [...fresh.ocsp, ...freshTsa.ocsp, ...fresh.crls, ...freshTsa.crls].map((r) => r.der);
  const paths: Array<{ path: Certificate[]; tsa: boolean }> = [{ path: path.path, tsa: false }, ...(tsaPath ? [{ path: tsaPath, tsa: true }] : [])];
  for (const p of paths) {
    for (let i = 0; i < p.path.length - 1; i++) {
      const c = p.path[i]!;
      const status = revocationStatusAt(c, p.path[i + 1]!, at, evidence);
      const who = i === 0 ? (p.tsa ? 'the TSA certificate' : "the signer's certificate") : `CA certificate "${c.subjectText}"`;
      if (i === 0 && !p.tsa) {
        const fromArchive = !!status.evidence && !freshDer.some((d) => d.equals(status.evidence!));
        base.revocation = { status: status.status, revokedAt: status.revokedAt, reason: status.reason, source: status.source, fromArchive };
      }
      if (status.status === 'revoked' && status.revokedAt! <= at) {
        const message = `${who} was revoked at ${status.revokedAt!.toISOString()} (${status.reason ?? 'unspecified'}), at or before the signing time ${at.toISOString()}`;
        return refuse(p.tsa ? 'badTimestamp' : 'revokedBeforeSigning', message, base);
      }
      if (status.status === 'unknown') return refuse('revocationUnknown', `whether ${who} was revoked at ${at.toISOString()} cannot be established: ${status.problems.join('; ')}`, base);
    }
  }
  return { ...base, valid: true };
}

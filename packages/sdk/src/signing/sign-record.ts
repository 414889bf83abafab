/**
 * signRecord: the accountability act of the sector (Art. 15, 22). A record is signed as a CMS
 * detached SignedData with signingTime, its signature is time-stamped (RFC 3161 appendix A:
 * id-aa-signatureTimeStampToken over the signature value), and the validation data of the signer
 * and of the TSA — certificates, OCSP responses or CRLs fetched right after the time-stamp — are
 * archived as unsigned attributes (id-aa-ets-certValues, id-aa-ets-revocationValues), so that the
 * record still verifies offline after the certificates expire or are revoked.
 */
import { PathValidator, type Certificate, type CmsAttribute, type HashName } from '@health-pki/pki';
import { ATTR, encodeCertValues, encodeRevocationValues } from '../evidence/archive.js';
import { collectRevocationData } from '../evidence/collect.js';
import type { FetchOptions } from '../evidence/fetch.js';
import { revocationStatusAt } from '../evidence/status.js';
import type { TimeStamp, TsaClient } from '../timestamp/tsa-client.js';
import { signRecordCms, type RecordSigner } from './signer.js';
import { signatureValue, withUnsignedAttributes } from './unsigned-attributes.js';
import { resolveTrust, type TrustSource } from './trust.js';

/** Options of signRecord. */
export interface SignRecordOptions extends FetchOptions {
  /** The TSA that stamps the signature (omit only for an untimed signature, which verifyRecord refuses by default). */
  tsa?: TsaClient;
  /** The trust list (or CA certificates): needed to find the paths whose validation data is archived. */
  trust?: TrustSource;
  /** Archive validation data (default: when trust is given). */
  archive?: boolean;
  /** Signing time to claim (default now). The trusted time is the time-stamp's. */
  signingTime?: Date;
  /** Digest for ECDSA/RSA signers (default SHA-256); SM2 always uses SM3. */
  hash?: HashName;
  /** Carry the data inside the SignedData (default false: a detached signature). */
  attached?: boolean;
}

/** A signed record and what went into it. */
export interface SignedRecord {
  /** The SignedData ContentInfo, DER (detached unless `attached`: the record itself is stored elsewhere). */
  der: Buffer;
  /** The claimed signing time (signed attribute). */
  signingTime: Date;
  timeStamp?: TimeStamp;
  /** What was archived: counts, and anything that could not be had. */
  archived: { certificates: number; ocspResponses: number; crls: number };
  /** Things the signer should know, e.g. that the certificate was already revoked: such a record will not verify. */
  warnings: string[];
}

/** Signs `data`, time-stamps the signature and archives validation data (see the module comment). */
export async function signRecord(data: Uint8Array, signer: RecordSigner, opts: SignRecordOptions = {}): Promise<SignedRecord> {
  const signingTime = new Date(Math.floor((opts.signingTime ?? new Date()).getTime() / 1000) * 1000);
  let der = await signRecordCms(data, signer, { signingTime, hash: opts.hash, attached: opts.attached });
  const attrs: CmsAttribute[] = [];
  const warnings: string[] = [];
  let timeStamp: TimeStamp | undefined;
  if (opts.tsa) {
    timeStamp = await opts.tsa.stamp(signatureValue(der));
    attrs.push({ type: ATTR.signatureTimeStampToken, values: [timeStamp.token] });
  } else {
    warnings.push('no time-stamp: the signing time is only claimed, and verifiers refuse such a record by default');
  }
  const archived = { certificates: 0, ocspResponses: 0, crls: 0 };
  if (opts.archive ?? !!opts.trust) {
    if (!opts.trust) throw new TypeError('archiving validation data needs the trust list');
    const trust = resolveTrust(opts.trust);
    if (trust.anchors.length === 0) throw new TypeError('the trust list is empty: no path can be archived');
    const at = timeStamp?.genTime ?? signingTime;
    const paths: Certificate[][] = [];
    const validator = new PathValidator({ anchors: trust.anchors, intermediates: [...trust.intermediates, ...(signer.chain ?? []), ...(timeStamp?.verification.token.signedData.certificates ?? [])] });
    const signerPath = validator.validate(signer.certificate, { time: at, checkRevocation: false });
    if (signerPath.valid) paths.push(signerPath.path);
    else warnings.push(`the signer's certificate has no valid path to the trust anchors: ${signerPath.reason.message}`);
    if (timeStamp?.verification.path) paths.push(timeStamp.verification.path);
    const certs = uniqueCerts(paths.flat().concat(signer.certificate, signer.chain ?? []));
    const fetched = await Promise.all(paths.map((p) => collectRevocationData(p, opts)));
    const ocsp = fetched.flatMap((f) => f.ocsp);
    const crls = fetched.flatMap((f) => f.crls);
    warnings.push(...fetched.flatMap((f) => f.problems));
    if (signerPath.valid && signerPath.path.length > 1) {
      const s = revocationStatusAt(signer.certificate, signerPath.path[1]!, at, { ocsp, crls });
      if (s.status === 'revoked' && s.revokedAt! <= at) warnings.push(`the signer's certificate was revoked at ${s.revokedAt!.toISOString()}, before this signature: the record will not verify`);
    }
    attrs.push({ type: ATTR.certValues, values: [encodeCertValues(certs)] });
    if (ocsp.length || crls.length) attrs.push({ type: ATTR.revocationValues, values: [encodeRevocationValues(crls, ocsp)] });
    Object.assign(archived, { certificates: certs.length, ocspResponses: ocsp.length, crls: crls.length });
  }
  if (attrs.length) der = withUnsignedAttributes(der, attrs);
  return { der, signingTime, timeStamp, archived, warnings };
}

function uniqueCerts(certs: Certificate[]): Certificate[] {
  const seen = new Set<string>();
  return certs.filter((c) => {
    const k = c.der.toString('base64');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * What a relying party does with a trust list it fetched: check that the platform it pinned signed
 * it, that it is not older than one already seen, and read the CAs. Here in the pure library
 * (moved from the platform) so the SDK and the platform use the same check.
 */
import { OID } from '../oids.js';
import { PkiError } from '../errors.js';
import { SignedDataDoc, verifyCms } from '../cms/index.js';
import type { Certificate } from '../x509/certificate.js';
import { decodeTrustList, type TrustListDocument } from './document.js';

/** Options of verifyTrustList. */
export interface TrustListVerifyOptions {
  /** Refuse lists older than this version (the newest one the relying party has seen). */
  minVersion?: number;
  /** When the platform certificate must be valid (default now). */
  at?: Date;
}

/** The verdict: valid with the document, or not with the reason. */
export interface TrustListVerdict {
  valid: boolean;
  /** The document (also given when the only fault is its age, for diagnostics). */
  document?: TrustListDocument;
  reason?: string;
}

/**
 * Verifies a trust list (CMS SignedData DER with JSON content) against the pinned platform
 * certificate: every signer must be exactly that certificate, whatever the SignedData embeds.
 * Never throws on bad input; a refusal carries its reason.
 */
export function verifyTrustList(der: Uint8Array, platformCertificate: Certificate, opts: TrustListVerifyOptions = {}): TrustListVerdict {
  const fail = (reason: string, document?: TrustListDocument): TrustListVerdict => ({ valid: false, reason, document });
  let doc: SignedDataDoc;
  try {
    doc = SignedDataDoc.parse(der);
  } catch (e) {
    return fail(`the trust list is not a CMS SignedData: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (doc.eContentType !== OID.cmsData && doc.eContentType !== OID.gmData) return fail(`the trust list carries content of type ${doc.eContentType}, not data`);
  let result;
  try {
    result = verifyCms(doc, { certificates: [platformCertificate] });
  } catch (e) {
    if (e instanceof PkiError) return fail(`the trust list signature cannot be checked: ${e.message}`);
    throw e;
  }
  if (result.signers.length === 0) return fail('the trust list has no signer');
  // Checked before the verdict: a list signed by another key is "wrong signer", not "bad signature".
  if (!result.signers.every((s) => s.certificate?.der.equals(platformCertificate.der))) return fail('the trust list is not signed by the platform certificate');
  if (!result.valid) return fail(`the trust list signature is invalid: ${result.error ?? 'unknown reason'}`);
  const at = opts.at ?? new Date();
  if (at < platformCertificate.notBefore || at > platformCertificate.notAfter) return fail('the platform certificate is not valid at this time');
  const decoded = decodeTrustList(result.content!);
  if (typeof decoded === 'string') return fail(decoded);
  if (opts.minVersion !== undefined && decoded.version < opts.minVersion) {
    return fail(`the trust list is version ${decoded.version}, older than version ${opts.minVersion} already seen`, decoded);
  }
  return { valid: true, document: decoded };
}

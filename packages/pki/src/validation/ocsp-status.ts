/**
 * Revocation status from OCSP responses the caller supplies (RFC 6960), tried before CRLs: a
 * response counts only if it is signed by the certificate's issuer or by a responder the issuer
 * authorised (id-kp-OCSPSigning, RFC 6960 §4.2.2.2) valid at the validation time, names this
 * certificate by its CertID, and is current (thisUpdate ≤ time ≤ nextUpdate). `good` and
 * `revoked` decide; `unknown`, or no usable response, leaves the decision to the CRLs.
 */
import type { SignatureOptions } from '../crypto/signature.js';
import { matchesCertId } from '../ocsp/cert-id.js';
import { verifyOcspResponse, type OcspResponse } from '../ocsp/response.js';
import type { RevocationReason } from '../x509/crl.js';
import type { PreparedCert } from './prepared.js';

/** A decision from OCSP, or why none of the responses could decide. */
export type OcspOutcome =
  | { status: 'good' }
  | { status: 'revoked'; reason: RevocationReason; revocationDate: Date; responder: string }
  | { status: 'undecided'; problems: string[] };

/** The status of `cert` (issued by `issuer`) according to `responses`, at `time`. */
export function ocspStatus(cert: PreparedCert, issuer: PreparedCert, responses: readonly OcspResponse[], time: Date, sigOpts: SignatureOptions = {}): OcspOutcome {
  const problems: string[] = [];
  for (const resp of responses) {
    const single = resp.isSuccessful ? resp.responses.find((r) => matchesCertId(r.certId, cert.cert, issuer.cert)) : undefined;
    if (!single) continue;
    const v = verifyOcspResponse(resp, issuer.cert, { sigOpts, issuerSigOpts: sigOpts });
    if (!v.valid) {
      problems.push(`OCSP response for serial ${cert.cert.serialHex}: ${v.error}`);
      continue;
    }
    if (v.signer && !v.signer.der.equals(issuer.cert.der) && (v.signer.notBefore > time || v.signer.notAfter < time)) {
      problems.push(`OCSP responder certificate "${v.signer.subjectText}" is not valid at ${time.toISOString()}`);
      continue;
    }
    if (single.thisUpdate > time) {
      problems.push(`OCSP response for serial ${cert.cert.serialHex} is not yet valid (thisUpdate ${single.thisUpdate.toISOString()})`);
      continue;
    }
    if (!single.nextUpdate || single.nextUpdate < time) {
      problems.push(`OCSP response for serial ${cert.cert.serialHex} is out of date (nextUpdate ${single.nextUpdate?.toISOString() ?? 'absent'})`);
      continue;
    }
    if (single.status === 'good') return { status: 'good' };
    if (single.status === 'revoked') {
      return { status: 'revoked', reason: single.reason ?? 'unspecified', revocationDate: single.revocationTime ?? single.thisUpdate, responder: v.signer?.subjectText ?? 'OCSP responder' };
    }
    problems.push(`the OCSP responder does not know serial ${cert.cert.serialHex}`);
  }
  return { status: 'undecided', problems };
}

/**
 * Was a certificate revoked before a given time? The question a signature's verifier asks about
 * the time-stamp's genTime, answered from OCSP responses and CRLs that may have been produced
 * long after it (re-fetched today) or around it (archived at signing). Rules:
 * - a verified "revoked" answer carries the revocation time, which decides (before or after);
 * - a verified "good" answer counts when it speaks for a moment at or after the time asked about
 *   (nextUpdate, or thisUpdate when there is no nextUpdate, not before it): revocation is final,
 *   so good later means not revoked earlier (a certificateHold lifted in between is not modelled);
 * - but only when it was produced while the certificate was still within its validity: CAs drop
 *   expired certificates from CRLs (RFC 5280 §3.3) and responders may forget them, so silence
 *   about an expired certificate is not evidence (archived data from signing time is);
 * - otherwise the status is unknown, with every problem found.
 */
import { PkiError, verifyOcspResponse, type Certificate, type Crl, type OcspResponse, type RevocationReason } from '@health-pki/pki';

/** The revocation status of one certificate as evidence shows it. */
export interface RevocationAt {
  status: 'good' | 'revoked' | 'unknown';
  /** For revoked: when (from the OCSP response or CRL entry). */
  revokedAt?: Date;
  reason?: RevocationReason;
  /** Which kind of evidence decided. */
  source?: 'ocsp' | 'crl';
  /** The evidence that decided, DER (an OCSPResponse or a CRL). */
  evidence?: Buffer;
  problems: string[];
}

/** Decides `cert`'s status with respect to `at` from the OCSP responses and CRLs given. */
export function revocationStatusAt(cert: Certificate, issuer: Certificate, at: Date, data: { ocsp: readonly OcspResponse[]; crls: readonly Crl[] }): RevocationAt {
  const problems: string[] = [];
  let revoked: RevocationAt | undefined;
  let good: RevocationAt | undefined;
  const consider = (r: RevocationAt) => {
    if (r.status === 'revoked' && (!revoked || r.revokedAt! < revoked.revokedAt!)) revoked = r;
    if (r.status === 'good') good ??= r;
  };
  for (const resp of data.ocsp) {
    const single = resp.isSuccessful ? resp.responseFor(cert, issuer) : undefined;
    if (!single) continue;
    const v = guarded(() => verifyOcspResponse(resp, issuer), { valid: false, error: 'the response cannot be checked here' });
    if (!v.valid) {
      problems.push(`OCSP response: ${v.error}`);
      continue;
    }
    if (v.signer && !v.signer.der.equals(issuer.der) && !v.signer.isValidAt(resp.producedAt)) {
      problems.push(`OCSP responder certificate "${v.signer.subjectText}" was not valid when it signed (${resp.producedAt.toISOString()})`);
      continue;
    }
    if (single.status === 'revoked') consider({ status: 'revoked', revokedAt: single.revocationTime ?? single.thisUpdate, reason: single.reason, source: 'ocsp', evidence: resp.der, problems: [] });
    else if (single.status === 'good' && single.thisUpdate > cert.notAfter) problems.push(`OCSP response of ${single.thisUpdate.toISOString()} speaks after the certificate expired`);
    else if (single.status === 'good' && (single.nextUpdate ?? single.thisUpdate) >= at) consider({ status: 'good', source: 'ocsp', evidence: resp.der, problems: [] });
    else if (single.status === 'good') problems.push(`OCSP response says good only until ${(single.nextUpdate ?? single.thisUpdate).toISOString()}, before ${at.toISOString()}`);
    else problems.push(`the OCSP responder does not know serial ${cert.serialHex}`);
  }
  for (const crl of data.crls) {
    if (!crl.issuerDer.equals(issuer.subjectDer) || crl.isDelta || !coversCertificate(crl, cert)) continue;
    if (!guarded(() => crl.verifySignature(issuer.publicKey), false)) {
      problems.push(`CRL from "${issuer.subjectText}": signature invalid`);
      continue;
    }
    const entry = crl.findRevoked(cert.serialNumber, cert.issuerDer);
    if (entry && entry.reason !== 'removeFromCRL') consider({ status: 'revoked', revokedAt: entry.revocationDate, reason: entry.reason, source: 'crl', evidence: crl.der, problems: [] });
    else if (crl.thisUpdate > cert.notAfter) problems.push(`CRL of ${crl.thisUpdate.toISOString()} was issued after the certificate expired`);
    else if ((crl.nextUpdate ?? crl.thisUpdate) >= at) consider({ status: 'good', source: 'crl', evidence: crl.der, problems: [] });
    else problems.push(`CRL from "${issuer.subjectText}" covers only until ${(crl.nextUpdate ?? crl.thisUpdate).toISOString()}, before ${at.toISOString()}`);
  }
  // A verified revocation outweighs any "good": a stale good answer cannot hide it.
  if (revoked) return { ...revoked, problems };
  if (good) return { ...good, problems };
  if (problems.length === 0) problems.push(`no OCSP response or CRL about "${cert.subjectText}" was available`);
  return { status: 'unknown', problems };
}

/** Runs a check that pki may refuse (an algorithm it does not support): that is a failed check, not a crash. */
function guarded<T>(fn: () => T, onRefusal: T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PkiError) return onRefusal;
    throw e;
  }
}

/**
 * A partitioned CRL (issuingDistributionPoint with URLs) speaks only for the certificates whose
 * distribution point names it: another partition's silence about a serial proves nothing.
 */
function coversCertificate(crl: Crl, cert: Certificate): boolean {
  const urls = (crl.issuingDistributionPoint?.distributionPoint?.fullName ?? []).map((n) => n.uniformResourceIdentifier).filter((u): u is string => !!u);
  return urls.length === 0 || urls.some((u) => cert.crlUrls.includes(u));
}

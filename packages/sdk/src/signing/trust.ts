/**
 * Where signed-record code gets its trust: a plain list of CA certificates, or anything shaped like
 * the SDK's TrustStore (the verified trust list). Self-issued certificates become path-validation
 * anchors and the others intermediates, so an issuing CA's own revocation is still checked.
 */
import type { Certificate } from '@health-pki/pki';

/** CA certificates, or a trust list (a TrustStore: `certificates()` lists each CA's certificates). */
export type TrustSource = Certificate[] | { certificates(): Array<{ certificate: Certificate }> };

/** Splits the trusted CA certificates into anchors (self-issued) and intermediates. */
export function resolveTrust(source: TrustSource): { anchors: Certificate[]; intermediates: Certificate[] } {
  const certs = Array.isArray(source) ? source : source.certificates().map((c) => c.certificate);
  const anchors = certs.filter((c) => c.isSelfIssued);
  // A list of only subordinate CA certificates is still a statement of trust in them.
  return anchors.length ? { anchors, intermediates: certs.filter((c) => !c.isSelfIssued) } : { anchors: certs, intermediates: [] };
}

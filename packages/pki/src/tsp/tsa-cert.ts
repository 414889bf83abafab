/** What makes a certificate fit to sign time-stamp tokens. */
import { PkiError } from '../errors.js';
import type { Certificate } from '../x509/certificate.js';
import { EXT } from '../x509/extensions.js';
import { OID } from '../oids.js';

/**
 * Why the certificate may not sign time-stamp tokens, or undefined when it may. RFC 3161 §2.3:
 * one extendedKeyUsage extension, critical, with timeStamping as its only purpose. A keyUsage,
 * when present, must allow digitalSignature or nonRepudiation and nothing else (OpenSSL's
 * timestampsign purpose checks the same).
 */
export function tsaCertificateProblem(cert: Certificate): string | undefined {
  // A TSA signs with one certificate for months: decode its extensions once, not per token.
  if (verdicts.has(cert)) return verdicts.get(cert);
  const verdict = check(cert);
  verdicts.set(cert, verdict);
  return verdict;
}

const verdicts = new WeakMap<Certificate, string | undefined>();

function check(cert: Certificate): string | undefined {
  try {
    const ekuExts = cert.extensions.filter((e) => e.extnID === EXT.extKeyUsage);
    if (ekuExts.length === 0) return 'it has no extendedKeyUsage extension (timeStamping, critical, is required)';
    if (ekuExts.length > 1) return 'it has more than one extendedKeyUsage extension';
    if (!ekuExts[0]!.critical) return 'its extendedKeyUsage extension is not critical';
    const purposes = cert.extKeyUsage ?? [];
    if (purposes.length !== 1 || purposes[0] !== OID.kpTimeStamping) return `its extendedKeyUsage must be timeStamping only, not ${purposes.join(', ') || 'empty'}`;
    const ku = cert.keyUsage;
    if (ku && (!ku.some((u) => u === 'digitalSignature' || u === 'nonRepudiation') || ku.some((u) => u !== 'digitalSignature' && u !== 'nonRepudiation'))) {
      return `its keyUsage (${ku.join(', ')}) must be digitalSignature and/or nonRepudiation`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof PkiError) return `its extensions cannot be decoded: ${e.message}`;
    throw e;
  }
}

/**
 * What the platform probes for one CA: each OCSP responder and CRL distribution point named by
 * the certificates it registered — its sample end-entity certificates (protocol.md) and its own
 * CA certificates (an issuing CA's certificate names its root's CRL and the OCSP responder) —
 * with the issuer that must have signed the answer. Pure: no I/O.
 */
import { Certificate, ParseError } from '@health-pki/pki';
import type { ConnectedCa, SampleCertificates } from '../registry/types.js';

/** One OCSP question: the responder URL, a certificate the CA issued, and its issuer. */
export interface OcspTarget {
  kind: 'ocsp';
  url: string;
  issuer: Certificate;
  /** The certificate asked about (only its serial and issuer matter). */
  subject: Certificate;
}

/** One CRL distribution point and the CA that must sign the list. */
export interface CrlTarget {
  kind: 'crl';
  url: string;
  issuer: Certificate;
}

/** Something the platform probes. */
export type ProbeTarget = OcspTarget | CrlTarget;

/** A CA as the probe reads it; `samples` once the CA registered them. */
export type ProbedCa = Pick<ConnectedCa, 'name' | 'status' | 'certificates'> & { samples?: SampleCertificates };

/** Most URLs probed per CA per kind (a CA with many partitions is sampled, not crawled). */
export const MAX_URLS_PER_KIND = 8;

function httpUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return p.protocol === 'http:' || p.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The issuer of `cert` among the CA's certificates: names chain and the signature verifies. */
function issuerOf(cert: Certificate, cas: Certificate[]): Certificate | undefined {
  return cas.find((i) => i !== cert && !i.der.equals(cert.der) && i.subjectDer.equals(cert.issuerDer) && safe(() => cert.verifySignature(i.publicKey)));
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/** The OCSP and CRL targets of a CA, one per URL (the first certificate naming it), good samples first. */
export function probeTargets(ca: ProbedCa): ProbeTarget[] {
  const samples: Certificate[] = [];
  for (const pem of ca.samples?.good ?? []) {
    try {
      samples.push(Certificate.parse(pem));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
  }
  const ocsp = new Map<string, OcspTarget>();
  const crl = new Map<string, CrlTarget>();
  for (const cert of [...samples, ...ca.certificates]) {
    const issuer = issuerOf(cert, ca.certificates);
    if (!issuer) continue;
    for (const url of cert.aia.ocsp.filter(httpUrl)) {
      if (!ocsp.has(url) && ocsp.size < MAX_URLS_PER_KIND) ocsp.set(url, { kind: 'ocsp', url, issuer, subject: cert });
    }
    for (const url of cert.crlUrls.filter(httpUrl)) {
      if (!crl.has(url) && crl.size < MAX_URLS_PER_KIND) crl.set(url, { kind: 'crl', url, issuer });
    }
  }
  return [...ocsp.values(), ...crl.values()];
}

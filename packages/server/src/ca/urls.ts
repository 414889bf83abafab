/**
 * Where this service publishes what relying parties fetch: the CA certificates (AIA caIssuers),
 * the CRLs (CRL distribution points) and the OCSP responder. Certificates carry these URLs, so
 * the layout is fixed here once; the publishing issue serves CRLs and OCSP at exactly these paths.
 */

/** The URL layout under a base URL such as "https://ca.example.org". */
export class PublicationUrls {
  readonly base: string;
  constructor(base: string) {
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`base URL must be http or https: ${base}`);
    this.base = base.replace(/\/+$/, '');
  }
  /** The DER certificate of one CA of an authority ("root", "issuing-1", …). */
  caCertificate(authority: string, label: string): string {
    return `${this.base}/ca/${encodeURIComponent(authority)}/${encodeURIComponent(label)}.crt`;
  }
  /** The full CRL of the certificates that CA signed (partition n ≥ 1: of those issued in that partition). */
  crl(authority: string, label: string, partition = 0): string {
    return `${this.base}/ca/${encodeURIComponent(authority)}/${encodeURIComponent(label)}${partition > 0 ? `-p${partition}` : ''}.crl`;
  }
  /** The delta CRLs that go with `crl(authority, label, partition)` (its freshestCRL pointer). */
  deltaCrl(authority: string, label: string, partition = 0): string {
    return this.crl(authority, label, partition).replace(/\.crl$/, '-delta.crl');
  }
  /** The OCSP responder of an authority (one for all its CAs; the CertID names the issuer). */
  ocsp(authority: string): string {
    return `${this.base}/ocsp/${encodeURIComponent(authority)}`;
  }
}

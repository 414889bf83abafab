/**
 * Fetching revocation data over HTTP from the URLs a certificate carries: OCSP (AIA id-ad-ocsp,
 * RFC 6960 appendix A, POST) first, then CRLs (cRLDistributionPoints). Failures are reported as
 * text, never thrown: missing data is the caller's decision (refuse, or use archived data).
 */
import { Crl, OcspResponse, buildOcspRequest, certId, type Certificate } from '@health-pki/pki';

/** Network options shared by the fetchers. */
export interface FetchOptions {
  /** fetch implementation (default the global one). */
  fetch?: typeof fetch;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** Largest OCSP response and CRL accepted: a hostile or broken server must not exhaust memory. */
const MAX_OCSP_BYTES = 64 * 1024;
const MAX_CRL_BYTES = 64 * 1024 * 1024;

async function get(url: string, init: RequestInit, o: FetchOptions, maxBytes: number): Promise<Buffer> {
  const res = await (o.fetch ?? fetch)(url, { ...init, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) throw new Error(`the answer is larger than ${maxBytes} bytes`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > maxBytes) throw new Error(`the answer is larger than ${maxBytes} bytes`);
  return body;
}

/** Asks each OCSP responder the certificate names about it; the first successful answer wins. */
export async function fetchOcsp(cert: Certificate, issuer: Certificate, o: FetchOptions = {}): Promise<{ response?: OcspResponse; problems: string[] }> {
  const problems: string[] = [];
  // No nonce: the RFC 5019 profile, so the responder may answer from its pre-produced cache.
  const req = buildOcspRequest({ certIds: [certId(cert, issuer)], nonce: false });
  for (const url of cert.aia.ocsp) {
    try {
      const body = await get(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: req.der }, o, MAX_OCSP_BYTES);
      const response = OcspResponse.parse(body);
      if (!response.isSuccessful) {
        problems.push(`OCSP ${url}: ${response.status}`);
        continue;
      }
      return { response, problems };
    } catch (e) {
      problems.push(`OCSP ${url}: ${(e as Error).message}`);
    }
  }
  if (cert.aia.ocsp.length === 0) problems.push(`"${cert.subjectText}" names no OCSP responder`);
  return { problems };
}

/** Downloads the CRLs the certificate's distribution points name. */
export async function fetchCrls(cert: Certificate, o: FetchOptions = {}): Promise<{ crls: Crl[]; problems: string[] }> {
  const crls: Crl[] = [];
  const problems: string[] = [];
  for (const url of cert.crlUrls.filter((u) => /^https?:/i.test(u))) {
    try {
      crls.push(Crl.parse(await get(url, { method: 'GET' }, o, MAX_CRL_BYTES)));
    } catch (e) {
      problems.push(`CRL ${url}: ${(e as Error).message}`);
    }
  }
  if (cert.crlUrls.length === 0) problems.push(`"${cert.subjectText}" names no CRL distribution point`);
  return { crls, problems };
}

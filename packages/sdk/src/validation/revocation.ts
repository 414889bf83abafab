/**
 * Online revocation checking for one certificate and its issuer: OCSP first (the AIA responder,
 * a fresh nonce, a timeout), then the CRL of its distribution point. Answers are cached until
 * their nextUpdate but at most `maxCacheAgeMs` (5 minutes by default), so a busy system asks the
 * CA a few times an hour, not once per login, and a revocation is noticed within minutes.
 * Every answer used is returned as evidence (the exact DER), so a signature can later be shown to
 * have been checked against what the CA said at the time.
 */
import { randomBytes } from 'node:crypto';
import { buildOcspRequest, certId, Crl, decodeKnownExtension, EXT, formatName, OcspResponse, verifyOcspResponse, type Certificate, type RevocationReason, type SignatureOptions } from '@health-pki/pki';

/** What one source said about one certificate. */
export interface RevocationAnswer {
  source: 'ocsp' | 'crl';
  status: 'good' | 'revoked';
  revokedAt?: Date;
  reason?: RevocationReason;
  /** The OCSP response, or the complete CRL and the delta CRL used, each DER. */
  evidence: Buffer[];
}

/** The outcome for one certificate: an answer, or why none could be had. */
export type RevocationOutcome = { answer: RevocationAnswer; problems: string[] } | { answer?: undefined; problems: string[] };

/** Settings of the checker. */
export interface RevocationCheckerOptions {
  fetch: typeof fetch;
  /** Timeout of each request (default 5 s). */
  timeoutMs?: number;
  /** Ask OCSP responders (default true). */
  ocsp?: boolean;
  /** Fetch CRLs when OCSP gives no answer (default true). */
  crl?: boolean;
  /** Refuse OCSP responses that do not echo our nonce (default false: RFC 5019 responders may omit it). */
  requireOcspNonce?: boolean;
  /** Clock skew tolerated on thisUpdate (default 5 minutes). */
  skewMs?: number;
  /** Largest CRL accepted, bytes (default 64 MiB); OCSP responses are limited to 64 KiB. */
  maxCrlBytes?: number;
  /** Most cached answers of each kind (default 10,000). */
  cacheSize?: number;
  /**
   * Longest time a cached OCSP answer or CRL is used, however far its nextUpdate (default
   * 5 minutes; 0: ask every time). A revocation reaches the CA's OCSP responder within a second,
   * but an answer cached until its nextUpdate (an hour at our CAs) would let a revoked holder log
   * in for that long.
   */
  maxCacheAgeMs?: number;
  sigOpts?: SignatureOptions;
  clock: () => Date;
}

interface CachedOcsp {
  response: OcspResponse;
  until: number;
}

interface CachedCrl {
  crl: Crl;
  /** The key it was verified with (SPKI DER): another issuer's lookup of the same URL checks again. */
  signerSpki: Buffer;
  until: number;
}

/** Default of RevocationCheckerOptions.maxCacheAgeMs. */
export const DEFAULT_MAX_CACHE_AGE_MS = 5 * 60_000;

/** Asks OCSP responders and fetches CRLs, with caches. */
export class RevocationChecker {
  private readonly ocspCache = new Map<string, CachedOcsp>();
  private readonly crlCache = new Map<string, CachedCrl>();
  /** One CRL download per URL at a time: concurrent validations share it. */
  private readonly crlInFlight = new Map<string, Promise<Crl>>();

  constructor(private readonly opts: RevocationCheckerOptions) {}

  /** The status of `cert` (issued by `issuer`) now: OCSP, then CRL; problems say what failed on the way. */
  async check(cert: Certificate, issuer: Certificate): Promise<RevocationOutcome> {
    const problems: string[] = [];
    if (this.opts.ocsp !== false) {
      const viaOcsp = await this.viaOcsp(cert, issuer, problems);
      if (viaOcsp) return { answer: viaOcsp, problems };
    }
    if (this.opts.crl !== false) {
      const viaCrl = await this.viaCrl(cert, issuer, problems);
      if (viaCrl) return { answer: viaCrl, problems };
    }
    return { problems };
  }

  /** Forgets every cached answer (e.g. after a trust-list change). */
  clear(): void {
    this.ocspCache.clear();
    this.crlCache.clear();
  }

  private async viaOcsp(cert: Certificate, issuer: Certificate, problems: string[]): Promise<RevocationAnswer | undefined> {
    const urls = cert.aia.ocsp.filter((u) => /^https?:\/\//i.test(u));
    if (!urls.length) {
      problems.push('the certificate names no OCSP responder');
      return undefined;
    }
    const key = `${issuer.spkiDer.toString('base64')}|${cert.serialHex}`;
    const cached = this.ocspCache.get(key);
    if (cached && cached.until > this.opts.clock().getTime()) {
      const a = this.readOcsp(cached.response, cert, issuer, undefined);
      if ('answer' in a) return a.answer;
      this.ocspCache.delete(key);
    }
    for (const url of urls) {
      const nonce = randomBytes(16);
      let response: OcspResponse;
      try {
        const request = buildOcspRequest({ certIds: [certId(cert, issuer)], nonce });
        const r = await this.opts.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
          body: request.der,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        if (!r.ok) {
          problems.push(`OCSP responder ${url} answered HTTP ${r.status}`);
          continue;
        }
        response = OcspResponse.parse(await readLimited(r, MAX_OCSP_BYTES));
      } catch (e) {
        problems.push(`OCSP responder ${url} cannot be used: ${errorText(e)}`);
        continue;
      }
      const read = this.readOcsp(response, cert, issuer, nonce);
      if ('problem' in read) {
        problems.push(`OCSP responder ${url}: ${read.problem}`);
        continue;
      }
      this.remember(this.ocspCache, key, { response, until: this.cacheUntil(read.until) });
      return read.answer;
    }
    return undefined;
  }

  /** Checks an OCSP response for `cert` as RFC 6960 §3.2 asks; `nonce` when it answers our request now. */
  private readOcsp(response: OcspResponse, cert: Certificate, issuer: Certificate, nonce: Buffer | undefined): { answer: RevocationAnswer; until: number } | { problem: string } {
    if (!response.isSuccessful) return { problem: `response status ${response.status}` };
    if (nonce) {
      const echoed = response.nonce;
      if (echoed && !echoed.equals(nonce)) return { problem: 'the response carries another request\'s nonce (replayed?)' };
      if (!echoed && this.opts.requireOcspNonce) return { problem: 'the response does not echo the nonce' };
    }
    const v = verifyOcspResponse(response, issuer, { sigOpts: this.opts.sigOpts, issuerSigOpts: this.opts.sigOpts });
    if (!v.valid) return { problem: v.error ?? 'the response does not verify' };
    const now = this.opts.clock();
    if (v.signer && !v.signer.der.equals(issuer.der) && !v.signer.isValidAt(now)) return { problem: `the responder certificate "${v.signer.subjectText}" is not valid now` };
    const single = response.responseFor(cert, issuer);
    if (!single) return { problem: 'the response does not cover this certificate' };
    const skew = this.opts.skewMs ?? 300_000;
    if (single.thisUpdate.getTime() > now.getTime() + skew) return { problem: `the response is not yet valid (thisUpdate ${single.thisUpdate.toISOString()})` };
    // Without nextUpdate an answer is only good for this request; cached answers need one.
    const until = single.nextUpdate?.getTime() ?? (nonce ? now.getTime() : 0);
    if (until < now.getTime()) return { problem: `the response is out of date (nextUpdate ${single.nextUpdate?.toISOString() ?? 'absent'})` };
    if (single.status === 'unknown') return { problem: `the responder does not know serial ${cert.serialHex}` };
    return {
      answer: {
        source: 'ocsp',
        status: single.status,
        revokedAt: single.status === 'revoked' ? (single.revocationTime ?? single.thisUpdate) : undefined,
        reason: single.status === 'revoked' ? (single.reason ?? 'unspecified') : undefined,
        evidence: [response.der],
      },
      until,
    };
  }

  private async viaCrl(cert: Certificate, issuer: Certificate, problems: string[]): Promise<RevocationAnswer | undefined> {
    const urls = cert.crlUrls.filter((u) => /^https?:\/\//i.test(u));
    if (!urls.length) {
      problems.push('the certificate names no CRL distribution point');
      return undefined;
    }
    for (const url of urls) {
      let crl: Crl;
      try {
        crl = await this.crlFrom(url, issuer, 'complete');
      } catch (e) {
        problems.push(`CRL ${url} cannot be used: ${errorText(e)}`);
        continue;
      }
      // A revocation since the complete CRL was made is in the newest delta CRL (RFC 5280 §5.2.4);
      // without a usable delta the complete CRL still decides, as far as it goes.
      let delta: Crl | undefined;
      for (const deltaUrl of [...freshestUrls(crl), ...freshestUrls(cert)].filter((u, i, all) => all.indexOf(u) === i)) {
        try {
          const candidate = await this.crlFrom(deltaUrl, issuer, 'delta');
          if (candidate.baseCrlNumber === undefined || crl.crlNumber === undefined || candidate.baseCrlNumber > crl.crlNumber || (candidate.crlNumber ?? 0n) <= crl.crlNumber) {
            problems.push(`delta CRL ${deltaUrl} does not apply to the complete CRL number ${crl.crlNumber}`);
            continue;
          }
          delta = candidate;
          break;
        } catch (e) {
          problems.push(`delta CRL ${deltaUrl} cannot be used: ${errorText(e)}`);
        }
      }
      const evidence = delta ? [crl.der, delta.der] : [crl.der];
      const inDelta = delta?.findRevoked(cert.serialNumber, cert.issuerDer);
      // removeFromCRL in a delta releases a hold listed in the complete CRL.
      const entry = inDelta ?? crl.findRevoked(cert.serialNumber, cert.issuerDer);
      if (entry && entry.reason !== 'removeFromCRL') {
        return { source: 'crl', status: 'revoked', revokedAt: entry.revocationDate, reason: entry.reason ?? 'unspecified', evidence };
      }
      return { source: 'crl', status: 'good', evidence };
    }
    return undefined;
  }

  /** A current CRL from `url`, signed by `issuer`: from the cache, or downloaded and checked. */
  private async crlFrom(url: string, issuer: Certificate, kind: 'complete' | 'delta'): Promise<Crl> {
    const cached = this.crlCache.get(url);
    const now = this.opts.clock().getTime();
    if (cached && cached.until > now && cached.signerSpki.equals(issuer.spkiDer) && cached.crl.issuerDer.equals(issuer.subjectDer) && cached.crl.isDelta === (kind === 'delta')) return cached.crl;
    let pending = this.crlInFlight.get(url);
    if (!pending) {
      pending = this.download(url).finally(() => this.crlInFlight.delete(url));
      this.crlInFlight.set(url, pending);
    }
    const crl = await pending;
    if (!crl.issuerDer.equals(issuer.subjectDer)) throw new Error(`it was issued by "${formatIssuer(crl)}", not by the certificate's issuer`);
    if (!crl.verifySignature(issuer.publicKey, this.opts.sigOpts)) throw new Error('its signature does not verify with the issuer\'s key');
    if (crl.isDelta !== (kind === 'delta')) throw new Error(kind === 'delta' ? 'it is not a delta CRL' : 'it is a delta CRL, not a complete one');
    const skew = this.opts.skewMs ?? 300_000;
    if (crl.thisUpdate.getTime() > now + skew) throw new Error(`it is not yet valid (thisUpdate ${crl.thisUpdate.toISOString()})`);
    if (!crl.nextUpdate || crl.nextUpdate.getTime() < now) throw new Error(`it is out of date (nextUpdate ${crl.nextUpdate?.toISOString() ?? 'absent'})`);
    this.remember(this.crlCache, url, { crl, signerSpki: issuer.spkiDer, until: this.cacheUntil(crl.nextUpdate.getTime()) });
    return crl;
  }

  private async download(url: string): Promise<Crl> {
    const r = await this.opts.fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return Crl.parse(await readLimited(r, this.opts.maxCrlBytes ?? 64 * 1024 * 1024));
  }

  /** Until when an answer good until `nextUpdate` may be reused from the cache. */
  private cacheUntil(nextUpdate: number): number {
    return Math.min(nextUpdate, this.opts.clock().getTime() + (this.opts.maxCacheAgeMs ?? DEFAULT_MAX_CACHE_AGE_MS));
  }

  /** Bounded cache: the oldest entry goes when full (Map keeps insertion order). */
  private remember<T>(cache: Map<string, T>, key: string, value: T): void {
    cache.delete(key);
    if (cache.size >= (this.opts.cacheSize ?? 10_000)) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
  }
}

const MAX_OCSP_BYTES = 64 * 1024;

/** The body, refused once it grows past `max` bytes (a misbehaving server must not exhaust memory). */
async function readLimited(r: Response, max: number): Promise<Buffer> {
  const declared = Number(r.headers.get('content-length') ?? NaN);
  if (declared > max) throw new Error(`the answer is ${declared} bytes, more than the limit of ${max}`);
  if (!r.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`the answer is more than the limit of ${max} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The URLs of a freshestCRL extension (where the delta CRLs are). */
function freshestUrls(of: Crl | Certificate): string[] {
  const ext = of.extension(EXT.freshestCrl);
  if (!ext) return [];
  try {
    const points = decodeKnownExtension(ext) as Iterable<{ distributionPoint?: { fullName?: Array<{ uniformResourceIdentifier?: string }> } }> | undefined;
    return [...(points ?? [])].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap((g) => (g.uniformResourceIdentifier && /^https?:\/\//i.test(g.uniformResourceIdentifier) ? [g.uniformResourceIdentifier] : [])));
  } catch {
    return [];
  }
}

function formatIssuer(crl: Crl): string {
  try {
    return formatName(crl.issuer);
  } catch {
    return '?';
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.name === 'TimeoutError' ? 'timed out' : e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message;
  return String(e);
}

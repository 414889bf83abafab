/**
 * The OCSP responder (RFC 6960, RFC 5019 profile) of every authority: turns a request's bytes
 * into a response's bytes. A request for one certificate without a nonce is answered from the
 * pre-produced cache (signed once, then served until refreshed or until the certificate's status
 * changes); a request with a nonce (RFC 8954) or for several certificates is signed afresh.
 * Responses are signed by the CA's delegated responder certificate (responder-certs.ts).
 */
import {
  OcspRequest,
  buildOcspErrorResponse,
  buildOcspResponse,
  serialToHex,
  wholeSeconds,
  type CertId,
  type OcspResponseStatus,
  type OcspStatusEntry,
  type RevocationReason,
} from '@health-pki/pki';
import type { CertificateAuthorities, SigningIssuer } from '../../ca/authority.js';
import type { KeyCustody } from '../../ca/key-custody.js';
import type { Database } from '../../store/database.js';
import { issuedStatus } from './ca-reads.js';
import { ResponseCache, etagOf, type CacheLimits, type CachedResponse } from './cache.js';
import { ServedAuthorities, issuerKey, type ServedAuthority } from './issuers.js';
import { ResponderCertificates } from './responder-certs.js';
import { StatusWatcher } from './watcher.js';

/** What the responder answers: the DER, and for pre-produced responses their cache facts. */
export interface OcspAnswer {
  der: Buffer;
  /** The OCSP status (successful even when the certificate is revoked or unknown). */
  status: OcspResponseStatus;
  /** Present for pre-produced responses: what HTTP caching headers say. */
  cached?: CachedResponse;
}

/** Options of the responder. */
export interface OcspResponderOptions {
  database: Database;
  ca: CertificateAuthorities;
  custody: KeyCustody;
  clock?: () => Date;
  /** nextUpdate - thisUpdate of every response (default 3600 s). */
  validitySeconds?: number;
  /** Responder certificate validity and renewal margin (defaults 90 and 30 days). */
  responderValidityDays?: number;
  responderRenewBeforeDays?: number;
  /** Status-change poll period (default 200 ms). */
  pollMs?: number;
  cache?: CacheLimits;
}

/** Certificates one request may ask about; RFC 5019 clients ask about one. */
const MAX_ITEMS = 16;
/** RFC 8954 §2.1: nonces of 1 to 32 bytes are echoed; others are answered as if absent. */
const MAX_NONCE = 32;

const errorDer = (s: Exclude<OcspResponseStatus, 'successful'>): OcspAnswer => ({ der: buildOcspErrorResponse(s).der, status: s });
/** The fixed error responses (unsigned, RFC 6960 §2.3). */
export const OCSP_ERRORS = {
  malformedRequest: errorDer('malformedRequest'),
  unauthorized: errorDer('unauthorized'),
  tryLater: errorDer('tryLater'),
  internalError: errorDer('internalError'),
} as const;

/** A request's lookup key for the cache: which authority, and the exact bytes or GET path. */
export function requestKey(authority: string, kind: 'P' | 'G', data: string): string {
  return `${authority}\u0000${kind}${data}`;
}

/** The responder of a deployment. */
export class OcspResponder {
  readonly cache: ResponseCache;
  readonly responders: ResponderCertificates;
  private readonly served: ServedAuthorities;
  private readonly watcher: StatusWatcher;
  private readonly database: Database;
  private readonly clock: () => Date;
  private readonly validityMs: number;
  private readonly producing = new Map<string, Promise<CachedResponse>>();
  private sweeper?: NodeJS.Timeout;

  constructor(opts: OcspResponderOptions) {
    this.database = opts.database;
    this.clock = opts.clock ?? (() => new Date());
    this.validityMs = (opts.validitySeconds ?? 3600) * 1000;
    this.cache = new ResponseCache(opts.cache);
    this.served = new ServedAuthorities(opts.ca);
    this.responders = new ResponderCertificates({
      database: opts.database,
      custody: opts.custody,
      clock: this.clock,
      validityDays: opts.responderValidityDays,
      renewBeforeDays: opts.responderRenewBeforeDays,
    });
    this.watcher = new StatusWatcher({
      database: opts.database,
      authorities: () => this.served.all(),
      onChange: (c) => this.cache.changed(`${c.authorityId}/${c.serial}`, c.version, this.clock().getTime()),
      clock: this.clock,
      intervalMs: opts.pollMs,
    });
  }

  /** Starts the background work: status-change polling and the sweep of expired responses. */
  start(): void {
    this.watcher.start();
    this.sweeper = setInterval(() => this.cache.sweep(this.clock().getTime()), 60_000);
    this.sweeper.unref();
  }

  /** Stops the background work. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.watcher.stop();
    await Promise.allSettled([...this.producing.values()]);
  }

  /** Polls for status changes now (tests). */
  pollNow(): Promise<void> {
    return this.watcher.poll();
  }

  /** The hot path: the cached answer to an exact request, without parsing, or undefined. */
  cachedAnswer(key: string): OcspAnswer | undefined {
    const now = this.clock().getTime();
    const e = this.cache.forRequest(key, now);
    if (!e) return undefined;
    if (now >= e.refreshAt) this.refresh(e);
    return { der: e.der, status: 'successful', cached: e };
  }

  /**
   * Answers a request (DER) to the responder of `authority`; `key` (see requestKey) lets a
   * repeat of the same request be answered by cachedAnswer. Never throws for bad input.
   */
  async answer(authority: string, der: Buffer, key?: string): Promise<OcspAnswer> {
    const a = await this.served.get(authority);
    if (!a) return OCSP_ERRORS.unauthorized;
    let req: OcspRequest;
    try {
      req = OcspRequest.parse(der);
    } catch {
      return OCSP_ERRORS.malformedRequest;
    }
    const items = req.requests;
    if (items.length > MAX_ITEMS) return OCSP_ERRORS.malformedRequest;
    const issuer = a.byHashes.get(issuerKey(items[0]!.certId));
    // One response has one signer, and each CA has its own responder certificate.
    if (!issuer || items.some((i) => a.byHashes.get(issuerKey(i.certId)) !== issuer)) return OCSP_ERRORS.unauthorized;
    const nonce = req.nonce;
    const echo = nonce !== undefined && nonce.length >= 1 && nonce.length <= MAX_NONCE;
    if (items.length === 1 && !echo) {
      const e = await this.preproduced(a, issuer, items[0]!.certId);
      if (key !== undefined) this.cache.link(key, e.certIdKey);
      return { der: e.der, status: 'successful', cached: e };
    }
    const entries = await Promise.all(items.map((i) => this.statusOf(a, issuer, i.certId)));
    return { der: (await this.sign(a, issuer, entries.map((x) => x.entry), echo ? req : undefined)).der, status: 'successful' };
  }

  /** The pre-produced response for a CertID, producing it on first use. */
  private preproduced(a: ServedAuthority, issuer: SigningIssuer, certId: CertId): CachedResponse | Promise<CachedResponse> {
    const certIdKey = `${a.id}|${issuerKey(certId)}|${certId.serialNumber.toString('hex')}`;
    const now = this.clock().getTime();
    const hit = this.cache.forCertId(certIdKey, now);
    if (hit) {
      if (now >= hit.refreshAt) this.refresh(hit);
      return hit;
    }
    let p = this.producing.get(certIdKey);
    if (!p) {
      p = this.produce(a, issuer, certId, certIdKey).finally(() => this.producing.delete(certIdKey));
      this.producing.set(certIdKey, p);
    }
    return p;
  }

  /** Signs a response for one CertID and caches it; signs again if the status changed meanwhile. */
  private async produce(a: ServedAuthority, issuer: SigningIssuer, certId: CertId, certIdKey: string): Promise<CachedResponse> {
    for (let attempt = 0; ; attempt++) {
      const { entry, version, serial } = await this.statusOf(a, issuer, certId);
      const { der, outgoing } = await this.sign(a, issuer, [entry]);
      const e: CachedResponse = {
        der,
        serialKey: `${a.id}/${serial}`,
        certIdKey,
        version,
        authority: a,
        issuer,
        certId,
        thisUpdate: entry.thisUpdate.getTime(),
        nextUpdate: entry.nextUpdate!.getTime(),
        // Signed by a responder certificate whose successor is being made: valid, but re-signed
        // at the next request, so that every service moves to the new certificate at once.
        refreshAt: outgoing ? entry.thisUpdate.getTime() : entry.thisUpdate.getTime() + this.validityMs / 2,
        refreshing: false,
        etag: etagOf(der),
        lastModified: entry.thisUpdate.toUTCString(),
        expires: entry.nextUpdate!.toUTCString(),
      };
      // Refused only when a newer status arrived while signing: read it and sign again.
      if (this.cache.put(e) || attempt >= 3) return e;
    }
  }

  /** Signs the successor of a response due for refresh, once, in the background. */
  private refresh(e: CachedResponse): void {
    if (e.refreshing) return;
    e.refreshing = true;
    this.produce(e.authority, e.issuer, e.certId, e.certIdKey).catch(() => {
      e.refreshing = false;
    });
  }

  /** A certificate's status as a SingleResponse, from the CA's records. */
  private async statusOf(a: ServedAuthority, issuer: SigningIssuer, certId: CertId): Promise<{ entry: OcspStatusEntry; version: number; serial: string }> {
    const serial = serialToHex(certId.serialNumber);
    const row = await issuedStatus(this.database.db, a.id, serial);
    const thisUpdate = wholeSeconds(this.clock());
    const base = { certId, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + this.validityMs) };
    // A serial this CA never issued (or another CA of the authority did) is unknown to this CA.
    if (!row || row.issuerId !== issuer.issuerId) return { entry: { ...base, status: 'unknown' }, version: row?.version ?? 0, serial };
    if (row.status === 'valid') return { entry: { ...base, status: 'good' }, version: row.version, serial };
    const reason = (row.status === 'hold' ? 'certificateHold' : row.reason) as RevocationReason | null;
    return {
      // "unspecified" is left out, as RFC 5280 §5.3.1 asks of CRL entries.
      entry: { ...base, status: 'revoked', revocationTime: new Date(row.revokedAt!), ...(reason && reason !== 'unspecified' ? { reason } : {}) },
      version: row.version,
      serial,
    };
  }

  /** Signs a response; `outgoing` when the responder certificate that signed it is due for renewal. */
  private async sign(a: ServedAuthority, issuer: SigningIssuer, responses: OcspStatusEntry[], nonceFrom?: OcspRequest): Promise<{ der: Buffer; outgoing: boolean }> {
    const rk = await this.responders.current(issuer, a.algorithm);
    const now = this.clock();
    return { der: buildOcspResponse({ responderCert: rk.cert, signer: rk.key, producedAt: wholeSeconds(now), responses, nonce: nonceFrom, certs: [rk.cert] }).der, outgoing: rk.renewAt <= now.getTime() };
  }
}

/** What a deployment may tune (services.ts passes the rest). */
export type OcspSettings = Omit<OcspResponderOptions, 'database' | 'ca' | 'custody' | 'clock'>;

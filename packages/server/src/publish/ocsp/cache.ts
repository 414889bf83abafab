/**
 * Pre-produced OCSP responses (RFC 5019 §2.1.1): signed DER per CertID with its thisUpdate and
 * nextUpdate, looked up by the exact request (POST body or GET path, so a repeat request is
 * answered without parsing) or by CertID. A status change drops the certificate's responses;
 * a response produced from a status older than the newest change seen is refused, so that a
 * response signed while a revocation commits cannot outlive the revocation in the cache.
 */
import { createHash } from 'node:crypto';
import type { CertId } from '@health-pki/pki';
import type { SigningIssuer } from '../../ca/authority.js';
import type { ServedAuthority } from './issuers.js';

/** One signed response, ready to send. */
export interface CachedResponse {
  der: Buffer;
  /** `${authorityId}/${serial}`: what a status change names. */
  serialKey: string;
  certIdKey: string;
  /** The certificate version the response states (0: never issued). */
  version: number;
  authority: ServedAuthority;
  issuer: SigningIssuer;
  certId: CertId;
  /** ms since the epoch. */
  thisUpdate: number;
  nextUpdate: number;
  /** From then on a hit also starts signing its successor. */
  refreshAt: number;
  refreshing: boolean;
  /** HTTP validators and dates (RFC 5019 §6). */
  etag: string;
  lastModified: string;
  expires: string;
}

/** Limits of the cache. */
export interface CacheLimits {
  /** Responses kept (default 100,000; about 1 KB each with the responder certificate). */
  maxResponses?: number;
  /** Distinct request encodings remembered (default twice maxResponses). */
  maxRequests?: number;
}

/** How long a status change is remembered for refusing responses made from older data. */
const CHANGE_MEMORY_MS = 60_000;

/** The HTTP validator of a response. */
export function etagOf(der: Buffer): string {
  return `"${createHash('sha1').update(der).digest('hex')}"`;
}

/** The cache of pre-produced responses. */
export class ResponseCache {
  private readonly byCertId = new Map<string, CachedResponse>();
  private readonly byRequest = new Map<string, string>();
  private readonly bySerial = new Map<string, Set<string>>();
  /** Newest certificate version seen per serialKey, with when it was seen. */
  private readonly changes = new Map<string, { version: number; seen: number }>();
  private readonly maxResponses: number;
  private readonly maxRequests: number;

  constructor(limits: CacheLimits = {}) {
    this.maxResponses = limits.maxResponses ?? 100_000;
    this.maxRequests = limits.maxRequests ?? 2 * this.maxResponses;
  }

  /** The response for an exact request encoding, if cached and current at `now`. */
  forRequest(requestKey: string, now: number): CachedResponse | undefined {
    const k = this.byRequest.get(requestKey);
    if (k === undefined) return undefined;
    const e = this.byCertId.get(k);
    return e && now < e.nextUpdate ? e : undefined;
  }

  /** The response for a CertID key, if cached and current at `now`. */
  forCertId(certIdKey: string, now: number): CachedResponse | undefined {
    const e = this.byCertId.get(certIdKey);
    return e && now < e.nextUpdate ? e : undefined;
  }

  /** Remembers that this request encoding asks about this CertID. */
  link(requestKey: string, certIdKey: string): void {
    if (this.byRequest.size >= this.maxRequests) this.byRequest.delete(this.byRequest.keys().next().value!);
    this.byRequest.set(requestKey, certIdKey);
  }

  /** Stores a response unless a newer status change has been seen; returns whether it was stored. */
  put(e: CachedResponse): boolean {
    const newest = this.changes.get(e.serialKey);
    if (newest && newest.version > e.version) return false;
    const old = this.byCertId.get(e.certIdKey);
    if (old) this.byCertId.delete(e.certIdKey);
    else if (this.byCertId.size >= this.maxResponses) this.drop(this.byCertId.keys().next().value!);
    this.byCertId.set(e.certIdKey, e);
    let keys = this.bySerial.get(e.serialKey);
    if (!keys) this.bySerial.set(e.serialKey, (keys = new Set()));
    keys.add(e.certIdKey);
    return true;
  }

  /** A certificate reached `version`: drops its responses that state an older one. */
  changed(serialKey: string, version: number, now: number): void {
    const had = this.changes.get(serialKey);
    if (!had || had.version < version) this.changes.set(serialKey, { version, seen: now });
    for (const k of this.bySerial.get(serialKey) ?? []) {
      const e = this.byCertId.get(k);
      if (e && e.version < version) this.drop(k);
    }
  }

  /** Drops expired responses and forgets old status changes. */
  sweep(now: number): void {
    for (const [k, e] of this.byCertId) if (e.nextUpdate <= now) this.drop(k);
    for (const [k, c] of this.changes) if (c.seen + CHANGE_MEMORY_MS < now) this.changes.delete(k);
  }

  /** How many responses are cached. */
  get size(): number {
    return this.byCertId.size;
  }

  private drop(certIdKey: string): void {
    const e = this.byCertId.get(certIdKey);
    this.byCertId.delete(certIdKey);
    if (!e) return;
    const keys = this.bySerial.get(e.serialKey);
    keys?.delete(certIdKey);
    if (keys?.size === 0) this.bySerial.delete(e.serialKey);
  }
}

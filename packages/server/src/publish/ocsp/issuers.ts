/**
 * Which CA a CertID names. An OCSP URL is per authority (ca/urls.ts); the CertID's issuer name
 * and key hashes then pick the root or an issuing CA of that authority. Every hash a client may
 * use is precomputed per CA, so the lookup is one map read.
 */
import { certId, type CertId, type HashName, type KeyAlgorithm } from '@health-pki/pki';
import type { CertificateAuthorities, SigningIssuer } from '../../ca/authority.js';
import { NotFoundError } from '../../errors.js';

/** The hashes accepted in CertIDs: SHA-1 (what most clients send), the SHA-2 family, and SM3 (for SM2 CAs). */
const CERT_ID_HASHES: readonly HashName[] = ['sha1', 'sha256', 'sha384', 'sha512', 'sm3'];

/** One authority as the responder serves it. */
export interface ServedAuthority {
  id: string;
  name: string;
  algorithm: KeyAlgorithm;
  issuers: SigningIssuer[];
  /** By issuerKey(hash OID, name hash, key hash). */
  byHashes: Map<string, SigningIssuer>;
}

/** The lookup key of a CertID's issuer part. */
export function issuerKey(id: Pick<CertId, 'hashAlgorithm' | 'issuerNameHash' | 'issuerKeyHash'>): string {
  return `${id.hashAlgorithm}|${id.issuerNameHash.toString('hex')}|${id.issuerKeyHash.toString('hex')}`;
}

/** How long a name that is not an authority is remembered as such (they are created at run time). */
const UNKNOWN_TTL_MS = 10_000;
const UNKNOWN_MAX = 10_000;

/** The authorities the responder has been asked about, loaded once each. */
export class ServedAuthorities {
  private readonly loaded = new Map<string, ServedAuthority>();
  private readonly loading = new Map<string, Promise<ServedAuthority | undefined>>();
  private readonly unknown = new Map<string, number>();

  constructor(private readonly ca: CertificateAuthorities) {}

  /** The authority by URL name, if loaded already (the hot path; no promise). */
  peek(name: string): ServedAuthority | undefined {
    return this.loaded.get(name);
  }

  /** Every authority loaded so far. */
  all(): ServedAuthority[] {
    return [...this.loaded.values()];
  }

  /** The authority by URL name, or undefined when there is none by that name. */
  get(name: string): ServedAuthority | undefined | Promise<ServedAuthority | undefined> {
    const hit = this.loaded.get(name);
    if (hit) return hit;
    const miss = this.unknown.get(name);
    if (miss !== undefined && miss > Date.now()) return undefined;
    let p = this.loading.get(name);
    if (!p) {
      p = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, p);
    }
    return p;
  }

  private async load(name: string): Promise<ServedAuthority | undefined> {
    try {
      const view = await this.ca.getAuthority(name);
      const issuers = await this.ca.signingIssuers(name);
      const byHashes = new Map<string, SigningIssuer>();
      for (const i of issuers) {
        for (const h of CERT_ID_HASHES) byHashes.set(issuerKey(certId({ serialNumber: Buffer.from([1]) }, i.cert, h)), i);
      }
      const served: ServedAuthority = { id: view.id, name, algorithm: view.algorithm as KeyAlgorithm, issuers, byHashes };
      this.loaded.set(name, served);
      return served;
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      if (this.unknown.size >= UNKNOWN_MAX) this.unknown.clear();
      this.unknown.set(name, Date.now() + UNKNOWN_TTL_MS);
      return undefined;
    }
  }
}

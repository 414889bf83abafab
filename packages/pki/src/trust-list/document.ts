/**
 * The trust list document: which CAs the whole sector trusts, as JSON. Here in the pure library
 * (moved from the platform) so that the platform, the SDK and any relying party share one reader.
 */
import { Certificate } from '../x509/certificate.js';

/** One trusted CA in the list. */
export interface TrustListEntry {
  name: string;
  displayName: string;
  /** Always "connected": a suspended or terminated CA is not in the list at all. */
  status: string;
  provinces: string[];
  /** The CA's certificates (root, issuing), PEM. */
  certificates: string[];
}

/** The signed content of a trust list. */
export interface TrustListDocument {
  version: number;
  /** ISO date-time of publication. */
  issuedAt: string;
  /** Who publishes it (the platform's name). */
  platform: string;
  cas: TrustListEntry[];
}

/** The platform name written into every list. */
export const TRUST_LIST_PLATFORM = 'National health certificate service management platform';

/** The JSON bytes that get signed: one fixed key order, so equal lists have equal bytes. */
export function encodeTrustList(doc: TrustListDocument): Buffer {
  const cas = doc.cas.map((c) => ({ name: c.name, displayName: c.displayName, status: c.status, provinces: c.provinces, certificates: c.certificates }));
  return Buffer.from(JSON.stringify({ version: doc.version, issuedAt: doc.issuedAt, platform: doc.platform, cas }), 'utf8');
}

/** Reads and checks the shape of a trust list's JSON; returns what is wrong as a string. */
export function decodeTrustList(bytes: Uint8Array): TrustListDocument | string {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return 'the signed content is not JSON';
  }
  if (!isObject(v)) return 'the signed content is not a JSON object';
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 1) return 'the trust list has no valid version';
  if (typeof v.issuedAt !== 'string' || Number.isNaN(Date.parse(v.issuedAt))) return 'the trust list has no valid issuedAt';
  if (typeof v.platform !== 'string') return 'the trust list names no platform';
  if (!Array.isArray(v.cas)) return 'the trust list has no cas array';
  const cas: TrustListEntry[] = [];
  for (const [i, c] of v.cas.entries()) {
    if (!isObject(c) || typeof c.name !== 'string' || typeof c.displayName !== 'string' || typeof c.status !== 'string') return `trust list entry ${i} lacks name, displayName or status`;
    if (!isStrings(c.provinces) || !isStrings(c.certificates)) return `trust list entry ${i} (${c.name}) lacks provinces or certificates`;
    cas.push({ name: c.name, displayName: c.displayName, status: c.status, provinces: c.provinces, certificates: c.certificates });
  }
  return { version: v.version as number, issuedAt: v.issuedAt, platform: v.platform, cas };
}

/** The certificates of every CA in a verified list, parsed: the anchors a relying party trusts. */
export function trustListCertificates(doc: TrustListDocument): Array<{ ca: string; certificate: Certificate }> {
  return doc.cas.flatMap((c) => c.certificates.map((pem) => ({ ca: c.name, certificate: Certificate.parse(pem) })));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/**
 * Building the CRLs of one scope (a CA, or one partition of it) from the CA's records: the
 * entries are read page by page and encoded straight to DER as they arrive (a million entries
 * never exist as objects), then signed with a CRL number by the pki library's builder.
 */
import { createHash } from 'node:crypto';
import { CrlEntryWriter, buildCrl, type Certificate, type PrivateKey, type RevocationReason } from '@health-pki/pki';
import type { Executor } from '../../store/database.js';
import { changedSince, forEachRevoked, reasonOf, type IssuedRange } from './revocations.js';
import type { CrlKind } from './tables.js';

/** What one published CRL covers and how it is signed. */
export interface CrlScope {
  authority: string;
  authorityId: string;
  /** "root", "issuing-1", …. */
  label: string;
  issuerId: string;
  role: 'root' | 'issuing';
  cert: Certificate;
  key: PrivateKey;
  /** 0 for the CA's plain CRL (every certificate before partition 1); n ≥ 1 for partition n. */
  partition: number;
  /** The issuance times this scope covers. */
  range: IssuedRange;
  /** The URL of the complete CRL: certificates' CRL distribution point and the CRLs' issuing distribution point. */
  url: string;
  /** Where the delta CRLs of this scope are published (freshestCRL of the complete CRL). */
  deltaUrl: string;
}

/** Entries read and encoded, waiting for a CRL number. */
export interface CollectedEntries {
  kind: CrlKind;
  writer: CrlEntryWriter;
  /** When reading began: the CRL reflects every change committed before this. */
  snapshotAt: Date;
}

/** A signed CRL and its facts. */
export interface SignedCrl {
  kind: CrlKind;
  number: bigint;
  baseNumber?: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  snapshotAt: Date;
  entries: number;
  der: Buffer;
  sha256: string;
}

/** Reads every revoked or held certificate of the scope into DER entries (a complete CRL's list). */
export async function collectFull(ex: Executor, scope: CrlScope, pageSize?: number): Promise<CollectedEntries> {
  const snapshotAt = new Date();
  const writer = new CrlEntryWriter(1024);
  await forEachRevoked(ex, scope.issuerId, scope.range, (serial, revokedAt, reason, invalidity) => writer.addStored(serial, revokedAt, reason as RevocationReason | undefined, invalidity), pageSize);
  return { kind: 'full', writer, snapshotAt };
}

/**
 * Reads the certificates of the scope whose status changed at or after `since` into DER entries
 * (a delta CRL's list): revoked or held ones with their reason, released ones as removeFromCRL.
 */
export async function collectDelta(ex: Executor, scope: CrlScope, since: Date): Promise<CollectedEntries> {
  const snapshotAt = new Date();
  const writer = new CrlEntryWriter(64);
  const rows = await changedSince(ex, scope.authorityId, scope.issuerId, since.toISOString(), scope.range);
  for (const r of rows) {
    if (r.status === 'valid') writer.addStored(r.serial, r.changed_at, 'removeFromCRL'); // released from hold
    else writer.addStored(r.serial, r.revoked_at ?? r.changed_at, reasonOf(r), r.invalidity_date ?? undefined);
  }
  return { kind: 'delta', writer, snapshotAt };
}

/** Signs collected entries as CRL `number` (a delta CRL of `baseNumber` when the entries are a delta's). */
export function signCollected(scope: CrlScope, c: CollectedEntries, o: { number: bigint; baseNumber?: bigint; thisUpdate: Date; nextUpdate: Date }): SignedCrl {
  const onlyCa = scope.role === 'root';
  const crl = buildCrl({
    issuer: scope.cert,
    signer: scope.key,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    crlNumber: o.number,
    deltaOf: c.kind === 'delta' ? o.baseNumber : undefined,
    entries: c.writer,
    // A root signs only CA certificates; an issuing CA only end-entity certificates. The delta
    // carries the same scope as its base (RFC 5280 §5.2.4), so the same distribution point. The
    // root's CRL names no distribution point: it also covers the root certificate itself, which
    // has none, and OpenSSL's -crl_check_all rejects a named scope for it ("different CRL scope").
    issuingDistributionPoint: { urls: onlyCa ? undefined : [scope.url], onlyContainsCACerts: onlyCa, onlyContainsUserCerts: !onlyCa },
    freshestCrlUrls: c.kind === 'full' ? [scope.deltaUrl] : undefined,
  });
  return {
    kind: c.kind,
    number: o.number,
    baseNumber: c.kind === 'delta' ? o.baseNumber : undefined,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    snapshotAt: c.snapshotAt,
    entries: c.writer.count,
    der: crl.der,
    sha256: createHash('sha256').update(crl.der).digest('hex'),
  };
}

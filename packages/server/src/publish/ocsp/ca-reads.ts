/**
 * What the OCSP responder reads from the CA module's tables (ca_certificates, ca_status_changes):
 * read-only queries, nothing else. The CA module stays the only writer; see ca/tables.ts.
 */
import { sql } from 'kysely';
import type { Executor } from '../../store/database.js';
import { all, first } from '../../store/sql.js';
import type { CertificateStatus } from '../../ca/tables.js';

/** A certificate's status as the responder needs it. */
export interface IssuedStatus {
  issuerId: string;
  status: CertificateStatus;
  revokedAt: string | null;
  reason: string | null;
  version: number;
}

/** The status of the certificate with this serial (canonical hex) of this authority, or undefined when it never issued it. */
export async function issuedStatus(ex: Executor, authorityId: string, serial: string): Promise<IssuedStatus | undefined> {
  const row = await first<{ issuer_id: string; status: CertificateStatus; revoked_at: string | null; reason: string | null; version: number | string }>(
    ex,
    sql`select issuer_id, status, revoked_at, reason, version from ca_certificates where authority_id = ${authorityId} and serial = ${serial}`,
  );
  return row ? { issuerId: row.issuer_id, status: row.status, revokedAt: row.revoked_at, reason: row.reason, version: Number(row.version) } : undefined;
}

/** One status change (issuance is version 1). */
export interface StatusChangeKey {
  authorityId: string;
  serial: string;
  version: number;
  at: string;
}

/** The status changes of one authority at or after `since` (ISO text; `at` is whole seconds). */
export async function statusChangesSince(ex: Executor, authorityId: string, since: string): Promise<StatusChangeKey[]> {
  const rows = await all<{ serial: string; version: number | string; at: string }>(
    ex,
    sql`select serial, version, at from ca_status_changes where authority_id = ${authorityId} and at >= ${since}`,
  );
  return rows.map((r) => ({ authorityId, serial: r.serial, version: Number(r.version), at: r.at }));
}

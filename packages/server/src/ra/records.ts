/**
 * The RA's side of records retention (records/retention.ts decides when): the facts that decide
 * how long an application's materials are kept, and their deletion with the RA's record of it.
 * Reads the certificate's expiry from the CA's table (read-only) because retention runs from it.
 */
import { sql } from 'kysely';
import type { Executor } from '../store/database.js';
import { orderedId } from '../store/ids.js';
import { all, first, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import type { ApplicationState } from './tables.js';

/** What decides how long one application's materials are kept. */
export interface RetentionFacts {
  applicationId: string;
  authorityId: string;
  authorityName: string;
  state: ApplicationState;
  certificateSerial: string | null;
  /** The certificate's notAfter (ISO-8601), when the application produced one. */
  certificateNotAfter: string | null;
  decidedAt: string | null;
  /** How many materials are still stored. */
  materials: number;
}

interface FactsRow {
  id: string;
  authority_id: string;
  authority_name: string;
  state: ApplicationState;
  certificate_serial: string | null;
  not_after: string | null;
  decided_at: string | null;
  materials: number | string;
}

const FACTS = sql`select a.id, a.authority_id, a.authority_name, a.state, a.certificate_serial, c.not_after, a.decided_at,
  (select count(*) from ra_materials m where m.application_id = a.id) as materials
  from ra_applications a left join ca_certificates c on c.authority_id = a.authority_id and c.serial = a.certificate_serial`;

function factsOf(r: FactsRow): RetentionFacts {
  return {
    applicationId: r.id,
    authorityId: r.authority_id,
    authorityName: r.authority_name,
    state: r.state,
    certificateSerial: r.certificate_serial,
    certificateNotAfter: r.not_after,
    decidedAt: r.decided_at,
    materials: Number(r.materials),
  };
}

/** The retention facts of one application of an authority, or undefined when there is no such application. */
export async function retentionFacts(ex: Executor, authorityId: string, applicationId: string): Promise<RetentionFacts | undefined> {
  const row = await first<FactsRow>(ex, sql`${FACTS} where a.id = ${applicationId} and a.authority_id = ${authorityId}`);
  return row && factsOf(row);
}

/**
 * Applications that still hold materials and whose certificate expired, or which were rejected,
 * before `cutoff` (ISO-8601): the candidates of a purge, oldest first.
 */
export async function purgeCandidates(ex: Executor, cutoff: string, limit: number): Promise<RetentionFacts[]> {
  const rows = await all<FactsRow>(
    ex,
    sql`${FACTS} where exists (select 1 from ra_materials m where m.application_id = a.id)
      and ((a.state = 'issued' and c.not_after <= ${cutoff}) or (a.state = 'rejected' and a.certificate_serial is null and a.decided_at <= ${cutoff}))
      order by a.id limit ${limit}`,
  );
  return rows.map(factsOf);
}

/** Deletes every material of an application and writes the RA's record of it; returns how many were deleted. */
export async function deleteMaterials(tx: Executor, f: RetentionFacts, actor: Principal, at: string, action: 'materials-deleted' | 'materials-purged', details: Record<string, unknown>): Promise<number> {
  const n = await run(tx, sql`delete from ra_materials where application_id = ${f.applicationId}`);
  await run(
    tx,
    sql`insert into ra_events (id, authority_id, application_id, serial, action, actor, at, reason, details)
        values (${orderedId()}, ${f.authorityId}, ${f.applicationId}, ${f.certificateSerial}, ${action}, ${actor.id}, ${at}, ${null}, ${JSON.stringify({ ...details, materials: n })})`,
  );
  return n;
}

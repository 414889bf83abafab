/** Counts of one CA's outbox, whether or not a sender runs for it. */
import { sql } from 'kysely';
import type { Database } from '../store/database.js';
import { first } from '../store/sql.js';

/** Pending and sent events of CA `ca`, those the platform answered "duplicate" (sent twice: an answer was lost) or "conflict", and its last seq. */
export async function outboxState(database: Database, ca: string): Promise<{ pending: number; sent: number; duplicates: number; conflicts: number; lastSeq: number }> {
  type Row = { pending: number | string | null; sent: number | string | null; duplicates: number | string | null; conflicts: number | string | null; last: number | string | null };
  const r = await first<Row>(
    database.db,
    sql`select sum(case when sent_at is null then 1 else 0 end) as pending, sum(case when sent_at is null then 0 else 1 end) as sent,
               sum(case when outcome = 'duplicate' then 1 else 0 end) as duplicates, sum(case when outcome = 'conflict' then 1 else 0 end) as conflicts, max(seq) as last
        from platform_outbox where ca = ${ca}`,
  );
  return { pending: Number(r?.pending ?? 0), sent: Number(r?.sent ?? 0), duplicates: Number(r?.duplicates ?? 0), conflicts: Number(r?.conflicts ?? 0), lastSeq: Number(r?.last ?? 0) };
}

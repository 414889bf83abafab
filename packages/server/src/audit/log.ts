/**
 * The audit log: one row per security-relevant event, written in the same transaction as the
 * change it describes, so an event is recorded exactly when its change is.
 *
 * SEAM (security issue): entries are plain rows today. That issue chains each entry to the hash
 * of the previous one, signs periodic checkpoints with the CA's audit key and adds
 * `hpki audit verify`; callers keep calling `appendAudit` inside their transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { Executor } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';

/** The table this module owns. */
export interface AuditTables {
  audit_log: {
    id: string;
    at: string;
    actor: string;
    action: string;
    /** What the event is about, e.g. "ca:demo-p256/cert:0a1b…" or "ra:application:…". */
    target: string;
    details: string;
  };
}

/** Migrations of the audit module. */
export const auditMigrations: ModuleMigrations = {
  module: 'audit',
  migrations: () => ({
    '0001_log': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('audit_log')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at']).execute();
      },
    },
  }),
};

/** One event to record. */
export interface AuditEvent {
  actor: Principal;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

/** Appends an event; call it inside the transaction of the change it records. */
export async function appendAudit(tx: Executor, event: AuditEvent, at: Date = new Date()): Promise<void> {
  // Written on every issuance and status change: plain SQL, no query builder (store/sql.ts).
  await run(
    tx,
    sql`insert into audit_log (id, at, actor, action, target, details) values (${orderedId()}, ${nowIso(at)}, ${event.actor.id}, ${event.action}, ${event.target}, ${JSON.stringify(event.details ?? {})})`,
  );
}

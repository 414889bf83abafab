/**
 * The audit log: one row per security-relevant event, written in the same transaction as the
 * change it describes, so an event is recorded exactly when its change is.
 *
 * Tamper evidence (docs/audit.md): every entry carries a sequence number, the hash of the entry
 * before it and its own hash (chain.ts). The chain's head, (seq, hash) of the last entry, lives in
 * the one-row table audit_head. An append first bumps the head's seq with
 * `update … returning`: on PostgreSQL that row lock serialises appenders across processes until
 * their transaction ends, on SQLite the writer already holds the database lock (and the group
 * commit runs its operations one after the other). A trigger on insert moves the head's hash to
 * the new entry, so an append costs two statements instead of one. A rolled-back transaction
 * (or savepoint of a group commit) takes its head update with it: no gap is left behind.
 *
 * Triggers also refuse UPDATE and DELETE on audit_log: nothing in the product can change an
 * entry; someone with the database owner's rights can, and `hpki audit verify` finds it.
 */
import { sql, type Kysely } from 'kysely';
import type { Executor } from '../store/database.js';
import type { DialectName } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes, nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { first, hot, run, statement } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { GENESIS_HASH, entryHash } from './chain.js';

/** The tables this module owns. */
export interface AuditTables {
  audit_log: {
    id: string;
    /** 1, 2, 3, … without gaps, in the order the entries were chained. */
    seq: number;
    at: string;
    actor: string;
    action: string;
    /** What the event is about, e.g. "ca:demo-p256/cert:0a1b…" or "ra:application:…". */
    target: string;
    details: string;
    prev_hash: string;
    hash: string;
  };
  /** One row (id 1): seq and hash of the last entry (0 and the genesis hash while empty). */
  audit_head: { id: number; seq: number; hash: string };
  /** The deployment's audit signing keys (checkpoints.ts). */
  audit_keys: { id: string; created_at: string; cert_der: Buffer; key_sealed: Buffer; key_protection: string };
  /** Signed checkpoints: the chain's hash at `seq`, signed by key `key_id` at `at`. */
  audit_checkpoints: { seq: number; hash: string; at: string; key_id: string; algorithm: string; signature: Buffer };
}

/** SQL that keeps audit_head's hash on the last entry and refuses changes to entries, per dialect. */
function chainTriggers(dialect: DialectName): string[] {
  if (dialect === 'sqlite') {
    return [
      `create trigger audit_log_head after insert on audit_log begin update audit_head set hash = new.hash where id = 1 and seq = new.seq; end`,
      `create trigger audit_log_no_update before update on audit_log begin select raise(abort, 'audit_log is append-only'); end`,
      `create trigger audit_log_no_delete before delete on audit_log begin select raise(abort, 'audit_log is append-only'); end`,
    ];
  }
  return [
    `create function audit_log_head() returns trigger language plpgsql as $$ begin update audit_head set hash = new.hash where id = 1 and seq = new.seq; return null; end $$`,
    `create trigger audit_log_head after insert on audit_log for each row execute function audit_log_head()`,
    `create function audit_log_append_only() returns trigger language plpgsql as $$ begin raise exception 'audit_log is append-only'; end $$`,
    `create trigger audit_log_no_change before update or delete on audit_log for each row execute function audit_log_append_only()`,
  ];
}

/** Chains the rows written before the chain existed, in the order they were written (their ids are time-ordered). */
async function chainExistingRows(db: Kysely<any>): Promise<{ seq: number; hash: string }> {
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('audit_log').select(['id', 'at', 'actor', 'action', 'target', 'details']).where('id', '>', after).orderBy('id').limit(1000).execute();
    if (rows.length === 0) return { seq, hash: prevHash };
    for (const r of rows) {
      seq++;
      const hash = entryHash({ seq, id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, details: r.details, prevHash });
      await db.updateTable('audit_log').set({ seq, prev_hash: prevHash, hash }).where('id', '=', r.id).execute();
      prevHash = hash;
      after = r.id;
    }
  }
}

/** Migrations of the audit module. */
export const auditMigrations: ModuleMigrations = {
  module: 'audit',
  migrations: (dialect) => ({
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
    '0002_chain': {
      async up(db: Kysely<any>) {
        const seqType = dialect === 'postgres' ? 'bigint' : 'integer';
        await db.schema.alterTable('audit_log').addColumn('seq', seqType).execute();
        await db.schema.alterTable('audit_log').addColumn('prev_hash', 'text').execute();
        await db.schema.alterTable('audit_log').addColumn('hash', 'text').execute();
        await db.schema
          .createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', seqType, (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        const head = await chainExistingRows(db);
        await db.insertInto('audit_head').values({ id: 1, seq: head.seq, hash: head.hash }).execute();
        await db.schema.createIndex('audit_log_seq').on('audit_log').columns(['seq']).unique().execute();
        await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'seq']).execute();
        await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target', 'seq']).execute();
        for (const text of chainTriggers(dialect)) await sql.raw(text).execute(db);
      },
    },
    '0003_checkpoints': {
      async up(db: Kysely<any>) {
        const t = columnTypes(dialect);
        await db.schema
          .createTable('audit_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('cert_der', t.bytes, (c) => c.notNull())
          .addColumn('key_sealed', t.bytes, (c) => c.notNull())
          .addColumn('key_protection', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('audit_checkpoints')
          .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('signature', t.bytes, (c) => c.notNull())
          .execute();
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

/** An event with the time it happened (default: when it is appended). */
export interface TimedAuditEvent extends AuditEvent {
  at?: Date;
}

/** Appends an event; call it inside the transaction of the change it records. */
export async function appendAudit(tx: Executor, event: AuditEvent, at: Date = new Date()): Promise<void> {
  await appendAudits(tx, [{ ...event, at }]);
}

/** The multi-row insert of n entries, built once per n. */
const insertTexts: string[] = [];
function insertText(n: number): string {
  return (insertTexts[n] ??= `insert into audit_log (id, seq, at, actor, action, target, details, prev_hash, hash) values ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
}

/**
 * Appends several events of one transaction, in order, with two statements whatever their
 * number: the head moves by n at once, and the n entries, each chained to the one before
 * exactly as n single appends would chain them, go in with one insert. Only the last row
 * matches the head's new seq, so the trigger moves the head's hash to it.
 */
export async function appendAudits(tx: Executor, events: readonly TimedAuditEvent[]): Promise<void> {
  const n = events.length;
  if (n === 0) return;
  // Written on every issuance and status change: `hot` SQL, no query builder (store/sql.ts).
  const head = await first<{ seq: number | string; hash: string }>(tx, hot`update audit_head set seq = seq + ${n} where id = 1 returning seq, hash`);
  if (!head) throw new Error('the audit chain has no head row: the audit migrations have not run');
  let seq = Number(head.seq) - n;
  let prevHash = head.hash;
  const params: unknown[] = [];
  for (const event of events) {
    seq++;
    const id = orderedId();
    const when = nowIso(event.at ?? new Date());
    const details = JSON.stringify(event.details ?? {});
    const hash = entryHash({ seq, id, at: when, actor: event.actor.id, action: event.action, target: event.target, details, prevHash });
    params.push(id, seq, when, event.actor.id, event.action, event.target, details, prevHash, hash);
    prevHash = hash;
  }
  await run(tx, statement(insertText(n), params));
}

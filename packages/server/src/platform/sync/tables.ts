/**
 * Tables of the sync module. The platform's side (messages applied, the certificates they
 * describe) lives in the platform's database; the outbox lives in the CA's database, so each has
 * its own migrations.
 */
import { sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';

/** Row types of the platform's sync tables. */
export interface SyncTables {
  /** Every message applied, once per (ca, seq); the event's dimensions are copied for statistics. */
  platform_sync_messages: {
    ca: string;
    seq: number;
    kind: string;
    serial: string;
    digest: string;
    profile: string | null;
    class: string | null;
    province: string | null;
    at: string;
    received_at: string;
  };
  /** The platform's picture of every certificate the CAs reported. */
  platform_certificates: {
    ca: string;
    serial: string;
    profile: string | null;
    class: string | null;
    province: string | null;
    /** Null when a revocation arrived for a certificate the platform never heard of. */
    issued_at: string | null;
    not_after: string | null;
    status: 'active' | 'revoked';
    revoked_at: string | null;
    replaces: string | null;
  };
}

/** Row types of the CA-side outbox. */
export interface OutboxTables {
  platform_outbox: {
    /** The CA (agency) whose event it is: each CA has its own seq stream and sender. */
    ca: string;
    seq: number;
    /** The message's JSON (seq included). */
    body: string;
    created_at: string;
    sent_at: string | null;
    /** 'applied' | 'duplicate' | 'conflict' once the platform answered. */
    outcome: string | null;
    attempts: number;
    last_error: string | null;
  };
  /** One row per CA: the last seq handed out to it. */
  platform_outbox_head: { ca: string; seq: number };
}

/** Migrations of the platform's sync tables (platform database). */
export const syncMigrations: ModuleMigrations = {
  module: 'platform_sync',
  migrations: () => ({
    '0001_platform_sync': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_sync_messages')
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('serial', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('profile', 'text')
          .addColumn('class', 'text')
          .addColumn('province', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('platform_sync_messages_pk', ['ca', 'seq'])
          .execute();
        await db.schema.createIndex('platform_sync_messages_at').on('platform_sync_messages').columns(['at']).execute();
        await db.schema
          .createTable('platform_certificates')
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('serial', 'text', (c) => c.notNull())
          .addColumn('profile', 'text')
          .addColumn('class', 'text')
          .addColumn('province', 'text')
          .addColumn('issued_at', 'text')
          .addColumn('not_after', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addColumn('replaces', 'text')
          .addPrimaryKeyConstraint('platform_certificates_pk', ['ca', 'serial'])
          .execute();
      },
    },
    // Statistics are asked per CA or per province over a period: let those ranges be index scans.
    '0002_platform_sync_stats': {
      async up(db: Kysely<any>) {
        await db.schema.createIndex('platform_sync_messages_ca_at').on('platform_sync_messages').columns(['ca', 'at']).execute();
        await db.schema.createIndex('platform_sync_messages_province_at').on('platform_sync_messages').columns(['province', 'at']).execute();
        await db.schema.createIndex('platform_certificates_issued').on('platform_certificates').columns(['issued_at']).execute();
        await db.schema.createIndex('platform_certificates_province_issued').on('platform_certificates').columns(['province', 'issued_at']).execute();
      },
    },
  }),
};

/** Migrations of the CA-side outbox (CA database). */
export const outboxMigrations: ModuleMigrations = {
  module: 'platform_outbox',
  migrations: () => ({
    '0001_platform_outbox': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_outbox')
          .addColumn('seq', 'integer', (c) => c.primaryKey())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .addColumn('outcome', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .execute();
        // Only unsent rows are read by the sender: keep that index small.
        await sql`create index platform_outbox_unsent on platform_outbox (seq) where sent_at is null`.execute(db);
        await db.schema.createTable('platform_outbox_head').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('seq', 'integer', (c) => c.notNull()).execute();
        await db.insertInto('platform_outbox_head').values({ id: 1, seq: 0 }).execute();
      },
    },
    // Each CA (agency) of a CA service signs its own batches and has its own seq stream. Nothing
    // wrote the single-stream outbox of 0001 before this (no act enqueued yet), so its tables are
    // replaced; a non-empty one is refused rather than dropped, since its rows name no CA.
    '0002_outbox_per_ca': {
      async up(db: Kysely<any>) {
        const n = await sql<{ n: number | string }>`select count(*) as n from platform_outbox`.execute(db);
        if (Number(n.rows[0]?.n ?? 0) > 0) throw new Error('platform_outbox holds events of the single-stream outbox; send or delete them before upgrading');
        await db.schema.dropTable('platform_outbox').execute();
        await db.schema.dropTable('platform_outbox_head').execute();
        await db.schema
          .createTable('platform_outbox')
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .addColumn('outcome', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addPrimaryKeyConstraint('platform_outbox_pk', ['ca', 'seq'])
          .execute();
        await sql`create index platform_outbox_unsent on platform_outbox (ca, seq) where sent_at is null`.execute(db);
        await db.schema.createTable('platform_outbox_head').addColumn('ca', 'text', (c) => c.primaryKey()).addColumn('seq', 'integer', (c) => c.notNull()).execute();
      },
    },
  }),
};

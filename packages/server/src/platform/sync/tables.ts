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
  /** One row (id 1): the last seq handed out. */
  platform_outbox_head: { id: number; seq: number };
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
  }),
};

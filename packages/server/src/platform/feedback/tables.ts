/**
 * Tables of the feedback module (platform database): one row per complaint with its current
 * state; the history (every state change, note and response) is kept in the row as JSON, like a
 * CA's admission history, because it is only ever read with its complaint.
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';

/** Migrations of the platform feedback module. */
export const feedbackMigrations: ModuleMigrations = {
  module: 'platform_feedback',
  migrations: () => ({
    '0001_platform_complaints': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_complaints')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('handler', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('complainant_kind', 'text', (c) => c.notNull())
          .addColumn('contact', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('serial', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('history', 'text', (c) => c.notNull())
          .addColumn('receipt_sha256', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('closed_at', 'text')
          .execute();
        // Counts per CA over a period, and each handler's queue.
        await db.schema.createIndex('platform_complaints_ca_created').on('platform_complaints').columns(['ca', 'created_at']).execute();
        await db.schema.createIndex('platform_complaints_handler_status').on('platform_complaints').columns(['handler', 'status']).execute();
      },
    },
  }),
};

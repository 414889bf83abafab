/** Tables of the probe module (platform database): one row per probe of one URL. */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';

/** Migrations of the platform probe module. */
export const probeMigrations: ModuleMigrations = {
  module: 'platform_probe',
  migrations: () => ({
    '0001_platform_probes': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_probe_results')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('ok', 'integer', (c) => c.notNull())
          .addColumn('latency_ms', 'real', (c) => c.notNull())
          .addColumn('http_status', 'integer')
          .addColumn('error', 'text')
          .execute();
        // Every read is one CA (or all of them) over a period.
        await db.schema.createIndex('platform_probe_results_ca_at').on('platform_probe_results').columns(['ca', 'at']).execute();
        await db.schema.createIndex('platform_probe_results_at').on('platform_probe_results').columns(['at']).execute();
      },
    },
  }),
};

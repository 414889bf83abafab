/** The fee module's table in the platform's database: the national office's fee schedules, versioned by the date they take effect. */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';

/** Migrations of the platform's fee module. */
export const feesMigrations: ModuleMigrations = {
  module: 'platform_fees',
  migrations: () => ({
    '0001_fee_schedules': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_fee_schedules')
          .addColumn('effective_from', 'text', (c) => c.primaryKey())
          .addColumn('prices', 'text', (c) => c.notNull())
          .addColumn('note', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .execute();
      },
    },
  }),
};

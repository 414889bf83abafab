/**
 * The information-system registry's tables in the platform's database: the health information
 * systems (Art. 15) with their operator, builder, accepted CAs and user groups, and which
 * certificate holders use which system (the basis of the fee statements, Art. 19–20).
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';

/** Migrations of the platform's information-system module. */
export const systemsMigrations: ModuleMigrations = {
  module: 'platform_systems',
  migrations: () => ({
    '0001_systems': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('platform_systems')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('operator_code', 'text', (c) => c.notNull())
          .addColumn('operator_name', 'text', (c) => c.notNull())
          .addColumn('builder_code', 'text', (c) => c.notNull())
          .addColumn('builder_name', 'text', (c) => c.notNull())
          .addColumn('public_facing', 'integer', (c) => c.notNull())
          .addColumn('accepted_cas', 'text', (c) => c.notNull())
          .addColumn('user_groups', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('platform_systems_scope').on('platform_systems').columns(['scope']).execute();
        // One row per (system, holder's certificate): the holder's identity, its CA and its class.
        await db.schema
          .createTable('platform_system_usage')
          .addColumn('system_id', 'text', (c) => c.notNull().references('platform_systems.id'))
          .addColumn('holder_kind', 'text', (c) => c.notNull())
          .addColumn('holder_value', 'text', (c) => c.notNull())
          .addColumn('ca', 'text', (c) => c.notNull())
          .addColumn('class', 'text', (c) => c.notNull())
          .addColumn('unit_code', 'text')
          .addColumn('first_used_at', 'text', (c) => c.notNull())
          .addColumn('ended_at', 'text')
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addColumn('recorded_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('platform_system_usage_pk', ['system_id', 'holder_kind', 'holder_value', 'ca', 'class'])
          .execute();
        // Sharing looks up every system of one holder's certificate.
        await db.schema.createIndex('platform_system_usage_holder').on('platform_system_usage').columns(['holder_kind', 'holder_value', 'ca', 'class']).execute();
        await db.schema.createIndex('platform_system_usage_unit').on('platform_system_usage').columns(['unit_code']).execute();
      },
    },
  }),
};

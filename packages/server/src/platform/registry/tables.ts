/**
 * The registry's tables in the platform's own database: its bearer tokens
 * (role + province/CA scope), the CAs with their admission file, selections, inspections,
 * evaluations and rectification orders; each CA's conformance-test inputs (endpoints, samples).
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';
import { columnTypes } from '../../store/columns.js';

/** Migrations of the platform registry module. */
export const registryMigrations: ModuleMigrations = {
  module: 'platform_registry',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_registry': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('platform_tokens')
            .addColumn('token_sha256', 'text', (c) => c.primaryKey())
            .addColumn('principal_id', 'text', (c) => c.notNull())
            .addColumn('role', 'text', (c) => c.notNull())
            .addColumn('province', 'text')
            .addColumn('ca', 'text')
            .addColumn('bootstrap', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('platform_cas')
            .addColumn('name', 'text', (c) => c.primaryKey())
            .addColumn('display_name', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('home_province', 'text', (c) => c.notNull())
            .addColumn('provinces', 'text', (c) => c.notNull())
            .addColumn('certificates_pem', 'text', (c) => c.notNull())
            .addColumn('access_cert_der', t.bytes)
            .addColumn('licence_number', 'text', (c) => c.notNull())
            .addColumn('licence_not_before', 'text', (c) => c.notNull())
            .addColumn('licence_not_after', 'text', (c) => c.notNull())
            .addColumn('company', 'text', (c) => c.notNull())
            .addColumn('service_plan', 'text', (c) => c.notNull())
            .addColumn('materials', 'text', (c) => c.notNull())
            .addColumn('conformance_report', 'text')
            .addColumn('history', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('updated_at', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('platform_selections')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('scope', 'text', (c) => c.notNull())
            .addColumn('ca_name', 'text', (c) => c.notNull().references('platform_cas.name'))
            .addColumn('note', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addUniqueConstraint('platform_selections_unique', ['scope', 'ca_name'])
            .execute();
          await db.schema
            .createTable('platform_inspections')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('ca_name', 'text', (c) => c.notNull().references('platform_cas.name'))
            .addColumn('scope', 'text', (c) => c.notNull())
            .addColumn('planned_for', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('findings', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addColumn('recorded_at', 'text')
            .execute();
          await db.schema
            .createTable('platform_evaluations')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('ca_name', 'text', (c) => c.notNull().references('platform_cas.name'))
            .addColumn('province', 'text', (c) => c.notNull())
            .addColumn('passed', 'integer', (c) => c.notNull())
            .addColumn('findings', 'text', (c) => c.notNull())
            .addColumn('at', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('platform_rectifications')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('ca_name', 'text', (c) => c.notNull().references('platform_cas.name'))
            .addColumn('evaluation_id', 'text', (c) => c.notNull())
            .addColumn('deadline', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('opened_at', 'text', (c) => c.notNull())
            .addColumn('closed_at', 'text')
            .addColumn('closed_by', 'text')
            .execute();
          await db.schema.createIndex('platform_rectifications_open').on('platform_rectifications').columns(['status', 'deadline']).execute();
        },
      },
      // The conformance test's inputs (protocol.md): where the CA's query interface is, and sample certificates.
      '0002_conformance_inputs': {
        async up(db: Kysely<any>) {
          await db.schema.alterTable('platform_cas').addColumn('endpoints', 'text').execute();
          await db.schema.alterTable('platform_cas').addColumn('samples', 'text').execute();
        },
      },
    };
  },
};

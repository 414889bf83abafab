/**
 * The tables the time-stamp module owns: its TSA units (a key and a `tsa`-profile certificate
 * issued by one of the deployment's CAs) and the journal of every token it granted.
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes } from '../store/columns.js';

/** Row types of the TSA tables. */
export interface TsaTables {
  tsa_units: {
    id: string;
    /** URL name: POST /tsa/<name>. */
    name: string;
    /** 1 for the unit that answers at POST /tsa. */
    is_default: number;
    authority_id: string;
    cert_der: Buffer;
    key_sealed: Buffer;
    key_protection: string;
    created_at: string;
  };
  tsa_tokens: {
    unit_id: string;
    /** Lower-case hex; unique per unit (primary key), never reused. */
    serial: string;
    gen_time: string;
    hash_algorithm: string;
    /** The message imprint, hex: what was time-stamped. */
    imprint: string;
    policy: string;
  };
}

/** Migrations of the TSA module. */
export const tsaMigrations: ModuleMigrations = {
  module: 'tsa',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_units_and_journal': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('tsa_units')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull().unique())
            .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('cert_der', t.bytes, (c) => c.notNull())
            .addColumn('key_sealed', t.bytes, (c) => c.notNull())
            .addColumn('key_protection', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('tsa_tokens')
            .addColumn('unit_id', 'text', (c) => c.notNull().references('tsa_units.id'))
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('gen_time', 'text', (c) => c.notNull())
            .addColumn('hash_algorithm', 'text', (c) => c.notNull())
            .addColumn('imprint', 'text', (c) => c.notNull())
            .addColumn('policy', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('tsa_tokens_pk', ['unit_id', 'serial'])
            .execute();
          await db.schema.createIndex('tsa_tokens_time').on('tsa_tokens').columns(['unit_id', 'gen_time']).execute();
        },
      },
    };
  },
};

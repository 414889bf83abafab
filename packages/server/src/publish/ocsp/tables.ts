/**
 * The table the OCSP responder owns: its delegated responder certificates (one live generation
 * per CA, rolled before expiry) with their sealed keys. Only src/publish/ocsp/ touches it.
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';
import { columnTypes } from '../../store/columns.js';

/** Row types of the OCSP tables. */
export interface OcspTables {
  ocsp_responders: {
    /** The CA (ca_issuers.id) this certificate answers for; it signed it. */
    issuer_id: string;
    /** 1, 2, …: each roll adds the next; (issuer_id, generation) is the primary key, so two processes rolling at once make one. */
    generation: number;
    authority_id: string;
    serial: string;
    cert_der: Buffer;
    /** The responder's private key as the deployment's KeyCustody sealed it. */
    key_sealed: Buffer;
    key_protection: string;
    not_before: string;
    not_after: string;
    created_at: string;
  };
}

/** Migrations of the OCSP module. */
export const ocspMigrations: ModuleMigrations = {
  module: 'ocsp',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_responders': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('ocsp_responders')
            .addColumn('issuer_id', 'text', (c) => c.notNull().references('ca_issuers.id'))
            .addColumn('generation', 'integer', (c) => c.notNull())
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('cert_der', t.bytes, (c) => c.notNull())
            .addColumn('key_sealed', t.bytes, (c) => c.notNull())
            .addColumn('key_protection', 'text', (c) => c.notNull())
            .addColumn('not_before', 'text', (c) => c.notNull())
            .addColumn('not_after', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('ocsp_responders_pk', ['issuer_id', 'generation'])
            .execute();
        },
      },
    };
  },
};

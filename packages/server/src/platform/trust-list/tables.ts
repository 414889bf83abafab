/** The trust list's tables in the platform's own database: every published version, and its signing identity. */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';
import { columnTypes } from '../../store/columns.js';
import { createIdentityTable } from '../../security/service-identity.js';

/** Row types of the trust list tables. */
export interface TrustListTables {
  /** The key and certificate that sign the trust list (one row, id "self"); relying parties pin the certificate. */
  platform_trust_list_identity: {
    id: string;
    cert_der: Buffer;
    key_sealed: Buffer;
    key_protection: string;
    created_at: string;
  };
  /** Every published version, never changed afterwards: the history. */
  platform_trust_lists: {
    version: number;
    issued_at: string;
    /** Why it was published, e.g. "ca acme suspended". */
    reason: string;
    ca_count: number;
    /** SHA-256 of the DER, hex. */
    sha256: string;
    der: Buffer;
  };
}

/** Migrations of the trust list module. */
export const trustListMigrations: ModuleMigrations = {
  module: 'platform_trust_list',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_trust_list': {
        async up(db: Kysely<any>) {
          await createIdentityTable(db, dialect, 'platform_trust_list_identity');
          await db.schema
            .createTable('platform_trust_lists')
            .addColumn('version', 'integer', (c) => c.primaryKey())
            .addColumn('issued_at', 'text', (c) => c.notNull())
            .addColumn('reason', 'text', (c) => c.notNull())
            .addColumn('ca_count', 'integer', (c) => c.notNull())
            .addColumn('sha256', 'text', (c) => c.notNull())
            .addColumn('der', t.bytes, (c) => c.notNull())
            .execute();
        },
      },
    };
  },
};

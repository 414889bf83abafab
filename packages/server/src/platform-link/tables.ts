/** Tables of the CA side of the platform link (CA database): each CA's platform-access identity. */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes } from '../store/columns.js';

/** Row types of the platform link's tables. */
export interface PlatformLinkTables {
  /** One row per CA (agency) of this service: the key (sealed) and certificate that sign its sync batches and query answers. */
  platformlink_identities: {
    ca: string;
    serial: string;
    cert_der: Buffer;
    key_sealed: Buffer;
    key_protection: string;
    created_at: string;
  };
}

/** Migrations of the platform link (the outbox itself is platform/sync's `outboxMigrations`). */
export const platformLinkMigrations: ModuleMigrations = {
  module: 'platformlink',
  migrations: (dialect) => ({
    '0001_identities': {
      async up(db: Kysely<any>) {
        const t = columnTypes(dialect);
        await db.schema
          .createTable('platformlink_identities')
          .addColumn('ca', 'text', (c) => c.primaryKey())
          .addColumn('serial', 'text', (c) => c.notNull())
          .addColumn('cert_der', t.bytes, (c) => c.notNull())
          .addColumn('key_sealed', t.bytes, (c) => c.notNull())
          .addColumn('key_protection', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  }),
};

/**
 * The tables of the key management centre. The KMC runs as its own service on its own database
 * (`hpki kmc start --data DIR`): nothing here is shared with a CA's store.
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes } from '../store/columns.js';
import { createIdentityTable } from '../security/service-identity.js';

/** The state of an escrowed key. */
export type EscrowState = 'active' | 'revoked' | 'destroyed';

/** Row types of the KMC tables. */
export interface KmcTables {
  /** The KMC's own signing identity (one row, id "self"). */
  kmc_identity: {
    id: string;
    cert_der: Buffer;
    key_sealed: Buffer;
    key_protection: string;
    created_at: string;
  };
  /** The CAs this KMC serves, by the certificate they sign their requests with. */
  kmc_clients: {
    id: string;
    /** A short name for operators, e.g. "demo-sm2". */
    name: string;
    /** The client certificate's subject Name DER: matched against a request's caName. */
    subject_der: Buffer;
    cert_der: Buffer;
    enabled: number;
    created_at: string;
  };
  /** Every request task answered, so that a repeated taskNO is answered from here, never twice. */
  kmc_tasks: {
    client_id: string;
    task_no: string;
    /** SHA-256 of the signed request: a repeat must be the same request. */
    request_sha256: string;
    response_der: Buffer;
    received_at: string;
  };
  /** Escrowed encryption keys, one per (client, encryption certificate serial). */
  kmc_keys: {
    client_id: string;
    /** The encryption certificate's serial, lower-case hex. */
    cert_no: string;
    key_type: string;
    public_spki: Buffer;
    key_sealed: Buffer;
    key_protection: string;
    state: EscrowState;
    not_before: string;
    not_after: string;
    /** When the escrow may be destroyed: retention after the certificate's expiry. */
    destroy_after: string;
    created_at: string;
    revoked_at: string | null;
    destroyed_at: string | null;
  };
}

/** Migrations of the KMC module. */
export const kmcMigrations: ModuleMigrations = {
  module: 'kmc',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_kmc': {
        async up(db: Kysely<any>) {
          await createIdentityTable(db, dialect, 'kmc_identity');
          await db.schema
            .createTable('kmc_clients')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull().unique())
            .addColumn('subject_der', t.bytes, (c) => c.notNull())
            .addColumn('cert_der', t.bytes, (c) => c.notNull())
            .addColumn('enabled', 'integer', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('kmc_tasks')
            .addColumn('client_id', 'text', (c) => c.notNull().references('kmc_clients.id'))
            .addColumn('task_no', 'text', (c) => c.notNull())
            .addColumn('request_sha256', 'text', (c) => c.notNull())
            .addColumn('response_der', t.bytes, (c) => c.notNull())
            .addColumn('received_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('kmc_tasks_pk', ['client_id', 'task_no'])
            .execute();
          await db.schema
            .createTable('kmc_keys')
            .addColumn('client_id', 'text', (c) => c.notNull().references('kmc_clients.id'))
            .addColumn('cert_no', 'text', (c) => c.notNull())
            .addColumn('key_type', 'text', (c) => c.notNull())
            .addColumn('public_spki', t.bytes, (c) => c.notNull())
            .addColumn('key_sealed', t.bytes, (c) => c.notNull())
            .addColumn('key_protection', 'text', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('not_before', 'text', (c) => c.notNull())
            .addColumn('not_after', 'text', (c) => c.notNull())
            .addColumn('destroy_after', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('revoked_at', 'text')
            .addColumn('destroyed_at', 'text')
            .addPrimaryKeyConstraint('kmc_keys_pk', ['client_id', 'cert_no'])
            .execute();
          await db.schema.createIndex('kmc_keys_destroy').on('kmc_keys').columns(['state', 'destroy_after']).execute();
        },
      },
    };
  },
};

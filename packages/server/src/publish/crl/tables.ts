/**
 * The tables the CRL publisher owns: every CRL it published (the newest ones are served, the
 * highest number per CA carries the numbering across restarts and across processes sharing one
 * database). The unique (issuer_id, number) key is what keeps CRL numbers strictly increasing
 * when two processes publish at once: the second insert of a number fails and is retried.
 */
import { sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../store/migrate.js';
import { columnTypes } from '../../store/columns.js';

/** A complete CRL or a delta CRL. */
export type CrlKind = 'full' | 'delta';

/** Row types of the CRL tables. */
export interface CrlTables {
  crl_published: {
    /** The CA (ca_issuers.id) that signed it. */
    issuer_id: string;
    /** cRLNumber: one sequence per CA, shared by its complete and delta CRLs and all partitions. */
    number: string | number;
    kind: CrlKind;
    /** 0 for the CRL of every certificate of the CA; n ≥ 1 for partition n. */
    partition: number;
    /** A delta CRL's base (deltaCRLIndicator); null for complete CRLs. */
    base_number: string | number | null;
    this_update: string;
    next_update: string;
    /** When reading the revocation data began: a CRL never replaces one built from newer data. */
    snapshot_at: string;
    entries: number;
    der: Buffer;
    /** SHA-256 of the DER, hex: the ETag. */
    sha256: string;
    created_at: string;
  };
  crl_partitions: {
    issuer_id: string;
    /** n ≥ 1; partition 0 holds every certificate issued before partition 1 starts. */
    partition: number;
    starts_at: string;
  };
}

/** Migrations of the CRL publisher. */
export const crlMigrations: ModuleMigrations = {
  module: 'crl',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_published': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('crl_published')
            .addColumn('issuer_id', 'text', (c) => c.notNull())
            .addColumn('number', 'bigint', (c) => c.notNull())
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('partition', 'integer', (c) => c.notNull())
            .addColumn('base_number', 'bigint')
            .addColumn('this_update', 'text', (c) => c.notNull())
            .addColumn('next_update', 'text', (c) => c.notNull())
            .addColumn('snapshot_at', 'text', (c) => c.notNull())
            .addColumn('entries', 'integer', (c) => c.notNull())
            .addColumn('der', t.bytes, (c) => c.notNull())
            .addColumn('sha256', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('crl_published_pk', ['issuer_id', 'number'])
            .execute();
          // A complete CRL is tens of MB of DER that hardly compresses: PostgreSQL need not try.
          if (dialect === 'postgres') await sql`alter table crl_published alter column der set storage external`.execute(db);
          await db.schema.createIndex('crl_published_scope').on('crl_published').columns(['issuer_id', 'partition', 'kind', 'number']).execute();
          // A read aid on the CA's table (the CA module never uses it): the revoked and held
          // certificates of one CA in issuance order, with everything a CRL entry says, so that
          // a million-entry CRL (or one partition of it, a range of issuance times) is read in
          // pages by key from the index alone: no sort, no table rows, no valid certificates.
          await sql`create index crl_ca_certificates_revoked on ca_certificates (issuer_id, issued_at, serial, revoked_at, reason, invalidity_date) where status in ('revoked', 'hold')`.execute(db);
          // Partitions: certificates issued from `starts_at` on name partition n in their CRL
          // distribution point. Announced ahead of time, so every process signs with the same rule.
          await db.schema
            .createTable('crl_partitions')
            .addColumn('issuer_id', 'text', (c) => c.notNull())
            .addColumn('partition', 'integer', (c) => c.notNull())
            .addColumn('starts_at', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('crl_partitions_pk', ['issuer_id', 'partition'])
            .execute();
        },
      },
    };
  },
};

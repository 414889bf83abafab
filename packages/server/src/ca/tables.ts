/**
 * The tables the CA module owns: certification service agencies ("authorities"), their CA keys
 * and certificates ("issuers", root and issuing CAs), every certificate they signed, and the
 * history of each certificate's status. Nothing outside src/ca/ writes them; the publishing
 * modules (src/publish/: CRLs, OCSP, query, directory) read them, read-only, through their own
 * query modules (e.g. publish/crl/revocations.ts, whose migration adds a partial index here).
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes } from '../store/columns.js';

/** Certificate status as the CA knows it (OCSP: good / revoked; hold is revoked with certificateHold). */
export type CertificateStatus = 'valid' | 'hold' | 'revoked';

/** Row types of the CA tables. */
export interface CaTables {
  ca_authorities: {
    id: string;
    name: string;
    display_name: string;
    /** The English display name (English user interfaces); null: the display name serves every language. */
    display_name_en: string | null;
    organization: string;
    algorithm: string;
    created_at: string;
    created_by: string;
  };
  ca_issuers: {
    id: string;
    authority_id: string;
    /** "root", "issuing-1", …: the name used in URLs. */
    label: string;
    role: 'root' | 'issuing';
    parent_id: string | null;
    serial: string;
    cert_der: Buffer;
    /** SEAM (security issue): the sealed private key; see key-custody.ts. */
    key_sealed: Buffer;
    key_protection: string;
    /** 1 for the issuing CA that signs new end-entity certificates. */
    active: number;
    created_at: string;
  };
  ca_certificates: {
    authority_id: string;
    /** Lower-case hex, no leading zero byte; unique per authority (primary key). */
    serial: string;
    issuer_id: string;
    profile: string;
    subject: string;
    /** SHA-256 of the SubjectPublicKeyInfo, hex: tells renewal (same key) from re-key. */
    spki_sha256: string;
    not_before: string;
    not_after: string;
    status: CertificateStatus;
    revoked_at: string | null;
    reason: string | null;
    invalidity_date: string | null;
    der: Buffer;
    issued_at: string;
    /** Incremented by every status change; updates are guarded by it (no lost updates). */
    version: number;
    /** The holder's organisation (the subject's first O), for search; null when absent or for rows older than migration 0002. */
    holder_org?: string | null;
    /** The holder's e-mail address (SAN rfc822Name or emailAddress), for the directory's mail filter. */
    holder_email?: string | null;
  };
  /** The GB/T 20518 identity numbers each certificate carries, normalised (see search.ts), one row per number. */
  ca_certificate_identities: {
    authority_id: string;
    serial: string;
    /** residentId, unifiedSocialCreditCode, …: the HealthIdentity field. */
    kind: string;
    number: string;
  };
  ca_status_changes: {
    authority_id: string;
    serial: string;
    /** The certificate's version after this change; (authority, serial, version) is unique. */
    version: number;
    from_status: CertificateStatus | null;
    to_status: CertificateStatus;
    reason: string | null;
    at: string;
    actor: string;
  };
}

/** Migrations of the CA module. */
export const caMigrations: ModuleMigrations = {
  module: 'ca',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_authorities': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('ca_authorities')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull().unique())
            .addColumn('display_name', 'text', (c) => c.notNull())
            .addColumn('organization', 'text', (c) => c.notNull())
            .addColumn('algorithm', 'text', (c) => c.notNull())
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addColumn('created_by', 'text', (c) => c.notNull())
            .execute();
          await db.schema
            .createTable('ca_issuers')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('authority_id', 'text', (c) => c.notNull().references('ca_authorities.id'))
            .addColumn('label', 'text', (c) => c.notNull())
            .addColumn('role', 'text', (c) => c.notNull())
            .addColumn('parent_id', 'text', (c) => c.references('ca_issuers.id'))
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('cert_der', t.bytes, (c) => c.notNull())
            .addColumn('key_sealed', t.bytes, (c) => c.notNull())
            .addColumn('key_protection', 'text', (c) => c.notNull())
            .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('created_at', 'text', (c) => c.notNull())
            .addUniqueConstraint('ca_issuers_label', ['authority_id', 'label'])
            .execute();
          await db.schema
            .createTable('ca_certificates')
            .addColumn('authority_id', 'text', (c) => c.notNull().references('ca_authorities.id'))
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('issuer_id', 'text', (c) => c.notNull().references('ca_issuers.id'))
            .addColumn('profile', 'text', (c) => c.notNull())
            .addColumn('subject', 'text', (c) => c.notNull())
            .addColumn('spki_sha256', 'text', (c) => c.notNull())
            .addColumn('not_before', 'text', (c) => c.notNull())
            .addColumn('not_after', 'text', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('revoked_at', 'text')
            .addColumn('reason', 'text')
            .addColumn('invalidity_date', 'text')
            .addColumn('der', t.bytes, (c) => c.notNull())
            .addColumn('issued_at', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            // The serial-number guarantee: one serial per authority, enforced by the database.
            .addPrimaryKeyConstraint('ca_certificates_pk', ['authority_id', 'serial'])
            .execute();
          // For CRL and OCSP publishing (next issue): the revoked certificates of one issuer.
          await db.schema.createIndex('ca_certificates_issuer_status').on('ca_certificates').columns(['issuer_id', 'status']).execute();
          await db.schema
            .createTable('ca_status_changes')
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('version', 'integer', (c) => c.notNull())
            .addColumn('from_status', 'text')
            .addColumn('to_status', 'text', (c) => c.notNull())
            .addColumn('reason', 'text')
            .addColumn('at', 'text', (c) => c.notNull())
            .addColumn('actor', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('ca_status_changes_pk', ['authority_id', 'serial', 'version'])
            .addForeignKeyConstraint('ca_status_changes_cert', ['authority_id', 'serial'], 'ca_certificates', ['authority_id', 'serial'])
            .execute();
          await db.schema.createIndex('ca_status_changes_at').on('ca_status_changes').columns(['authority_id', 'at']).execute();
        },
      },
      // Query and download (publish/query) and the directory (publish/directory) search by these;
      // rows issued before this migration keep nulls and are still found by serial and subject.
      '0002_search': {
        async up(db: Kysely<any>) {
          await db.schema.alterTable('ca_certificates').addColumn('holder_org', 'text').execute();
          await db.schema.alterTable('ca_certificates').addColumn('holder_email', 'text').execute();
          // Search pages are ordered by (authority_id, serial): the index serves the filter and the order.
          await db.schema.createIndex('ca_certificates_holder_org').on('ca_certificates').columns(['holder_org', 'authority_id', 'serial']).execute();
          await db.schema
            .createTable('ca_certificate_identities')
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('serial', 'text', (c) => c.notNull())
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('number', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('ca_certificate_identities_pk', ['number', 'authority_id', 'serial', 'kind'])
            .addForeignKeyConstraint('ca_certificate_identities_cert', ['authority_id', 'serial'], 'ca_certificates', ['authority_id', 'serial'])
            .execute();
        },
      },
      // CAs' display names are usually Chinese; English pages show this one when present.
      '0003_display_name_en': {
        async up(db: Kysely<any>) {
          await db.schema.alterTable('ca_authorities').addColumn('display_name_en', 'text').execute();
          // A demo deployment made before this migration gets the English name a new one is given (services.ts DEMO_CAS).
          await db.updateTable('ca_authorities').set({ display_name_en: 'Demo CA (SM2)' }).where('name', '=', 'demo-sm2').where('display_name', '=', '演示CA（SM2）').execute();
          await db.updateTable('ca_authorities').set({ display_name_en: 'Demo CA (ECDSA P-256)' }).where('name', '=', 'demo-p256').where('display_name', '=', 'Demo CA (ECDSA P-256)').execute();
        },
      },
    };
  },
};

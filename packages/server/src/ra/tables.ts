/**
 * The tables the RA module owns: applications (with the applicant's identity data and the
 * request), their materials, and the RA's record of every decision and status change.
 * Nothing outside src/ra/ reads or writes them.
 */
import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes } from '../store/columns.js';

/** Where an application stands. */
export type ApplicationState = 'submitted' | 'issued' | 'rejected';
/** What an application asks for: a first certificate, a renewal (same key), a re-key, or a reissue after loss or damage. */
export type ApplicationKind = 'new' | 'renewal' | 'rekey' | 'reissue';

/** Row types of the RA tables. */
export interface RaTables {
  ra_applications: {
    id: string;
    authority_id: string;
    authority_name: string;
    kind: ApplicationKind;
    profile: string;
    state: ApplicationState;
    /** The subject as text (for people) and as DER (what gets certified). */
    subject: string;
    subject_der: Buffer;
    spki: Buffer;
    csr: Buffer | null;
    applicant: string;
    identity: string;
    alt_names: string;
    validity_days: number | null;
    previous_serial: string | null;
    previous_reason: string | null;
    entered_by: string;
    entered_at: string;
    decided_by: string | null;
    decided_at: string | null;
    decision_reason: string | null;
    self_approved: number;
    certificate_serial: string | null;
    /** Incremented by every change; updates are guarded by it (no lost updates). */
    version: number;
  };
  ra_materials: {
    id: string;
    application_id: string;
    name: string;
    content_type: string;
    size: number;
    sha256: string;
    /** Sealed under the master key as "material:<id>" (security/envelope.ts); see content_protection. */
    content: Buffer;
    /** How `content` is sealed: "master-aes256gcm-v1", "master-sm4gcm-v1", or "plaintext" for rows older than 0002. */
    content_protection: string;
    added_by: string;
    added_at: string;
  };
  ra_events: {
    id: string;
    authority_id: string;
    application_id: string | null;
    serial: string | null;
    action: string;
    actor: string;
    at: string;
    reason: string | null;
    details: string;
  };
}

/** Migrations of the RA module. */
export const raMigrations: ModuleMigrations = {
  module: 'ra',
  migrations: (dialect) => {
    const t = columnTypes(dialect);
    return {
      '0001_applications': {
        async up(db: Kysely<any>) {
          await db.schema
            .createTable('ra_applications')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('authority_name', 'text', (c) => c.notNull())
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('profile', 'text', (c) => c.notNull())
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('subject', 'text', (c) => c.notNull())
            .addColumn('subject_der', t.bytes, (c) => c.notNull())
            .addColumn('spki', t.bytes, (c) => c.notNull())
            .addColumn('csr', t.bytes)
            .addColumn('applicant', 'text', (c) => c.notNull())
            .addColumn('identity', 'text', (c) => c.notNull())
            .addColumn('alt_names', 'text', (c) => c.notNull())
            .addColumn('validity_days', 'integer')
            .addColumn('previous_serial', 'text')
            .addColumn('previous_reason', 'text')
            .addColumn('entered_by', 'text', (c) => c.notNull())
            .addColumn('entered_at', 'text', (c) => c.notNull())
            .addColumn('decided_by', 'text')
            .addColumn('decided_at', 'text')
            .addColumn('decision_reason', 'text')
            .addColumn('self_approved', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('certificate_serial', 'text')
            .addColumn('version', 'integer', (c) => c.notNull())
            .execute();
          await db.schema.createIndex('ra_applications_queue').on('ra_applications').columns(['authority_id', 'state', 'entered_at']).execute();
          // One application per certificate: a serial can be the outcome of at most one approval.
          await db.schema.createIndex('ra_applications_certificate').on('ra_applications').columns(['authority_id', 'certificate_serial']).unique().execute();
          await db.schema
            .createTable('ra_materials')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('application_id', 'text', (c) => c.notNull().references('ra_applications.id'))
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('content_type', 'text', (c) => c.notNull())
            .addColumn('size', 'integer', (c) => c.notNull())
            .addColumn('sha256', 'text', (c) => c.notNull())
            .addColumn('content', t.bytes, (c) => c.notNull())
            .addColumn('added_by', 'text', (c) => c.notNull())
            .addColumn('added_at', 'text', (c) => c.notNull())
            .execute();
          await db.schema.createIndex('ra_materials_application').on('ra_materials').columns(['application_id']).execute();
          await db.schema
            .createTable('ra_events')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('authority_id', 'text', (c) => c.notNull())
            .addColumn('application_id', 'text')
            .addColumn('serial', 'text')
            .addColumn('action', 'text', (c) => c.notNull())
            .addColumn('actor', 'text', (c) => c.notNull())
            .addColumn('at', 'text', (c) => c.notNull())
            .addColumn('reason', 'text')
            .addColumn('details', 'text', (c) => c.notNull())
            .execute();
          await db.schema.createIndex('ra_events_application').on('ra_events').columns(['application_id']).execute();
          await db.schema.createIndex('ra_events_serial').on('ra_events').columns(['authority_id', 'serial']).execute();
        },
      },
      // Materials are sealed at rest from here on; rows written before stay readable as "plaintext".
      '0002_material_sealing': {
        async up(db: Kysely<any>) {
          await db.schema.alterTable('ra_materials').addColumn('content_protection', 'text', (c) => c.notNull().defaultTo('plaintext')).execute();
        },
      },
    };
  },
};

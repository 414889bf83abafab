/**
 * The tables of the security module beyond the bootstrap tokens: officer accounts with their
 * per-CA grants, certificate bindings, credentials (API tokens and login sessions, stored hashed)
 * and login challenges. Timestamps are ISO text (they compare as text on both engines).
 */
import type { Kysely, Migration } from 'kysely';

/** The tables this migration creates. */
export interface AccountTables {
  auth_officers: {
    id: string;
    name: string;
    /** JSON array of {role, ca}. */
    grants: string;
    disabled_at: string | null;
    created_at: string;
    created_by: string;
  };
  auth_cert_bindings: {
    /** "cert:<ca>/<serial>" (one certificate) or "spki:<sha256 hex>" (any certificate of that key). */
    key: string;
    officer_id: string;
    created_at: string;
    created_by: string;
  };
  auth_credentials: {
    id: string;
    token_sha256: string;
    kind: 'api' | 'session';
    name: string;
    /** The officer the credential acts as (their live grants apply), or null. */
    officer_id: string | null;
    /** JSON array of {role, ca}: the scope of an API token not bound to an officer. */
    grants: string | null;
    /** JSON HolderIdentity of a holder session. */
    holder: string | null;
    expires_at: string | null;
    revoked_at: string | null;
    revoked_by: string | null;
    created_at: string;
    created_by: string;
  };
  auth_challenges: {
    id: string;
    cert_sha256: string;
    expires_at: string;
    used_at: string | null;
    created_at: string;
  };
}

/** Creates the account tables. */
export const accountsMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('auth_officers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('grants', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('auth_cert_bindings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('officer_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('auth_credentials')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('officer_id', 'text')
      .addColumn('grants', 'text')
      .addColumn('holder', 'text')
      .addColumn('expires_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('revoked_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('auth_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('cert_sha256', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};

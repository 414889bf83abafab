/**
 * The bootstrap administrator's token (and officer tokens minted before officer accounts existed):
 * written to DIR/admin.token on first start, only its SHA-256 stored. It is for setting up a
 * deployment (docs/security.md); officers log in with certificates and automation uses scoped API
 * tokens (accounts.ts, cert-login.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { nowIso } from '../store/columns.js';
import { ConflictError, ForbiddenError, InvalidRequestError } from '../errors.js';
import type { Principal, Role } from './principal.js';
import { newToken, tokenHash } from './secrets.js';
import { accountsMigration } from './tables.js';

/** The tables this module owns. */
export interface AuthTables {
  auth_tokens: {
    token_sha256: string;
    principal_id: string;
    role: Role;
    bootstrap: number;
    created_at: string;
    created_by: string;
  };
}

/** Migrations of the auth module. */
export const authMigrations: ModuleMigrations = {
  module: 'auth',
  migrations: () => ({
    '0001_tokens': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('auth_tokens')
          .addColumn('token_sha256', 'text', (c) => c.primaryKey())
          .addColumn('principal_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('bootstrap', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002_accounts': accountsMigration,
  }),
};

/** The file in the data directory that holds the bootstrap administrator's token. */
export const ADMIN_TOKEN_FILE = 'admin.token';
/** The principal id of the bootstrap administrator. */
export const BOOTSTRAP_ADMIN_ID = 'bootstrap-admin';

function tables(db: Executor): Kysely<AuthTables> {
  return db as unknown as Kysely<AuthTables>;
}

/**
 * Reads DIR/admin.token, creating it (mode 0600) with a fresh random token when absent, and
 * makes sure the database knows it. Several processes sharing one PostgreSQL database each
 * register their own file's token; all of them are the bootstrap administrator.
 */
export async function ensureBootstrapToken(database: Database, dataDir: string): Promise<{ file: string; created: boolean }> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const { token, created } = readOrCreateTokenFile(file);
  await tables(database.db)
    .insertInto('auth_tokens')
    .values({ token_sha256: tokenHash(token), principal_id: BOOTSTRAP_ADMIN_ID, role: 'admin', bootstrap: 1, created_at: nowIso(), created_by: 'system' })
    .onConflict((oc) => oc.column('token_sha256').doNothing())
    .execute();
  return { file, created };
}

/** Reads a bootstrap token file, creating it (mode 0600) with a fresh random token when absent. */
export function readOrCreateTokenFile(file: string): { token: string; created: boolean } {
  let created = false;
  if (!existsSync(file)) {
    // 'wx' fails if another process created the file meanwhile; then we read theirs.
    try {
      writeFileSync(file, newToken() + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new Error(`${file} holds no usable token; delete it to get a new one`);
  return { token, created };
}

const CACHE_MS = 30_000;

/** Looks up bearer tokens, with a short in-memory cache so most requests cost no query. */
export class TokenRegistry {
  private readonly cache = new Map<string, { principal: Principal | undefined; until: number }>();
  constructor(private readonly database: Database) {}

  /** The principal a token belongs to, or undefined for an unknown token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const hash = tokenHash(token);
    const hit = this.cache.get(hash);
    if (hit && hit.until > Date.now()) return hit.principal;
    const row = await tables(this.database.db).selectFrom('auth_tokens').selectAll().where('token_sha256', '=', hash).executeTakeFirst();
    const principal: Principal | undefined = row
      ? { id: row.principal_id, role: row.role, bootstrap: row.bootstrap === 1, via: row.bootstrap === 1 ? 'bootstrap-token' : 'legacy-token' }
      : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    // Unknown tokens are cached too, so a flood of bad tokens does not become a flood of queries.
    this.cache.set(hash, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  /** Mints a token for an officer (or another administrator); only an administrator may. */
  async createToken(actor: Principal, id: string, role: Role): Promise<{ id: string; role: Role; token: string }> {
    if (actor.role !== 'admin') throw new ForbiddenError('auth.admin', 'only an administrator can create officer tokens');
    if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(id)) throw new InvalidRequestError('auth.id', 'an officer id is 1-64 letters, digits, ".", "_", "@" or "-"');
    if (id === BOOTSTRAP_ADMIN_ID || id === 'system') throw new ConflictError('auth.reserved', `"${id}" is reserved`);
    const token = newToken();
    await tables(this.database.db)
      .insertInto('auth_tokens')
      .values({ token_sha256: tokenHash(token), principal_id: id, role, bootstrap: 0, created_at: nowIso(), created_by: actor.id })
      .execute();
    return { id, role, token };
  }

  /** Number of tokens known (for /healthz-style checks and tests). */
  async count(): Promise<number> {
    const r = await tables(this.database.db).selectFrom('auth_tokens').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

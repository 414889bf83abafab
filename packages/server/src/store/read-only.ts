/**
 * Opening a deployment's database for reading only, for tools that inspect it beside (or
 * without) a running service, such as `hpki audit verify`: nothing is migrated, no pragma is
 * changed, and every statement runs in a read-only transaction (PostgreSQL) or on a read-only
 * connection (SQLite), so the tool cannot change what it inspects.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_FILE, isPostgresUrl, redactUrl, type DatabaseLocation, type DialectName } from './database.js';

/** A read-only connection. */
export interface ReadOnlyDatabase {
  readonly dialect: DialectName;
  readonly description: string;
  readonly db: Kysely<any>;
  close(): Promise<void>;
}

/** Opens the database at `location` read-only; throws when there is none. */
export function openReadOnlyDatabase(location: DatabaseLocation): ReadOnlyDatabase {
  if (location.url) {
    if (!isPostgresUrl(location.url)) throw new Error(`unsupported database URL "${redactUrl(location.url)}": use postgres://user@host:port/dbname`);
    const pool = new pg.Pool({ connectionString: location.url, max: 1, options: '-c default_transaction_read_only=on' });
    pool.on('error', () => undefined);
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    return { dialect: 'postgres', description: redactUrl(location.url), db, close: () => db.destroy() };
  }
  if (!location.dataDir) throw new Error('a data directory or a database URL is needed');
  const file = join(location.dataDir, SQLITE_FILE);
  if (!existsSync(file)) throw new Error(`there is no database in "${location.dataDir}" (no ${SQLITE_FILE})`);
  const raw = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
  return { dialect: 'sqlite', description: `sqlite:${file} (read-only)`, db, close: () => db.destroy() };
}

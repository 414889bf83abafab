/**
 * The one storage interface every service module uses: a Kysely instance over SQLite
 * (better-sqlite3, embedded, the default) or PostgreSQL (production), plus transactions.
 * Modules never see which dialect they run on except through `columnTypes`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement, type Transaction } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { startWalCheckpoints } from './wal-checkpoints.js';
import { WalSync } from './wal-sync.js';
import type { DirectSql } from './sql.js';

/** Which database engine a store runs on. */
export type DialectName = 'sqlite' | 'postgres';

/** A Kysely instance or a transaction: what every module function takes to run its queries. */
export type Executor = Kysely<any> | Transaction<any>;

/** An open database: its query builder, its dialect, and transactions. */
export interface Database {
  readonly dialect: DialectName;
  /** A description safe to log (no password). */
  readonly description: string;
  readonly db: Kysely<any>;
  /**
   * Runs `fn` in one transaction: all of its writes commit together or none do, and the promise
   * settles only after the commit is durable. On SQLite concurrent transactions share one commit
   * (group commit, see group-commit.ts), so `fn` must only run queries: do slow pure work first.
   */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /** Group-commit counters (SQLite); undefined where the database does its own (PostgreSQL). */
  groupCommitStats(): GroupCommitStats | undefined;
  /** Lets a group commit wait briefly for this many operations on their way (see GroupCommitOptions.siblings). */
  watchSiblings(siblings: () => number): void;
  close(): Promise<void>;
}

/** Where the data lives: a PostgreSQL URL, or else an SQLite file in the data directory. */
export interface DatabaseLocation {
  /** `postgres://…` or `postgresql://…`; when absent, SQLite in `dataDir`. */
  url?: string;
  dataDir?: string;
}

/** The SQLite file name inside the data directory. */
export const SQLITE_FILE = 'hpki.sqlite';

/**
 * SQLite settings. WAL lets readers run beside the writer. synchronous=FULL makes every commit
 * durable before it returns: a certificate is acknowledged only after its record is on disk, so
 * even a power failure or kernel crash cannot lose one that a client already holds. Group commits
 * keep that guarantee but wait for the disk on a libuv thread instead of blocking the service's
 * (wal-sync.ts: their COMMIT runs with synchronous=NORMAL, then the WAL is synced). A 32 MiB page
 * cache (the default is 2 MiB) keeps the indexes that certificates are inserted into at random
 * places (they are keyed by random serial numbers) in memory.
 */
const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'busy_timeout = 5000', 'cache_size = -32768'];

/** Opens (creating if needed) the database at `location`. */
export async function openDatabase(location: DatabaseLocation): Promise<Database> {
  if (location.url !== undefined && location.url !== '') return openPostgres(location.url);
  if (!location.dataDir) throw new Error('a data directory or a database URL is needed');
  return openSqlite(location.dataDir);
}

/** True for URLs this module can open as PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function openSqlite(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SQLITE_FILE);
  const raw = new SqliteDatabase(file);
  for (const p of SQLITE_PRAGMAS) raw.pragma(p);
  // Checkpoints run in a thread of their own, never inside a commit (wal-checkpoints.ts).
  raw.pragma('wal_autocheckpoint = 0');
  const checkpoints = startWalCheckpoints(file);
  const cached = withStatementCache(raw);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: cached }) });
  const wal = new WalSync(file);
  // Not prepared once: SQLite applies `pragma synchronous` when the statement is prepared.
  const durability = { relax: () => raw.pragma('synchronous = NORMAL'), restore: () => raw.pragma('synchronous = FULL'), sync: () => wal.sync() };
  const batches = new GroupCommit(db, { inTransaction: () => raw.open && raw.inTransaction, direct: directSql(cached), durability });
  return {
    dialect: 'sqlite',
    description: `sqlite:${file}`,
    db,
    transaction: (fn) => batches.run(fn),
    groupCommitStats: () => ({ ...batches.stats }),
    watchSiblings: (siblings) => batches.watchSiblings(siblings),
    async close() {
      await batches.drain();
      await checkpoints.stop();
      if (raw.open) raw.pragma('wal_checkpoint(TRUNCATE)');
      wal.close();
      await db.destroy();
    },
  };
}

/**
 * Kysely prepares every query afresh; preparing costs about as much as running a small query,
 * so prepared statements are kept by SQL text. Safe because Kysely runs one query at a time on
 * the single SQLite connection.
 */
function withStatementCache(raw: SqliteDatabase.Database): KyselySqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= 1000) cache.clear();
        stmt = raw.prepare(sql) as unknown as SqliteStatement;
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/**
 * Synchronous execution on the cached prepared statements, for the group commit's operations
 * (store/sql.ts `hot`): the same thing Kysely's SQLite driver does, without its promises.
 */
function directSql(cached: KyselySqliteDatabase): DirectSql {
  return {
    exec(text, params) {
      const stmt = cached.prepare(text);
      if (stmt.reader) return { rows: stmt.all(params) as unknown[], changes: 0 };
      return { rows: [], changes: Number(stmt.run(params).changes ?? 0) };
    },
  };
}

function openPostgres(url: string): Database {
  if (!isPostgresUrl(url)) throw new Error(`unsupported database URL "${redactUrl(url)}": use postgres://user@host:port/dbname`);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server (restart, network) must not crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    description: redactUrl(url),
    db,
    transaction: (fn) => db.transaction().execute(fn),
    groupCommitStats: () => undefined,
    // PostgreSQL groups concurrent commits itself.
    watchSiblings: () => undefined,
    close: () => db.destroy(),
  };
}

/** The URL with any password replaced by "***", for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

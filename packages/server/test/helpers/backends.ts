/**
 * The two storage backends every service test runs on: SQLite in a fresh temporary data
 * directory, and PostgreSQL in a fresh database with a random name (created here and dropped
 * afterwards). PostgreSQL is expected at 127.0.0.1:5432 (user postgres, trust auth); set
 * HPKI_TEST_PG to another server URL, or to "off" to skip the PostgreSQL runs explicitly.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** One backend: where to put the data, and how to clean up. */
export interface TestBackend {
  name: 'sqlite' | 'postgres';
  /** A fresh data directory (always; PostgreSQL runs keep admin.token there). */
  dataDir: string;
  /** PostgreSQL URL of the fresh database; undefined for SQLite. */
  dbUrl?: string;
  cleanup(): Promise<void>;
}

const PG_ADMIN_URL = process.env.HPKI_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether the PostgreSQL runs are switched off (HPKI_TEST_PG=off). */
export const postgresOff = PG_ADMIN_URL === 'off';

/** The backends to run on: SQLite, and PostgreSQL unless switched off. */
export const BACKENDS: Array<TestBackend['name']> = postgresOff ? ['sqlite'] : ['sqlite', 'postgres'];

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hpki-server-test-'));
}

/** Creates a fresh backend of the given kind. */
export async function createBackend(name: TestBackend['name']): Promise<TestBackend> {
  const dataDir = tempDir();
  if (name === 'sqlite') {
    return { name, dataDir, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const dbName = `hpki_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  return {
    name,
    dataDir,
    dbUrl: url.toString(),
    async cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

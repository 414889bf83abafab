/**
 * Backup and restore of a SQLite data directory (business continuity): the database copied
 * online with SQLite's backup API (a consistent snapshot while the service keeps running), plus
 * the data directory's other files, in one gzip'd tar with a manifest of SHA-256 digests.
 *
 * The master key is never put in a backup: CA keys and materials inside stay sealed, and the
 * master key is kept (and backed up) separately — see docs/operations.md. The manifest names the
 * master key id the restored deployment will ask for. PostgreSQL deployments use pg_dump.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import SqliteDatabase from 'better-sqlite3';
import { SQLITE_FILE } from '../store/database.js';
import { DEV_MASTER_KEY_FILE } from '../security/master-key.js';
import { readTarGz, writeTarGz, type TarEntry } from './tar.js';

/** The manifest's name inside a backup. */
export const MANIFEST = 'hpki-backup.json';
const FORMAT = 'health-pki-backup-v1';

/** What a backup holds. */
export interface BackupManifest {
  format: typeof FORMAT;
  createdAt: string;
  /** The data directory backed up. */
  source: string;
  /** The master key the backed-up data is sealed under (id and kind), or null if none was registered. */
  masterKey: { keyId: string; source: string } | null;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

/** Files of a data directory never copied as files: the database (copied through the backup API) and the master key. */
function skipped(name: string): boolean {
  return name === DEV_MASTER_KEY_FILE || name === MANIFEST || name.startsWith(SQLITE_FILE) || name.endsWith('.tmp');
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Copies a data directory's database (online) and files into one archive; returns its bytes and manifest. */
export async function backupDataDir(dataDir: string, now: Date = new Date()): Promise<{ archive: Buffer; manifest: BackupManifest }> {
  const dbFile = join(dataDir, SQLITE_FILE);
  if (!existsSync(dbFile)) throw new Error(`"${dataDir}" has no ${SQLITE_FILE}: not a health-pki data directory (PostgreSQL deployments use pg_dump, see docs/operations.md)`);
  const work = mkdtempSync(join(tmpdir(), 'hpki-backup-'));
  try {
    const copy = join(work, SQLITE_FILE);
    const source = new SqliteDatabase(dbFile, { fileMustExist: true });
    try {
      source.pragma('busy_timeout = 5000');
      await source.backup(copy);
    } finally {
      source.close();
    }
    const snapshot = new SqliteDatabase(copy, { fileMustExist: true });
    let masterKey: BackupManifest['masterKey'] = null;
    try {
      // The snapshot is a complete database: fold its WAL in so the one file is the whole copy.
      snapshot.pragma('journal_mode = DELETE');
      const hasTable = snapshot.prepare("select 1 from sqlite_master where type = 'table' and name = 'security_master_keys'").get();
      const row = hasTable ? (snapshot.prepare("select key_id, source from security_master_keys where slot = 'active'").get() as { key_id: string; source: string } | undefined) : undefined;
      if (row) masterKey = { keyId: row.key_id, source: row.source };
    } finally {
      snapshot.close();
    }
    const entries: TarEntry[] = [{ name: SQLITE_FILE, data: readFileSync(copy) }];
    for (const name of readdirSync(dataDir).sort()) {
      if (skipped(name) || !statSync(join(dataDir, name)).isFile()) continue;
      entries.push({ name, data: readFileSync(join(dataDir, name)) });
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      createdAt: now.toISOString(),
      source: dataDir,
      masterKey,
      files: entries.map((e) => ({ name: e.name, bytes: e.data.length, sha256: sha256(e.data) })),
    };
    const archive = writeTarGz([{ name: MANIFEST, data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n') }, ...entries], now);
    return { archive, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpacks a backup into a new data directory (absent or empty), checking every file's digest
 * and the database's integrity before anything is left behind. Returns the manifest.
 */
export function restoreDataDir(archive: Buffer, dataDir: string): BackupManifest {
  let entries: TarEntry[];
  try {
    entries = readTarGz(archive);
  } catch (e) {
    throw new Error(`not a health-pki backup: ${(e as Error).message}`);
  }
  const manifestEntry = entries.find((e) => e.name === MANIFEST);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(manifestEntry?.data.toString('utf8') ?? '') as BackupManifest;
  } catch {
    throw new Error(`not a health-pki backup: no readable ${MANIFEST}`);
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.files)) throw new Error(`not a health-pki backup (format "${String(manifest.format).slice(0, 40)}")`);
  const files = entries.filter((e) => e.name !== MANIFEST);
  for (const f of manifest.files) {
    const e = files.find((x) => x.name === f.name);
    if (!e || sha256(e.data) !== f.sha256) throw new Error(`backup is damaged: ${f.name} is ${e ? 'altered' : 'missing'}`);
  }
  if (files.length !== manifest.files.length || !files.some((e) => e.name === SQLITE_FILE)) throw new Error('backup is damaged: its files do not match its manifest');
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw new Error(`"${dataDir}" is not empty: restore into a new data directory`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    for (const e of files) writeFileSync(join(dataDir, e.name), e.data, { mode: 0o600, flag: 'wx' });
    const db = new SqliteDatabase(join(dataDir, SQLITE_FILE), { fileMustExist: true });
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the restored database fails SQLite's integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
  } catch (e) {
    for (const f of files) rmSync(join(dataDir, f.name), { force: true });
    throw e;
  }
  return manifest;
}

/**
 * Backup and restore of a SQLite data directory (business continuity): the database copied
 * online with SQLite's backup API (a consistent snapshot while the service keeps running), plus
 * the data directory's other files, in one gzip'd tar with a manifest of SHA-256 digests. The
 * embedded services' own directories (DATA_DIR/platform, DATA_DIR/kmc: each a database, a
 * bootstrap token, …) are copied the same way, as `platform/…` and `kmc/…` entries.
 *
 * The master key is never put in a backup: CA keys and materials inside stay sealed, and the
 * master key is kept (and backed up) separately — see docs/operations.md. The manifest names the
 * master key id the restored deployment will ask for. A CA service on PostgreSQL backs up its
 * database with pg_dump; this still copies its data directory (bootstrap token, and above all the
 * embedded KMC's escrowed keys and the embedded platform), with `caDatabase: 'postgresql'`.
 * The embedded services' master keys are left out for the same reason (the KMC's seals escrowed
 * subscriber keys); the manifest names theirs too.
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
/** v2 adds the embedded services' sub-directories; a v1 backup (top level only) still restores. */
const FORMAT = 'health-pki-backup-v2';
const READABLE_FORMATS = ['health-pki-backup-v1', FORMAT];
/** The embedded services' data sub-directories (server.ts), each backed up like the top level. */
export const COMPONENT_DIRS = ['platform', 'kmc'] as const;

/** What a backup holds. */
export interface BackupManifest {
  format: string;
  createdAt: string;
  /** The data directory backed up. */
  source: string;
  /** The master key the backed-up data is sealed under (id and kind), or null if none was registered. */
  masterKey: { keyId: string; source: string } | null;
  /** The embedded services' sub-directories included (v2), each with the master key its data is sealed under. */
  components?: Array<{ dir: string; masterKey: { keyId: string; source: string } | null }>;
  /** File names; a component's files are named `<dir>/<file>`. */
  files: Array<{ name: string; bytes: number; sha256: string }>;
  /** Where the CA service's own database is: in the archive (absent: 'sqlite'), or in PostgreSQL (pg_dump it). */
  caDatabase?: 'sqlite' | 'postgresql';
}

/** Files of a data directory never copied as files: the database (copied through the backup API) and the master key. */
function skipped(name: string): boolean {
  return name === DEV_MASTER_KEY_FILE || name === MANIFEST || name.startsWith(SQLITE_FILE) || name.endsWith('.tmp');
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

type MasterKeyRef = BackupManifest['masterKey'];

/** A consistent online copy of `dbFile` (one file, WAL folded in), and the master key it names. */
async function snapshotDatabase(dbFile: string, copy: string): Promise<{ data: Buffer; masterKey: MasterKeyRef }> {
  const source = new SqliteDatabase(dbFile, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    await source.backup(copy);
  } finally {
    source.close();
  }
  const snapshot = new SqliteDatabase(copy, { fileMustExist: true });
  let masterKey: MasterKeyRef = null;
  try {
    // The snapshot is a complete database: fold its WAL in so the one file is the whole copy.
    snapshot.pragma('journal_mode = DELETE');
    const hasTable = snapshot.prepare("select 1 from sqlite_master where type = 'table' and name = 'security_master_keys'").get();
    const row = hasTable ? (snapshot.prepare("select key_id, source from security_master_keys where slot = 'active'").get() as { key_id: string; source: string } | undefined) : undefined;
    if (row) masterKey = { keyId: row.key_id, source: row.source };
  } finally {
    snapshot.close();
  }
  return { data: readFileSync(copy), masterKey };
}

/** The entries of one directory level: its database snapshot first (when it has one), then its other plain files, names prefixed by `prefix`. */
async function directoryEntries(dir: string, work: string, prefix: string, withDatabase = true): Promise<{ entries: TarEntry[]; masterKey: MasterKeyRef }> {
  const entries: TarEntry[] = [];
  let masterKey: MasterKeyRef = null;
  if (withDatabase) {
    const snapshot = await snapshotDatabase(join(dir, SQLITE_FILE), join(work, `${prefix.replace('/', '-')}${SQLITE_FILE}`));
    entries.push({ name: prefix + SQLITE_FILE, data: snapshot.data });
    masterKey = snapshot.masterKey;
  }
  for (const name of readdirSync(dir).sort()) {
    if (skipped(name) || !statSync(join(dir, name)).isFile()) continue;
    entries.push({ name: prefix + name, data: readFileSync(join(dir, name)) });
  }
  return { entries, masterKey };
}

/**
 * Copies a data directory's database (online) and files, and its embedded services'
 * sub-directories, into one archive; returns its bytes and manifest. A directory without the CA
 * database but with an embedded service's is a CA service on PostgreSQL: everything but that
 * database is copied (`caDatabase: 'postgresql'`).
 */
export async function backupDataDir(dataDir: string, now: Date = new Date()): Promise<{ archive: Buffer; manifest: BackupManifest }> {
  const onSqlite = existsSync(join(dataDir, SQLITE_FILE));
  if (!onSqlite && !COMPONENT_DIRS.some((d) => existsSync(join(dataDir, d, SQLITE_FILE)))) {
    throw new Error(`"${dataDir}" has no ${SQLITE_FILE} and no embedded platform or KMC: not a health-pki data directory (the database of a service on PostgreSQL is backed up with pg_dump, see docs/operations.md)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'hpki-backup-'));
  try {
    const top = await directoryEntries(dataDir, work, '', onSqlite);
    const entries = [...top.entries];
    const components: NonNullable<BackupManifest['components']> = [];
    // After the CA's snapshot, so that the platform and KMC are never behind the restored CA: an
    // event sent in between is re-sent and answered as a duplicate, an escrow in between unused.
    for (const dir of COMPONENT_DIRS) {
      // A sub-directory without a database is a service that never started here: nothing to keep.
      if (!existsSync(join(dataDir, dir, SQLITE_FILE))) continue;
      const part = await directoryEntries(join(dataDir, dir), work, `${dir}/`);
      entries.push(...part.entries);
      components.push({ dir, masterKey: part.masterKey });
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      createdAt: now.toISOString(),
      source: dataDir,
      masterKey: top.masterKey,
      components,
      ...(onSqlite ? {} : { caDatabase: 'postgresql' as const }),
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
  if (!READABLE_FORMATS.includes(manifest.format) || !Array.isArray(manifest.files)) throw new Error(`not a health-pki backup (format "${String(manifest.format).slice(0, 40)}")`);
  const files = entries.filter((e) => e.name !== MANIFEST);
  for (const f of manifest.files) {
    const e = files.find((x) => x.name === f.name);
    if (!e || sha256(e.data) !== f.sha256) throw new Error(`backup is damaged: ${f.name} is ${e ? 'altered' : 'missing'}`);
  }
  const caInArchive = manifest.caDatabase !== 'postgresql';
  if (files.length !== manifest.files.length || files.some((e) => e.name === SQLITE_FILE) !== caInArchive) throw new Error('backup is damaged: its files do not match its manifest');
  const stray = files.find((e) => e.name.includes('/') && !(COMPONENT_DIRS as readonly string[]).includes(e.name.slice(0, e.name.indexOf('/'))));
  if (stray) throw new Error(`not a health-pki backup: "${stray.name.slice(0, 100)}" is not in a known sub-directory (${COMPONENT_DIRS.join(', ')})`);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw new Error(`"${dataDir}" is not empty: restore into a new data directory`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  try {
    for (const e of files) {
      const slash = e.name.indexOf('/');
      if (slash >= 0) {
        // Only the known component directories, one level deep (tar.ts refuses anything else).
        const dir = join(dataDir, e.name.slice(0, slash));
        if (!existsSync(dir)) {
          mkdirSync(dir, { mode: 0o700 });
          made.push(dir);
        }
      }
      writeFileSync(join(dataDir, e.name), e.data, { mode: 0o600, flag: 'wx' });
      made.push(join(dataDir, e.name));
    }
    for (const e of files.filter((f) => f.name === SQLITE_FILE || f.name.endsWith(`/${SQLITE_FILE}`))) {
      const db = new SqliteDatabase(join(dataDir, e.name), { fileMustExist: true });
      try {
        const check = db.pragma('integrity_check', { simple: true });
        if (check !== 'ok') throw new Error(`the restored database ${e.name} fails SQLite's integrity check: ${String(check)}`);
      } finally {
        db.close();
      }
    }
  } catch (e) {
    for (const f of made.reverse()) rmSync(f, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

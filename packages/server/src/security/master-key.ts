/**
 * The deployment's master key (key-encryption key): from a passphrase (scrypt), from a key file
 * (32 random bytes, readable by the owner only), or — for demonstrations — a key file the
 * service generates in its data directory at first start, like Vault's dev mode.
 *
 * The database records which master key its sealed objects are under (`security_master_keys`:
 * key id, check value, and for passphrases the scrypt parameters and salt), so a wrong passphrase
 * or key file is refused at start with a clear message instead of failing at the first signature.
 * Exactly one row holds slot "active"; the first process to register one wins (ON CONFLICT DO
 * NOTHING on the unique slot), and every other process must then present the same key.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes, nowIso } from '../store/columns.js';
import { MasterKey } from './envelope.js';

/** The file name of the demonstration master key inside the data directory. */
export const DEV_MASTER_KEY_FILE = 'master.key';

/** Where the master key comes from. */
export type MasterKeySource =
  | { kind: 'passphrase'; passphrase: string }
  | { kind: 'file'; path: string }
  /** DIR/master.key, generated at first start when the database has no master key yet (demo only). */
  | { kind: 'dev-file'; dataDir: string };

/** scrypt cost parameters (RFC 7914). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 2^17 × 8 × 128 B = 128 MiB and about a second per derivation: once per start, costly for a guesser. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/** A master key that cannot be used: wrong passphrase, wrong file, loose file permissions. */
export class MasterKeyError extends Error {
  /** Dotted code, e.g. "master-key.mismatch". */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'MasterKeyError';
    this.code = code;
  }
}

/** The opened master key and how it was obtained (for the start-up banner). */
export interface OpenedMasterKey {
  key: MasterKey;
  source: MasterKeySource['kind'];
  /** The key file used, for file and dev-file sources. */
  file?: string;
  /** True when this start generated DIR/master.key. */
  generated: boolean;
}

/** The table this module owns. */
export interface SecurityTables {
  security_master_keys: {
    key_id: string;
    /** "active" for the key new objects are sealed under; null for retired keys. */
    slot: string | null;
    source: 'passphrase' | 'file';
    /** scrypt parameters as JSON for passphrases; "" for key files. */
    kdf: string;
    salt: Buffer | null;
    check_value: Buffer;
    created_at: string;
  };
}

/** Migrations of the security module. */
export const securityMigrations: ModuleMigrations = {
  module: 'security',
  migrations: (dialect) => ({
    '0001_master_keys': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('security_master_keys')
          .addColumn('key_id', 'text', (c) => c.primaryKey())
          .addColumn('slot', 'text', (c) => c.unique())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('kdf', 'text', (c) => c.notNull())
          .addColumn('salt', columnTypes(dialect).bytes)
          .addColumn('check_value', columnTypes(dialect).bytes, (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  }),
};

function tables(ex: Executor): Kysely<SecurityTables> {
  return ex as unknown as Kysely<SecurityTables>;
}

/** The active master key's row, if the database has one. */
export async function activeKeyRow(ex: Executor): Promise<SecurityTables['security_master_keys'] | undefined> {
  return tables(ex).selectFrom('security_master_keys').selectAll().where('slot', '=', 'active').executeTakeFirst();
}

/**
 * Obtains the master key from `source` and checks it against the one the database records,
 * registering it when the database has none yet. Throws MasterKeyError when it does not match.
 */
export async function openMasterKey(database: Database, source: MasterKeySource, opts: { scrypt?: ScryptParams; clock?: () => Date } = {}): Promise<OpenedMasterKey> {
  const at = nowIso((opts.clock ?? (() => new Date()))());
  for (let attempt = 0; attempt < 2; attempt++) {
    const active = await activeKeyRow(database.db);
    if (active) return { ...(await keyFor(source, active)), generated: false };
    // No key registered yet: this process proposes one; a process that registered first wins.
    const proposal = await proposeKey(source, opts.scrypt ?? DEFAULT_SCRYPT);
    await database.transaction(async (tx) => {
      await tables(tx)
        .insertInto('security_master_keys')
        .values({ key_id: proposal.opened.key.keyId, slot: 'active', source: proposal.row.source, kdf: proposal.row.kdf, salt: proposal.row.salt, check_value: proposal.opened.key.check, created_at: at })
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
    const winner = await activeKeyRow(database.db);
    if (winner?.key_id === proposal.opened.key.keyId) return proposal.opened;
    // Lost the race: check our key against the winner's on the next turn. A generated
    // dev file is kept: the winner may be another process on this same data directory.
  }
  throw new MasterKeyError('master-key.race', 'could not agree on a master key with the other processes sharing this database');
}

/** Our key checked against the registered one. */
async function keyFor(source: MasterKeySource, active: SecurityTables['security_master_keys']): Promise<Omit<OpenedMasterKey, 'generated'>> {
  const where = `this database's keys and records are sealed under master key ${active.key_id} (${active.source === 'passphrase' ? 'from a passphrase' : 'from a key file'})`;
  let key: MasterKey;
  let file: string | undefined;
  if (source.kind === 'passphrase') {
    if (active.source !== 'passphrase' || !active.salt) throw new MasterKeyError('master-key.source', `${where}: start with --master-key-file, not HPKI_MASTER_PASSPHRASE`);
    key = new MasterKey(derive(source.passphrase, Buffer.from(active.salt), parseKdf(active.kdf)));
  } else {
    file = source.kind === 'file' ? source.path : join(source.dataDir, DEV_MASTER_KEY_FILE);
    if (source.kind === 'dev-file' && !existsSync(file)) {
      throw new MasterKeyError('master-key.missing', `${where}, and no master key was given: set HPKI_MASTER_PASSPHRASE or start with --master-key-file (no new ${DEV_MASTER_KEY_FILE} is generated for a database that already has a key)`);
    }
    if (active.source !== 'file') throw new MasterKeyError('master-key.source', `${where}: set HPKI_MASTER_PASSPHRASE instead of giving a key file`);
    key = new MasterKey(readKeyFile(file));
  }
  if (!timingSafeEqual(key.check, Buffer.from(active.check_value))) {
    throw new MasterKeyError(
      'master-key.mismatch',
      source.kind === 'passphrase' ? `wrong master passphrase: ${where}` : `master key file "${file}" holds key ${key.keyId}, but ${where}`,
    );
  }
  return { key, source: source.kind, file };
}

/** A fresh key for an empty database, and the row that records it. */
async function proposeKey(source: MasterKeySource, scrypt: ScryptParams): Promise<{ opened: OpenedMasterKey; row: Pick<SecurityTables['security_master_keys'], 'source' | 'kdf' | 'salt'> }> {
  if (source.kind === 'passphrase') {
    const salt = randomBytes(16);
    const key = new MasterKey(derive(source.passphrase, salt, scrypt));
    return { opened: { key, source: 'passphrase', generated: false }, row: { source: 'passphrase', kdf: JSON.stringify({ alg: 'scrypt', ...scrypt }), salt } };
  }
  let generated = false;
  const file = source.kind === 'file' ? source.path : join(source.dataDir, DEV_MASTER_KEY_FILE);
  if (source.kind === 'dev-file' && !existsSync(file)) generated = createKeyFile(file);
  const key = new MasterKey(readKeyFile(file));
  return { opened: { key, source: source.kind, file, generated }, row: { source: 'file', kdf: '', salt: null } };
}

function parseKdf(text: string): ScryptParams {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = v as Partial<ScryptParams & { alg: string }> | undefined;
  const ok = o && o.alg === 'scrypt' && [o.N, o.r, o.p].every((x) => Number.isInteger(x) && x! > 0) && o.N! <= 2 ** 22 && o.r! <= 32 && o.p! <= 16;
  if (!ok) throw new MasterKeyError('master-key.kdf', `the database's master key parameters are unreadable: ${text.slice(0, 120)}`);
  return { N: o.N!, r: o.r!, p: o.p! };
}

/** scrypt(passphrase, salt) → 32 bytes. */
export function derive(passphrase: string, salt: Buffer, params: ScryptParams): Buffer {
  if (passphrase.length === 0) throw new MasterKeyError('master-key.passphrase', 'the master passphrase is empty');
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r + 64 * 1024 * 1024 });
}

/** Reads a master key file: exactly 32 bytes, not readable or writable by group or others. */
export function readKeyFile(file: string): Buffer {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    throw new MasterKeyError('master-key.file', `cannot read master key file "${file}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new MasterKeyError('master-key.permissions', `master key file "${file}" is accessible to group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  }
  const bytes = readFileSync(file);
  if (bytes.length !== 32) throw new MasterKeyError('master-key.file', `master key file "${file}" must hold exactly 32 random bytes; it holds ${bytes.length}`);
  return bytes;
}

/**
 * Writes 32 random bytes to `file` (mode 0600) unless it exists. Written aside and hard-linked
 * into place, so a process racing on the same directory reads either nothing or the whole key.
 * Returns true when this call created it.
 */
export function createKeyFile(file: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(32), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * The token file on disk. Every change is a read-modify-write under an exclusive lock file, and
 * every write is atomic: the new bytes go to a temporary file in the same directory, are fsynced,
 * and replace the old file by rename(2), after which the directory is fsynced. A crash at any
 * point leaves either the old file or the new one — never a mix — plus at most a stray temporary
 * file, which the next writer removes. The lock serialises processes, so two PIN checks running at
 * once cannot both read the same retry counter.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { TokenError } from './errors.js';
import { parseTokenFile, serializeTokenFile, type TokenRecord } from './format.js';

/** How long to wait for another process's lock before giving up. */
const LOCK_WAIT_MS = 15_000;
const LOCK_POLL_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function lockPath(path: string): string {
  return `${path}.lock`;
}

function tempPrefix(path: string): string {
  return `${basename(path)}.tmp-`;
}

/** Whether the process that wrote a lock file still runs (a lock left by a killed process is stale). */
function holderAlive(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
  } catch {
    return true; // being created or removed right now: wait and look again
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Our own pid: another thread of this process holds it (every operation releases in `finally`).
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquire(path: string): void {
  const lock = lockPath(path);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    // The lock appears whole, pid inside, by link(2): a lock file created empty and filled after
    // would look stale to another process in between, which would then take the lock as well.
    const staged = `${lock}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(staged, String(process.pid), { mode: 0o600, flag: 'wx' });
      linkSync(staged, lock);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new TokenError('notFound', `no token directory for "${path}"`);
      if (code !== 'EEXIST') throw new TokenError('io', `cannot lock the token "${path}": ${(e as Error).message}`, { cause: e });
    } finally {
      try {
        unlinkSync(staged);
      } catch {
        /* never created */
      }
    }
    if (!holderAlive(lock)) {
      try {
        unlinkSync(lock);
      } catch {
        /* someone else removed it first */
      }
      continue;
    }
    if (Date.now() > deadline) throw new TokenError('busy', `the token "${path}" is in use by another process`);
    Atomics.wait(sleeper, 0, 0, LOCK_POLL_MS);
  }
}

function release(path: string): void {
  try {
    unlinkSync(lockPath(path));
  } catch {
    /* already gone */
  }
}

/** Removes temporary files a crashed writer left behind (only called under the lock, when none can be live). */
function removeStrayTemps(path: string): void {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix)) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        /* ignore */
      }
    }
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some file systems cannot fsync a directory; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename, directory fsync), mode 0600. */
export function writeAtomic(path: string, data: Uint8Array): void {
  const temp = join(dirname(path), `${tempPrefix(path)}${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      /* never created */
    }
    throw new TokenError('io', `cannot write the token "${path}": ${(e as Error).message}`, { cause: e });
  }
  fsyncDir(dirname(path));
}

/** Reads and parses the token file (no lock: a reader sees the old or the new file, both whole). */
export function readToken(path: string): TokenRecord {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TokenError('notFound', `no token at "${path}"`);
    throw new TokenError('io', `cannot read the token "${path}": ${(e as Error).message}`, { cause: e });
  }
  return parseTokenFile(data);
}

/** A locked view of the token: read it, change it, save it (as many times as the operation needs). */
export interface LockedToken {
  readonly record: TokenRecord;
  /** Atomically writes the current record. */
  save(): void;
}

/** Runs `fn` with the token locked; the lock is released however `fn` ends. */
export function withToken<T>(path: string, fn: (t: LockedToken) => T): T {
  acquire(path);
  try {
    removeStrayTemps(path);
    const record = readToken(path);
    return fn({ record, save: () => writeAtomic(path, serializeTokenFile(record)) });
  } finally {
    release(path);
  }
}

/** Creates a new token file; TokenError "exists" if there is one. */
export function createToken(path: string, record: TokenRecord): void {
  if (existsSync(path)) throw new TokenError('exists', `a token already exists at "${path}"`);
  acquire(path);
  try {
    if (existsSync(path)) throw new TokenError('exists', `a token already exists at "${path}"`);
    removeStrayTemps(path);
    writeAtomic(path, serializeTokenFile(record));
  } finally {
    release(path);
  }
}

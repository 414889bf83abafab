/**
 * `hpki backup` and `hpki restore`: a SQLite data directory copied online into one archive and
 * brought back into a new directory (business continuity). The master key is not in the
 * archive: it is kept and backed up separately (docs/operations.md). PostgreSQL: pg_dump.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CliError, readInput, usageError } from '../io.js';
import { writeFileSync } from 'node:fs';

/** Registers `hpki backup` and `hpki restore`. */
export function register(program: Command): void {
  program
    .command('backup')
    .description('copy a data directory (online, while the service runs) with its embedded platform and KMC into one archive; no master key is included (a service on PostgreSQL: everything but its database, which pg_dump copies)')
    .requiredOption('--data <dir>', 'the data directory to back up')
    .requiredOption('--out <file>', 'the archive to write (a .tar.gz, mode 0600); must not exist')
    .addHelpText('after', '\nExample:\n  $ hpki backup --data ./data --out hpki-2026-11-28.tar.gz\nPostgreSQL deployments: pg_dump -Fc (docs/operations.md).')
    .action(async (opts: { data: string; out: string }) => {
      const { backupDataDir } = await import('@health-pki/server');
      const { archive, manifest } = await onBackup(() => backupDataDir(resolve(opts.data)));
      try {
        writeFileSync(opts.out, archive, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        throw new CliError(`cannot write "${opts.out}": ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists; choose a new file' : (e as Error).message}`);
      }
      const key = manifest.masterKey ? `master key ${manifest.masterKey.keyId} (${manifest.masterKey.source === 'passphrase' ? 'passphrase' : 'key file'})` : 'no master key registered';
      process.stderr.write(
        `backed up ${manifest.files.map((f) => f.name).join(', ')} to ${opts.out} (${archive.length} bytes)\n` +
          (manifest.caDatabase === 'postgresql'
            ? 'the CA service\'s own database is in PostgreSQL and NOT in this archive: back it up with pg_dump -Fc at the same time (docs/operations.md)\n'
            : `the data is sealed under ${key}: the master key is not in this archive; keep it backed up separately\n`) +
          componentKeys(manifest, (dir, id) => `the embedded ${dir}'s data is sealed under its own master key ${id} (${dir}/master.key): not in this archive either; keep a copy apart\n`),
      );
    });

  program
    .command('restore')
    .description('unpack a backup into a new data directory; start it with the same master key')
    .requiredOption('--from <file>', 'the archive written by hpki backup')
    .requiredOption('--data <dir>', 'the new data directory (absent or empty)')
    .action(async (opts: { from: string; data: string }) => {
      const { restoreDataDir } = await import('@health-pki/server');
      const archive = readInput(opts.from, 'backup');
      const manifest = await onBackup(async () => restoreDataDir(archive, resolve(opts.data)));
      const key = manifest.masterKey
        ? `start it with master key ${manifest.masterKey.keyId}: ${manifest.masterKey.source === 'passphrase' ? 'HPKI_MASTER_PASSPHRASE' : '--master-key-file (or copy the key file to DATA_DIR/master.key for a demo)'}`
        : 'it has no master key registered';
      process.stderr.write(
        `restored ${manifest.files.map((f) => f.name).join(', ')} (backup of ${manifest.createdAt}) into ${opts.data}; ` +
          (manifest.caDatabase === 'postgresql' ? 'the CA service\'s database was in PostgreSQL: restore its pg_dump with pg_restore and start with --db\n' : `${key}\n`) +
          componentKeys(manifest, (dir, id) => `the embedded ${dir} asks for its master key ${id}: copy the kept ${dir}/master.key to ${resolve(opts.data, dir, 'master.key')} (mode 0600) before starting\n`),
      );
    });
}

/** One line per embedded service (platform, KMC) in the backup that has a master key, worded by `line`. */
function componentKeys(manifest: { components?: Array<{ dir: string; masterKey: { keyId: string } | null }> }, line: (dir: string, keyId: string) => string): string {
  return (manifest.components ?? []).map((c) => (c.masterKey ? line(c.dir, c.masterKey.keyId) : '')).join('');
}

/** Runs a backup step; its refusals (not a data directory, damaged archive, non-empty target) are usage errors. */
async function onBackup<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    return usageError((e as Error).message);
  }
}

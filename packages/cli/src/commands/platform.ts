/**
 * `hpki platform start`: run the national certificate service management platform (its own
 * service, database and master key). Operators work through its HTTP API with the bootstrap
 * national-office token in DATA_DIR/platform-admin.token (docs/platform.md).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { usageError } from '../io.js';
import { masterKeyRefusal, sealingFromOptions, type MasterKeyFlags } from './master-key-options.js';

interface StartFlags extends MasterKeyFlags {
  data: string;
  db?: string;
  port: string;
  host: string;
  logLevel: string;
}

/** Registers `hpki platform start`. */
export function register(program: Command): void {
  const platform = program.command('platform').description('the national certificate service management platform: CA admission, supervision, sync and the trust list');
  platform
    .command('start')
    .description('run the platform: registry, supervision, sync and statistics, and the signed trust list at /platform/trust-list')
    .option('--data <dir>', 'the platform data directory (SQLite database, master.key, platform-admin.token)', './platform-data')
    .option('--db <url>', 'PostgreSQL URL instead of SQLite in the data directory')
    .option('--master-key-file <file>', 'the platform master key (env HPKI_MASTER_KEY_FILE or HPKI_MASTER_PASSPHRASE; default DATA_DIR/master.key, demo only)')
    .option('--port <n>', 'TCP port', '8095')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .action(async (opts: StartFlags) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) usageError(`--port must be 0-65535, not "${opts.port}"`);
      const { startPlatformServer, isPostgresUrl, redactUrl } = await import('@health-pki/server');
      if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
      const dataDir = resolve(opts.data);
      const server = await startPlatformServer({ dataDir, dbUrl: opts.db, sealing: sealingFromOptions(opts, dataDir), port: Number(opts.port), host: opts.host, logger: { level: opts.logLevel } }).catch(masterKeyRefusal);
      const cert = await server.services.trustList.certificate();
      const cas = await server.services.registry.list();
      process.stderr.write(
        [
          'health-pki national certificate service management platform',
          `  listening on ${server.url}   (trust list ${server.url}/platform/trust-list)`,
          `  database ${server.services.database.description}`,
          `  national-office token in ${server.services.adminTokenFile}`,
          `  trust-list signer ${cert.subjectText}, serial ${cert.serialHex}`,
          `  CAs: ${cas.map((c) => `${c.name} (${c.status})`).join(', ') || 'none yet (POST /platform/cas)'}`,
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          process.stderr.write(`hpki platform: ${signal}: stopping\n`);
          server.close().then(done, done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}

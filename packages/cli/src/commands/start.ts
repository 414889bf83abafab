/** `hpki start`: run the certification service (RA + CA, REST API) on a data directory or PostgreSQL. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { usageError } from '../io.js';

interface StartOptions {
  data: string;
  port: string;
  host: string;
  db?: string;
  baseUrl?: string;
  logLevel: string;
}

/** Registers `hpki start`. */
export function register(program: Command): void {
  program
    .command('start')
    .description('run the certification service; the first start creates the demo CAs (demo-sm2, demo-p256) and DATA_DIR/admin.token')
    .option('--data <dir>', 'data directory (SQLite database, admin.token)', './data')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <addr>', 'address to listen on (0.0.0.0 for all)', '127.0.0.1')
    .option('--db <url>', 'PostgreSQL URL (postgres://user@host:5432/db) instead of SQLite in the data directory')
    .option('--base-url <url>', 'public base URL that certificates point at (AIA, CRL, OCSP); default http://HOST:PORT')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .addHelpText('after', '\nExamples:\n  $ hpki start --data ./data\n  $ hpki start --db postgres://postgres@127.0.0.1:5432/hpki --base-url https://ca.example.cn')
    .action(async (opts: StartOptions) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) usageError(`--port must be 0-65535, not "${opts.port}"`);
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(opts.logLevel)) usageError(`--log-level "${opts.logLevel}" is not a level`);
      // Loaded here so that the offline commands do not pay for the server's modules.
      const { startServer, isPostgresUrl, redactUrl } = await import('@health-pki/server');
      if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
      const dataDir = resolve(opts.data);
      const server = await startServer({
        dataDir,
        dbUrl: opts.db,
        port: Number(opts.port),
        host: opts.host,
        baseUrl: opts.baseUrl,
        logger: { level: opts.logLevel },
      });
      const cas = (await server.services.ca.listAuthorities()).map((a) => a.name);
      const created = (names: string[], all: string[]) => all.map((n) => (names.includes(n) ? `${n} (created)` : n)).join(', ');
      process.stderr.write(
        [
          'health-pki certification service',
          `  listening on ${server.url}   (API reference ${server.url}/docs, OpenAPI ${server.url}/openapi.json)`,
          `  certificates point at ${server.baseUrl}`,
          `  database ${server.services.database.description}`,
          `  bootstrap administrator token ${server.tokenFile}`,
          `  CAs: ${created(server.createdCas, cas) || 'none'}`,
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          process.stderr.write(`hpki: ${signal}: stopping\n`);
          server.close().then(done, done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}

/**
 * `hpki platform start`: run the national certificate service management platform (its own
 * service, database and master key). Operators work through its HTTP API with the bootstrap
 * national-office token in DATA_DIR/platform-admin.token (docs/platform.md).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { usageError } from '../io.js';
import { masterKeyRefusal, sealingFromOptions, type MasterKeyFlags } from './master-key-options.js';

interface StartFlags extends MasterKeyFlags {
  data: string;
  db?: string;
  port: string;
  host: string;
  logLevel: string;
  probeInterval: string;
  trustProxy?: string;
}

/** The --trust-proxy list (addresses or CIDRs, comma-separated), checked here so a typo is a usage error, not a crash at start. */
function trustedProxies(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim());
  for (const a of list) {
    const [ip, bits, ...rest] = a.split('/');
    const v = isIP(ip ?? '');
    if (!v || rest.length || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (v === 4 ? 32 : 128)))) usageError(`--trust-proxy takes IP addresses or CIDRs separated by commas, not "${a.slice(0, 60)}"`);
  }
  return list;
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
    .option('--probe-interval <seconds>', "how often the CAs' OCSP responders and CRLs are probed (0: never)", '300')
    .option('--trust-proxy <addresses>', 'reverse proxies (IPs/CIDRs, comma-separated) whose X-Forwarded-For names the client, e.g. for the per-address complaint limit; default: none')
    .action(async (opts: StartFlags) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) usageError(`--port must be 0-65535, not "${opts.port}"`);
      if (!/^\d{1,6}$/.test(opts.probeInterval) || (Number(opts.probeInterval) > 0 && Number(opts.probeInterval) < 10)) usageError(`--probe-interval must be 0 or 10-999999 seconds, not "${opts.probeInterval}"`);
      const { startPlatformServer, isPostgresUrl, redactUrl } = await import('@health-pki/server');
      if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
      const trustProxy = trustedProxies(opts.trustProxy);
      const dataDir = resolve(opts.data);
      const clock = testClock();
      const server = await startPlatformServer({ dataDir, dbUrl: opts.db, sealing: sealingFromOptions(opts, dataDir), port: Number(opts.port), host: opts.host, probeIntervalMs: Number(opts.probeInterval) * 1000, logger: { level: opts.logLevel }, trustProxy, ...(clock ? { clock } : {}) }).catch(masterKeyRefusal);
      const cert = await server.services.trustList.certificate();
      const cas = await server.services.registry.list();
      process.stderr.write(
        [
          'health-pki national certificate service management platform',
          `  listening on ${server.url}   (trust list ${server.url}/platform/trust-list)`,
          `  database ${server.services.database.description}`,
          `  national-office token in ${server.services.adminTokenFile}`,
          `  trust-list signer ${cert.subjectText}, serial ${cert.serialHex}`,
          ...(clock ? [`  TEST CLOCK: the platform's time is shifted by HPKI_TEST_CLOCK_OFFSET_MS=${process.env.HPKI_TEST_CLOCK_OFFSET_MS} ms (tests only)`] : []),
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

/**
 * Test only: HPKI_TEST_CLOCK_OFFSET_MS shifts the platform's clock (deadlines, the rectification
 * sweep) so that a test of separate processes can let a year pass. Never set it in production.
 */
function testClock(): (() => Date) | undefined {
  const raw = process.env.HPKI_TEST_CLOCK_OFFSET_MS;
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d{1,15}$/.test(raw)) usageError(`HPKI_TEST_CLOCK_OFFSET_MS must be an integer number of milliseconds, not "${raw}"`);
  const offset = Number(raw);
  return () => new Date(Date.now() + offset);
}

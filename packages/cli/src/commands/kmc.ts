/**
 * `hpki kmc`: run the key management centre (its own service, database and master key) and
 * manage the CAs it serves. The client commands work on the KMC's data directory directly: they
 * are for the KMC's operators on the KMC's machine, not for a remote API.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readCertificate, usageError, writeJson, writeOutput } from '../io.js';
import { masterKeyRefusal, sealingFromOptions, type MasterKeyFlags } from './master-key-options.js';

interface StoreFlags extends MasterKeyFlags {
  data: string;
  db?: string;
  json?: boolean;
}

/** The data-directory, database and master-key options every kmc command takes. */
function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'the KMC data directory (SQLite database, master.key)', './kmc-data')
    .option('--db <url>', 'PostgreSQL URL instead of SQLite in the data directory')
    .option('--master-key-file <file>', 'the KMC master key (env HPKI_MASTER_KEY_FILE or HPKI_MASTER_PASSPHRASE; default DATA_DIR/master.key, demo only)')
    .option('--json', 'print JSON');
}

/** Opens the KMC's store with the master key the options name; refusals become one-line errors. */
async function openKmc(opts: StoreFlags) {
  const { openKmcServices, isPostgresUrl, redactUrl } = await import('@health-pki/server');
  if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
  const dataDir = resolve(opts.data);
  return openKmcServices({ dataDir, dbUrl: opts.db, sealing: sealingFromOptions(opts, dataDir) }).catch(masterKeyRefusal);
}

/** Registers `hpki kmc start|certificate|client add|client list|client disable|destroy-expired`. */
export function register(program: Command): void {
  const kmc = program.command('kmc').description('the key management centre: escrow of encryption keys for dual certificates (GM/T 0014-style protocol)');

  storeOptions(
    kmc
      .command('start')
      .description('run the KMC: POST /kmc takes signed CA requests, GET /kmc/certificate gives the KMC certificate that CAs pin')
      .option('--port <n>', 'TCP port', '8090')
      .option('--host <addr>', 'address to listen on', '127.0.0.1')
      .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info'),
  ).action(async (opts: StoreFlags & { port: string; host: string; logLevel: string }) => {
    if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) usageError(`--port must be 0-65535, not "${opts.port}"`);
    const { startKmcServer } = await import('@health-pki/server');
    const dataDir = resolve(opts.data);
    const server = await startKmcServer({ dataDir, dbUrl: opts.db, sealing: sealingFromOptions(opts, dataDir), port: Number(opts.port), host: opts.host, logger: { level: opts.logLevel } }).catch(masterKeyRefusal);
    const cert = await server.services.centre.certificate();
    const clients = await server.services.centre.listClients();
    process.stderr.write(
      [
        'health-pki key management centre',
        `  listening on ${server.url}   (POST ${server.url}/kmc, certificate ${server.url}/kmc/certificate)`,
        `  database ${server.services.database.description}`,
        `  KMC certificate ${cert.subjectText}, serial ${cert.serialHex}`,
        `  clients: ${clients.map((c) => `${c.name}${c.enabled ? '' : ' (disabled)'}`).join(', ') || 'none yet (hpki kmc client add)'}`,
        '',
      ].join('\n'),
    );
    // A daily retention pass: escrows whose retention ended are destroyed and audited.
    const retention = setInterval(() => void server.services.centre.destroyExpired().catch((e: unknown) => process.stderr.write(`hpki kmc: retention pass failed: ${String(e)}\n`)), 86_400_000);
    retention.unref();
    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        process.stderr.write(`hpki kmc: ${signal}: stopping\n`);
        clearInterval(retention);
        server.close().then(done, done);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });

  storeOptions(kmc.command('certificate').description("print the KMC's signing certificate (PEM), for the CAs to pin").option('--out <file>', 'write it here')).action(
    async (opts: StoreFlags & { out?: string }) => {
      const services = await openKmc(opts);
      try {
        writeOutput((await services.centre.certificate()).toPem(), opts.out);
      } finally {
        await services.close();
      }
    },
  );

  const client = kmc.command('client').description('the CAs this KMC serves');
  storeOptions(
    client
      .command('add')
      .description("register a CA: its requests must be signed by the key of this certificate (its KMC-access certificate)")
      .requiredOption('--name <name>', 'short name, e.g. demo-sm2')
      .requiredOption('--cert <file>', "the CA's KMC-access certificate (PEM or DER)"),
  ).action(async (opts: StoreFlags & { name: string; cert: string }) => {
    const certificate = readCertificate(opts.cert);
    const { SYSTEM_PRINCIPAL } = await import('@health-pki/server');
    const services = await openKmc(opts);
    try {
      const added = await services.centre.addClient({ ...SYSTEM_PRINCIPAL, id: 'kmc-operator' }, opts.name, certificate);
      if (opts.json) writeJson({ name: added.name, subject: added.subject, enabled: added.enabled });
      else process.stdout.write(`added client ${added.name}: ${added.subject}\n`);
    } finally {
      await services.close();
    }
  });

  storeOptions(client.command('list').description('list the registered CAs')).action(async (opts: StoreFlags) => {
    const services = await openKmc(opts);
    try {
      const clients = await services.centre.listClients();
      if (opts.json) writeJson(clients.map((c) => ({ name: c.name, subject: c.subject, enabled: c.enabled, createdAt: c.createdAt, serial: c.certificate.serialHex })));
      else process.stdout.write(clients.length ? clients.map((c) => `${c.name}  ${c.enabled ? 'enabled ' : 'disabled'}  ${c.subject}`).join('\n') + '\n' : 'no clients\n');
    } finally {
      await services.close();
    }
  });

  for (const [verb, enabled] of [['disable', false], ['enable', true]] as const) {
    storeOptions(client.command(verb).description(`${verb} a CA client (${enabled ? 'its requests are served again' : 'its requests are refused and audited'})`).argument('<name>', 'the client')).action(
      async (name: string, opts: StoreFlags) => {
        const { SYSTEM_PRINCIPAL } = await import('@health-pki/server');
        const services = await openKmc(opts);
        try {
          await services.centre.setClientEnabled({ ...SYSTEM_PRINCIPAL, id: 'kmc-operator' }, name, enabled);
          if (opts.json) writeJson({ name, enabled });
          else process.stdout.write(`client ${name} ${enabled ? 'enabled' : 'disabled'}\n`);
        } finally {
          await services.close();
        }
      },
    );
  }
}

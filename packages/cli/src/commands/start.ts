/** `hpki start`: run the certification service (RA + CA, REST API) on a data directory or PostgreSQL. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { CliError, readCertificate, usageError } from '../io.js';
import { masterKeyRefusal, sealingFromOptions } from './master-key-options.js';

interface StartOptions {
  data: string;
  port: string;
  host: string;
  db?: string;
  baseUrl?: string;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  ldapPort?: string;
  masterKeyFile?: string;
  sealCipher?: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11Pin?: string;
  kmc: boolean;
  kmcUrl?: string;
  kmcCert?: string;
  /** 'embedded', a mode string given with --platform, or false (--no-platform); undefined: the default. */
  platform?: string | boolean;
  platformUrl?: string;
  platformCert?: string;
  province?: string;
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
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM) and accept officers\' TLS client certificates issued by this deployment\'s CAs (docs/security.md)')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--ldap-port <n>', 'also serve the read-only LDAP directory of certificates and CRLs on this port (on --host; docs/directory.md); off by default')
    .option('--master-key-file <file>', 'master key (32 random bytes, mode 0600) sealing CA keys and materials (env HPKI_MASTER_KEY_FILE; or a passphrase in HPKI_MASTER_PASSPHRASE; default DATA_DIR/master.key, demo only; docs/operations.md)')
    .option('--seal-cipher <cipher>', 'cipher of new sealed objects: aes-256-gcm (default) or sm4-gcm (env HPKI_SEAL_CIPHER)')
    .option('--pkcs11-module <path>', 'PKCS#11 library of the HSM that keeps new CA keys (env HPKI_PKCS11_MODULE; see docs/hsm.md)')
    .option('--pkcs11-token <label>', 'label of the HSM token (env HPKI_PKCS11_TOKEN)')
    .option('--kmc-url <url>', 'the key management centre for dual certificates (with --kmc-cert); default: an embedded KMC in DATA_DIR/kmc (demo; docs/kmc.md)')
    .option('--kmc-cert <file>', "the KMC's signing certificate (PEM or DER), pinned: from `hpki kmc certificate` on the KMC")
    .option('--no-kmc', 'no key management centre: dual certificates and key recovery are refused')
    .option('--platform <mode>', 'the national platform: "embedded" (default) runs one in DATA_DIR/platform in this process, served at /platform/*, and admits the demo CAs (demo; docs/platform.md)')
    .option('--platform-url <url>', 'report to the national platform at this URL instead (with --platform-cert)')
    .option('--platform-cert <file>', "the platform's signing certificate (PEM or DER, from GET /platform/trust-list/certificate), pinned: only certificate queries it signed are answered")
    .option('--no-platform', 'no national platform: nothing is reported, certificate queries are refused')
    .option('--province <code>', 'province code this deployment\'s certificates serve, in the platform\'s two-letter codes (default BJ)')
    .option('--pkcs11-pin <pin>', 'user PIN of the token; prefer env HPKI_PKCS11_PIN, a command line is visible to other users')
    .addHelpText('after', '\nExamples:\n  $ hpki start --data ./data\n  $ hpki start --db postgres://postgres@127.0.0.1:5432/hpki --base-url https://ca.example.cn')
    .action(async (opts: StartOptions) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535) usageError(`--port must be 0-65535, not "${opts.port}"`);
      if (opts.ldapPort !== undefined && (!/^\d{1,5}$/.test(opts.ldapPort) || Number(opts.ldapPort) > 65535)) usageError(`--ldap-port must be 0-65535, not "${opts.ldapPort}"`);
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(opts.logLevel)) usageError(`--log-level "${opts.logLevel}" is not a level`);
      // Loaded here so that the offline commands do not pay for the server's modules.
      const { startServer, isPostgresUrl, redactUrl, pkcs11Config, masterKeyWarning } = await import('@health-pki/server');
      const env = process.env;
      let pkcs11: ReturnType<typeof pkcs11Config>;
      try {
        pkcs11 = pkcs11Config({ module: opts.pkcs11Module ?? env.HPKI_PKCS11_MODULE, token: opts.pkcs11Token ?? env.HPKI_PKCS11_TOKEN, pin: opts.pkcs11Pin ?? env.HPKI_PKCS11_PIN });
      } catch (e) {
        hsmRefusal(e);
      }
      if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
      const dataDir = resolve(opts.data);
      const sealing = sealingFromOptions(opts, dataDir);
      if ((opts.kmcUrl === undefined) !== (opts.kmcCert === undefined)) usageError('--kmc-url and --kmc-cert go together: the KMC and the certificate its answers are signed with');
      if (opts.kmcUrl !== undefined && !opts.kmc) usageError('--no-kmc contradicts --kmc-url');
      const platform = platformOption(opts);
      if (opts.province !== undefined && !/^[A-Z]{2}$/.test(opts.province)) usageError(`--province must be a two-letter code such as GD, not "${opts.province}"`);
      const kmc = opts.kmcUrl !== undefined ? { url: opts.kmcUrl, certificate: readCertificate(opts.kmcCert!) } : opts.kmc ? ('embedded' as const) : undefined;
      const server = await startServer({
        dataDir,
        dbUrl: opts.db,
        port: Number(opts.port),
        host: opts.host,
        baseUrl: opts.baseUrl,
        logger: { level: opts.logLevel },
        tls: tlsFiles(opts),
        ldapPort: opts.ldapPort === undefined ? undefined : Number(opts.ldapPort),
        sealing,
        pkcs11,
        kmc,
        platform,
        province: opts.province,
      })
        .catch(masterKeyRefusal)
        .catch(hsmRefusal);
      const cas = (await server.services.ca.listAuthorities()).map((a) => a.name);
      const created = (names: string[], all: string[]) => all.map((n) => (names.includes(n) ? `${n} (created)` : n)).join(', ');
      process.stderr.write(
        [
          'health-pki certification service',
          `  listening on ${server.url}   (API reference ${server.url}/docs, OpenAPI ${server.url}/openapi.json)`,
          `  certificates point at ${server.baseUrl}`,
          ...(server.directory ? [`  LDAP directory ${server.directory.url} (base c=CN, anonymous, read-only)`] : []),
          `  database ${server.services.database.description}`,
          `  bootstrap administrator token ${server.tokenFile}`,
          `  CAs: ${created(server.createdCas, cas) || 'none'}`,
          `  key management centre: ${kmc === 'embedded' ? 'embedded (DATA_DIR/kmc, demo)' : kmc ? kmc.url : 'none (dual certificates refused)'}`,
          ...platformLines(server, platform),
          `  CA keys and materials sealed under master key ${server.services.sealing.masterKey.key.keyId} (${server.services.sealing.envelope.protection})`,
          ...(masterKeyWarning(server.services.sealing.masterKey) ? [`  ${masterKeyWarning(server.services.sealing.masterKey)}`] : []),
          ...(pkcs11 ? [`  new CA keys are generated in PKCS#11 token "${pkcs11.token}" (${pkcs11.module})`] : []),
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

/** The platform the flags ask for: a remote one, 'embedded' (the default), or none. */
function platformOption(opts: StartOptions): { url: string; certificate: ReturnType<typeof readCertificate> } | 'embedded' | undefined {
  if ((opts.platformUrl === undefined) !== (opts.platformCert === undefined)) usageError('--platform-url and --platform-cert go together: the platform and the certificate its queries are signed with');
  if (opts.platform === false) {
    if (opts.platformUrl !== undefined) usageError('--no-platform contradicts --platform-url');
    return undefined;
  }
  if (typeof opts.platform === 'string' && opts.platform !== 'embedded') usageError(`--platform takes "embedded" (or use --platform-url and --platform-cert, or --no-platform), not "${opts.platform}"`);
  if (opts.platformUrl !== undefined) {
    if (opts.platform === 'embedded') usageError('--platform embedded contradicts --platform-url');
    if (!/^https?:\/\//.test(opts.platformUrl)) usageError(`--platform-url must be an http(s) URL, not "${opts.platformUrl}"`);
    return { url: opts.platformUrl, certificate: readCertificate(opts.platformCert!) };
  }
  return 'embedded';
}

/** The start banner's lines about the platform. */
function platformLines(server: { url: string; platform?: { url: string; services: { adminTokenFile: string } } }, platform: ReturnType<typeof platformOption>): string[] {
  if (server.platform) {
    return [
      `  national platform: embedded (DATA_DIR/platform, demo) at ${server.url}/platform/ — the demo CAs are admitted in the background`,
      `  national-office token of the platform ${server.platform.services.adminTokenFile}`,
    ];
  }
  return [`  national platform: ${platform && platform !== 'embedded' ? `${platform.url} (events sent from the outbox)` : 'none (nothing reported)'}`];
}

/** The --tls-cert/--tls-key pair, read; both or neither. */
function tlsFiles(opts: StartOptions): { cert: Buffer; key: Buffer } | undefined {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) return undefined;
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) usageError('--tls-cert and --tls-key go together');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(resolve(file));
    } catch (e) {
      return usageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
    }
  };
  return { cert: read(opts.tlsCert!, '--tls-cert'), key: read(opts.tlsKey!, '--tls-key') };
}

/** A PKCS#11 module, token or PIN problem (HsmError) is the operator's to fix: said plainly, not as an internal error. */
function hsmRefusal(e: unknown): never {
  if (e instanceof Error && e.name === 'HsmError') throw new CliError(`PKCS#11: ${e.message}`);
  throw e;
}

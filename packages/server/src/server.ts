/**
 * Starting and stopping the whole service: services (store, CA, RA), first-start bootstrap, and
 * the HTTP app listening on a port. `hpki start` and the tests call this.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { bootstrap, openServices, type ServiceOptions, type Services } from './services.js';
import { buildHttpApp } from './http/app.js';
import { DirectoryServer } from './publish/directory/server.js';
import { join } from 'node:path';
import { SYSTEM_PRINCIPAL } from './auth/principal.js';
import type { KmcEndpoint } from './kmc/link.js';
import { startKmcServer, type RunningKmc } from './kmc/server.js';
import { startPlatformServer, type RunningPlatform } from './platform/server.js';
import type { PlatformEndpoint } from './platform-link/link.js';
import { startDemoAdmission, type DemoAdmission } from './platform-link/demo.js';

/** Everything `startServer` needs. */
export interface ServerOptions extends Omit<ServiceOptions, 'baseUrl' | 'kmc' | 'platform'> {
  port?: number;
  host?: string;
  /** Public base URL; defaults to http://<host>:<port> (localhost for 0.0.0.0). */
  baseUrl?: string;
  logger?: FastifyServerOptions['logger'];
  /** Create the bootstrap token and demo CAs on first start (default true). */
  bootstrap?: boolean;
  /**
   * Serve HTTPS with this certificate and key (PEM) and ask clients for a certificate, trusting
   * this deployment's CA certificates as client CAs (as at start-up): a request with a client
   * certificate bound to an officer acts as that officer (see docs/security.md).
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Also serve the read-only LDAP directory (docs/directory.md) on this port, on `host`; off when absent. */
  ldapPort?: number;
  /**
   * The key management centre for dual certificates: a remote one, or 'embedded' — a KMC with its
   * own database and master key in DATA_DIR/kmc, run in this process on a loopback port and told
   * to serve this CA (the demonstration default of `hpki start`). None when absent.
   */
  kmc?: KmcEndpoint | 'embedded';
  /**
   * The national platform this service reports to: a remote one, or 'embedded' — a platform with
   * its own database and master key in DATA_DIR/platform, run in this process on a loopback port,
   * reachable through /platform/* here, which admits the demo CAs at first start (the
   * demonstration default of `hpki start`). None when absent.
   */
  platform?: PlatformEndpoint | 'embedded';
  /** Province code this deployment's certificates serve (the platform's two-letter codes; default "BJ"). */
  province?: string;
}

/** A running service. */
export interface RunningServer {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  baseUrl: string;
  app: FastifyInstance;
  services: Services;
  tokenFile: string;
  createdCas: string[];
  /** The LDAP directory, when `ldapPort` was given. */
  directory?: DirectoryServer;
  /** The embedded platform, when `platform: 'embedded'`. */
  platform?: RunningPlatform;
  /** The embedded platform's admission of the demo CAs, running in the background (resolves with each CA's status). */
  platformAdmission?: DemoAdmission;
  close(): Promise<void>;
}

/** Opens the store, runs the first-start bootstrap, and listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  // Certificates carry the base URL, so it must be known before the services start: with port 0
  // (tests) a free port is picked first, so that the base URL can name it.
  const port = opts.port === 0 && opts.baseUrl === undefined ? await freePort(host) : (opts.port ?? 8080);
  const scheme = opts.tls ? 'https' : 'http';
  const baseUrl = opts.baseUrl ?? `${scheme}://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
  let app: FastifyInstance | undefined;
  let services: Services | undefined;
  let kmc: RunningKmc | undefined;
  let platform: RunningPlatform | undefined;
  try {
    if (opts.kmc === 'embedded') kmc = await startKmcServer({ dataDir: join(opts.dataDir, 'kmc'), port: 0, host: '127.0.0.1', logger: opts.logger === undefined ? { level: 'warn' } : opts.logger, clock: opts.clock });
    const kmcEndpoint = kmc ? { url: kmc.url, certificate: await kmc.services.centre.certificate() } : opts.kmc === 'embedded' ? undefined : opts.kmc;
    // trustProxy: the /platform/* pass-through (platform-link/proxy.ts) connects from 127.0.0.1 and names the visitor in X-Forwarded-For.
    if (opts.platform === 'embedded') platform = await startPlatformServer({ dataDir: join(opts.dataDir, 'platform'), port: 0, host: '127.0.0.1', logger: opts.logger === undefined ? { level: 'warn' } : opts.logger, clock: opts.clock, trustProxy: '127.0.0.1' });
    const platformEndpoint: PlatformEndpoint | undefined = platform
      ? { url: platform.url, certificate: await platform.services.trustList.certificate(), province: opts.province }
      : opts.platform === 'embedded' || opts.platform === undefined
        ? undefined
        : { ...opts.platform, province: opts.province ?? opts.platform.province };
    services = await openServices({ ...opts, baseUrl, kmc: kmcEndpoint, platform: platformEndpoint });
    if (platform) services.platform.proxyTarget = platform.url;
    if (kmc) await serveThisCa(kmc, services);
    const boot = opts.bootstrap === false ? { tokenFile: '', createdCas: [] as string[] } : await bootstrap(services, opts.dataDir);
    const https = opts.tls ? await clientCertificateTls(services, opts.tls) : undefined;
    app = await buildHttpApp(services, { https, logger: opts.logger });
    await app.listen({ port, host });
    const addr = app.server.address();
    const url = typeof addr === 'object' && addr ? `${scheme}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : baseUrl;
    const running = app;
    const svc = services;
    const directory = opts.ldapPort === undefined ? undefined : await DirectoryServer.start(svc, { port: opts.ldapPort, host });
    await svc.platform.start((e, ca) => running.log.error({ err: e, ca }, `the platform link of CA ${ca} cannot start; retried in 30 s`));
    const embedded = platform;
    const platformAdmission = embedded && opts.bootstrap !== false ? startDemoAdmission({ platform: embedded, services: svc, caUrl: url, tokenFile: boot.tokenFile, province: opts.province, log: running.log }) : undefined;
    return {
      url,
      baseUrl,
      app: running,
      services: svc,
      tokenFile: boot.tokenFile,
      createdCas: boot.createdCas,
      directory,
      platform: embedded,
      platformAdmission,
      async close() {
        await platformAdmission?.stop();
        await directory?.close();
        await running.close();
        await svc.close();
        await embedded?.close();
        await kmc?.close();
      },
    };
  } catch (e) {
    await app?.close().catch(() => undefined);
    await services?.close().catch(() => undefined);
    await platform?.close().catch(() => undefined);
    await kmc?.close().catch(() => undefined);
    throw e;
  }
}

/** Registers this CA service's KMC-access certificate with the embedded KMC (once). */
async function serveThisCa(kmc: RunningKmc, services: Services): Promise<void> {
  const access = await services.kmc.accessCertificate();
  const clients = await kmc.services.centre.listClients();
  if (clients.some((c) => c.certificate.der.equals(access.der))) return;
  await kmc.services.centre.addClient(SYSTEM_PRINCIPAL, `local-ca-${clients.length + 1}`, access);
}

/** HTTPS options that request (but do not require) a client certificate issued under this deployment's CAs. */
async function clientCertificateTls(services: Services, tls: { cert: string | Buffer; key: string | Buffer }): Promise<import('node:https').ServerOptions> {
  const { roots, issuing } = await services.auth.certificates.caCertificates();
  // The access hook validates the certificate itself (path, records, binding); TLS only asks for it.
  return { cert: tls.cert, key: tls.key, ca: [...roots, ...issuing].map((c) => c.toPem()), requestCert: true, rejectUnauthorized: false };
}

/** A TCP port that is free right now on `host`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Starting and stopping the whole service: services (store, CA, RA), first-start bootstrap, and
 * the HTTP app listening on a port. `hpki start` and the tests call this.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { bootstrap, openServices, type ServiceOptions, type Services } from './services.js';
import { buildHttpApp } from './http/app.js';

/** Everything `startServer` needs. */
export interface ServerOptions extends Omit<ServiceOptions, 'baseUrl'> {
  port?: number;
  host?: string;
  /** Public base URL; defaults to http://<host>:<port> (localhost for 0.0.0.0). */
  baseUrl?: string;
  logger?: FastifyServerOptions['logger'];
  /** Create the bootstrap token and demo CAs on first start (default true). */
  bootstrap?: boolean;
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
  close(): Promise<void>;
}

/** Opens the store, runs the first-start bootstrap, and listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  // Certificates carry the base URL, so it must be known before the services start: with port 0
  // (tests) a free port is picked first, so that the base URL can name it.
  const port = opts.port === 0 && opts.baseUrl === undefined ? await freePort(host) : (opts.port ?? 8080);
  const baseUrl = opts.baseUrl ?? `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
  let app: FastifyInstance | undefined;
  let services: Services | undefined;
  try {
    services = await openServices({ ...opts, baseUrl });
    const boot = opts.bootstrap === false ? { tokenFile: '', createdCas: [] as string[] } : await bootstrap(services, opts.dataDir);
    app = await buildHttpApp(services, { logger: opts.logger });
    await app.listen({ port, host });
    const addr = app.server.address();
    const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : baseUrl;
    const running = app;
    const svc = services;
    return {
      url,
      baseUrl,
      app: running,
      services: svc,
      tokenFile: boot.tokenFile,
      createdCas: boot.createdCas,
      async close() {
        await running.close();
        await svc.close();
      },
    };
  } catch (e) {
    await app?.close().catch(() => undefined);
    await services?.close().catch(() => undefined);
    throw e;
  }
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

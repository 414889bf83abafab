/**
 * What the standalone services (the KMC, the national platform) share with each other: an app
 * with the service's error and not-found answers, a /healthz that checks the database, and
 * listening with a clean close (the app first, then the services) or a clean failure.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../store/database.js';
import { NotFoundError } from '../errors.js';
import { handleError } from './errors.js';

/**
 * A fastify app with the service's error answers (4xx with a code and a sentence; 5xx logged).
 * `trustProxy` (fastify's: addresses/CIDRs, comma-separated or a list) names the proxies whose
 * X-Forwarded-For is believed for `req.ip`; absent, the socket's address is the client.
 */
export function standaloneApp(opts: { logger?: FastifyServerOptions['logger']; bodyLimit: number; trustProxy?: string | string[] }): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? { level: 'info' }, bodyLimit: opts.bodyLimit, return503OnClosing: true, ...(opts.trustProxy !== undefined && opts.trustProxy.length > 0 ? { trustProxy: opts.trustProxy } : {}) });
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  app.setNotFoundHandler((req, reply) => handleError(new NotFoundError('route.unknown', `no route ${req.method} ${req.url.split('?')[0]}`), req, reply));
  return app;
}

/** GET /healthz: 200 when the database answers, 503 with the reason when it does not. */
export function healthRoute(app: FastifyInstance, database: Database, config: Record<string, unknown> = {}): void {
  app.get('/healthz', { config }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(database.db);
      return { status: 'ok', database: database.dialect };
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', message: e instanceof Error ? e.message : String(e) });
    }
  });
}

/** A standalone service listening. */
export interface RunningStandalone<S> {
  url: string;
  services: S;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds the app over opened `services` and listens; `close` stops the app, then `beforeClose`
 * work, then the services. If anything fails on the way, everything opened is closed again.
 */
export async function listenStandalone<S extends { close(): Promise<void> }>(
  services: S,
  build: () => Promise<FastifyInstance>,
  listen: { port: number; host: string },
  afterListen?: (app: FastifyInstance) => () => void,
): Promise<RunningStandalone<S>> {
  let app: FastifyInstance | undefined;
  try {
    app = await build();
    const url = await app.listen(listen);
    const stop = afterListen?.(app);
    const running = app;
    return {
      url,
      services,
      app: running,
      async close() {
        stop?.();
        await running.close();
        await services.close();
      },
    };
  } catch (e) {
    await app?.close().catch(() => undefined);
    await services.close();
    throw e;
  }
}

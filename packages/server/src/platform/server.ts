/**
 * The national certificate service management platform as its own service (`hpki platform
 * start`): its HTTP app with the registry, sync/statistics and trust-list routes, every route
 * gated by its declared platform access (http/access.ts), and a daily rectification sweep.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { healthRoute, listenStandalone, standaloneApp, type RunningStandalone } from '../http/standalone.js';
import { openPlatformServices, type PlatformServiceOptions, type PlatformServices } from './service.js';
import { installPlatformAccess, principalOf } from './http/access.js';
import { registerRegistryRoutes } from './http/registry-routes.js';
import { registerTrustListRoutes } from './trust-list/index.js';
import { registerSyncRoutes } from './sync/routes.js';

/** The platform's HTTP app (not listening yet). */
export async function buildPlatformApp(services: PlatformServices, opts: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = standaloneApp({ logger: opts.logger, bodyLimit: 2 * 1024 * 1024 });
  installPlatformAccess(app, services.tokens);
  registerRegistryRoutes(app, services);
  registerTrustListRoutes(app, services);
  await registerSyncRoutes(app, { applier: services.applier, statistics: services.statistics, principal: principalOf });
  healthRoute(app, services.database, { platformAccess: 'public' });
  return app;
}

/** A running platform. */
export type RunningPlatform = RunningStandalone<PlatformServices>;

/** Opens the platform and listens on `port` (0: any free port); sweeps expired rectification orders daily. */
export async function startPlatformServer(opts: PlatformServiceOptions & { port?: number; host?: string; logger?: FastifyServerOptions['logger'] }): Promise<RunningPlatform> {
  const services = await openPlatformServices(opts);
  return listenStandalone(services, () => buildPlatformApp(services, { logger: opts.logger }), { port: opts.port ?? 8095, host: opts.host ?? '127.0.0.1' }, (app) => {
    const sweep = () =>
      void services.supervision.sweep().then(
        (t) => t.length && app.log.warn({ terminated: t }, 'rectification deadlines passed: CAs terminated'),
        (e: unknown) => app.log.error({ err: e }, 'rectification sweep failed'),
      );
    sweep();
    const timer = setInterval(sweep, 86_400_000);
    timer.unref();
    return () => clearInterval(timer);
  });
}

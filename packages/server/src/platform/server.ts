/**
 * The national certificate service management platform as its own service (`hpki platform
 * start`): its HTTP app with the registry, sync/statistics and trust-list routes, every route
 * gated by its declared platform access (http/access.ts), a daily rectification sweep, and the
 * OCSP/CRL probes on their schedule (probe/).
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { healthRoute, listenStandalone, standaloneApp, type RunningStandalone } from '../http/standalone.js';
import { openPlatformServices, type PlatformServiceOptions, type PlatformServices } from './service.js';
import { installPlatformAccess, principalOf } from './http/access.js';
import { registerRegistryRoutes } from './http/registry-routes.js';
import { registerTrustListRoutes } from './trust-list/index.js';
import { registerSyncRoutes } from './sync/routes.js';
import { registerConformanceRoutes } from './conformance/routes.js';
import { registerSystemRoutes } from './systems/index.js';
import { registerFeeRoutes } from './fees/index.js';
import { registerFeedbackRoutes } from './feedback/index.js';
import { registerProbeRoutes } from './probe/index.js';

/** How the platform's app is built. */
export interface PlatformAppOptions {
  logger?: FastifyServerOptions['logger'];
  /**
   * The reverse proxies (addresses/CIDRs) whose X-Forwarded-For names the client, so that the
   * per-address complaint limit keys on the visitor, not the proxy. The embedded platform trusts
   * its CA service's loopback pass-through (server.ts); absent, nobody's header is believed.
   */
  trustProxy?: string | string[];
}

/** The platform's HTTP app (not listening yet). */
export async function buildPlatformApp(services: PlatformServices, opts: PlatformAppOptions = {}): Promise<FastifyInstance> {
  const app = standaloneApp({ logger: opts.logger, bodyLimit: 2 * 1024 * 1024, trustProxy: opts.trustProxy });
  installPlatformAccess(app, services.tokens);
  registerRegistryRoutes(app, services);
  registerTrustListRoutes(app, services);
  registerConformanceRoutes(app, { database: services.database, registry: services.registry, signer: services.trustList, conformance: services.conformance, timeoutMs: services.fetchTimeoutMs });
  await registerSyncRoutes(app, { applier: services.applier, statistics: services.statistics, principal: principalOf });
  registerSystemRoutes(app, services.systems);
  registerFeeRoutes(app, { schedules: services.feeSchedules, statements: services.feeStatements });
  registerFeedbackRoutes(app, { complaints: services.complaints, limiter: services.complaintLimiter });
  registerProbeRoutes(app, services.probes);
  healthRoute(app, services.database, { platformAccess: 'public' });
  return app;
}

/** A running platform. */
export type RunningPlatform = RunningStandalone<PlatformServices>;

/** Opens the platform and listens on `port` (0: any free port); sweeps expired rectification orders daily. */
export async function startPlatformServer(opts: PlatformServiceOptions & PlatformAppOptions & { port?: number; host?: string }): Promise<RunningPlatform> {
  const services = await openPlatformServices(opts);
  return listenStandalone(services, () => buildPlatformApp(services, { logger: opts.logger, trustProxy: opts.trustProxy }), { port: opts.port ?? 8095, host: opts.host ?? '127.0.0.1' }, (app) => {
    const sweep = () =>
      void services.supervision.sweep().then(
        (t) => t.length && app.log.warn({ terminated: t }, 'rectification deadlines passed: CAs terminated'),
        (e: unknown) => app.log.error({ err: e }, 'rectification sweep failed'),
      );
    sweep();
    const timer = setInterval(sweep, 86_400_000);
    timer.unref();
    // The OCSP/CRL probes (Art. 11): first round at once, then every probeIntervalMs.
    const stopProbes = services.probeIntervalMs > 0 ? services.probes.schedule(services.probeIntervalMs, (e) => app.log.error({ err: e }, 'OCSP/CRL probe round failed')) : () => undefined;
    return () => {
      clearInterval(timer);
      stopProbes();
    };
  });
}

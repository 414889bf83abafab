/**
 * The HTTP front (Boulder's WFE): fastify with JSON schemas on every route, the OpenAPI 3
 * document at /openapi.json and a browsable reference at /docs, /healthz, Prometheus /metrics,
 * and structured (pino) logs. It only translates HTTP to calls on the modules and back.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from '../services.js';
import { accessHook, describeAccess, type Access } from './access.js';
import { handleError } from './errors.js';
import { ServiceMetrics } from './metrics.js';
import { systemRoutes } from './routes/system.js';
import { caRoutes } from './routes/cas.js';
import { raRoutes } from './routes/ra.js';
import { officerRoutes } from './routes/officers.js';
import { authRoutes } from './routes/auth.js';
import { httpsServerFactory } from './tls.js';
import { queryRoutes } from '../publish/query/routes.js';
import { tsaRoutes } from './routes/tsa.js';
import { recoveryRoutes } from './routes/recovery.js';
import { mediaRoutes } from './routes/media.js';
import { ocspServerFactory, type ServerTimeouts } from '../publish/ocsp/http.js';
import { ocspRoutes } from '../publish/ocsp/routes.js';
import { auditRoutes } from './routes/audit.js';
import { recordsRoutes } from './routes/records.js';
import { registerPlatformLinkRoutes, registerPlatformProxy } from '../platform-link/index.js';
import { holderRoutes } from './routes/holder.js';
import { webRoutes } from './routes/web.js';
import { NotFoundError } from '../errors.js';

/** Options of the HTTP app. */
export interface HttpOptions {
  /** pino logger options, or false for none (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Limit for bodies of routes that set none (bytes). */
  bodyLimit?: number;
  /** Serve HTTPS with these options (key, cert, and client CAs when requesting client certificates). */
  https?: import('node:https').ServerOptions;
  /** Limits on slow and idle connections (publish/ocsp/http.ts). */
  timeouts?: ServerTimeouts;
}

/** Builds the app (not listening yet). */
export async function buildHttpApp(services: Services, opts: HttpOptions = {}): Promise<FastifyInstance> {
  const ocspFactory = ocspServerFactory(services.ocsp, opts.timeouts, (e) => app.log.error({ err: e }, 'OCSP responder failure (answered tryLater)'));
  const app = Fastify({
    logger: opts.logger ?? { level: 'info' },
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    // Unknown fields are errors (400), not silently dropped: a misspelt field must not be ignored.
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // /ocsp/ is answered on node:http before fastify: the responder's throughput is a proof point.
    serverFactory: opts.https ? httpsServerFactory(ocspFactory, opts.https) : ocspFactory,
  });
  const metrics = new ServiceMetrics();
  metrics.install(app);
  metrics.watchGroupCommit(() => services.database.groupCommitStats());
  metrics.watchKmcOutbox(() => services.kmcOutbox.pending());

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'health-pki certification service',
        description: 'RA and CA of a health-sector certification service agency: applications, approvals, issuance, revocation. Certificates point at this service for CA certificates, CRLs and OCSP.',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Bootstrap administrator token (DATA_DIR/admin.token) or an officer token.' } } },
      tags: [
        { name: 'cas', description: 'Certification authorities and profiles' },
        { name: 'ra', description: 'Applications and their review' },
        { name: 'certificates', description: 'Certificate status: revocation, hold, release' },
        { name: 'publication', description: 'What certificates point at' },
        { name: 'tsa', description: 'Time-stamping (RFC 3161)' },
        { name: 'audit', description: 'The audit log: read, export, verify' },
        { name: 'records', description: 'Retention of application records' },
        { name: 'admin', description: 'Administration' },
        { name: 'auth', description: 'Certificate login, sessions, who am I' },
        { name: 'system', description: 'Operations' },
      ],
    },
    // Each route's declared access becomes its security requirement in the document.
    transform: ({ schema, url, route }) => {
      const access = describeAccess((route.config as { access?: Access } | undefined)?.access, route.url);
      const s = { ...(schema ?? {}) } as Record<string, unknown>;
      Object.assign(s, { 'x-hpki-access': access.label, 'x-hpki-roles': access.roles, 'x-hpki-per-ca': access.perCa, 'x-hpki-holder': access.holder });
      s.description = [s.description, access.text].filter(Boolean).join(' ');
      if (access.label !== 'public') s.security = [{ bearer: [] }];
      return { schema: s as typeof schema, url };
    },
  });
  // The documentation UI's own routes are public (the hook must exist before they are added).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onRequest', accessHook(services.auth));
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  app.setNotFoundHandler((req, reply) => handleError(new NotFoundError('route.unknown', `no route ${req.method} ${req.url.split('?')[0]}`), req, reply));

  systemRoutes(app, services, metrics);
  caRoutes(app, services);
  raRoutes(app, services, metrics);
  officerRoutes(app, services);
  authRoutes(app, services);
  queryRoutes(app, services);
  tsaRoutes(app, services);
  recoveryRoutes(app, services);
  mediaRoutes(app, services);
  ocspRoutes(app, services.ocsp);
  auditRoutes(app, services);
  recordsRoutes(app, services);
  await registerPlatformLinkRoutes(app, { link: services.platform, ca: services.ca, ra: services.ra, crls: services.crls, baseUrl: services.ca.urls.base });
  await registerPlatformProxy(app, () => services.platform.proxyTarget);
  holderRoutes(app, services);
  // Last: the web interface's pages, which must not shadow any route above.
  await webRoutes(app);
  return app;
}

/** Operational routes: health, metrics, the OpenAPI document. */
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { ServiceMetrics } from '../metrics.js';

/** Registers /healthz, /metrics and /openapi.json. */
export function systemRoutes(app: FastifyInstance, services: Services, metrics: ServiceMetrics): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Liveness and database reachability',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
          503: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    async (_req, reply) => {
      try {
        await sql`select 1`.execute(services.database.db);
        return { status: 'ok', database: services.database.dialect };
      } catch (e) {
        return reply.code(503).send({ status: 'unavailable', database: services.database.dialect, message: e instanceof Error ? e.message : String(e) });
      }
    },
  );

  app.get('/metrics', { config: { access: 'public' }, schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)' } }, async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}

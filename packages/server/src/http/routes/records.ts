/** Records retention routes: how long an application's materials are kept, their deletion, and the purge job. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

const params = { type: 'object', required: ['ca', 'id'], properties: { ca: { type: 'string', maxLength: 63 }, id: { type: 'string', maxLength: 80 } } } as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };

/** Registers the retention routes. */
export function recordsRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/cas/:ca/applications/:id/retention',
    {
      config: { access: 'officer' },
      schema: {
        tags: ['records'],
        summary: 'Until when the materials of an application must be kept (5 years after its certificate expires)',
        params,
        response: { 200: { type: 'object', properties: { until: { type: 'string', nullable: true }, basis: { type: 'string' }, materials: { type: 'integer' } } }, ...errors },
      },
    },
    async (req) => {
      const p = req.params as { ca: string; id: string };
      return services.records.retention(p.ca, p.id);
    },
  );

  app.delete(
    '/api/v1/cas/:ca/applications/:id/materials',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['records'],
        summary: 'Delete the materials of an application: refused (409) until 5 years after its certificate expired; audited',
        params,
        response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, 409: errorSchema, ...errors },
      },
    },
    async (req) => {
      const p = req.params as { ca: string; id: string };
      return services.records.deleteMaterials(principalOf(req), p.ca, p.id);
    },
  );

  app.post(
    '/api/v1/records/purge',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['records'],
        summary: 'Run the retention job now: purge the materials of applications past their retention date (each purge audited)',
        response: {
          200: { type: 'object', properties: { purged: { type: 'array', items: { type: 'object', properties: { ca: { type: 'string' }, application: { type: 'string' }, materials: { type: 'integer' }, retainedUntil: { type: 'string' } } } } } },
          ...errors,
        },
      },
    },
    async () => ({ purged: await services.records.purgeExpired() }),
  );
}

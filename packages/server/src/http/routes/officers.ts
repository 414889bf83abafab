/** Minting officer tokens (the minimal identities of this issue; the security issue replaces them). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

/** Registers POST /api/v1/officers. */
export function officerRoutes(app: FastifyInstance, services: Services): void {
  app.post(
    '/api/v1/officers',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create a bearer token for an RA officer (shown once)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, role: { type: 'string', enum: ['officer', 'admin'], default: 'officer' } },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string' }, token: { type: 'string' } } }, 400: errorSchema, 409: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as { id: string; role: 'officer' | 'admin' };
      const created = await services.tokens.createToken(principalOf(req), body.id, body.role);
      req.log.info({ officer: created.id, role: created.role }, 'officer token created');
      return reply.code(201).send(created);
    },
  );
}

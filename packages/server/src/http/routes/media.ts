/** Certificate media over HTTP: register a handed-out token's admin PIN; PIN unblock requests, authorised by an officer. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

const str = (max: number, min = 0) => ({ type: 'string', minLength: min, maxLength: max }) as const;
const caParams = { type: 'object', required: ['ca'], properties: { ca: str(64) } } as const;
const idParams = { type: 'object', required: ['ca', 'id'], properties: { ca: str(64), id: str(64) } } as const;

/** Schema of an unblock request (also answered to holders: routes/holder.ts). */
export const unblockSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tokenId: { type: 'string' },
    ca: { type: 'string' },
    holder: { type: 'string' },
    state: { type: 'string' },
    requestedBy: { type: 'string' },
    requestedAt: { type: 'string' },
    decidedBy: { type: ['string', 'null'] },
    decidedAt: { type: ['string', 'null'] },
    response: { type: ['object', 'null'], additionalProperties: true, description: 'The answer for the token (`hpki token unblock --response`), once authorised' },
  },
} as const;

/** Registers the token and PIN-unblock routes. */
export function mediaRoutes(app: FastifyInstance, services: Services): void {
  const { media } = services;
  const responses = { 200: unblockSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };

  app.post(
    '/api/v1/cas/:ca/tokens',
    {
      config: { access: 'ra.enter' },
      schema: {
        tags: ['ra'],
        summary: 'Register a token handed to a holder, with the admin PIN it was initialised with (kept sealed; never shown again)',
        params: caParams,
        body: { type: 'object', additionalProperties: false, required: ['tokenId', 'adminPin', 'holder'], properties: { tokenId: str(32, 32), adminPin: str(64, 6), holder: str(256, 1) } },
        response: { 204: { type: 'null' }, 400: errorSchema, 403: errorSchema, 409: errorSchema },
      },
    },
    async (req, reply) => {
      await media.register(principalOf(req), (req.params as { ca: string }).ca, req.body as { tokenId: string; adminPin: string; holder: string });
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/cas/:ca/unblocks',
    {
      config: { access: 'ra.enter' },
      schema: {
        tags: ['ra'],
        summary: "Enter a token's PIN-unblock request (from `hpki token unblock-request`); it is answered only once an officer authorises it",
        params: caParams,
        body: { type: 'object', additionalProperties: false, required: ['request'], properties: { request: { type: 'object', additionalProperties: true } } },
        response: { ...responses, 201: unblockSchema },
      },
    },
    async (req, reply) => reply.code(201).send((await media.request(principalOf(req), (req.params as { ca: string }).ca, (req.body as { request: unknown }).request))),
  );

  app.get(
    '/api/v1/cas/:ca/unblocks',
    { config: { access: 'ra.read' }, schema: { tags: ['ra'], summary: 'Pending PIN-unblock requests', params: caParams, response: { 200: { type: 'object', properties: { unblocks: { type: 'array', items: unblockSchema } } } } } },
    async (req) => ({ unblocks: await media.pending((req.params as { ca: string }).ca) }),
  );

  app.get(
    '/api/v1/cas/:ca/unblocks/:id',
    { config: { access: 'ra.read' }, schema: { tags: ['ra'], summary: 'One PIN-unblock request, with the answer once authorised', params: idParams, response: responses } },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return media.get(ca, id);
    },
  );

  app.post(
    '/api/v1/cas/:ca/unblocks/:id/authorise',
    {
      config: { access: 'ra.approve' },
      schema: { tags: ['ra'], summary: "Authorise a PIN unblock after checking the holder's identity: the CA answers the token's challenge", params: idParams, response: responses },
    },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return media.authorise(principalOf(req), ca, id);
    },
  );

  app.post(
    '/api/v1/cas/:ca/unblocks/:id/reject',
    {
      config: { access: 'ra.approve' },
      schema: {
        tags: ['ra'],
        summary: 'Refuse a PIN unblock (e.g. the identity check failed)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: str(2000, 1) } },
        response: responses,
      },
    },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return media.reject(principalOf(req), ca, id, (req.body as { reason: string }).reason);
    },
  );
}

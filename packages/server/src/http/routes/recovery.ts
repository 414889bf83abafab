/** Key recovery over HTTP: enter a request, approve it (M-of-N distinct officers), read it and its envelope. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { RecoveryInput, RecoveryView } from '../../ra/recovery.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

const str = (max: number, min = 0) => ({ type: 'string', minLength: min, maxLength: max }) as const;
const caParams = { type: 'object', required: ['ca'], properties: { ca: str(64) } } as const;
const idParams = { type: 'object', required: ['ca', 'id'], properties: { ca: str(64), id: str(64) } } as const;

const recoverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ca: { type: 'string' },
    encSerial: { type: 'string' },
    kind: { type: 'string' },
    recipient: { type: 'string' },
    reason: { type: 'string' },
    state: { type: 'string' },
    requiredApprovals: { type: 'integer' },
    approvals: { type: 'array', items: { type: 'object', properties: { officer: { type: 'string' }, at: { type: 'string' } } } },
    requestedBy: { type: 'string' },
    requestedAt: { type: 'string' },
    decidedAt: { type: ['string', 'null'] },
    envelopedKey: { type: ['string', 'null'], description: 'SM2EnvelopedKey (base64 DER) once delivered; only the recipient key opens it' },
  },
} as const;

function recoveryJson(r: RecoveryView) {
  const { envelope, ...rest } = r;
  return { ...rest, envelopedKey: envelope ? envelope.toString('base64') : null };
}

/** Registers the key-recovery routes. */
export function recoveryRoutes(app: FastifyInstance, services: Services): void {
  const { recovery } = services;
  const responses = { 200: recoverySchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema, 502: errorSchema };

  app.post(
    '/api/v1/cas/:ca/recoveries',
    {
      config: { access: 'ra.enter' },
      schema: {
        tags: ['ra'],
        summary: 'Ask for the recovery of an escrowed encryption key (lost token, or an authorised third party)',
        description: 'Nothing is recovered until enough other officers approve (two by default). A holder recovery names the fresh signing key by a CSR; a third-party recovery names the recipient certificate.',
        params: caParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['encSerial', 'kind', 'reason'],
          properties: {
            encSerial: str(130, 1),
            kind: { type: 'string', enum: ['holder', 'third-party'] },
            recipientCsr: str(16 * 1024, 1),
            recipientCertificate: str(16 * 1024, 1),
            reason: str(2000, 1),
          },
        },
        response: { ...responses, 201: recoverySchema },
      },
    },
    async (req, reply) => {
      const { ca } = req.params as { ca: string };
      const view = await recovery.request(principalOf(req), ca, req.body as RecoveryInput);
      return reply.code(201).send(recoveryJson(view));
    },
  );

  app.get(
    '/api/v1/cas/:ca/recoveries',
    { config: { access: 'ra.read' }, schema: { tags: ['ra'], summary: 'Pending recovery requests (an approver’s queue)', params: caParams, response: { 200: { type: 'object', properties: { recoveries: { type: 'array', items: recoverySchema } } } } } },
    async (req) => ({ recoveries: (await recovery.pending((req.params as { ca: string }).ca)).map(recoveryJson) }),
  );

  app.get(
    '/api/v1/cas/:ca/recoveries/:id',
    { config: { access: 'ra.read' }, schema: { tags: ['ra'], summary: 'One recovery request, with the enveloped key once delivered', params: idParams, response: responses } },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return recoveryJson(await recovery.get(ca, id));
    },
  );

  app.post(
    '/api/v1/cas/:ca/recoveries/:id/approve',
    {
      config: { access: 'ra.approve' },
      schema: { tags: ['ra'], summary: 'Approve a recovery (not the officer who entered it, each officer once); the last approval recovers the key', params: idParams, response: responses },
    },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return recoveryJson(await recovery.approve(principalOf(req), ca, id));
    },
  );

  app.post(
    '/api/v1/cas/:ca/recoveries/:id/reject',
    {
      config: { access: 'ra.approve' },
      schema: {
        tags: ['ra'],
        summary: 'Reject a pending recovery with a reason',
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: str(2000, 1) } },
        response: responses,
      },
    },
    async (req) => {
      const { ca, id } = req.params as { ca: string; id: string };
      return recoveryJson(await recovery.reject(principalOf(req), ca, id, (req.body as { reason: string }).reason));
    },
  );
}

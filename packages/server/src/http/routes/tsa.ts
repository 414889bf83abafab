/**
 * The time-stamp authority over HTTP (RFC 3161 §3.4): POST a DER TimeStampReq as
 * application/timestamp-query, get a DER TimeStampResp as application/timestamp-reply.
 * POST /tsa answers with the default unit, POST /tsa/<unit> with a named one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { TsaUnitView } from '../../tsa/authority.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';
import { chainPem } from '../views.js';
import { ServiceError } from '../../errors.js';

/** A time-stamp request is a few hundred bytes; anything much larger is not one. */
const QUERY_LIMIT = 16 * 1024;

const unitSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    isDefault: { type: 'boolean' },
    authority: { type: 'string' },
    url: { type: 'string' },
    subject: { type: 'string' },
    notAfter: { type: 'string' },
    pem: { type: 'string' },
  },
} as const;

function unitJson(u: TsaUnitView) {
  return { name: u.name, isDefault: u.isDefault, authority: u.authority, url: `/tsa/${u.name}`, subject: u.certificate.subjectText, notAfter: u.certificate.notAfter.toISOString(), pem: chainPem([u.certificate]) };
}

/** Registers the RFC 3161 endpoints and the unit administration routes. */
export function tsaRoutes(app: FastifyInstance, services: Services): void {
  app.addContentTypeParser('application/timestamp-query', { parseAs: 'buffer', bodyLimit: QUERY_LIMIT }, (_req, body, done) => done(null, body));

  const answer = async (req: FastifyRequest, reply: FastifyReply, unit?: string) => {
    // Other media types reach here parsed by their own parsers (JSON → an object): not a request.
    if (req.body !== undefined && !Buffer.isBuffer(req.body)) throw new ServiceError(415, 'tsa.media-type', 'send a DER TimeStampReq with Content-Type application/timestamp-query');
    const response = await services.tsa.stamp((req.body as Buffer | undefined) ?? Buffer.alloc(0), unit);
    return reply.type('application/timestamp-reply').header('cache-control', 'no-store').send(response);
  };
  const stampSchema = (summary: string, params?: object) => ({
    tags: ['tsa'],
    summary,
    description: 'Body: a DER TimeStampReq (Content-Type application/timestamp-query). A malformed or refused request is answered 200 with a rejection TimeStampResp, as RFC 3161 requires.',
    ...(params ? { params } : {}),
    response: { 404: errorSchema, 413: errorSchema, 415: errorSchema },
  });

  app.post('/tsa', { config: { access: 'public' }, schema: stampSchema('Time-stamp with the default unit (RFC 3161)') }, (req, reply) => answer(req, reply));
  app.post(
    '/tsa/:unit',
    { config: { access: 'public' }, schema: stampSchema('Time-stamp with a named unit (RFC 3161), e.g. /tsa/sm2', { type: 'object', required: ['unit'], properties: { unit: { type: 'string', maxLength: 64 } } }) },
    (req, reply) => answer(req, reply, (req.params as { unit: string }).unit),
  );

  app.get(
    '/api/v1/tsa/units',
    { config: { access: 'public' }, schema: { tags: ['tsa'], summary: 'The time-stamp units and their certificates', response: { 200: { type: 'object', properties: { units: { type: 'array', items: unitSchema } } } } } },
    async () => ({ units: (await services.tsa.listUnits()).map(unitJson) }),
  );

  app.post(
    '/api/v1/tsa/units',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['tsa'],
        summary: "Create a time-stamp unit: a fresh key certified by a CA's active issuing CA (profile tsa)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'ca'],
          properties: {
            name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
            ca: { type: 'string', maxLength: 64 },
            isDefault: { type: 'boolean' },
          },
        },
        response: { 201: unitSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; ca: string; isDefault?: boolean };
      const unit = await services.tsa.createUnit(principalOf(req), { name: body.name, authority: body.ca, isDefault: body.isDefault });
      return reply.code(201).send(unitJson(unit));
    },
  );
}

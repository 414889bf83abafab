/** Certification authorities: list, create, inspect, and the CA certificates that AIA points at. */
import type { FastifyInstance } from 'fastify';
import { KEY_ALGORITHMS, listProfiles } from '@health-pki/pki';
import type { Services } from '../../services.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';
import { caJson, caSchema } from '../views.js';
import { NotFoundError } from '../../errors.js';
import { parseCrlFile, serveCrl } from '../../publish/crl/http.js';
import { appendAudit } from '../../audit/log.js';

/** The answer of a CRL rebuild: the new complete CRL of each partition. */
const crlRebuildSchema = {
  type: 'object',
  properties: {
    ca: { type: 'string' },
    label: { type: 'string' },
    ms: { type: 'integer' },
    crls: { type: 'array', items: { type: 'object', properties: { partition: { type: 'integer' }, number: { type: 'string' }, thisUpdate: { type: 'string' }, nextUpdate: { type: 'string' }, entries: { type: 'integer' } } } },
  },
} as const;

const caParams = { type: 'object', required: ['ca'], properties: { ca: { type: 'string', maxLength: 64 } } } as const;

/** Registers the CA routes. */
export function caRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/cas',
    { config: { access: 'public' }, schema: { tags: ['cas'], summary: 'List the CAs of this deployment', response: { 200: { type: 'object', properties: { cas: { type: 'array', items: caSchema } } } } } },
    async () => ({ cas: (await services.ca.listAuthorities()).map(caJson) }),
  );

  app.post(
    '/api/v1/cas',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['cas'],
        summary: 'Create a CA: a root CA and an issuing CA with fresh keys',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'algorithm', 'organization'],
          properties: {
            name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'URL-safe name, e.g. "hospital-ca"' },
            algorithm: { type: 'string', enum: [...KEY_ALGORITHMS] },
            organization: { type: 'string', minLength: 1, maxLength: 64 },
            displayName: { type: 'string', minLength: 1, maxLength: 128 },
            displayNameEn: { type: 'string', minLength: 1, maxLength: 128, description: 'The English display name, for English user interfaces' },
          },
        },
        response: { 201: caSchema, 400: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; algorithm: (typeof KEY_ALGORITHMS)[number]; organization: string; displayName?: string; displayNameEn?: string };
      const created = await services.ca.createAuthority(principalOf(req), body);
      req.log.info({ ca: created.name, algorithm: created.algorithm }, 'CA created');
      return reply.code(201).send(caJson(created));
    },
  );

  app.get(
    '/api/v1/cas/:ca',
    { config: { access: 'public' }, schema: { tags: ['cas'], summary: 'One CA and its hierarchy', params: caParams, response: { 200: caSchema, 404: errorSchema } } },
    async (req) => caJson(await services.ca.getAuthority((req.params as { ca: string }).ca)),
  );

  // An administrator publishes fresh CRLs now (after a mass revocation, or to check the publisher) instead of waiting for the schedule.
  app.post(
    '/api/v1/cas/:ca/crls/:label/rebuild',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['publication'],
        summary: 'Build and publish a new complete CRL (and delta) of one CA of an authority now, every partition',
        params: { type: 'object', required: ['ca', 'label'], properties: { ca: { type: 'string', maxLength: 64 }, label: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } },
        response: { 200: crlRebuildSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const { ca, label } = req.params as { ca: string; label: string };
      await services.ca.caCertificate(ca, label); // 404 for an unknown CA or label
      const started = Date.now();
      const partitions = [0, ...(await services.crls.partitions(ca, label))];
      const crls: Array<{ partition: number; number: string; thisUpdate: string; nextUpdate: string; entries: number }> = [];
      for (const partition of partitions) {
        const full = await services.crls.refreshNow(ca, label, 'full', partition);
        crls.push({ partition, number: String(full.number), thisUpdate: full.thisUpdate.toISOString(), nextUpdate: full.nextUpdate.toISOString(), entries: full.entries });
      }
      const actor = principalOf(req);
      await services.database.transaction((tx) => appendAudit(tx, { actor, action: 'crl.rebuild', target: `ca:${ca}/crl:${label}`, details: { partitions: crls.map((c) => ({ partition: c.partition, number: c.number })) } }));
      return { ca, label, crls, ms: Date.now() - started };
    },
  );

  app.get(
    '/api/v1/profiles',
    {
      config: { access: 'public' },
      schema: {
        tags: ['cas'],
        summary: 'The certificate profiles an application can name',
        response: {
          200: {
            type: 'object',
            properties: {
              profiles: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    class: { type: 'string' },
                    variant: { type: 'string' },
                    displayName: { type: 'object', additionalProperties: true },
                    keyAlgorithms: { type: 'array', items: { type: 'string' } },
                    defaultDays: { type: 'integer' },
                    maxDays: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({
      profiles: listProfiles()
        .filter((p) => p.variant !== 'ca')
        .map((p) => ({ name: p.name, class: p.class, variant: p.variant, displayName: p.displayName, keyAlgorithms: p.keyAlgorithms, defaultDays: p.validity.defaultDays, maxDays: p.validity.maxDays })),
    }),
  );

  // The AIA caIssuers URL of every certificate: the issuing CA's certificate, DER (RFC 5280 §4.2.2.1).
  app.get(
    '/ca/:ca/:file',
    {
      config: { access: 'public' },
      schema: {
        tags: ['publication'],
        summary: 'A CA certificate (DER, application/pkix-cert), e.g. /ca/demo-sm2/issuing-1.crt, or a CRL (application/pkix-crl): /ca/demo-sm2/issuing-1.crl, -delta.crl, -p<n>.crl',
        params: { type: 'object', required: ['ca', 'file'], properties: { ca: { type: 'string', maxLength: 64 }, file: { type: 'string', maxLength: 80 } } },
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca, file } = req.params as { ca: string; file: string };
      const crl = parseCrlFile(file);
      if (crl) return serveCrl(services.crls, ca, crl, req, reply);
      const m = /^([a-z0-9-]{1,64})\.crt$/.exec(file);
      if (!m) throw new NotFoundError('publication.unknown', `nothing is published at /ca/${ca}/${file}; CA certificates are at /ca/${ca}/<label>.crt, CRLs at /ca/${ca}/<label>.crl and <label>-delta.crl`);
      const cert = await services.ca.caCertificate(ca, m[1]!);
      return reply.type('application/pkix-cert').header('cache-control', 'public, max-age=86400').send(cert.der);
    },
  );
}

/**
 * Holder self-service beyond what auth.ts offers (status history, loss report): the list of the
 * calling holder's own certificates, renewing the login certificate (ra/self-service.ts) and
 * asking for a PIN unblock of their token (media/pin-unblock.ts). A holder principal comes from a certificate login; "their"
 * certificates are those of the same CA with exactly the same subject (the rule of
 * AuthService.holderOwns, so the list and the per-certificate checks agree).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { CertificateSearch, type CertificateHit } from '../../ca/search.js';
import { ForbiddenError } from '../../errors.js';
import type { Principal } from '../../auth/principal.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';
import { applicationSchema, certificateJson, certificateSchema, chainPem } from '../views.js';
import { unblockSchema } from './media.js';

/** The most certificates one holder subject is listed with (renewals accumulate slowly). */
const MAX_OWN = 200;

const ownSchema = {
  type: 'object',
  properties: {
    ca: { type: 'string' },
    serial: { type: 'string' },
    issuer: { type: 'string' },
    profile: { type: 'string' },
    subject: { type: 'string' },
    notBefore: { type: 'string' },
    notAfter: { type: 'string' },
    status: { type: 'string' },
    revokedAt: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    current: { type: 'boolean', description: 'the certificate this session logged in with' },
    renewableFrom: { type: 'string', description: "when the holder may renew it themselves (its CA's renewal window: POST /api/v1/me/renewals)" },
  },
} as const;

function ownJson(h: CertificateHit, loginSerial: string, renewableFrom: string) {
  return { ca: h.ca, serial: h.serial, issuer: h.issuer, profile: h.profile, subject: h.subject, notBefore: h.notBefore, notAfter: h.notAfter, status: h.status, revokedAt: h.revokedAt, reason: h.reason, current: h.serial === loginSerial, renewableFrom };
}

/** The holder behind a request, or 403 for officers and tokens (they use the per-CA routes). */
function holderOf(p: Principal): NonNullable<Principal['holder']> {
  if (!p.holder) throw new ForbiddenError('holder.only', `${p.id} is not a certificate holder: log in with a certificate that is not bound to an officer account`);
  return p.holder;
}

/** What a self-service renewal answers: the application (approved by policy) and the new certificate. */
const renewalSchema = { type: 'object', properties: { application: applicationSchema, certificate: certificateSchema, chainPem: { type: 'string' } } } as const;

/** Registers GET /api/v1/me/certificates. */
export function holderRoutes(app: FastifyInstance, services: Services): void {
  const search = new CertificateSearch(services.database);

  app.get(
    '/api/v1/me/certificates',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: "The calling holder's certificates: same CA, same subject as the login certificate, newest first",
        description: 'Only for a session from a certificate login as a holder; officers and tokens get 403 (they search under /api/v1/certificates).',
        response: { 200: { type: 'object', properties: { certificates: { type: 'array', items: ownSchema } } }, 403: errorSchema },
      },
    },
    async (req) => {
      const { ca, serial, subject } = holderOf(principalOf(req));
      // The search matches substrings; the exact-subject filter below is what decides ownership.
      const page = await search.search({ ca, subjectContains: [subject] }, { limit: MAX_OWN });
      const own = page.hits.filter((h) => h.subject === subject);
      own.sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : a.issuedAt > b.issuedAt ? -1 : 0));
      return { certificates: own.map((h) => ownJson(h, serial, services.selfService.renewableFrom(ca, h))) };
    },
  );

  app.post(
    '/api/v1/me/renewals',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'Renew the certificate this session logged in with (holder self-service, approved by the holder-renewal policy)',
        description:
          "Same CA, subject, identity and profile. A CSR with a new key re-keys (the old certificate is revoked as superseded); the same key, or no CSR, renews (the old one stays valid until it expires). Only while the certificate is valid (not revoked, not on hold, not expired), not already renewed, and inside its CA's renewal window (default: the last 30 days or the last third of its validity). Holders only: officers and tokens get 403.",
        body: { type: 'object', additionalProperties: false, properties: { csr: { type: 'string', minLength: 1, maxLength: 65536, description: 'PKCS#10, PEM or base64 DER, with the subject of the certificate renewed' }, serial: { type: 'string', minLength: 1, maxLength: 80, description: 'the certificate to renew; must be the login certificate (default)' } } },
        response: { 201: renewalSchema, 400: errorSchema, 403: errorSchema, 409: errorSchema, 413: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      holderOf(p);
      const a = await services.selfService.renew(p, (req.body ?? {}) as { csr?: string; serial?: string });
      return reply.code(201).send({ application: a.application, certificate: certificateJson(a.issued.record), chainPem: chainPem(a.issued.chain) });
    },
  );

  app.post(
    '/api/v1/me/unblocks',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: "Ask for the PIN unblock of one's token: enter the token's request (`hpki token unblock-request`); an officer of the CA decides it after checking identity",
        description: "The token must be one the holder's CA handed out (registered); one request per token waits at a time. Holders only: officers enter requests at POST /api/v1/cas/{ca}/unblocks.",
        body: { type: 'object', additionalProperties: false, required: ['request'], properties: { request: { type: 'object', additionalProperties: true } } },
        response: { 201: unblockSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      holderOf(p);
      return reply.code(201).send(await services.media.requestByHolder(p, (req.body as { request: unknown }).request));
    },
  );

  app.get(
    '/api/v1/me/unblocks',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The PIN-unblock requests this holder entered, newest first, with the answer for the token once an officer authorised it',
        response: { 200: { type: 'object', properties: { unblocks: { type: 'array', items: unblockSchema } } }, 403: errorSchema },
      },
    },
    async (req) => {
      const p = principalOf(req);
      holderOf(p);
      return { unblocks: await services.media.holderRequests(p) };
    },
  );
}

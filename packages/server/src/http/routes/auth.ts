/**
 * Login and the holder's own routes: certificate login by signed challenge, logout, whoami, and
 * what a certificate holder may do with their own certificates (see the status history, report
 * the loss of the medium, which puts the certificate on hold).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { CHALLENGE_TTL_MS, LOGIN_PREFIX, parseLoginCertificate } from '../../auth/cert-login.js';
import { RateLimitedError } from '../../auth/rate-limit.js';
import { sha256Hex } from '../../auth/secrets.js';
import { grantsOf } from '../../auth/principal.js';
import { normalizeSerial } from '../../ca/authority.js';
import { ConflictError, InvalidRequestError } from '../../errors.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';
import { certificateJson, certificateSchema } from '../views.js';

const principalSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    via: { type: 'string' },
    grants: { type: 'array', items: { type: 'object', properties: { role: { type: 'string' }, ca: { type: 'string' } } } },
    holder: { type: 'object', nullable: true, properties: { ca: { type: 'string' }, serial: { type: 'string' }, subject: { type: 'string' } } },
  },
} as const;
const certParams = { type: 'object', required: ['ca', 'serial'], properties: { ca: { type: 'string', maxLength: 64 }, serial: { type: 'string', maxLength: 130 } } } as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function principalJson(p: ReturnType<typeof principalOf>) {
  return { id: p.id, role: p.role, via: p.via ?? 'token', grants: [...grantsOf(p)], holder: p.holder ?? null };
}

/** Registers the login and holder routes. */
export function authRoutes(app: FastifyInstance, services: Services): void {
  const auth = services.auth;

  app.post(
    '/api/v1/auth/challenge',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Start a certificate login: a single-use challenge bound to the certificate that will answer it',
        description: `Sign the bytes of "toBeSigned" (the ASCII text "${LOGIN_PREFIX.replace('\n', '\\n')}" followed by the challenge) with the certificate's key: SM2 with the default user ID, ECDSA or RSA PKCS#1 v1.5, with the hash its key implies (SM3, SHA-256, SHA-384 for P-384). Valid ${CHALLENGE_TTL_MS / 1000} s.`,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { certificate: { type: 'string', maxLength: 65536, description: 'PEM or base64 DER' }, certificateSha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
        },
        response: { 200: { type: 'object', properties: { challenge: { type: 'string' }, toBeSigned: { type: 'string', description: 'base64' }, expiresAt: { type: 'string' } } }, 400: errorSchema, 429: errorSchema },
      },
    },
    async (req, reply) => {
      const b = (req.body ?? {}) as { certificate?: string; certificateSha256?: string };
      if ((b.certificate === undefined) === (b.certificateSha256 === undefined)) throw new InvalidRequestError('auth.challenge', 'give the certificate (PEM or base64) or its SHA-256');
      try {
        auth.limiter.check([`address ${req.ip}`]);
      } catch (e) {
        if (e instanceof RateLimitedError) reply.header('retry-after', String(e.retryAfter));
        throw e;
      }
      const certSha256 = b.certificateSha256?.toLowerCase() ?? sha256Hex(parseLoginCertificate(b.certificate!).der);
      return auth.certificates.challenge(certSha256);
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Finish a certificate login: the certificate (and its chain) and the signature over the challenge; returns a session token',
        description: 'The certificate must validate against this deployment\'s CAs and be neither revoked nor on hold in their records. Bound to an officer account it logs in as that officer; otherwise as the certificate\'s holder. Failures are audited and, after 10 in 10 minutes per address or certificate, answered 429.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['challenge', 'certificate', 'signature'],
          properties: {
            challenge: { type: 'string', minLength: 1, maxLength: 100 },
            certificate: { type: 'string', maxLength: 65536, description: 'PEM or base64 DER' },
            chain: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 65536 } },
            signature: { type: 'string', minLength: 1, maxLength: 4096, description: 'base64; ECDSA and SM2 signatures DER-encoded' },
          },
        },
        response: {
          200: { type: 'object', properties: { token: { type: 'string' }, sessionId: { type: 'string' }, expiresAt: { type: 'string' }, principal: principalSchema } },
          400: errorSchema,
          401: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { challenge: string; certificate: string; chain?: string[]; signature: string };
      const sig = b.signature.replace(/\s+/g, '');
      if (sig.length % 4 !== 0 || !BASE64.test(sig)) throw new InvalidRequestError('base64', 'the signature is not valid base64');
      try {
        const { session, principal } = await auth.login(
          { challenge: b.challenge, certificate: parseLoginCertificate(b.certificate), chain: (b.chain ?? []).map(parseLoginCertificate), signature: Buffer.from(sig, 'base64') },
          req.ip,
        );
        req.log.info({ principal: principal.id, session: session.id }, 'certificate login');
        return { token: session.token, sessionId: session.id, expiresAt: session.expiresAt, principal: principalJson(principal) };
      } catch (e) {
        if (e instanceof RateLimitedError) reply.header('retry-after', String(e.retryAfter));
        throw e;
      }
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: 'authenticated' }, schema: { tags: ['auth'], summary: 'End the calling session (its token stops working at once)', response: { 200: { type: 'object', properties: { revoked: { type: 'string' } } }, 409: errorSchema } } },
    async (req) => {
      const p = principalOf(req);
      if (p.via !== 'session' || !p.credentialId) throw new ConflictError('auth.not-a-session', 'only a login session can log out; API tokens are revoked under /api/v1/tokens');
      await auth.accounts.revoke(p, p.credentialId);
      return { revoked: p.credentialId };
    },
  );

  app.get(
    '/api/v1/auth/whoami',
    { config: { access: 'authenticated' }, schema: { tags: ['auth'], summary: 'Who the credential belongs to: id, roles per CA, holder certificate', response: { 200: principalSchema } } },
    async (req) => principalJson(principalOf(req)),
  );

  app.get(
    '/api/v1/cas/:ca/certificates/:serial/history',
    {
      config: { access: 'holder.self' },
      schema: {
        tags: ['certificates'],
        summary: 'A certificate with its status history (its holder, or officers of its CA)',
        params: certParams,
        response: {
          200: {
            type: 'object',
            properties: {
              certificate: certificateSchema,
              history: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const { ca, serial } = req.params as { ca: string; serial: string };
      const key = normalizeSerial(serial);
      return { certificate: certificateJson(await services.ca.getCertificate(ca, key)), history: await services.ca.statusHistory(ca, key) };
    },
  );

  app.post(
    '/api/v1/cas/:ca/certificates/:serial/report-loss',
    {
      config: { access: 'holder.self' },
      schema: {
        tags: ['certificates'],
        summary: 'Report the loss of the medium holding this certificate\'s key: the certificate goes on hold at once (its holder, or officers of its CA)',
        description: 'An officer then revokes it (keyCompromise) or, if the medium is found, releases it.',
        params: certParams,
        body: { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', maxLength: 2000 } } },
        response: { 200: certificateSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req) => {
      const { ca, serial } = req.params as { ca: string; serial: string };
      const p = principalOf(req);
      const comment = (req.body as { comment?: string } | undefined)?.comment;
      const record = await services.ra.hold(p, ca, normalizeSerial(serial), `loss reported by ${p.role === 'holder' ? 'the holder' : p.id}${comment ? `: ${comment}` : ''}`);
      req.log.info({ ca, serial: record.serial, by: p.id }, 'loss reported: certificate on hold');
      return certificateJson(record);
    },
  );
}

/**
 * The platform link's routes on the CA service:
 *   POST /api/v1/platform-access/:ca/query    the platform's certificate query (query.ts)
 *   GET  /api/v1/platform-access/:ca          public: what the CA files with the platform — its
 *                                             CA certificates, platform-access certificate and
 *                                             query interface URL
 *   GET  /api/v1/platform-access/:ca/outbox   auditors and administrators: the CA's outbox
 *                                             (pending, sent, conflicts, last error)
 *   POST /api/v1/platform-access/:ca/samples  RA approvers who may approve what they enter (the
 *                                             demo's bootstrap administrator): issue the
 *                                             application's sample certificates (samples.ts)
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformLink } from './link.js';
import { registerQueryRoute } from './query.js';
import { outboxState } from './outbox-state.js';
import { makeSamples } from './samples.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import type { RegistrationAuthority } from '../ra/registration.js';
import type { CrlService } from '../publish/crl/publisher.js';
import { principalOf } from '../http/access.js';
import { ServiceError } from '../errors.js';

const caParams = { type: 'object', required: ['ca'], properties: { ca: { type: 'string', maxLength: 64 } } } as const;

/** Adds the platform link's routes. */
export async function registerPlatformLinkRoutes(app: FastifyInstance, deps: { link: PlatformLink; ca: CertificateAuthorities; ra: RegistrationAuthority; crls: CrlService; baseUrl: string }): Promise<void> {
  const { link, baseUrl } = deps;
  await registerQueryRoute(app, link.query);
  app.get<{ Params: { ca: string } }>(
    '/api/v1/platform-access/:ca',
    { config: { access: 'public' }, schema: { tags: ['platform'], summary: "What this CA files with the national platform: its CA certificates, platform-access certificate and certificate query URL", params: caParams } },
    async (req) => {
      const name = req.params.ca;
      // Without a platform nothing is filed, and a public GET must not make the identity (a certificate).
      if (!link.configured) throw new ServiceError(422, 'platform.unconfigured', 'this CA service is not connected to a platform (hpki start --platform-url and --platform-cert, or --platform embedded)');
      const [chain, identity] = [await link.ca.chain(name), await link.identities.get(name)];
      return {
        ca: name,
        certificates: [...chain].reverse().map((c) => c.toPem()),
        platformAccessCertificate: identity.certificate.toPem(),
        endpoints: { query: `${baseUrl.replace(/\/+$/, '')}/api/v1/platform-access/${encodeURIComponent(name)}/query` },
        platform: link.platform ? { url: link.platform.url, province: link.province } : null,
      };
    },
  );
  app.get<{ Params: { ca: string } }>(
    '/api/v1/platform-access/:ca/outbox',
    { config: { access: { permission: 'auditor', perCa: false } }, schema: { tags: ['platform'], summary: "The CA's outbox of events for the platform: pending, sent, conflicts", params: caParams } },
    async (req) => {
      await link.ca.getAuthority(req.params.ca);
      return { ca: req.params.ca, ...(await outboxState(link.database, req.params.ca)), ...(link.lastError(req.params.ca) ? { lastError: link.lastError(req.params.ca) } : {}) };
    },
  );
  app.post<{ Params: { ca: string } }>(
    '/api/v1/platform-access/:ca/samples',
    { config: { access: 'ra.approve' }, schema: { tags: ['platform'], summary: 'Issue the sample certificates of the platform application: one good, one revoked (listed in a fresh complete CRL)', params: caParams } },
    async (req, reply) => reply.code(201).send(await makeSamples(deps, principalOf(req), req.params.ca)),
  );
}

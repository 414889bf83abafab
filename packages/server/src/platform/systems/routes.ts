/**
 * The information-system registry over HTTP (JSON). Scope rules live in InformationSystems; the
 * declarations here are the coarse role gate the walk test checks.
 *   POST /platform/systems                          national, provincial: register a system
 *   GET  /platform/systems, /platform/systems/:id   what the caller may see
 *   POST /platform/systems/:id/accepted-cas         { acceptedCas }  replace the accepted CAs
 *   POST /platform/systems/:id/usage                { records: [{ holder, ca, class, at?, unit? }] }
 *   POST /platform/systems/:id/usage/end            { records: [{ holder, ca, class, at? }] }
 *   GET  /platform/systems/:id/usage?limit&offset   offices and auditors
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformRole } from '../registry/roles.js';
import { ANY_ROLE, principalOf, type PlatformAccess } from '../http/access.js';
import type { InformationSystems } from './systems.js';

const roles = (...r: PlatformRole[]): { platformAccess: PlatformAccess } => ({ platformAccess: { roles: r } });
type IdParams = { Params: { id: string } };

/** Adds the information-system routes to the platform's app. */
export function registerSystemRoutes(app: FastifyInstance, systems: InformationSystems): void {
  const offices = roles('national', 'provincial');
  app.post('/platform/systems', { config: offices }, async (req, reply) => reply.code(201).send(await systems.register(await principalOf(req), req.body)));
  app.get('/platform/systems', { config: { platformAccess: ANY_ROLE } }, async (req) => ({ systems: await systems.listFor(await principalOf(req)) }));
  app.get<IdParams>('/platform/systems/:id', { config: { platformAccess: ANY_ROLE } }, async (req) => systems.getFor(await principalOf(req), req.params.id));
  app.post<IdParams>('/platform/systems/:id/accepted-cas', { config: offices }, async (req) =>
    systems.setAcceptedCas(await principalOf(req), req.params.id, (req.body as Record<string, unknown> | undefined)?.acceptedCas),
  );
  app.post<IdParams>('/platform/systems/:id/usage', { config: offices }, async (req) => systems.recordUsage(await principalOf(req), req.params.id, req.body));
  app.post<IdParams>('/platform/systems/:id/usage/end', { config: offices }, async (req) => systems.endUsage(await principalOf(req), req.params.id, req.body));
  app.get<IdParams & { Querystring: { limit?: string; offset?: string } }>('/platform/systems/:id/usage', { config: roles('national', 'provincial', 'auditor') }, async (req) =>
    systems.usage(await principalOf(req), req.params.id, req.query),
  );
}

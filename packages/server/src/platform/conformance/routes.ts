/**
 * The conformance test and certificate queries over HTTP:
 *   POST /platform/cas/:name/conformance/run      national: test the CA's live endpoints now and
 *                                                 store the report → { report, ca }
 *   POST /platform/cas/:name/certificates/query   national, provincial (home province), auditor:
 *                                                 { serials } → the CA's verified answer
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformRole } from '../registry/roles.js';
import { principalOf, type PlatformAccess } from '../http/access.js';
import { caJson } from '../http/registry-routes.js';
import type { ConformanceRunner } from './runner.js';
import { officeQuery, type OfficeQueryDeps } from './office-query.js';

/** What the routes need. */
export interface ConformanceRouteDeps extends OfficeQueryDeps {
  conformance: ConformanceRunner;
}

const roles = (...r: PlatformRole[]): { platformAccess: PlatformAccess } => ({ platformAccess: { roles: r } });
type NameParams = { Params: { name: string } };

/** Adds the conformance and query routes to the platform's app. */
export function registerConformanceRoutes(app: FastifyInstance, deps: ConformanceRouteDeps): void {
  app.post<NameParams>('/platform/cas/:name/conformance/run', { config: roles('national') }, async (req) => {
    const { document, ca } = await deps.conformance.run(await principalOf(req), req.params.name);
    return { report: document, ca: caJson(ca) };
  });
  app.post<NameParams>('/platform/cas/:name/certificates/query', { config: roles('national', 'provincial', 'auditor') }, async (req) => officeQuery(deps, await principalOf(req), req.params.name, req.body));
}

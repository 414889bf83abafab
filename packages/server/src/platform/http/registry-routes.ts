/**
 * The registry over HTTP (JSON). Scope rules live in the registry; the declarations here are the
 * coarse role gate the walk test checks.
 *   POST /platform/tokens                          national: mint a role token
 *   GET  /platform/whoami
 *   POST /platform/cas                             apply (CA itself, its province, national)
 *   GET  /platform/cas, /platform/cas/:name        what the caller may see
 *   POST /platform/cas/:name/province-review       { approve, note }
 *   POST /platform/cas/:name/conformance-inputs    { endpoints?, samples? }  the conformance test's inputs
 *   POST /platform/cas/:name/conformance           { passed, faults, document }  an OFFLINE report (a test run
 *                                                  elsewhere); the platform's own test is .../conformance/run
 *   POST /platform/cas/:name/{approve,reject,suspend,resume,terminate}   { note }
 *   POST /platform/cas/:name/selection             { note }  (national or province scope)
 *   GET  /platform/selections?scope=national|GD    public: which connected CAs serve a scope
 *   POST /platform/cas/:name/inspections           { plannedFor };  POST /platform/inspections/:id/record { findings }
 *   POST /platform/cas/:name/evaluations           { passed, findings }
 *   GET  /platform/inspections, /platform/evaluations, /platform/rectifications
 *   POST /platform/rectifications/sweep            national: end orders past their deadline now
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import type { CaRegistry, CaRecord } from '../registry/registry.js';
import type { Supervision } from '../registry/supervision.js';
import type { PlatformTokens, PlatformRole } from '../registry/roles.js';
import { ANY_ROLE, principalOf, type PlatformAccess } from './access.js';

/** What the routes need. */
export interface RegistryRouteDeps {
  registry: CaRegistry;
  supervision: Supervision;
  tokens: PlatformTokens;
}

/** A CA as JSON (certificates as PEM). */
export function caJson(ca: CaRecord): Record<string, unknown> {
  return { ...ca, certificates: ca.certificates.map((c) => c.toPem()), platformAccessCertificate: ca.platformAccessCertificate?.toPem() };
}

const roles = (...r: PlatformRole[]): { platformAccess: PlatformAccess } => ({ platformAccess: { roles: r } });
type NameParams = { Params: { name: string } };
type Body = Record<string, unknown> | undefined;

function note(body: unknown): string | undefined {
  const n = (body as Body)?.note;
  if (n !== undefined && typeof n !== 'string') throw new InvalidRequestError('platform.note', 'note must be a text');
  return n as string | undefined;
}

/** Adds the registry routes to the platform's app. */
export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  const { registry, supervision } = deps;
  const any = { platformAccess: ANY_ROLE };

  app.post('/platform/tokens', { config: roles('national') }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, string>;
    return reply.code(201).send(await deps.tokens.create(await principalOf(req), { id: b.id, role: b.role as PlatformRole, province: b.province, ca: b.ca }));
  });
  app.get('/platform/whoami', { config: any }, async (req) => principalOf(req));

  app.post('/platform/cas', { config: roles('national', 'provincial', 'ca') }, async (req, reply) => reply.code(201).send(caJson(await registry.apply(await principalOf(req), req.body))));
  app.get('/platform/cas', { config: any }, async (req) => ({ cas: (await registry.listFor(await principalOf(req))).map(caJson) }));
  app.get<NameParams>('/platform/cas/:name', { config: any }, async (req) => caJson(await registry.getFor(await principalOf(req), req.params.name)));
  app.post<NameParams>('/platform/cas/:name/province-review', { config: roles('provincial') }, async (req) => {
    const approve = (req.body as Body)?.approve;
    if (typeof approve !== 'boolean') throw new InvalidRequestError('platform.review.approve', 'approve must be true or false');
    return caJson(await registry.provinceReview(await principalOf(req), req.params.name, { approve, note: note(req.body) }));
  });
  app.post<NameParams>('/platform/cas/:name/conformance-inputs', { config: roles('national', 'provincial', 'ca') }, async (req) => caJson(await registry.updateConformanceInputs(await principalOf(req), req.params.name, req.body)));
  // An offline report, stored as given (source "offline"); the automated test is POST .../conformance/run (conformance/routes.ts).
  app.post<NameParams>('/platform/cas/:name/conformance', { config: roles('national') }, async (req) => caJson(await registry.recordConformance(await principalOf(req), req.params.name, req.body, 'offline')));
  const actions = { approve: ['national'], reject: ['national', 'provincial'], suspend: ['national'], resume: ['national'], terminate: ['national'] } as const;
  for (const [action, who] of Object.entries(actions)) {
    app.post<NameParams>(`/platform/cas/:name/${action}`, { config: roles(...who) }, async (req) =>
      caJson(await registry[action as keyof typeof actions](await principalOf(req), req.params.name, note(req.body))),
    );
  }

  app.post<NameParams>('/platform/cas/:name/selection', { config: roles('national', 'provincial') }, async (req, reply) =>
    reply.code(201).send(await supervision.select(await principalOf(req), req.params.name, note(req.body) ?? '')),
  );
  app.get<{ Querystring: { scope?: string } }>('/platform/selections', { config: { platformAccess: 'public' } }, async (req) => ({
    selections: await supervision.selections(req.query.scope ?? 'national'),
  }));
  app.post<NameParams>('/platform/cas/:name/inspections', { config: roles('national', 'provincial') }, async (req, reply) =>
    reply.code(201).send(await supervision.planInspection(await principalOf(req), req.params.name, (req.body as Body)?.plannedFor)),
  );
  app.post<{ Params: { id: string } }>('/platform/inspections/:id/record', { config: roles('national', 'provincial') }, async (req) =>
    supervision.recordInspection(await principalOf(req), req.params.id, (req.body as Body)?.findings),
  );
  app.get('/platform/inspections', { config: any }, async (req) => ({ inspections: await supervision.inspections(await principalOf(req)) }));
  app.post<NameParams>('/platform/cas/:name/evaluations', { config: roles('provincial') }, async (req, reply) =>
    reply.code(201).send(await supervision.evaluate(await principalOf(req), req.params.name, (req.body ?? {}) as Record<string, unknown>)),
  );
  app.get('/platform/evaluations', { config: any }, async (req) => ({ evaluations: await supervision.evaluations(await principalOf(req)) }));
  app.get('/platform/rectifications', { config: any }, async (req) => ({ rectifications: await supervision.rectifications(await principalOf(req)) }));
  app.post('/platform/rectifications/sweep', { config: roles('national') }, async () => ({ terminated: await supervision.sweep() }));
}

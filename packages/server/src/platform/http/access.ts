/**
 * Every platform route declares who may call it, in `config.platformAccess` (the CA service's
 * `config.access` has its own vocabulary): "public", "signature" (the body authenticates itself,
 * like a signed sync batch) or `{ roles: [...] }` (a platform bearer token of one of the roles).
 * A route without a declaration is refused with 500 at startup, never served open.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError } from '../../errors.js';
import { PLATFORM_ROLES, type PlatformPrincipal, type PlatformRole, type PlatformTokens } from '../registry/roles.js';

/** Who may call a platform route. */
export type PlatformAccess = 'public' | 'signature' | { roles: readonly PlatformRole[] };

declare module 'fastify' {
  interface FastifyContextConfig {
    platformAccess?: PlatformAccess;
  }
  interface FastifyRequest {
    platformPrincipal?: PlatformPrincipal;
  }
}

/** Any platform role. */
export const ANY_ROLE: PlatformAccess = { roles: PLATFORM_ROLES };

/** The declaration of a route: `platformAccess`, or the `access` of modules that used the CA service's key for "public"/"signature"/roles. */
export function declaredAccess(config: unknown): PlatformAccess | undefined {
  const c = (config ?? {}) as { platformAccess?: PlatformAccess; access?: unknown };
  if (c.platformAccess) return c.platformAccess;
  const a = c.access;
  if (a === 'public' || a === 'signature') return a;
  if (a && typeof a === 'object' && Array.isArray((a as { roles?: unknown }).roles)) return a as PlatformAccess;
  return undefined;
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** A route of the platform app with its declaration (for the walk test and docs). */
export interface DeclaredRoute {
  method: string;
  url: string;
  access: PlatformAccess;
}

const routesOf = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** The routes declared on an app made with `installPlatformAccess`. */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  return [...(routesOf.get(app) ?? [])];
}

/** Installs the check: the declared access is enforced before any handler runs. */
export function installPlatformAccess(app: FastifyInstance, tokens: PlatformTokens): void {
  const routes: DeclaredRoute[] = [];
  routesOf.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || route.url === '*') return;
    const access = declaredAccess(route.config);
    if (!access) throw new Error(`platform route ${String(route.method)} ${route.url} declares no platformAccess`);
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url, access });
  });
  app.addHook('onRequest', async (req) => {
    const access = declaredAccess(req.routeOptions.config);
    if (!access) return; // the not-found handler
    const token = bearer(req);
    const principal = token ? await tokens.authenticate(token) : undefined;
    if (principal) req.platformPrincipal = principal;
    if (access === 'public' || access === 'signature') return;
    if (!principal) throw new UnauthenticatedError(token ? 'unknown platform token' : 'this route needs a platform bearer token');
    if (!access.roles.includes(principal.role)) throw new ForbiddenError('platform.role', `this route needs the role ${access.roles.join(' or ')}, not ${principal.role}`);
  });
}

/** The authenticated principal of a role-declared route (401 if absent, e.g. on a public route). */
export async function principalOf(req: FastifyRequest): Promise<PlatformPrincipal> {
  if (!req.platformPrincipal) throw new UnauthenticatedError('this operation needs a platform bearer token');
  return req.platformPrincipal;
}

/**
 * Who may call a route. Each route declares `config.access`; this hook enforces it before the
 * handler runs and attaches the caller's Principal. The OpenAPI document is generated from the
 * same declaration (see app.ts), so the documentation cannot disagree with the enforcement.
 *
 * SEAM (security issue): today the credential is a bearer token (auth/tokens.ts); that issue
 * adds certificate login and per-CA roles here, without touching the routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { TokenRegistry } from '../auth/tokens.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';

/** What a route needs: nothing, an RA officer (or administrator), or an administrator. */
export type Access = 'public' | 'officer' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The principal of an authenticated request; throws 401 when the route had none. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new UnauthenticatedError('this operation needs "Authorization: Bearer <token>"');
  return req.principal;
}

/** Builds the onRequest hook enforcing each route's declared access. Routes that declare none need an administrator. */
export function accessHook(tokens: TokenRegistry) {
  return async function checkAccess(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    // Unmatched URLs fall through to the 404 handler without asking for credentials.
    if (req.routeOptions.url === undefined) return;
    const access: Access = req.routeOptions.config.access ?? 'admin';
    if (access === 'public') return;
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9._~+/=-]{16,256})\s*$/i.exec(header) : null;
    if (!m) throw new UnauthenticatedError('this operation needs "Authorization: Bearer <token>" (the bootstrap token is in DATA_DIR/admin.token)');
    const principal = await tokens.authenticate(m[1]!);
    if (!principal) throw new UnauthenticatedError('the bearer token is not known to this service');
    if (access === 'admin' && principal.role !== 'admin') throw new ForbiddenError('auth.admin', 'this operation needs an administrator');
    req.principal = principal;
  };
}

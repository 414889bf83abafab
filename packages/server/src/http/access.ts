/**
 * Who may call a route. Each route declares `config.access`; this hook enforces it before the
 * handler runs and attaches the caller's Principal. The OpenAPI document is generated from the
 * same declaration (see app.ts and `describeAccess`), so the documentation cannot disagree with
 * the enforcement.
 *
 * A declaration is 'public', one of the simple role values ('officer', 'auditor', 'admin'), a
 * named permission ('ra.approve', 'audit.read', 'holder.self', … see auth/permissions.ts), or
 * `{ permission, perCa }`. On a route with a `:ca` parameter the grant must cover that CA
 * (an officer of CA "a" cannot approve for CA "b") unless `perCa: false`.
 *
 * Credentials: `Authorization: Bearer <secret>` (API token, login session, bootstrap token), or,
 * when the server runs HTTPS with client certificates, the TLS client certificate.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Certificate } from '@health-pki/pki';
import type { Principal } from '../auth/principal.js';
import { decide, PERMISSIONS, rolesWith, SIMPLE_ACCESS, type Permission, type Requirement } from '../auth/permissions.js';
import type { AuthService } from '../auth/service.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';

/** The simple values: nothing, an RA officer, an auditor, or an administrator (administrators pass every check). */
export type SimpleAccess = 'public' | keyof typeof SIMPLE_ACCESS;

/** What a route needs. */
export type Access = SimpleAccess | Permission | { permission: Permission | keyof typeof SIMPLE_ACCESS; perCa?: boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const HOW = 'send "Authorization: Bearer <token>" (an API token, a session from POST /api/v1/auth/login, or the bootstrap token in DATA_DIR/admin.token) or a TLS client certificate';

/** The principal of an authenticated request; throws 401 when the route had none. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new UnauthenticatedError(`this operation needs credentials: ${HOW}`);
  return req.principal;
}

/** The normalised requirement of a declaration on a route URL; undefined for public routes. */
export function requirementOf(access: Access | undefined, url: string): Requirement | undefined {
  const a = access ?? 'admin';
  if (a === 'public') return undefined;
  const declared = typeof a === 'string' ? a : a.permission;
  const permission: Permission = declared in SIMPLE_ACCESS ? SIMPLE_ACCESS[declared as keyof typeof SIMPLE_ACCESS] : (declared as Permission);
  if (!PERMISSIONS.includes(permission)) throw new Error(`route ${url} declares unknown access "${declared}"`);
  const hasCa = /(^|\/):ca(\/|$)/.test(url);
  return { label: declared, permission, perCa: hasCa && (typeof a === 'string' || a.perCa !== false) };
}

/** What the OpenAPI document says about a route's access. */
export interface AccessDescription {
  /** x-hpki-access: 'public', the simple value or the permission declared. */
  label: string;
  /** x-hpki-roles: the roles whose grants give it (administrators always). */
  roles: string[];
  /** x-hpki-per-ca: the grant must cover the route's CA. */
  perCa: boolean;
  /** x-hpki-holder: the holder of the certificate the route names may also call it. */
  holder: boolean;
  /** A sentence for the description. */
  text: string;
}

/** Describes a declaration for the OpenAPI document. */
export function describeAccess(access: Access | undefined, url: string): AccessDescription {
  const r = requirementOf(access, url);
  if (!r) return { label: 'public', roles: [], perCa: false, holder: false, text: 'Public: no credentials.' };
  const roles: string[] = r.permission === 'authenticated' ? ['admin', 'officer', 'auditor', 'holder'] : rolesWith(r.permission);
  const holder = r.permission === 'holder.self';
  const who = roles.join(' or ') + (r.perCa ? ' of the CA named in the path' : '') + (holder ? ', or the holder of the certificate' : '');
  return { label: r.label, roles, perCa: r.perCa, holder, text: `Needs permission "${r.permission}": ${who} (bearer token, session or TLS client certificate).` };
}

function tlsCertificate(req: FastifyRequest): Certificate | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) return undefined;
  try {
    return Certificate.parse(peer.raw);
  } catch {
    return undefined;
  }
}

/** Who is calling, from the request's credential; undefined when it carries none. Throws 401 for a bad one. */
async function authenticate(auth: AuthService, req: FastifyRequest): Promise<Principal | undefined> {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{16,256})\s*$/i.exec(header);
    if (!m) throw new UnauthenticatedError(`the Authorization header is not "Bearer <token>"; ${HOW}`);
    const p = await auth.bearer(m[1]!);
    if (!p) throw new UnauthenticatedError('the bearer token is unknown, expired or revoked (or its officer is disabled)');
    return p;
  }
  const cert = tlsCertificate(req);
  if (cert) return auth.tlsClient(cert, [], req.ip);
  return undefined;
}

/** Builds the onRequest hook enforcing each route's declared access. Routes that declare none need an administrator. */
export function accessHook(auth: AuthService) {
  return async function checkAccess(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    // Unmatched URLs fall through to the 404 handler without asking for credentials.
    const url = req.routeOptions.url;
    if (url === undefined) return;
    const requirement = requirementOf(req.routeOptions.config.access, url);
    if (!requirement) return;
    const principal = await authenticate(auth, req);
    if (!principal) throw new UnauthenticatedError(`this operation needs credentials: ${HOW}`);
    const params = (req.params ?? {}) as { ca?: unknown; serial?: unknown };
    const ca = typeof params.ca === 'string' ? params.ca : undefined;
    const serial = typeof params.serial === 'string' ? params.serial : undefined;
    const decision = await decide(principal, requirement, {
      ca,
      ownsCertificate: ca !== undefined && serial !== undefined ? () => auth.holderOwns(principal, ca, serial) : undefined,
    });
    if (!decision.allowed) throw new ForbiddenError('auth.forbidden', decision.message);
    req.principal = principal;
  };
}

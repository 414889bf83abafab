/** Officer accounts, their certificate bindings, and API tokens (administrators only). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { Grant, GrantRole } from '../../auth/principal.js';
import { parseLoginCertificate, bindingKeys } from '../../auth/cert-login.js';
import { normalizeSerial } from '../../ca/authority.js';
import { InvalidRequestError } from '../../errors.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

const ROLES = ['admin', 'officer', 'auditor'] as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const grantSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'ca'],
  properties: { role: { type: 'string', enum: [...ROLES] }, ca: { type: 'string', minLength: 1, maxLength: 64, description: 'a CA name, or "*" for every CA' } },
} as const;
const grantsSchema = { type: 'array', minItems: 1, maxItems: 50, items: grantSchema } as const;

const officerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', description: 'the strongest granted role' },
    grants: { type: 'array', items: { type: 'object', properties: { role: { type: 'string' }, ca: { type: 'string' } } } },
    disabled: { type: 'boolean' },
    disabledAt: { type: 'string', nullable: true },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    bindings: { type: 'array', items: { type: 'string' } },
    token: { type: 'string', description: 'a personal API token acting as this officer, shown once (absent with "token": false)' },
    tokenId: { type: 'string' },
  },
} as const;

const credentialSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['api', 'session'] },
    name: { type: 'string' },
    officer: { type: 'string', nullable: true },
    grants: { type: 'array', nullable: true, items: { type: 'object', properties: { role: { type: 'string' }, ca: { type: 'string' } } } },
    expiresAt: { type: 'string', nullable: true },
    revokedAt: { type: 'string', nullable: true },
    revokedBy: { type: 'string', nullable: true },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    token: { type: 'string', description: 'the secret, shown once at creation' },
  },
} as const;

const ROLE_RANK: Record<GrantRole, number> = { admin: 0, officer: 1, auditor: 2 };

function withRole<T extends { grants: Grant[] }>(o: T): T & { role: GrantRole } {
  return { ...o, role: [...o.grants].sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role])[0]!.role };
}

/** The grants an officer-creation body asks for: explicit grants, or roles × CAs (the old body: one role on every CA). */
function requestedGrants(body: { role?: GrantRole; roles?: GrantRole[]; cas?: string[]; grants?: Grant[] }): Grant[] {
  if (body.grants) {
    if (body.roles || body.role || body.cas) throw new InvalidRequestError('auth.grants', 'give either "grants" or "roles"/"cas", not both');
    return body.grants;
  }
  const roles = body.roles ?? [body.role ?? 'officer'];
  const cas = body.cas ?? ['*'];
  return roles.flatMap((role) => cas.map((ca) => ({ role, ca })));
}

/** Registers the officer, binding and API-token routes. */
export function officerRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, certificates } = services.auth;

  app.post(
    '/api/v1/officers',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create an officer account: roles per CA; returns a personal API token once unless "token": false',
        description: 'Officers log in with a certificate bound to their account (POST /api/v1/officers/{id}/bindings, then /api/v1/auth/challenge and /login, or a TLS client certificate). The personal token is for automation and tests; revoke it under /api/v1/tokens.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            name: { type: 'string', minLength: 1, maxLength: 128 },
            role: { type: 'string', enum: [...ROLES], description: 'one role on every CA (shorthand)' },
            roles: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'string', enum: [...ROLES] } },
            cas: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 64 }, description: 'CA names or "*" (default)' },
            grants: grantsSchema,
            token: { type: 'boolean', default: true },
          },
        },
        response: { 201: officerSchema, 400: errorSchema, 409: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as { id: string; name?: string; role?: GrantRole; roles?: GrantRole[]; cas?: string[]; grants?: Grant[]; token: boolean };
      const actor = principalOf(req);
      const officer = await accounts.createOfficer(actor, { id: body.id, name: body.name, grants: requestedGrants(body) });
      const token = body.token ? await accounts.createApiToken(actor, { name: `${officer.id}-personal`, officer: officer.id }) : undefined;
      req.log.info({ officer: officer.id, grants: officer.grants }, 'officer created');
      return reply.code(201).send({ ...withRole(officer), ...(token ? { token: token.token, tokenId: token.id } : {}) });
    },
  );

  app.get(
    '/api/v1/officers',
    { config: { access: 'ca.admin' }, schema: { tags: ['admin'], summary: 'Officer accounts', response: { 200: { type: 'object', properties: { officers: { type: 'array', items: officerSchema } } } } } },
    async () => ({ officers: (await accounts.listOfficers()).map(withRole) }),
  );

  app.get(
    '/api/v1/officers/:id',
    { config: { access: 'ca.admin' }, schema: { tags: ['admin'], summary: 'One officer account', params: idParams, response: { 200: officerSchema, 404: errorSchema } } },
    async (req) => withRole(await accounts.getOfficer((req.params as { id: string }).id)),
  );

  app.post(
    '/api/v1/officers/:id/bindings',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['admin'],
        summary: 'Bind a login certificate to an officer: by CA + serial, by key (SPKI SHA-256), or by the certificate itself',
        description: 'A key binding ("spki") lets a renewed certificate over the same key log in without rebinding; bind it explicitly, knowing that. A certificate given inline must validate against this deployment\'s CAs.',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ca: { type: 'string', minLength: 1, maxLength: 64 },
            serial: { type: 'string', minLength: 1, maxLength: 130 },
            spkiSha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
            certificate: { type: 'string', maxLength: 65536, description: 'PEM or base64 DER' },
            by: { type: 'string', enum: ['certificate', 'key'], default: 'certificate', description: 'with "certificate": bind that certificate, or its key' },
          },
        },
        response: { 200: officerSchema, 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as { ca?: string; serial?: string; spkiSha256?: string; certificate?: string; by: 'certificate' | 'key' };
      let key: string;
      if (b.certificate !== undefined) {
        const resolved = await certificates.resolve(parseLoginCertificate(b.certificate)).catch((e: Error) => {
          throw new InvalidRequestError('binding.certificate', e.message);
        });
        key = bindingKeys(resolved)[b.by === 'key' ? 1 : 0]!;
      } else if (b.ca !== undefined && b.serial !== undefined) {
        const record = await services.ca.getCertificate(b.ca, normalizeSerial(b.serial));
        key = b.by === 'key' ? `spki:${record.spkiSha256}` : `cert:${b.ca}/${record.serial}`;
      } else if (b.spkiSha256 !== undefined) {
        key = `spki:${b.spkiSha256.toLowerCase()}`;
      } else {
        throw new InvalidRequestError('binding.what', 'give "ca" and "serial", "spkiSha256", or "certificate"');
      }
      return withRole(await accounts.bind(principalOf(req), id, key));
    },
  );

  app.post(
    '/api/v1/officers/:id/unbind',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['admin'],
        summary: 'Remove a certificate binding (as listed in "bindings")',
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['binding'], properties: { binding: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: officerSchema, 404: errorSchema },
      },
    },
    async (req) => withRole(await accounts.unbind(principalOf(req), (req.params as { id: string }).id, (req.body as { binding: string }).binding)),
  );

  app.post(
    '/api/v1/officers/:id/disable',
    { config: { access: 'ca.admin' }, schema: { tags: ['admin'], summary: 'Disable an officer: their sessions, tokens and certificate logins stop at once', params: idParams, response: { 200: officerSchema, 404: errorSchema } } },
    async (req) => withRole(await accounts.disable(principalOf(req), (req.params as { id: string }).id)),
  );

  app.post(
    '/api/v1/tokens',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create an API token for automation, scoped to roles × CAs (or acting as an officer), optionally expiring; the secret is shown once',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, grants: grantsSchema, officer: { type: 'string', minLength: 1, maxLength: 64 }, expiresAt: { type: 'string', format: 'date-time' } },
        },
        response: { 201: credentialSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const b = req.body as { name: string; grants?: Grant[]; officer?: string; expiresAt?: string };
      const expiresAt = b.expiresAt !== undefined ? new Date(b.expiresAt) : undefined;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new InvalidRequestError('auth.expiry', `expiresAt "${b.expiresAt}" is not a date-time`);
      const created = await accounts.createApiToken(principalOf(req), { name: b.name, grants: b.grants, officer: b.officer, expiresAt });
      req.log.info({ token: created.id, name: created.name, grants: created.grants, officer: created.officer }, 'API token created');
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      config: { access: 'ca.admin' },
      schema: {
        tags: ['admin'],
        summary: 'API tokens (and, with kind=session, login sessions), newest first; never their secrets',
        querystring: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string', enum: ['api', 'session'], default: 'api' } } },
        response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: credentialSchema } } } },
      },
    },
    async (req) => ({ tokens: await accounts.listCredentials((req.query as { kind: 'api' | 'session' }).kind) }),
  );

  app.post(
    '/api/v1/tokens/:id/revoke',
    { config: { access: 'ca.admin' }, schema: { tags: ['admin'], summary: 'Revoke an API token or session; effective at once in every process', params: idParams, response: { 200: credentialSchema, 404: errorSchema } } },
    async (req) => accounts.revoke(principalOf(req), (req.params as { id: string }).id),
  );
}

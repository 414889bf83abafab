/**
 * Officer accounts, their certificate bindings, and credentials (API tokens and login sessions).
 * Credentials are checked against the database on every request, so revoking one, or disabling
 * an officer, takes effect at once in every process sharing the database.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { first, hot } from '../store/sql.js';
import { appendAudit } from '../audit/log.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { AccountTables } from './tables.js';
import { grantsOf, strongestRole, type Grant, type GrantRole, type HolderIdentity, type Principal } from './principal.js';
import { newToken, tokenHash } from './secrets.js';
import { BOOTSTRAP_ADMIN_ID } from './tokens.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const GRANT_ROLES: readonly GrantRole[] = ['admin', 'officer', 'auditor'];

/** An officer account as the API shows it. */
export interface OfficerView {
  id: string;
  name: string;
  grants: Grant[];
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
  createdBy: string;
  bindings: string[];
}

/** A credential as the API lists it (never its secret). */
export interface CredentialView {
  id: string;
  kind: 'api' | 'session';
  name: string;
  officer: string | null;
  grants: Grant[] | null;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  createdAt: string;
  createdBy: string;
}

/** A freshly created credential: its secret is in `token`, shown this once. */
export type IssuedCredential = CredentialView & { token: string };

/** How long a login session lasts. */
export const SESSION_TTL_MS = 30 * 60_000;

function t(db: Database): Kysely<AccountTables> {
  return db.db as unknown as Kysely<AccountTables>;
}

function requireAdmin(actor: Principal, what: string): void {
  if (!grantsOf(actor).some((g) => g.role === 'admin' && g.ca === '*')) throw new ForbiddenError('auth.admin', `only an administrator can ${what}`);
}

/** Checks a list of grants: known roles, existing CAs, administrators on every CA. */
export async function checkGrants(grants: Grant[], caExists: (name: string) => Promise<boolean>): Promise<Grant[]> {
  if (!grants.length) throw new InvalidRequestError('auth.grants', 'at least one grant (role and CA) is needed');
  const out = new Map<string, Grant>();
  for (const g of grants) {
    if (!GRANT_ROLES.includes(g.role)) throw new InvalidRequestError('auth.role', `role "${g.role}" is not one of ${GRANT_ROLES.join(', ')}`);
    if (g.role === 'admin' && g.ca !== '*') throw new InvalidRequestError('auth.admin-scope', 'an administrator administers every CA of the deployment: use ca "*"');
    if (g.ca !== '*' && !(await caExists(g.ca))) throw new InvalidRequestError('auth.ca', `there is no CA named "${g.ca}"`);
    out.set(`${g.role}@${g.ca}`, { role: g.role, ca: g.ca });
  }
  return [...out.values()];
}

function credentialView(r: AccountTables['auth_credentials']): CredentialView {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    officer: r.officer_id,
    grants: r.grants ? (JSON.parse(r.grants) as Grant[]) : null,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

/** Officer accounts, certificate bindings and credentials. */
export class Accounts {
  constructor(
    private readonly database: Database,
    private readonly caExists: (name: string) => Promise<boolean>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Creates an officer account with its grants. */
  async createOfficer(actor: Principal, input: { id: string; name?: string; grants: Grant[] }): Promise<OfficerView> {
    requireAdmin(actor, 'create officers');
    if (!ID.test(input.id)) throw new InvalidRequestError('auth.id', 'an officer id is 1-64 letters, digits, ".", "_", "@" or "-"');
    if (input.id === BOOTSTRAP_ADMIN_ID || input.id === 'system' || input.id.includes(':')) throw new ConflictError('auth.reserved', `"${input.id}" is reserved`);
    const grants = await checkGrants(input.grants, this.caExists);
    const at = nowIso(this.clock());
    await this.database.transaction(async (tx) => {
      const db = tx as unknown as Kysely<AccountTables>;
      const exists = await db.selectFrom('auth_officers').select('id').where('id', '=', input.id).executeTakeFirst();
      if (exists) throw new ConflictError('officer.exists', `officer "${input.id}" exists already`);
      await db.insertInto('auth_officers').values({ id: input.id, name: input.name ?? input.id, grants: JSON.stringify(grants), disabled_at: null, created_at: at, created_by: actor.id }).execute();
      await appendAudit(tx, { actor, action: 'auth.officer.create', target: `auth:officer:${input.id}`, details: { grants } }, this.clock());
    });
    return this.getOfficer(input.id);
  }

  /** One officer account with its bindings; 404 when unknown. */
  async getOfficer(id: string): Promise<OfficerView> {
    const row = await t(this.database).selectFrom('auth_officers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('officer.unknown', `there is no officer "${id}"`);
    const bindings = await t(this.database).selectFrom('auth_cert_bindings').select('key').where('officer_id', '=', id).orderBy('key').execute();
    return {
      id: row.id,
      name: row.name,
      grants: JSON.parse(row.grants) as Grant[],
      disabled: row.disabled_at !== null,
      disabledAt: row.disabled_at,
      createdAt: row.created_at,
      createdBy: row.created_by,
      bindings: bindings.map((b) => b.key),
    };
  }

  /** Every officer account. */
  async listOfficers(): Promise<OfficerView[]> {
    const rows = await t(this.database).selectFrom('auth_officers').select('id').orderBy('id').execute();
    return Promise.all(rows.map((r) => this.getOfficer(r.id)));
  }

  /** Binds a certificate key ("cert:<ca>/<serial>" or "spki:<hex>") to an officer. */
  async bind(actor: Principal, officerId: string, key: string): Promise<OfficerView> {
    requireAdmin(actor, 'bind certificates');
    await this.getOfficer(officerId);
    await this.database.transaction(async (tx) => {
      const db = tx as unknown as Kysely<AccountTables>;
      const taken = await db.selectFrom('auth_cert_bindings').select('officer_id').where('key', '=', key).executeTakeFirst();
      if (taken) throw new ConflictError('binding.exists', `${key} is already bound to officer "${taken.officer_id}"`);
      await db.insertInto('auth_cert_bindings').values({ key, officer_id: officerId, created_at: nowIso(this.clock()), created_by: actor.id }).execute();
      await appendAudit(tx, { actor, action: 'auth.officer.bind', target: `auth:officer:${officerId}`, details: { binding: key } }, this.clock());
    });
    return this.getOfficer(officerId);
  }

  /** Removes a binding. */
  async unbind(actor: Principal, officerId: string, key: string): Promise<OfficerView> {
    requireAdmin(actor, 'unbind certificates');
    await this.database.transaction(async (tx) => {
      const db = tx as unknown as Kysely<AccountTables>;
      const r = await db.deleteFrom('auth_cert_bindings').where('key', '=', key).where('officer_id', '=', officerId).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFoundError('binding.unknown', `officer "${officerId}" has no binding ${key}`);
      await appendAudit(tx, { actor, action: 'auth.officer.unbind', target: `auth:officer:${officerId}`, details: { binding: key } }, this.clock());
    });
    return this.getOfficer(officerId);
  }

  /** Disables an officer: their sessions, tokens and certificate logins stop working at once. */
  async disable(actor: Principal, officerId: string): Promise<OfficerView> {
    requireAdmin(actor, 'disable officers');
    await this.getOfficer(officerId);
    await this.database.transaction(async (tx) => {
      const db = tx as unknown as Kysely<AccountTables>;
      await db.updateTable('auth_officers').set({ disabled_at: nowIso(this.clock()) }).where('id', '=', officerId).where('disabled_at', 'is', null).execute();
      await appendAudit(tx, { actor, action: 'auth.officer.disable', target: `auth:officer:${officerId}` }, this.clock());
    });
    return this.getOfficer(officerId);
  }

  /** The enabled officer bound to any of these keys, if any. */
  async officerForBinding(keys: string[]): Promise<OfficerView | undefined> {
    const row = await t(this.database).selectFrom('auth_cert_bindings').select('officer_id').where('key', 'in', keys).orderBy('key').executeTakeFirst();
    if (!row) return undefined;
    const officer = await this.getOfficer(row.officer_id);
    return officer.disabled ? undefined : officer;
  }

  /** Creates an API token: scoped by grants, or acting as an officer (with their live grants). */
  async createApiToken(actor: Principal, input: { name: string; grants?: Grant[]; officer?: string; expiresAt?: Date }): Promise<IssuedCredential> {
    requireAdmin(actor, 'create API tokens');
    if (!ID.test(input.name)) throw new InvalidRequestError('auth.token-name', 'a token name is 1-64 letters, digits, ".", "_", "@" or "-"');
    if ((input.grants === undefined) === (input.officer === undefined)) throw new InvalidRequestError('auth.token-scope', 'give either grants (roles × CAs) or the officer the token acts as');
    if (input.expiresAt && input.expiresAt.getTime() <= this.clock().getTime()) throw new InvalidRequestError('auth.expiry', 'expiresAt is in the past');
    const grants = input.grants ? await checkGrants(input.grants, this.caExists) : null;
    if (input.officer !== undefined) await this.getOfficer(input.officer);
    return this.issue(actor, { kind: 'api', name: input.name, officer: input.officer ?? null, grants, holder: null, expiresAt: input.expiresAt ?? null });
  }

  /** Creates a login session (after a certificate login). */
  async createSession(actor: Principal, input: { name: string; officer?: string; holder?: HolderIdentity }): Promise<IssuedCredential> {
    const expiresAt = new Date(this.clock().getTime() + SESSION_TTL_MS);
    return this.issue(actor, { kind: 'session', name: input.name, officer: input.officer ?? null, grants: null, holder: input.holder ?? null, expiresAt });
  }

  private async issue(
    actor: Principal,
    c: { kind: 'api' | 'session'; name: string; officer: string | null; grants: Grant[] | null; holder: HolderIdentity | null; expiresAt: Date | null },
  ): Promise<IssuedCredential> {
    const token = newToken();
    const row: AccountTables['auth_credentials'] = {
      id: orderedId(),
      token_sha256: tokenHash(token),
      kind: c.kind,
      name: c.name,
      officer_id: c.officer,
      grants: c.grants ? JSON.stringify(c.grants) : null,
      holder: c.holder ? JSON.stringify(c.holder) : null,
      expires_at: c.expiresAt ? nowIso(c.expiresAt) : null,
      revoked_at: null,
      revoked_by: null,
      created_at: nowIso(this.clock()),
      created_by: actor.id,
    };
    await this.database.transaction(async (tx) => {
      await (tx as unknown as Kysely<AccountTables>).insertInto('auth_credentials').values(row).execute();
      await appendAudit(tx, { actor, action: c.kind === 'api' ? 'auth.token.create' : 'auth.session.create', target: `auth:credential:${row.id}`, details: { name: c.name, officer: c.officer, grants: c.grants, expiresAt: row.expires_at } }, this.clock());
    });
    return { ...credentialView(row), token };
  }

  /** Credentials, newest first (API tokens by default; sessions too with `kind`). */
  async listCredentials(kind?: 'api' | 'session'): Promise<CredentialView[]> {
    let q = t(this.database).selectFrom('auth_credentials').selectAll().orderBy('id', 'desc').limit(1000);
    if (kind) q = q.where('kind', '=', kind);
    return (await q.execute()).map(credentialView);
  }

  /** Revokes a credential: administrators any, others only their own session. */
  async revoke(actor: Principal, id: string): Promise<CredentialView> {
    const row = await t(this.database).selectFrom('auth_credentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('credential.unknown', `there is no API token or session "${id}"`);
    if (actor.credentialId !== id) requireAdmin(actor, 'revoke credentials of others');
    if (row.revoked_at) return credentialView(row);
    await this.database.transaction(async (tx) => {
      await (tx as unknown as Kysely<AccountTables>).updateTable('auth_credentials').set({ revoked_at: nowIso(this.clock()), revoked_by: actor.id }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      await appendAudit(tx, { actor, action: row.kind === 'api' ? 'auth.token.revoke' : 'auth.session.revoke', target: `auth:credential:${id}` }, this.clock());
    });
    return this.credential(id);
  }

  private async credential(id: string): Promise<CredentialView> {
    return credentialView(await t(this.database).selectFrom('auth_credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  }

  /**
   * The principal of a bearer secret that is an API token or session, or undefined. Always asks
   * the database: revocation and officer disabling must work at once across processes.
   */
  async authenticate(token: string): Promise<Principal | undefined> {
    // Every authenticated request runs these two reads: plain SQL on cached statements (store/sql.ts).
    const row = await first<AccountTables['auth_credentials']>(this.database.db, hot`select * from auth_credentials where token_sha256 = ${tokenHash(token)}`);
    if (!row || row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && row.expires_at <= nowIso(this.clock())) return undefined;
    const via = row.kind === 'session' ? 'session' : 'api-token';
    if (row.officer_id !== null) {
      const officer = await first<AccountTables['auth_officers']>(this.database.db, hot`select * from auth_officers where id = ${row.officer_id}`);
      if (!officer || officer.disabled_at !== null) return undefined;
      const grants = JSON.parse(officer.grants) as Grant[];
      return { id: officer.id, role: strongestRole(grants), bootstrap: false, grants, via, credentialId: row.id };
    }
    if (row.holder !== null) {
      const holder = JSON.parse(row.holder) as HolderIdentity;
      return { id: `holder:${holder.ca}/${holder.serial}`, role: 'holder', bootstrap: false, grants: [], holder, via, credentialId: row.id };
    }
    const grants = JSON.parse(row.grants ?? '[]') as Grant[];
    return { id: `api:${row.name}`, role: strongestRole(grants), bootstrap: false, grants, via, credentialId: row.id };
  }
}

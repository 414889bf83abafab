/**
 * Who acts on the platform: the national office, a provincial office (only its province), a CA
 * (only itself) or an auditor (reads everything, changes nothing). Bearer tokens carry the role
 * and its scope; only their SHA-256 is stored. The first start writes a national-office token to
 * DIR/platform-admin.token, like the CA service's admin.token.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import type { Principal } from '../../auth/principal.js';
import { newToken, tokenHash } from '../../auth/secrets.js';
import { readOrCreateTokenFile } from '../../auth/tokens.js';
import { ForbiddenError, InvalidRequestError } from '../../errors.js';

/** The platform's roles. */
export type PlatformRole = 'national' | 'provincial' | 'ca' | 'auditor';

/** Every platform role, for validation and route declarations. */
export const PLATFORM_ROLES: readonly PlatformRole[] = ['national', 'provincial', 'ca', 'auditor'];

/** An authenticated caller of the platform. */
export interface PlatformPrincipal {
  id: string;
  role: PlatformRole;
  /** The province of a provincial office (e.g. "GD"). */
  province?: string;
  /** The CA a CA principal is. */
  ca?: string;
  bootstrap: boolean;
}

/** The file in the platform data directory that holds the bootstrap national-office token. */
export const PLATFORM_ADMIN_TOKEN_FILE = 'platform-admin.token';

/** The form the audit log records a platform principal in. */
export function auditActor(p: PlatformPrincipal): Principal {
  const scope = p.role === 'provincial' ? `:${p.province}` : p.role === 'ca' ? `:${p.ca}` : '';
  return { id: `platform-${p.role}${scope}:${p.id}`, role: p.role === 'auditor' ? 'auditor' : p.role === 'national' ? 'admin' : 'officer', bootstrap: p.bootstrap };
}

const PROVINCE = /^[A-Z]{2}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Checks a province code (two capital letters, GB/T 2260 alpha, e.g. "GD", "BJ"). */
export function checkProvince(p: unknown): string {
  if (typeof p !== 'string' || !PROVINCE.test(p)) throw new InvalidRequestError('platform.province', 'a province is a two-letter code such as "GD"');
  return p;
}

/** Checks a CA name as the platform keys it. */
export function checkCaName(n: unknown): string {
  if (typeof n !== 'string' || !NAME.test(n)) throw new InvalidRequestError('platform.ca.name', 'a CA name is 1-63 lower-case letters, digits or "-"');
  return n;
}

type TokenRow = { principal_id: string; role: PlatformRole; province: string | null; ca: string | null; bootstrap: number };

/** The platform's bearer tokens. */
export class PlatformTokens {
  constructor(private readonly database: Database, private readonly clock: () => Date = () => new Date()) {}

  /** Reads DIR/platform-admin.token, creating it (0600) on first start, and registers it as a national-office token. */
  async ensureBootstrap(dataDir: string): Promise<{ file: string; created: boolean }> {
    const file = join(dataDir, PLATFORM_ADMIN_TOKEN_FILE);
    const { token, created } = readOrCreateTokenFile(file);
    const hash = tokenHash(token);
    if (!(await first(this.database.db, sql`select 1 as x from platform_tokens where token_sha256 = ${hash}`))) {
      await run(
        this.database.db,
        sql`insert into platform_tokens (token_sha256, principal_id, role, province, ca, bootstrap, created_at, created_by) values (${hash}, ${'bootstrap-national'}, ${'national'}, ${null}, ${null}, ${1}, ${nowIso(this.clock())}, ${'system'})`,
      );
    }
    return { file, created };
  }

  /** The principal of a token, or undefined. */
  async authenticate(token: string): Promise<PlatformPrincipal | undefined> {
    const row = await first<TokenRow>(this.database.db, sql`select principal_id, role, province, ca, bootstrap from platform_tokens where token_sha256 = ${tokenHash(token)}`);
    if (!row) return undefined;
    return { id: row.principal_id, role: row.role, province: row.province ?? undefined, ca: row.ca ?? undefined, bootstrap: row.bootstrap === 1 };
  }

  /** Mints a token; only the national office may. Audited (without the token). */
  async create(actor: PlatformPrincipal, spec: { id: string; role: PlatformRole; province?: string; ca?: string }): Promise<{ token: string } & PlatformPrincipal> {
    if (actor.role !== 'national') throw new ForbiddenError('platform.token.national', 'only the national office can create platform tokens');
    if (typeof spec.id !== 'string' || !ID.test(spec.id)) throw new InvalidRequestError('platform.token.id', 'a token id is 1-64 letters, digits, ".", "_", "@" or "-"');
    if (!PLATFORM_ROLES.includes(spec.role)) throw new InvalidRequestError('platform.token.role', `role must be one of ${PLATFORM_ROLES.join(', ')}`);
    const province = spec.role === 'provincial' ? checkProvince(spec.province) : undefined;
    const ca = spec.role === 'ca' ? checkCaName(spec.ca) : undefined;
    const token = newToken();
    const principal: PlatformPrincipal = { id: spec.id, role: spec.role, province, ca, bootstrap: false };
    await this.database.transaction(async (tx) => {
      await run(
        tx,
        sql`insert into platform_tokens (token_sha256, principal_id, role, province, ca, bootstrap, created_at, created_by) values (${tokenHash(token)}, ${spec.id}, ${spec.role}, ${province ?? null}, ${ca ?? null}, ${0}, ${nowIso(this.clock())}, ${actor.id})`,
      );
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.token.create', target: `platform:token:${spec.id}`, details: { role: spec.role, province, ca } }, this.clock());
    });
    return { token, ...principal };
  }
}

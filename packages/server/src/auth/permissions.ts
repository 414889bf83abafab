/**
 * What each role may do, as data. Routes declare a permission (or one of the simple role names
 * that stand for one); `decide` answers whether a principal has it for the route's CA. This is
 * the only place that knows which role grants what.
 */
import type { Grant, GrantRole, Principal } from './principal.js';
import { grantsOf } from './principal.js';

/** The named permissions routes can require. */
export const PERMISSIONS = [
  /** Deployment administration: CAs, officers, API tokens, keys, backup. */
  'ca.admin',
  /** General RA officer work (what the simple value 'officer' stands for). */
  'ra.operate',
  /** Read applications and their materials. */
  'ra.read',
  /** Enter applications and add materials. */
  'ra.enter',
  /** Approve, reject, enroll. */
  'ra.approve',
  /** Revoke, hold, release certificates. */
  'cert.status',
  /** Read and export the audit log. */
  'audit.read',
  /** Act on one's own certificate (a holder), or on any certificate of the CA (its officers). */
  'holder.self',
  /** Any authenticated principal (whoami, logout). */
  'authenticated',
] as const;

/** A named permission. */
export type Permission = (typeof PERMISSIONS)[number];

/** The simple values routes used before permissions existed, and what each stands for. */
export const SIMPLE_ACCESS = { admin: 'ca.admin', officer: 'ra.operate', auditor: 'audit.read' } as const satisfies Record<string, Permission>;

/** The permissions of each granted role. Administrators hold every permission on every CA. */
export const ROLE_PERMISSIONS: Record<GrantRole, readonly Permission[]> = {
  admin: PERMISSIONS,
  officer: ['ra.operate', 'ra.read', 'ra.enter', 'ra.approve', 'cert.status', 'holder.self', 'authenticated'],
  auditor: ['audit.read', 'authenticated'],
};

/** A route's declared need, normalised. */
export interface Requirement {
  /** What the OpenAPI document shows as x-hpki-access: the declared simple value or permission name. */
  label: string;
  permission: Permission;
  /** Whether the grant must cover the CA named by the route's `:ca` parameter. */
  perCa: boolean;
}

/** The roles whose grants give a permission. */
export function rolesWith(permission: Permission): GrantRole[] {
  return (Object.keys(ROLE_PERMISSIONS) as GrantRole[]).filter((r) => ROLE_PERMISSIONS[r].includes(permission));
}

/** Facts about the request a decision needs. */
export interface DecisionContext {
  /** The route's `:ca` parameter, when it has one. */
  ca?: string;
  /** Whether the certificate the route names (`:ca`/`:serial`) belongs to the holder principal (holder.self only). */
  ownsCertificate?: () => Promise<boolean>;
}

/** The outcome: allowed, or the sentence explaining the refusal (403). */
export type Decision = { allowed: true } | { allowed: false; message: string };

function grantCovers(g: Grant, permission: Permission, perCa: boolean, ca: string | undefined): boolean {
  if (!ROLE_PERMISSIONS[g.role].includes(permission)) return false;
  if (!perCa || ca === undefined) return true;
  return g.ca === '*' || g.ca === ca;
}

/** Whether `principal` meets `req` for this request. */
export async function decide(principal: Principal, req: Requirement, ctx: DecisionContext): Promise<Decision> {
  const grants = grantsOf(principal);
  if (grants.some((g) => grantCovers(g, req.permission, req.perCa, ctx.ca))) return { allowed: true };
  if (req.permission === 'authenticated') return { allowed: true };
  if (req.permission === 'holder.self' && principal.holder && ctx.ownsCertificate && (await ctx.ownsCertificate())) return { allowed: true };
  const roles = rolesWith(req.permission).join(' or ');
  const where = req.perCa && ctx.ca !== undefined ? ` of CA "${ctx.ca}"` : '';
  const extra = req.permission === 'holder.self' ? ', or the holder of this certificate' : '';
  return { allowed: false, message: `${principal.id} lacks "${req.permission}" here: this operation needs ${roles}${where}${extra}` };
}

/** Scope checks of the platform roles; a refusal is audited before it is thrown. */
import type { Database } from '../../store/database.js';
import { appendAudit } from '../../audit/log.js';
import { ForbiddenError } from '../../errors.js';
import { auditActor, type PlatformPrincipal, type PlatformRole } from './roles.js';

/** What a CA record offers to scope checks. */
export interface ScopedCa {
  name: string;
  homeProvince: string;
  provinces: string[];
}

/** Whether the principal may see this CA: national and auditor all, a province the CAs serving it or based in it, a CA itself. */
export function canSee(p: PlatformPrincipal, ca: ScopedCa): boolean {
  if (p.role === 'national' || p.role === 'auditor') return true;
  if (p.role === 'provincial') return ca.homeProvince === p.province || ca.provinces.includes(p.province ?? '');
  return p.ca === ca.name;
}

/** Records a refusal in the audit log and returns the error to throw. */
export async function refuse(database: Database, clock: () => Date, actor: PlatformPrincipal, action: string, target: string, code: string, message: string): Promise<ForbiddenError> {
  await database.transaction((tx) => appendAudit(tx, { actor: auditActor(actor), action: 'platform.refused', target, details: { attempted: action, code, message } }, clock()));
  return new ForbiddenError(code, message);
}

/** Throws (audited) unless the principal has one of the roles. */
export async function requireRole(database: Database, clock: () => Date, actor: PlatformPrincipal, roles: readonly PlatformRole[], action: string, target: string): Promise<void> {
  if (!roles.includes(actor.role)) throw await refuse(database, clock, actor, action, target, 'platform.role', `${action} needs the role ${roles.join(' or ')}, not ${actor.role}`);
}

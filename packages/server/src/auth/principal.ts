/**
 * Who is acting. Every service operation takes a Principal; the HTTP layer builds it from the
 * request's credential (bearer token, certificate login session, TLS client certificate) and
 * checks the route's declared permission against its grants (http/access.ts, auth/permissions.ts).
 */

/** The roles a grant can give: CA administrator, RA officer, auditor. */
export type GrantRole = 'admin' | 'officer' | 'auditor';

/** Every role a principal can have: the granted ones, a certificate holder, or the anonymous public. */
export type Role = GrantRole | 'holder' | 'public';

/** One role on one CA ("*": on every CA of the deployment). */
export interface Grant {
  readonly role: GrantRole;
  readonly ca: string;
}

/** The certificate a holder logged in with. */
export interface HolderIdentity {
  /** The authority (CA name) that issued it. */
  readonly ca: string;
  readonly serial: string;
  /** Its subject, as the CA records it: a holder's own certificates are those of this CA with this subject. */
  readonly subject: string;
}

/** How the principal authenticated (recorded in audit details, shown by whoami). */
export type CredentialKind = 'bootstrap-token' | 'legacy-token' | 'api-token' | 'session' | 'tls-client-certificate' | 'system';

/** The authenticated caller of an operation. */
export interface Principal {
  /** Stable identifier recorded in every record the principal causes (e.g. "bootstrap-admin", "officer-li"). */
  readonly id: string;
  /** The strongest role the principal holds (admin > officer > auditor > holder); services check it coarsely. */
  readonly role: Role;
  /**
   * True for the bootstrap administrator of a fresh deployment. It may approve applications it
   * entered itself (a demo convenience); the record of such an approval says so.
   */
  readonly bootstrap: boolean;
  /** The principal's roles per CA; absent means `role` on every CA (system, bootstrap, legacy tokens). */
  readonly grants?: readonly Grant[];
  /** Set when the principal is a certificate holder (logged in with a certificate bound to no officer). */
  readonly holder?: HolderIdentity;
  /** How the principal authenticated. */
  readonly via?: CredentialKind;
  /** The session or API token id, when the credential is one (so that logout can revoke it). */
  readonly credentialId?: string;
}

/** The principal the service itself acts as (e.g. creating the demo CAs at first start). */
export const SYSTEM_PRINCIPAL: Principal = { id: 'system', role: 'admin', bootstrap: false, via: 'system' };

/** The strength order of roles, strongest first. */
const ROLE_ORDER: readonly Role[] = ['admin', 'officer', 'auditor', 'holder', 'public'];

/** The strongest role among grants ('public' for none). */
export function strongestRole(grants: readonly Grant[]): Role {
  let best: Role = 'public';
  for (const g of grants) if (ROLE_ORDER.indexOf(g.role) < ROLE_ORDER.indexOf(best)) best = g.role;
  return best;
}

/** The grants of a principal, spelling out the implicit "role on every CA" of principals without explicit grants. */
export function grantsOf(p: Principal): readonly Grant[] {
  if (p.grants) return p.grants;
  return p.role === 'admin' || p.role === 'officer' || p.role === 'auditor' ? [{ role: p.role, ca: '*' }] : [];
}

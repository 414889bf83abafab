/**
 * Who is acting. Every service operation takes a Principal, so that the security issue can add
 * real authentication (certificate login, scoped API tokens) and per-CA roles without changing
 * the operations' signatures. Today a principal comes from a bearer token (see tokens.ts).
 */

/** The roles known today; the security issue adds auditor, holder and per-CA grants. */
export type Role = 'admin' | 'officer';

/** The authenticated caller of an operation. */
export interface Principal {
  /** Stable identifier recorded in every record the principal causes (e.g. "bootstrap-admin", "officer-li"). */
  readonly id: string;
  readonly role: Role;
  /**
   * True for the bootstrap administrator of a fresh deployment. It may approve applications it
   * entered itself (a demo convenience); the record of such an approval says so.
   */
  readonly bootstrap: boolean;
}

/** The principal the service itself acts as (e.g. creating the demo CAs at first start). */
export const SYSTEM_PRINCIPAL: Principal = { id: 'system', role: 'admin', bootstrap: false };

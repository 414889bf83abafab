/**
 * The certificate query interface's shared shapes (docs/platform.md, protocol): what the
 * platform's client (platform/conformance/query-client.ts) and the CA side
 * (platform-link/query.ts) both speak, so the two ends cannot drift apart.
 */

/** Most serials one query asks about. */
export const MAX_QUERY_SERIALS = 100;
/** How far a message's `at` may be from the receiver's clock (the replay window). */
export const QUERY_WINDOW_MS = 5 * 60_000;

/** The statuses the interface answers. */
export type QueryStatus = 'good' | 'revoked' | 'unknown';

/** One certificate as the CA describes it. */
export interface QueryEntry {
  serial: string;
  status: QueryStatus;
  revokedAt?: string;
  reason?: string;
  profile?: string;
  class?: string;
  notBefore?: string;
  notAfter?: string;
  subject?: string;
  /** The certificate, PEM. */
  certificate?: string;
}

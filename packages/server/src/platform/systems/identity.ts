/**
 * Normalised identities of certificate holders and paying units, so that the same person or
 * organisation is one key whichever form a system reports: a resident ID number (GB 11643, check
 * character upper-case) or an organisation code (GB 11714) — a unified social credit code
 * (GB 32100) is reduced to the organisation code it embeds (characters 9–17), because both forms
 * name the same organisation.
 */
import { isValidOrganizationCode, isValidResidentId, isValidSocialCreditCode } from '@health-pki/pki';
import { InvalidRequestError } from '../../errors.js';

/** The kinds of holder identity the platform keys usage by. */
export type HolderKind = 'resident-id' | 'organisation';

/** A holder as the platform keys it. */
export interface HolderIdentity {
  kind: HolderKind;
  /** Resident ID (18 characters) or organisation code (9 characters, no hyphen). */
  value: string;
}

/** Normalises an organisation code or unified social credit code to the 9-character organisation code; throws 400 if neither. */
export function normaliseOrganisation(v: unknown, field: string): string {
  const raw = typeof v === 'string' ? v.replace(/[\s-]/g, '').toUpperCase() : '';
  if (raw.length === 18 && isValidSocialCreditCode(raw)) return raw.slice(8, 17);
  if (raw.length === 9 && isValidOrganizationCode(raw)) return raw;
  throw new InvalidRequestError('platform.identity.organisation', `${field} must be an organisation code (GB 11714) or unified social credit code (GB 32100) with a valid check character`);
}

/** Normalises a resident ID number; throws 400 if it is not one. */
export function normaliseResidentId(v: unknown, field: string): string {
  const raw = typeof v === 'string' ? v.replace(/\s/g, '').toUpperCase() : '';
  if (!isValidResidentId(raw)) throw new InvalidRequestError('platform.identity.resident-id', `${field} must be an 18-character resident ID number with a valid check character`);
  return raw;
}

/** Checks and normalises `{ kind, value }` from a request. */
export function normaliseHolder(v: unknown, field: string): HolderIdentity {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.kind === 'resident-id') return { kind: 'resident-id', value: normaliseResidentId(o.value, `${field}.value`) };
  if (o.kind === 'organisation') return { kind: 'organisation', value: normaliseOrganisation(o.value, `${field}.value`) };
  throw new InvalidRequestError('platform.identity.kind', `${field} must be { kind: "resident-id" | "organisation", value }`);
}

/** A resident ID as statements show it (region and last four kept, birth date hidden); organisation codes are not personal data and stay whole. */
export function maskHolder(h: HolderIdentity): string {
  return h.kind === 'resident-id' ? `${h.value.slice(0, 6)}********${h.value.slice(14)}` : h.value;
}

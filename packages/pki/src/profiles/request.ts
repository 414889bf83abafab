/** Checking a certificate request against its profile before anything is signed. */
import type { Name } from '@peculiar/asn1-x509';
import type { PublicKey } from '../crypto/keys.js';
import type { AltName } from '../x509/extensions.js';
import type { HealthIdentity } from '../x509/identity.js';
import { altNameViolations, identityViolations, keyViolations, subjectViolations, validityViolations } from './rules.js';
import type { Profile } from './types.js';
import { throwFirst, type Violation } from './violation.js';

/** What an applicant asks for: the name, the key, identity numbers, alternative names, validity. */
export interface ProfileRequest {
  subject: Name;
  publicKey: PublicKey;
  identity?: HealthIdentity;
  altNames?: AltName[];
  /** Defaults to the profile's defaultDays. */
  validityDays?: number;
}

/** Every rule of the profile that the request breaks, in a stable order (subject, key, identity, SAN, validity). */
export function requestViolations(profile: Profile, req: ProfileRequest): Violation[] {
  return [
    ...subjectViolations(profile, req.subject),
    ...keyViolations(profile, req.publicKey),
    ...identityViolations(profile, req.identity),
    ...altNameViolations(profile, req.altNames),
    ...validityViolations(profile, req.validityDays ?? profile.validity.defaultDays),
  ];
}

/** Throws a ProfileError (a ProfileRuleError with messageZh) naming the first rule the request breaks. */
export function checkRequest(profile: Profile, req: ProfileRequest): void {
  throwFirst(profile.name, requestViolations(profile, req));
}

/**
 * The holder of a certificate, read the same way whichever admitted CA issued it and whatever its
 * key algorithm (SM2 or ECDSA/RSA). The sector's profiles put the identity numbers in the
 * GB/T 20518 identity extensions (arc 1.2.156.10260.4.1: resident ID number, organisation code,
 * social credit code, …); some CAs also write a number into the subject's serialNumber attribute,
 * which is read as a fallback when its check digit proves what it is. The certificate class comes
 * from the profile's certificate policy OID.
 *
 * `key` is what systems should register people and organisations by: it does not change when a
 * certificate is renewed or reissued, or when the holder moves to another admitted CA.
 *   person:      "person:resident-id:<18-character ID, upper-case; 15-digit IDs converted>",
 *                else "person:passport:<number>", else "person:military-officer:<number>"
 *   organisation: "org:<9-character organisation code>" — the code inside a unified social credit
 *                code (characters 9–17, GB 32100), so an old organisation-code certificate and a
 *                new credit-code certificate of the same unit map to the same key
 */
import {
  getProfile,
  isValidOrganizationCode,
  isValidResidentId,
  isValidSocialCreditCode,
  nameAttributes,
  POLICY_OIDS,
  type Certificate,
  type CertificateClass,
} from '@health-pki/pki';

/** What kind of holder a certificate names. */
export type HolderKind = 'person' | 'organization' | 'device' | 'unknown';

/** The normalised identity of a certificate holder. */
export interface HolderIdentity {
  /** The stable registration key (see above); undefined when the certificate carries no usable number. */
  key?: string;
  kind: HolderKind;
  /** The subject CN: a person's or organisation's name, or a device's. */
  name: string;
  residentId?: string;
  passportNumber?: string;
  militaryOfficerId?: string;
  insuranceNumber?: string;
  /** 9 characters without the hyphen; derived from the credit code when only that is present. */
  organizationCode?: string;
  unifiedSocialCreditCode?: string;
  /** The subject O: the holder's organisation. */
  organization?: string;
  /** The subject OUs: department, unit. */
  units: string[];
  title?: string;
  /** The health profile (e.g. staff-sign) and class (e.g. internal-staff), from the policy OID. */
  profile?: string;
  certificateClass?: CertificateClass;
  /** Identity numbers found but not usable (bad check digit, conflicting codes). */
  problems: string[];
  /** The certificate this was read from. */
  certificate: { serial: string; issuer: string; subject: string; notBefore: Date; notAfter: Date };
}

const PROFILE_BY_POLICY = new Map(Object.entries(POLICY_OIDS.policies).map(([profile, oid]) => [oid, profile]));

/** Reads a certificate's holder identity. Never throws for a missing or odd field; `problems` lists them. */
export function readHolderIdentity(cert: Certificate): HolderIdentity {
  const problems: string[] = [];
  const subject = cert.subject;
  const first = (attr: string) => nameAttributes(subject, attr)[0];
  let ext: ReturnType<typeof readExtensions>;
  try {
    ext = readExtensions(cert);
  } catch (e) {
    problems.push(`the identity extensions cannot be read: ${e instanceof Error ? e.message : String(e)}`);
    ext = {};
  }
  const id: HolderIdentity = {
    kind: 'unknown',
    name: first('CN') ?? '',
    organization: first('O'),
    units: nameAttributes(subject, 'OU'),
    title: first('title'),
    problems,
    certificate: { serial: cert.serialHex, issuer: cert.issuerText, subject: cert.subjectText, notBefore: cert.notBefore, notAfter: cert.notAfter },
  };

  const profile = cert.policies.map((oid) => PROFILE_BY_POLICY.get(oid)).find((p) => p !== undefined);
  if (profile) {
    id.profile = profile;
    id.certificateClass = getProfile(profile).class;
  }

  // Person numbers.
  if (ext.residentId) {
    const resident = normalizeResidentId(ext.residentId);
    if (resident) id.residentId = resident;
    else problems.push(`the resident ID number "${ext.residentId}" fails its GB 11643 check`);
  }
  if (ext.passportNumber) id.passportNumber = ext.passportNumber.trim().toUpperCase();
  if (ext.militaryOfficerId) id.militaryOfficerId = ext.militaryOfficerId.trim();
  if (ext.insuranceNumber) id.insuranceNumber = ext.insuranceNumber.trim();

  // Organisation numbers: the organisation code is part of the credit code.
  if (ext.unifiedSocialCreditCode) {
    const uscc = ext.unifiedSocialCreditCode.trim().toUpperCase();
    if (isValidSocialCreditCode(uscc)) id.unifiedSocialCreditCode = uscc;
    else problems.push(`the unified social credit code "${ext.unifiedSocialCreditCode}" fails its GB 32100 check`);
  }
  if (ext.organizationCode) {
    const code = ext.organizationCode.trim().toUpperCase().replace('-', '');
    if (isValidOrganizationCode(code)) id.organizationCode = code;
    else problems.push(`the organisation code "${ext.organizationCode}" fails its GB 11714 check`);
  }
  if (id.unifiedSocialCreditCode) {
    const inner = id.unifiedSocialCreditCode.slice(8, 17);
    if (id.organizationCode && id.organizationCode !== inner) {
      problems.push(`the organisation code ${id.organizationCode} differs from the one inside the credit code (${inner}); the credit code is used`);
    }
    id.organizationCode = inner;
  }

  // Fallback: a number in the subject's serialNumber attribute, recognised by its check digit.
  const serialAttr = first('serialNumber')?.trim().toUpperCase();
  if (serialAttr && !id.residentId && !id.organizationCode) {
    const resident = normalizeResidentId(serialAttr);
    if (resident) id.residentId = resident;
    else if (isValidSocialCreditCode(serialAttr)) {
      id.unifiedSocialCreditCode = serialAttr;
      id.organizationCode = serialAttr.slice(8, 17);
    } else if (isValidOrganizationCode(serialAttr)) id.organizationCode = serialAttr.replace('-', '');
  }

  id.kind = kindOf(id);
  id.key = keyOf(id);
  return id;
}

/** The registration key of an identity (see the module comment), or undefined. */
export function identityKey(id: Pick<HolderIdentity, 'kind' | 'residentId' | 'passportNumber' | 'militaryOfficerId' | 'organizationCode'>): string | undefined {
  return keyOf(id);
}

/** An 18-character resident ID number, upper-case, from an 18- or 15-character one; undefined when it fails GB 11643. */
export function normalizeResidentId(raw: string): string | undefined {
  const s = raw.trim().toUpperCase();
  if (/^\d{15}$/.test(s)) {
    // First-generation cards: 6-digit area, 6-digit date (yyMMdd, 19yy), 3-digit sequence; the
    // 18-character number inserts "19" and appends the ISO 7064 MOD 11-2 check character.
    const body = `${s.slice(0, 6)}19${s.slice(6)}`;
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = weights.reduce((acc, w, i) => acc + w * Number(body[i]), 0);
    const full = body + '10X98765432'[sum % 11];
    return isValidResidentId(full) ? full : undefined;
  }
  return isValidResidentId(s) ? s : undefined;
}

function kindOf(id: HolderIdentity): HolderKind {
  const cls = id.certificateClass;
  if (cls === 'internal-staff' || cls === 'external-person') return 'person';
  if (cls === 'internal-organization' || cls === 'external-organization') return 'organization';
  if (cls === 'internal-device' || cls === 'external-device') return 'device';
  if (id.residentId || id.passportNumber || id.militaryOfficerId) return 'person';
  if (id.organizationCode) return 'organization';
  return 'unknown';
}

function keyOf(id: Pick<HolderIdentity, 'kind' | 'residentId' | 'passportNumber' | 'militaryOfficerId' | 'organizationCode'>): string | undefined {
  if (id.kind === 'person') {
    if (id.residentId) return `person:resident-id:${id.residentId}`;
    if (id.passportNumber) return `person:passport:${id.passportNumber}`;
    if (id.militaryOfficerId) return `person:military-officer:${id.militaryOfficerId}`;
    return undefined;
  }
  // A device certificate names its owning organisation, not a holder of its own: no person key,
  // and not the organisation's key either (a server must not log in as its hospital).
  if (id.kind === 'organization' && id.organizationCode) return `org:${id.organizationCode}`;
  return undefined;
}

function readExtensions(cert: Certificate) {
  return cert.identity;
}

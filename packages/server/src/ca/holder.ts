/**
 * What a certificate says about its holder that people search by: the organisation (O), the
 * e-mail address, the common name and the GB/T 20518 identity numbers. Read from the signed
 * certificate itself (never from the application), so a search finds what relying parties see.
 * Pure: runs in the issuance workers as well as in the service thread.
 */
import { attributeText, type Certificate, type HealthIdentity } from '@health-pki/pki';

const OID_O = '2.5.4.10';
const OID_CN = '2.5.4.3';
const OID_EMAIL = '1.2.840.113549.1.9.1';

/** An identity number with the HealthIdentity field it came from. */
export interface IdentityNumber {
  kind: keyof HealthIdentity;
  number: string;
}

/** The searchable facts about a certificate's holder. */
export interface HolderFacts {
  holderOrg: string | null;
  holderEmail: string | null;
  identityNumbers: IdentityNumber[];
}

/**
 * Canonical form of an identity number, the same at issuance and in a query: upper case (a
 * resident ID's check character "x" is "X"), without spaces or hyphens (organisation codes are
 * often written "12345678-9").
 */
export function normalizeIdentityNumber(text: string): string {
  return text.replace(/[\s-]+/g, '').toUpperCase();
}

/** The first value of an attribute type in a certificate's subject, if any. */
export function subjectAttribute(cert: Certificate, oid: string): string | null {
  for (const rdn of cert.subject) {
    for (const atv of rdn) if (atv.type === oid) return attributeText(atv.value);
  }
  return null;
}

/** The holder's common name (the subject's first CN), if any. */
export function holderCommonName(cert: Certificate): string | null {
  return subjectAttribute(cert, OID_CN);
}

/** The holder's e-mail address: the first rfc822Name of the subjectAltName, else the subject's emailAddress. */
export function holderEmail(cert: Certificate): string | null {
  const san = cert.extension('2.5.29.17') ? cert.subjectAltNames.find((g) => g.rfc822Name !== undefined)?.rfc822Name : undefined;
  const mail = san ?? subjectAttribute(cert, OID_EMAIL);
  return mail ? mail.toLowerCase() : null;
}

/** The searchable facts about the holder of a certificate. */
export function holderFacts(cert: Certificate): HolderFacts {
  const identity = cert.identity;
  const identityNumbers: IdentityNumber[] = [];
  for (const [kind, value] of Object.entries(identity)) {
    const number = typeof value === 'string' ? normalizeIdentityNumber(value) : '';
    if (number !== '') identityNumbers.push({ kind: kind as keyof HealthIdentity, number });
  }
  return { holderOrg: subjectAttribute(cert, OID_O), holderEmail: holderEmail(cert), identityNumbers };
}

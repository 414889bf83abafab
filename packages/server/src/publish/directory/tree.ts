/**
 * The directory tree (docs/directory.md): c=CN, one organization entry per CA operator, one
 * entry per CA certificate (cACertificate;binary and its CRLs) named like the CA's subject, and
 * one entry per end-entity certificate below the CA that signed it, named by its serial number.
 */
import ldap from 'ldapjs';
import type { Certificate } from '@health-pki/pki';
import { holderCommonName, holderEmail, subjectAttribute } from '../../ca/holder.js';
import type { Attributes } from './filter.js';

/** The parts of an @ldapjs/dn DN used here (@types/ldapjs still describes ldapjs 2's DN). */
export interface Dn {
  readonly length: number;
  rdnAt(index: number): { keys(): IterableIterator<string>; getValue(name: string): unknown };
  clone(): Dn;
  shift(): unknown;
  toString(): string;
}
const DN = (ldap as unknown as { DN: new (o: { rdns: unknown[] }) => Dn }).DN;
const RDN = (ldap as unknown as { RDN: new (o: Record<string, string>) => unknown }).RDN;

/** The top of the tree. */
export const COUNTRY = 'CN';

/** RFC 4514 escaping that leaves UTF-8 as it is (ldapjs writes every non-ASCII byte as \xx). */
function escapeValue(v: string): string {
  let out = v.replace(/[\\",+;<>=\u0000]/g, (c) => (c === '\u0000' ? '\\00' : '\\' + c));
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = out.slice(0, -1) + '\\ ';
  return out;
}

/** A DN that renders its values readably (UTF-8 kept) on the wire. */
class ReadableDn extends DN {
  override toString(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.length; i++) {
      const rdn = this.rdnAt(i);
      parts.push([...rdn.keys()].map((k) => `${k}=${escapeValue(String(rdn.getValue(k)))}`).join('+'));
    }
    return parts.join(',');
  }
}

/** A DN from (type, value) pairs, most specific first. */
export function makeDn(rdns: Array<[string, string]>): Dn {
  return new ReadableDn({ rdns: rdns.map(([t, v]) => new RDN({ [t]: v })) });
}

function fold(v: string): string {
  return v.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A DN's comparison key: attribute types and values case-folded (every naming attribute here is caseIgnore). */
export function dnKey(dn: Dn): string {
  const parts: string[] = [];
  for (let i = 0; i < dn.length; i++) {
    const rdn = dn.rdnAt(i);
    parts.push(
      [...rdn.keys()]
        .map((k) => `${k.toLowerCase()}=${fold(String(rdn.getValue(k)))}`)
        .sort()
        .join('+'),
    );
  }
  return parts.join(',');
}

/** The first RDN of a DN as (type lower case, value), when it has a single attribute. */
export function leafRdn(dn: Dn): { type: string; value: string } | undefined {
  if (dn.length === 0) return undefined;
  const rdn = dn.rdnAt(0);
  const keys = [...rdn.keys()];
  return keys.length === 1 ? { type: keys[0]!.toLowerCase(), value: String(rdn.getValue(keys[0]!)) } : undefined;
}

/** The DN of the parent of a DN (the DN without its first RDN). */
export function parentKey(dn: Dn): string {
  const parent = dn.clone();
  parent.shift();
  return dnKey(parent);
}

/** The country entry. */
export function countryEntry(): Attributes {
  return { objectClass: ['top', 'country'], c: [COUNTRY] };
}

/** An organization entry: the operator of one or more CAs. */
export function organizationEntry(org: string): Attributes {
  return { objectClass: ['top', 'organization'], o: [org] };
}

/** The CRLs a CA entry carries, DER. */
export interface CaCrls {
  full?: Buffer;
  delta?: Buffer;
}

/**
 * A CA entry (RFC 4523): applicationProcess with the pkiCA auxiliary class; the root's own CRL,
 * which revokes CA certificates, is also its authorityRevocationList (the ARL of X.509).
 */
export function caEntry(cn: string, cert: Certificate, role: 'root' | 'issuing', crls: CaCrls): Attributes {
  const a: Attributes = { objectClass: ['top', 'applicationProcess', 'pkiCA'], cn: [cn], 'cACertificate;binary': [cert.der] };
  if (crls.full) {
    a['certificateRevocationList;binary'] = [crls.full];
    if (role === 'root') {
      a['authorityRevocationList;binary'] = [crls.full];
      a.objectClass!.push('certificationAuthority');
    }
  }
  if (crls.delta) {
    a.objectClass!.push('deltaCRL');
    a['deltaRevocationList;binary'] = [crls.delta];
  }
  return a;
}

/** An end-entity entry: inetOrgPerson with pkiUser, cn and sn the holder's CN, serialNumber the certificate's. */
export function certificateEntry(serial: string, cert: Certificate): Attributes {
  const cn = holderCommonName(cert) ?? cert.subjectText;
  const a: Attributes = {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'pkiUser'],
    cn: [cn],
    sn: [cn],
    serialNumber: [serial],
    'userCertificate;binary': [cert.der],
  };
  const o = subjectAttribute(cert, '2.5.4.10');
  if (o) a.o = [o];
  const ou = subjectAttribute(cert, '2.5.4.11');
  if (ou) a.ou = [ou];
  const mail = holderEmail(cert);
  if (mail) a.mail = [mail];
  return a;
}

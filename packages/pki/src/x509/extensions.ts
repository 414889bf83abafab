/**
 * Building and reading X.509 v3 extensions. The schemas are @peculiar/asn1-x509's; this module
 * only chooses encodings (criticality, key identifier method) and gives typed access by OID.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { createHash } from 'node:crypto';
import { ParseError } from '../errors.js';
import type { PublicKey } from '../crypto/keys.js';

/** Extension OIDs of RFC 5280. */
export const EXT = {
  subjectKeyIdentifier: x.id_ce_subjectKeyIdentifier,
  keyUsage: x.id_ce_keyUsage,
  subjectAltName: x.id_ce_subjectAltName,
  issuerAltName: x.id_ce_issuerAltName,
  basicConstraints: x.id_ce_basicConstraints,
  nameConstraints: x.id_ce_nameConstraints,
  crlDistributionPoints: x.id_ce_cRLDistributionPoints,
  certificatePolicies: x.id_ce_certificatePolicies,
  policyMappings: x.id_ce_policyMappings,
  authorityKeyIdentifier: x.id_ce_authorityKeyIdentifier,
  policyConstraints: x.id_ce_policyConstraints,
  extKeyUsage: x.id_ce_extKeyUsage,
  freshestCrl: x.id_ce_freshestCRL,
  inhibitAnyPolicy: x.id_ce_inhibitAnyPolicy,
  authorityInfoAccess: x.id_pe_authorityInfoAccess,
  subjectInfoAccess: x.id_pe_subjectInfoAccess,
  crlNumber: x.id_ce_cRLNumber,
  deltaCrlIndicator: x.id_ce_deltaCRLIndicator,
  issuingDistributionPoint: x.id_ce_issuingDistributionPoint,
  crlReason: x.id_ce_cRLReasons,
  invalidityDate: x.id_ce_invalidityDate,
  certificateIssuer: x.id_ce_certificateIssuer,
} as const;

/** The key usage bits by name, as in RFC 5280 §4.2.1.3. */
export type KeyUsageName = x.KeyUsageType;
const KU_FLAGS: Record<KeyUsageName, number> = {
  digitalSignature: x.KeyUsageFlags.digitalSignature,
  nonRepudiation: x.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x.KeyUsageFlags.dataEncipherment,
  keyAgreement: x.KeyUsageFlags.keyAgreement,
  keyCertSign: x.KeyUsageFlags.keyCertSign,
  crlSign: x.KeyUsageFlags.cRLSign,
  encipherOnly: x.KeyUsageFlags.encipherOnly,
  decipherOnly: x.KeyUsageFlags.decipherOnly,
};
/** Every key usage name, in bit order. */
export const KEY_USAGE_NAMES = Object.keys(KU_FLAGS) as KeyUsageName[];

/** Wraps an encoded extension value. */
export function extension(oid: string, critical: boolean, value: object): x.Extension {
  return new x.Extension({ extnID: oid, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** basicConstraints, critical (RFC 5280 requires it critical in CA certificates). */
export function basicConstraintsExt(ca: boolean, pathLen?: number): x.Extension {
  return extension(EXT.basicConstraints, true, new x.BasicConstraints({ cA: ca, pathLenConstraint: ca ? pathLen : undefined }));
}

/** keyUsage, critical. */
export function keyUsageExt(usages: KeyUsageName[]): x.Extension {
  const flags = usages.reduce((acc, u) => acc | KU_FLAGS[u], 0);
  return extension(EXT.keyUsage, true, new x.KeyUsage(flags));
}

/** extKeyUsage, non-critical. */
export function extKeyUsageExt(oids: string[], critical = false): x.Extension {
  return extension(EXT.extKeyUsage, critical, new x.ExtendedKeyUsage(oids));
}

/** The key identifier of RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(pub: PublicKey): Buffer {
  const spki = AsnConvert.parse(pub.spki, x.SubjectPublicKeyInfo);
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
}

/** subjectKeyIdentifier for a public key. */
export function subjectKeyIdentifierExt(pub: PublicKey): x.Extension {
  return extension(EXT.subjectKeyIdentifier, false, new x.SubjectKeyIdentifier(keyIdentifier(pub)));
}

/** authorityKeyIdentifier carrying the issuer's key identifier. */
export function authorityKeyIdentifierExt(issuerKeyId: Uint8Array): x.Extension {
  return extension(EXT.authorityKeyIdentifier, false, new x.AuthorityKeyIdentifier({ keyIdentifier: new x.KeyIdentifier(issuerKeyId) }));
}

/** A subject alternative name entry as accepted by subjectAltNameExt. */
export interface AltName {
  type: 'dns' | 'email' | 'uri' | 'ip';
  value: string;
}

/** GeneralName from an AltName. */
export function generalName(n: AltName): x.GeneralName {
  switch (n.type) {
    case 'dns':
      return new x.GeneralName({ dNSName: n.value });
    case 'email':
      return new x.GeneralName({ rfc822Name: n.value });
    case 'uri':
      return new x.GeneralName({ uniformResourceIdentifier: n.value });
    case 'ip':
      return new x.GeneralName({ iPAddress: n.value });
  }
}

/** subjectAltName; critical when the subject name is empty (RFC 5280 §4.2.1.6). */
export function subjectAltNameExt(names: AltName[], critical = false): x.Extension {
  return extension(EXT.subjectAltName, critical, new x.SubjectAlternativeName(names.map(generalName)));
}

/** certificatePolicies with policy OIDs and an optional CPS URI on each. */
export function certificatePoliciesExt(policies: Array<{ oid: string; cps?: string }>): x.Extension {
  const infos = policies.map(
    (p) =>
      new x.PolicyInformation({
        policyIdentifier: p.oid,
        policyQualifiers: p.cps
          ? [new x.PolicyQualifierInfo({ policyQualifierId: x.id_qt_csp, qualifier: AsnConvert.serialize(new x.DisplayText({ ia5String: p.cps })) })]
          : undefined,
      }),
  );
  return extension(EXT.certificatePolicies, false, new x.CertificatePolicies(infos));
}

/** cRLDistributionPoints with one full-name URI per point. */
export function crlDistributionPointsExt(urls: string[]): x.Extension {
  const points = urls.map(
    (u) =>
      new x.DistributionPoint({
        distributionPoint: new x.DistributionPointName({ fullName: [new x.GeneralName({ uniformResourceIdentifier: u })] }),
      }),
  );
  return extension(EXT.crlDistributionPoints, false, new x.CRLDistributionPoints(points));
}

/** authorityInfoAccess with OCSP responder and CA issuers URLs. */
export function authorityInfoAccessExt(ocsp: string[], caIssuers: string[]): x.Extension {
  const ads = [
    ...ocsp.map((u) => new x.AccessDescription({ accessMethod: x.id_ad_ocsp, accessLocation: new x.GeneralName({ uniformResourceIdentifier: u }) })),
    ...caIssuers.map((u) => new x.AccessDescription({ accessMethod: x.id_ad_caIssuers, accessLocation: new x.GeneralName({ uniformResourceIdentifier: u }) })),
  ];
  return extension(EXT.authorityInfoAccess, false, new x.AuthorityInfoAccessSyntax(ads));
}

const DECODERS: Record<string, new () => object> = {
  [EXT.subjectKeyIdentifier]: x.SubjectKeyIdentifier,
  [EXT.keyUsage]: x.KeyUsage,
  [EXT.subjectAltName]: x.SubjectAlternativeName,
  [EXT.issuerAltName]: x.IssueAlternativeName,
  [EXT.basicConstraints]: x.BasicConstraints,
  [EXT.nameConstraints]: x.NameConstraints,
  [EXT.crlDistributionPoints]: x.CRLDistributionPoints,
  [EXT.certificatePolicies]: x.CertificatePolicies,
  [EXT.policyMappings]: x.PolicyMappings,
  [EXT.authorityKeyIdentifier]: x.AuthorityKeyIdentifier,
  [EXT.policyConstraints]: x.PolicyConstraints,
  [EXT.extKeyUsage]: x.ExtendedKeyUsage,
  [EXT.freshestCrl]: x.FreshestCRL,
  [EXT.inhibitAnyPolicy]: x.InhibitAnyPolicy,
  [EXT.authorityInfoAccess]: x.AuthorityInfoAccessSyntax,
  [EXT.subjectInfoAccess]: x.SubjectInfoAccessSyntax,
  [EXT.crlNumber]: x.CRLNumber,
  [EXT.deltaCrlIndicator]: x.BaseCRLNumber,
  [EXT.issuingDistributionPoint]: x.IssuingDistributionPoint,
  [EXT.crlReason]: x.CRLReason,
  [EXT.invalidityDate]: x.InvalidityDate,
  [EXT.certificateIssuer]: x.CertificateIssuer,
};

/** True when this library can decode the extension (and so may process it when critical). */
export function isKnownExtension(oid: string): boolean {
  return oid in DECODERS;
}

/** Decodes an extension's value with its schema class; a malformed value is a ParseError. */
export function decodeExtension<T extends object>(ext: x.Extension, type: new () => T): T {
  try {
    return AsnConvert.parse(ext.extnValue, type);
  } catch (e) {
    throw new ParseError(`extension ${ext.extnID}`, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** Decodes a known extension by its OID (undefined for unknown OIDs). */
export function decodeKnownExtension(ext: x.Extension): object | undefined {
  const type = DECODERS[ext.extnID];
  return type ? decodeExtension(ext, type) : undefined;
}

/** The key usage names set in a decoded KeyUsage. */
export function keyUsageNames(ku: x.KeyUsage): KeyUsageName[] {
  const flags = ku.toNumber();
  return KEY_USAGE_NAMES.filter((n) => (flags & KU_FLAGS[n]) !== 0);
}

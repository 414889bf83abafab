/** The extensions a profile puts into a certificate. */
import { OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { UnsupportedError } from '../errors.js';
import { OID } from '../oids.js';
import type { PublicKey } from '../crypto/keys.js';
import type { Certificate } from '../x509/certificate.js';
import {
  authorityInfoAccessExt,
  authorityKeyIdentifierExt,
  basicConstraintsExt,
  certificatePoliciesExt,
  crlDistributionPointsExt,
  extKeyUsageExt,
  keyIdentifier,
  keyUsageExt,
  subjectAltNameExt,
  subjectKeyIdentifierExt,
  type AltName,
  type KeyUsageName,
} from '../x509/extensions.js';
import { identityExtensions, type HealthIdentity } from '../x509/identity.js';
import { PURPOSES } from './labels.js';
import { policyOidsFor } from './registry.js';
import { describeKey, keyFamilyOf } from './rules.js';
import type { Profile } from './types.js';

/** Where relying parties find revocation status and the issuer's certificate. */
export interface RevocationUrls {
  crlUrls?: string[];
  ocspUrls?: string[];
  caIssuersUrls?: string[];
  /** A CPS URI added as a qualifier to each policy. */
  cpsUrl?: string;
}

/** Inputs of certificateExtensionsFor. */
export interface ExtensionInputs extends RevocationUrls {
  subjectKey: PublicKey;
  /** The issuing CA's certificate; absent for a self-signed root. */
  issuerCert?: Certificate;
  identity?: HealthIdentity;
  altNames?: AltName[];
}

/** The exact key usage bits a profile gives a key of this kind. */
export function keyUsageFor(profile: Profile, key: PublicKey): KeyUsageName[] {
  const family = keyFamilyOf(key);
  const ku = family ? profile.keyUsage[family] : undefined;
  if (!ku) throw new UnsupportedError(`profile ${profile.name} has no key usage for a ${describeKey(key)} key`);
  return ku;
}

/** id-pkix-ocsp-nocheck: its value is an ASN.1 NULL. */
function ocspNoCheckExt(): Extension {
  return new Extension({ extnID: OID.ocspNoCheck, critical: false, extnValue: new OctetString(new Uint8Array([0x05, 0x00])) });
}

/**
 * The extensions of a certificate issued under `profile`, in a fixed order: basicConstraints,
 * keyUsage, extKeyUsage, key identifiers, subjectAltName, policies, CRL DP, AIA, identity, ocsp-nocheck.
 */
export function certificateExtensionsFor(profile: Profile, input: ExtensionInputs): Extension[] {
  const out: Extension[] = [];
  if (profile.basicConstraints) out.push(basicConstraintsExt(true, profile.basicConstraints.pathLen));
  out.push(keyUsageExt(keyUsageFor(profile, input.subjectKey)));
  if (profile.extKeyUsage) {
    out.push(extKeyUsageExt(profile.extKeyUsage.purposes.map((p) => PURPOSES[p].oid), profile.extKeyUsage.critical));
  }
  out.push(subjectKeyIdentifierExt(input.subjectKey));
  const issuerKeyId = input.issuerCert ? (input.issuerCert.subjectKeyId ?? keyIdentifier(input.issuerCert.publicKey)) : keyIdentifier(input.subjectKey);
  out.push(authorityKeyIdentifierExt(issuerKeyId));
  if (input.altNames && input.altNames.length > 0) out.push(subjectAltNameExt(input.altNames));
  const policies = policyOidsFor(profile);
  if (policies.length > 0) out.push(certificatePoliciesExt(policies.map((oid) => ({ oid, cps: input.cpsUrl }))));
  if (profile.revocationInfo) {
    if (input.crlUrls?.length) out.push(crlDistributionPointsExt(input.crlUrls));
    if (input.ocspUrls?.length || input.caIssuersUrls?.length) out.push(authorityInfoAccessExt(input.ocspUrls ?? [], input.caIssuersUrls ?? []));
  }
  out.push(...identityExtensions(input.identity ?? {}));
  if (profile.ocspNoCheck) out.push(ocspNoCheckExt());
  return out;
}

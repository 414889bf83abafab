/**
 * Building and reading X.509 v3 extensions. The schemas are @peculiar/asn1-x509's; this module
 * only chooses encodings (criticality, key identifier method) and gives typed access by OID.
 * The extensions every issued certificate carries are written directly with der-writer (a schema
 * round trip costs ~100 µs each, more than the signature); their bytes equal the schema
 * encoder's (test/der-fastpath.test.ts), which still writes everything else.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { createHash } from 'node:crypto';
import { ParseError, parsing } from '../errors.js';
import { childTlvs, expectTlv, readBitString, readOid, readTlv, type Tlv } from '../encoding/der.js';
import { DER_TRUE, DerWriter, derAscii, derIntegerFromBigInt, derNamedBits, derOctetString, derOid, derTlv, tlvLength } from '../encoding/der-writer.js';
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
  return rawExtension(oid, critical, AsnConvert.serialize(value));
}

/** Wraps an extension value that is already DER. */
export function rawExtension(oid: string, critical: boolean, valueDer: Uint8Array | ArrayBuffer): x.Extension {
  return new x.Extension({ extnID: oid, critical, extnValue: new OctetString(valueDer) });
}

/** An Extension reduced to bytes: the OID's DER, the criticality and the extnValue contents. */
export interface ExtensionParts {
  oid: Buffer;
  critical: boolean;
  value: Uint8Array;
}

/** The parts DER needs from an Extension (critical is DEFAULT FALSE, so only true is written). */
export function extensionParts(e: x.Extension): ExtensionParts {
  return { oid: derOid(e.extnID), critical: !!e.critical, value: new Uint8Array(e.extnValue.buffer) };
}

/** The content length of Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extensionLength(e: ExtensionParts): number {
  return e.oid.length + (e.critical ? DER_TRUE.length : 0) + tlvLength(e.value.length);
}

/** Writes one Extension SEQUENCE. */
export function writeExtension(w: DerWriter, e: ExtensionParts): void {
  w.header(0x30, extensionLength(e));
  w.bytes(e.oid);
  if (e.critical) w.bytes(DER_TRUE);
  w.header(0x04, e.value.length);
  w.bytes(e.value);
}

/** DER of one Extension. */
export function extensionDer(ext: x.Extension): Buffer {
  const e = extensionParts(ext);
  const w = new DerWriter(tlvLength(extensionLength(e)));
  writeExtension(w, e);
  return w.result();
}

/** basicConstraints, critical (RFC 5280 requires it critical in CA certificates). */
export function basicConstraintsExt(ca: boolean, pathLen?: number): x.Extension {
  const len = ca ? pathLen : undefined;
  if (len !== undefined && !(Number.isSafeInteger(len) && len >= 0)) {
    // Only a non-negative integer is meaningful; anything else keeps the schema encoder's old result.
    return extension(EXT.basicConstraints, true, new x.BasicConstraints({ cA: ca, pathLenConstraint: len }));
  }
  // cA is DEFAULT FALSE, so DER omits it unless true.
  const parts = ca ? [DER_TRUE] : [];
  if (len !== undefined) parts.push(derIntegerFromBigInt(BigInt(len)));
  return rawExtension(EXT.basicConstraints, true, derTlv(0x30, parts));
}

/** keyUsage, critical. */
export function keyUsageExt(usages: KeyUsageName[]): x.Extension {
  const flags = usages.reduce((acc, u) => acc | KU_FLAGS[u], 0);
  return rawExtension(EXT.keyUsage, true, derNamedBits(flags));
}

/** extKeyUsage, non-critical. */
export function extKeyUsageExt(oids: string[], critical = false): x.Extension {
  return rawExtension(EXT.extKeyUsage, critical, derTlv(0x30, oids.map(derOid)));
}

/** The key identifier of RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(pub: PublicKey): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(pub.spki)).digest();
}

/** The subjectPublicKey BIT STRING's bytes inside SubjectPublicKeyInfo DER (a view, not a copy). */
function subjectPublicKeyBits(spki: Buffer): Uint8Array {
  return parsing('public key', () => {
    const top = expectTlv(spki, 0, 0x30, 'public key');
    const alg = expectTlv(spki, top.valueStart, 0x30, 'public key');
    return readBitString(spki, expectTlv(spki, alg.end, 0x03, 'public key'), 'public key').bytes;
  });
}

/** subjectKeyIdentifier for a public key. */
export function subjectKeyIdentifierExt(pub: PublicKey): x.Extension {
  return rawExtension(EXT.subjectKeyIdentifier, false, derOctetString(keyIdentifier(pub)));
}

/** authorityKeyIdentifier carrying the issuer's key identifier. */
export function authorityKeyIdentifierExt(issuerKeyId: Uint8Array): x.Extension {
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  return rawExtension(EXT.authorityKeyIdentifier, false, derTlv(0x30, [derTlv(0x80, [issuerKeyId])]));
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
  if (policies.every((p) => !p.cps)) {
    // PolicyInformation ::= SEQUENCE { policyIdentifier, policyQualifiers OPTIONAL }
    return rawExtension(EXT.certificatePolicies, false, derTlv(0x30, policies.map((p) => derTlv(0x30, [derOid(p.oid)]))));
  }
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

/**
 * A GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String. Characters are written one
 * byte each (the low byte of each UTF-16 unit), exactly as the schema encoder has always written them.
 */
function uriGeneralName(uri: string): Buffer {
  return derAscii(0x86, uri);
}

/** cRLDistributionPoints with one full-name URI per point. */
export function crlDistributionPointsExt(urls: string[]): x.Extension {
  // DistributionPoint ::= SEQUENCE { distributionPoint [0] EXPLICIT CHOICE { fullName [0] IMPLICIT GeneralNames } }
  const points = urls.map((u) => derTlv(0x30, [derTlv(0xa0, [derTlv(0xa0, [uriGeneralName(u)])])]));
  return rawExtension(EXT.crlDistributionPoints, false, derTlv(0x30, points));
}

/** authorityInfoAccess with OCSP responder and CA issuers URLs. */
export function authorityInfoAccessExt(ocsp: string[], caIssuers: string[]): x.Extension {
  const access = (method: string) => (u: string) => derTlv(0x30, [derOid(method), uriGeneralName(u)]);
  const ads = [...ocsp.map(access(x.id_ad_ocsp)), ...caIssuers.map(access(x.id_ad_caIssuers))];
  return rawExtension(EXT.authorityInfoAccess, false, derTlv(0x30, ads));
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

// ---------------------------------------------------------------------------------------------
// Reading the common forms by hand
//
// A schema decode of one extension value costs 50-150 µs, more than a whole hand-read
// certificate; issuance decodes a dozen (checking the issuer, linting the result). The readers
// below take the canonical DER form of the extensions this service issues and that real CAs
// write, and return undefined for anything else (trailing bytes, long or unusual encodings,
// rarely used fields): the caller then decodes with the schema, so every odd input is judged
// exactly as before. test/decode-fastpath.test.ts checks both paths agree on PKITS.

/** The TLV filling `value` exactly, or undefined. */
function wholeTlv(value: Uint8Array, tag: number): Tlv | undefined {
  if (value.length < 2 || value[0] !== tag) return undefined;
  try {
    const t = readTlv(value, 0);
    return t.end === value.length ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The children of a constructed TLV, or undefined when they do not fill it exactly. */
function childrenOf(value: Uint8Array, t: Tlv): Tlv[] | undefined {
  try {
    return childTlvs(value, t);
  } catch {
    return undefined;
  }
}

/** A BIT STRING's flags as the schema's KeyUsage.toNumber() gives them, for strings of at most 4 bytes. */
export function readKeyUsageFlags(value: Uint8Array): number | undefined {
  const t = wholeTlv(value, 0x03);
  const len = t ? t.end - t.valueStart : 0;
  if (!t || len < 2 || len > 5 || value[t.valueStart]! > 7) return undefined;
  const unused = value[t.valueStart]!;
  const bits = (len - 1) * 8 - unused;
  // Bit i of the string (i = 0 the first octet's most significant bit) is worth 2^i.
  let flags = 0;
  for (let i = 0; i < bits; i++) if (value[t.valueStart + 1 + (i >> 3)]! & (0x80 >> (i & 7))) flags += 2 ** i;
  return flags;
}

/** The key usage names of a keyUsage value by hand, or undefined for the schema decoder. */
export function readKeyUsageNames(value: Uint8Array): KeyUsageName[] | undefined {
  const flags = readKeyUsageFlags(value);
  return flags === undefined ? undefined : KEY_USAGE_NAMES.filter((n) => (flags & KU_FLAGS[n]) !== 0);
}

/** The OIDs of a SEQUENCE OF OBJECT IDENTIFIER (extKeyUsage), or undefined for the schema decoder. */
export function readOidList(value: Uint8Array): string[] | undefined {
  const t = wholeTlv(value, 0x30);
  const items = t && childrenOf(value, t);
  if (!items) return undefined;
  const out: string[] = [];
  for (const i of items) {
    if (i.tag !== 0x06) return undefined;
    try {
      out.push(readOid(value, i));
    } catch {
      return undefined;
    }
  }
  return out;
}

/** basicConstraints { cA BOOLEAN DEFAULT FALSE, pathLen small INTEGER OPTIONAL } by hand, or undefined for the schema decoder. */
export function readBasicConstraints(value: Uint8Array): x.BasicConstraints | undefined {
  const t = wholeTlv(value, 0x30);
  const items = t && childrenOf(value, t);
  if (!items || items.length > 2) return undefined;
  let cA = false;
  let i = 0;
  if (items[0]?.tag === 0x01) {
    if (items[0].end - items[0].valueStart !== 1) return undefined;
    cA = value[items[0].valueStart] !== 0;
    i = 1;
  }
  let pathLenConstraint: number | undefined;
  const p = items[i];
  if (p) {
    if (i + 1 !== items.length || p.tag !== 0x02) return undefined;
    const len = p.end - p.valueStart;
    // Small non-negative values only; others are the schema decoder's to judge.
    if (len < 1 || len > 4 || value[p.valueStart]! & 0x80) return undefined;
    pathLenConstraint = 0;
    for (let k = p.valueStart; k < p.end; k++) pathLenConstraint = pathLenConstraint * 256 + value[k]!;
  } else if (i !== items.length) return undefined;
  const bc = new x.BasicConstraints({ cA });
  if (pathLenConstraint !== undefined) bc.pathLenConstraint = pathLenConstraint;
  return bc;
}

/** A subjectKeyIdentifier (OCTET STRING) by hand, or undefined for the schema decoder. */
export function readKeyIdentifier(value: Uint8Array): Buffer | undefined {
  const t = wholeTlv(value, 0x04);
  return t && Buffer.from(value.subarray(t.valueStart, t.end));
}

/**
 * The keyIdentifier of an authorityKeyIdentifier by hand: `null` when the SEQUENCE is empty,
 * undefined (schema decoder) when it holds anything but one [0] keyIdentifier.
 */
export function readAuthorityKeyId(value: Uint8Array): Buffer | null | undefined {
  const t = wholeTlv(value, 0x30);
  const items = t && childrenOf(value, t);
  if (!items || items.length > 1) return undefined;
  if (items.length === 0) return null;
  const k = items[0]!;
  return k.tag === 0x80 ? Buffer.from(value.subarray(k.valueStart, k.end)) : undefined;
}

/**
 * The policy OIDs of certificatePolicies by hand, or undefined for the schema decoder:
 * SEQUENCE OF SEQUENCE { OID, SEQUENCE OF SEQUENCE { OID, IA5String } OPTIONAL }.
 */
export function readPolicyOids(value: Uint8Array): string[] | undefined {
  const t = wholeTlv(value, 0x30);
  const infos = t && childrenOf(value, t);
  if (!infos) return undefined;
  const out: string[] = [];
  try {
    for (const info of infos) {
      const parts = info.tag === 0x30 ? childTlvs(value, info) : undefined;
      if (!parts || parts.length < 1 || parts.length > 2 || parts[0]!.tag !== 0x06) return undefined;
      if (parts[1]) {
        if (parts[1].tag !== 0x30) return undefined;
        for (const q of childTlvs(value, parts[1])) {
          // A CPS URI (IA5String) only: other qualifiers are structures the schema decoder reads whole.
          const qp = q.tag === 0x30 ? childTlvs(value, q) : undefined;
          if (!qp || qp.length !== 2 || qp[0]!.tag !== 0x06 || qp[1]!.tag !== 0x16) return undefined;
          readOid(value, qp[0]!);
        }
      }
      out.push(readOid(value, parts[0]!));
    }
  } catch {
    return undefined;
  }
  return out;
}

/**
 * A certificate decoded once into what RFC 5280 §6 path validation consumes: normalized names,
 * constraints, policies, key identifiers and distribution points. Extensions are read from their
 * exact DER (see der-read.ts). A certificate whose extensions cannot be decoded is still
 * "prepared" but carries `malformed`, so that it fails validation with a reason instead of
 * throwing out of the path builder.
 */
import { createHash } from 'node:crypto';
import { readTlv, childTlvs, readOid } from '../encoding/der.js';
import { ParseError, PkiError } from '../errors.js';
import { OID } from '../oids.js';
import type { Certificate } from '../x509/certificate.js';
import { EXT } from '../x509/extensions.js';
import { namedBits, readGeneralName, readGeneralNames, valueOf, wholeTlv, type GeneralNameValue } from './der-read.js';
import { normalizeName, type NormalizedName } from './names.js';

/** keyUsage bit numbers (RFC 5280 §4.2.1.3) as flags of `namedBits`. */
export const KU = { digitalSignature: 1 << 0, keyCertSign: 1 << 5, cRLSign: 1 << 6 } as const;

/** One subtree of a nameConstraints extension (minimum and maximum are not used in this profile). */
export interface Subtree {
  base: GeneralNameValue;
}

/** A distribution point: where a CRL is, which reasons it covers and who issues it. */
export interface DistributionPoint {
  /** fullName, when the point is named that way. */
  fullName?: GeneralNameValue[];
  /** nameRelativeToIssuer, as the DER of one RDN SET. */
  relativeName?: Buffer;
  /** ReasonFlags bits (bit 1 keyCompromise … bit 8 aACompromise); undefined means all reasons. */
  reasons?: number;
  cRLIssuer?: GeneralNameValue[];
}

/** A certificate prepared for path validation. */
export interface PreparedCert {
  cert: Certificate;
  /** SHA-256 of the certificate DER, hex: identity for caches and loop detection. */
  fingerprint: string;
  subject: NormalizedName;
  issuer: NormalizedName;
  /** Subject and issuer are the same name (RFC 5280 §7.1 comparison). */
  selfIssued: boolean;
  version: number;
  notBefore: Date;
  notAfter: Date;
  /** The SubjectPublicKeyInfo exactly as encoded. */
  spki: Buffer;
  /** SHA-256 of the SubjectPublicKeyInfo DER, hex: identity of the key. */
  spkiHash: string;
  spkiAlgorithm: string;
  /** False when the key's AlgorithmIdentifier has no parameters (DSA parameter inheritance). */
  spkiHasParams: boolean;
  subjectKeyId?: string;
  authorityKeyId?: string;
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** keyUsage bits; undefined when the extension is absent. */
  keyUsage?: number;
  /** certificatePolicies OIDs; undefined when the extension is absent. */
  policies?: string[];
  policyMappings?: Array<{ issuerDomain: string; subjectDomain: string }>;
  requireExplicitPolicy?: number;
  inhibitPolicyMapping?: number;
  inhibitAnyPolicy?: number;
  nameConstraints?: { permitted: Subtree[]; excluded: Subtree[] };
  subjectAltNames?: GeneralNameValue[];
  crlDistributionPoints?: DistributionPoint[];
  freshestCrl?: DistributionPoint[];
  /** Critical extensions this validator does not process. */
  unknownCritical: string[];
  /** Set when an extension or the key could not be decoded; validation then fails. */
  malformed?: string;
}

/** Extensions whose meaning path validation knows, so they may be critical (RFC 5280 §6.1.4 (o)). */
const PROCESSED = new Set<string>([
  EXT.basicConstraints,
  EXT.keyUsage,
  EXT.extKeyUsage,
  EXT.certificatePolicies,
  EXT.policyMappings,
  EXT.policyConstraints,
  EXT.inhibitAnyPolicy,
  EXT.nameConstraints,
  EXT.subjectAltName,
  EXT.issuerAltName,
  EXT.subjectKeyIdentifier,
  EXT.authorityKeyIdentifier,
  EXT.crlDistributionPoints,
  EXT.freshestCrl,
  EXT.authorityInfoAccess,
  EXT.subjectInfoAccess,
]);

/** SHA-256 hex of bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Decodes everything path validation needs from a certificate. Never throws for bad extensions. */
export function prepareCertificate(cert: Certificate): PreparedCert {
  const spki = spkiBytes(cert.tbsDer);
  const p: PreparedCert = {
    cert,
    fingerprint: sha256Hex(cert.der),
    subject: normalizeName(cert.subjectDer),
    issuer: normalizeName(cert.issuerDer),
    selfIssued: false,
    version: cert.version,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    spki,
    spkiHash: sha256Hex(spki),
    spkiAlgorithm: cert.tbs.subjectPublicKeyInfo.algorithm.algorithm,
    spkiHasParams: spkiHasParameters(spki),
    unknownCritical: [],
  };
  p.selfIssued = p.subject.key === p.issuer.key;
  if (!sameAlgorithm(cert.tbs.signature, cert.signatureAlgorithm)) {
    p.malformed = 'the signature algorithm inside the signed part differs from the outer one (RFC 5280 §4.1.1.2)';
  }
  const seen = new Set<string>();
  for (const ext of cert.extensions) {
    if (seen.has(ext.extnID)) {
      p.malformed ??= `extension ${ext.extnID} appears more than once`;
      continue;
    }
    seen.add(ext.extnID);
    try {
      readExtension(p, ext.extnID, Buffer.from(ext.extnValue.buffer));
    } catch (e) {
      p.malformed ??= e instanceof Error ? e.message : String(e);
    }
    if (ext.critical && !PROCESSED.has(ext.extnID)) p.unknownCritical.push(ext.extnID);
  }
  return p;
}

/** Whether two AlgorithmIdentifiers are the same (OID and parameters). */
export function sameAlgorithm(a: { algorithm: string; parameters?: ArrayBuffer | null }, b: { algorithm: string; parameters?: ArrayBuffer | null }): boolean {
  if (a.algorithm !== b.algorithm) return false;
  const pa = a.parameters ? Buffer.from(a.parameters) : undefined;
  const pb = b.parameters ? Buffer.from(b.parameters) : undefined;
  // An absent and a NULL parameter are treated alike: encoders differ on RSA's NULL.
  const isNull = (x?: Buffer) => x === undefined || (x.length === 2 && x[0] === 0x05 && x[1] === 0x00);
  if (isNull(pa) && isNull(pb)) return true;
  return pa !== undefined && pb !== undefined && pa.equals(pb);
}

/** The SubjectPublicKeyInfo TLV of a TBSCertificate, without re-encoding it. */
function spkiBytes(tbs: Buffer): Buffer {
  const top = readTlv(tbs, 0, 'tbsCertificate');
  let t = readTlv(tbs, top.valueStart, 'tbsCertificate');
  if (t.tag === 0xa0) t = readTlv(tbs, t.end, 'tbsCertificate'); // version
  for (let i = 0; i < 5; i++) t = readTlv(tbs, t.end, 'tbsCertificate'); // serial, signature, issuer, validity, subject
  if (t.tag !== 0x30) throw new ParseError('tbsCertificate', 'subjectPublicKeyInfo missing');
  return Buffer.from(tbs.subarray(t.start, t.end));
}

function spkiHasParameters(spki: Buffer): boolean {
  const top = readTlv(spki, 0);
  const alg = readTlv(spki, top.valueStart);
  const oid = readTlv(spki, alg.valueStart);
  return oid.end < alg.end;
}

function readExtension(p: PreparedCert, oid: string, v: Buffer): void {
  switch (oid) {
    case EXT.basicConstraints:
      p.basicConstraints = readBasicConstraints(v);
      break;
    case EXT.keyUsage:
      p.keyUsage = namedBits(valueOf(v, wholeTlv(v, 'keyUsage', 0x03)), 'keyUsage');
      break;
    case EXT.subjectKeyIdentifier:
      p.subjectKeyId = valueOf(v, wholeTlv(v, 'subjectKeyIdentifier', 0x04)).toString('hex');
      break;
    case EXT.authorityKeyIdentifier: {
      const top = wholeTlv(v, 'authorityKeyIdentifier', 0x30);
      const kid = childTlvs(v, top, 'authorityKeyIdentifier').find((t) => t.tag === 0x80);
      if (kid) p.authorityKeyId = valueOf(v, kid).toString('hex');
      break;
    }
    case EXT.certificatePolicies: {
      const top = wholeTlv(v, 'certificatePolicies', 0x30);
      const oids = childTlvs(v, top, 'certificatePolicies').map((info) => {
        const first = childTlvs(v, info, 'certificatePolicies')[0];
        if (info.tag !== 0x30 || !first || first.tag !== 0x06) throw new ParseError('certificatePolicies', 'PolicyInformation must start with an OID');
        return readOid(v, first);
      });
      if (oids.length === 0) throw new ParseError('certificatePolicies', 'empty');
      if (new Set(oids).size !== oids.length) throw new ParseError('certificatePolicies', 'a policy appears more than once');
      p.policies = oids;
      break;
    }
    case EXT.policyMappings: {
      const top = wholeTlv(v, 'policyMappings', 0x30);
      p.policyMappings = childTlvs(v, top, 'policyMappings').map((m) => {
        const [a, b, extra] = childTlvs(v, m, 'policyMappings');
        if (m.tag !== 0x30 || !a || !b || extra || a.tag !== 0x06 || b.tag !== 0x06) throw new ParseError('policyMappings', 'a mapping must be two OIDs');
        return { issuerDomain: readOid(v, a), subjectDomain: readOid(v, b) };
      });
      if (p.policyMappings.length === 0) throw new ParseError('policyMappings', 'empty');
      break;
    }
    case EXT.policyConstraints: {
      const top = wholeTlv(v, 'policyConstraints', 0x30);
      const parts = childTlvs(v, top, 'policyConstraints');
      if (parts.length === 0) throw new ParseError('policyConstraints', 'empty (RFC 5280 §4.2.1.11)');
      for (const t of parts) {
        if (t.tag === 0x80) p.requireExplicitPolicy = skipCerts(valueOf(v, t), 'requireExplicitPolicy');
        else if (t.tag === 0x81) p.inhibitPolicyMapping = skipCerts(valueOf(v, t), 'inhibitPolicyMapping');
        else throw new ParseError('policyConstraints', `unexpected tag 0x${t.tag.toString(16)}`);
      }
      break;
    }
    case EXT.inhibitAnyPolicy:
      p.inhibitAnyPolicy = skipCerts(valueOf(v, wholeTlv(v, 'inhibitAnyPolicy', 0x02)), 'inhibitAnyPolicy');
      break;
    case EXT.nameConstraints:
      p.nameConstraints = readNameConstraints(v);
      break;
    case EXT.subjectAltName:
      p.subjectAltNames = decodableNames(readGeneralNames(v, wholeTlv(v, 'subjectAltName', 0x30), 'subjectAltName'));
      break;
    case EXT.crlDistributionPoints:
      p.crlDistributionPoints = readDistributionPoints(v, 'cRLDistributionPoints');
      break;
    case EXT.freshestCrl:
      p.freshestCrl = readDistributionPoints(v, 'freshestCRL');
      break;
    default:
      break;
  }
}

/** A non-negative INTEGER used as a certificate count (SkipCerts), capped to stay a safe number. */
function skipCerts(content: Buffer, what: string): number {
  if (content.length === 0) throw new ParseError(what, 'empty INTEGER');
  if (content[0]! & 0x80) throw new ParseError(what, 'negative');
  if (content.length > 4) return 0x7fffffff;
  return content.readUIntBE(0, content.length);
}

function readBasicConstraints(v: Buffer): { ca: boolean; pathLen?: number } {
  const top = wholeTlv(v, 'basicConstraints', 0x30);
  const parts = childTlvs(v, top, 'basicConstraints');
  let ca = false;
  let pathLen: number | undefined;
  for (const t of parts) {
    if (t.tag === 0x01) {
      if (t.end - t.valueStart !== 1) throw new ParseError('basicConstraints', 'bad BOOLEAN');
      ca = v[t.valueStart] !== 0;
    } else if (t.tag === 0x02) pathLen = skipCerts(valueOf(v, t), 'pathLenConstraint');
    else throw new ParseError('basicConstraints', `unexpected tag 0x${t.tag.toString(16)}`);
  }
  return { ca, pathLen };
}

function readNameConstraints(v: Buffer): { permitted: Subtree[]; excluded: Subtree[] } {
  const top = wholeTlv(v, 'nameConstraints', 0x30);
  const out = { permitted: [] as Subtree[], excluded: [] as Subtree[] };
  for (const t of childTlvs(v, top, 'nameConstraints')) {
    if (t.tag !== 0xa0 && t.tag !== 0xa1) throw new ParseError('nameConstraints', `unexpected tag 0x${t.tag.toString(16)}`);
    const list = t.tag === 0xa0 ? out.permitted : out.excluded;
    for (const st of childTlvs(v, t, 'nameConstraints')) {
      if (st.tag !== 0x30) throw new ParseError('nameConstraints', 'GeneralSubtree must be a SEQUENCE');
      const [baseT, ...rest] = childTlvs(v, st, 'nameConstraints');
      if (!baseT) throw new ParseError('nameConstraints', 'GeneralSubtree without a base');
      // RFC 5280 §4.2.1.10: minimum MUST be zero and maximum absent; anything else cannot be honoured.
      for (const r of rest) {
        if (r.tag === 0x80 && !(r.end - r.valueStart === 1 && v[r.valueStart] === 0)) throw new PkiError('unsupported', 'name constraint with a non-zero minimum');
        if (r.tag === 0x81) throw new PkiError('unsupported', 'name constraint with a maximum');
      }
      list.push({ base: decodableNames([readGeneralName(v, baseT, 'nameConstraints')])[0]! });
    }
  }
  if (out.permitted.length === 0 && out.excluded.length === 0) throw new ParseError('nameConstraints', 'empty (RFC 5280 §4.2.1.10)');
  return out;
}

/** Reads a DistributionPointName CHOICE (the content of the explicit [0]). */
export function readDistributionPointName(v: Buffer, t: { valueStart: number; end: number }, what: string): { fullName?: GeneralNameValue[]; relativeName?: Buffer } {
  const inner = readTlv(v, t.valueStart, what);
  if (inner.end !== t.end) throw new ParseError(what, 'distributionPoint holds more than one name');
  if (inner.tag === 0xa0) return { fullName: decodableNames(readGeneralNames(v, inner, what)) };
  if (inner.tag === 0xa1) {
    // nameRelativeToIssuer is an implicitly tagged RDN: re-tag it as a SET to append it to a Name.
    const set = Buffer.from(v.subarray(inner.start, inner.end));
    set[0] = 0x31;
    return { relativeName: set };
  }
  throw new ParseError(what, `unexpected DistributionPointName tag 0x${inner.tag.toString(16)}`);
}

function readDistributionPoints(v: Buffer, what: string): DistributionPoint[] {
  const top = wholeTlv(v, what, 0x30);
  const points = childTlvs(v, top, what).map((dpT) => {
    if (dpT.tag !== 0x30) throw new ParseError(what, 'DistributionPoint must be a SEQUENCE');
    const dp: DistributionPoint = {};
    for (const t of childTlvs(v, dpT, what)) {
      if (t.tag === 0xa0) Object.assign(dp, readDistributionPointName(v, t, what));
      else if (t.tag === 0x81) dp.reasons = namedBits(valueOf(v, t), what);
      else if (t.tag === 0xa2) dp.cRLIssuer = decodableNames(readGeneralNames(v, t, what));
      else throw new ParseError(what, `unexpected tag 0x${t.tag.toString(16)}`);
    }
    if (!dp.fullName && !dp.relativeName && !dp.cRLIssuer) throw new ParseError(what, 'a DistributionPoint needs a name or a cRLIssuer (RFC 5280 §4.2.1.13)');
    return dp;
  });
  if (points.length === 0) throw new ParseError(what, 'empty');
  return points;
}

/** Decodes every directoryName now (ParseError if one is bad), so later comparisons cannot throw. */
function decodableNames(names: GeneralNameValue[]): GeneralNameValue[] {
  for (const n of names) if (n.kind === 'directory') normalizeName(n.nameDer!);
  return names;
}

/** True when the certificate may sign certificates per keyUsage (absent keyUsage allows it). */
export function mayCertSign(p: PreparedCert): boolean {
  return p.keyUsage === undefined || (p.keyUsage & KU.keyCertSign) !== 0;
}

/** The OID of anyPolicy. */
export const ANY_POLICY = OID.anyPolicy;

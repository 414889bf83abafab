/**
 * What `hpki cert show` reports: every field of a certificate, every extension decoded and named,
 * the GB/T 20518 identity numbers labelled in Chinese and English. One stable JSON object, and a
 * text rendering of the same object.
 */
import type { AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CRLDistributionPoints, GeneralName, KeyUsage } from '@peculiar/asn1-x509';
import {
  EXT,
  IDENTITY_LABELS,
  KEY_USAGE_LABELS,
  OID,
  POLICY_OIDS,
  PURPOSES,
  attributeName,
  attributeText,
  decodeKnownExtension,
  describeKey,
  digest,
  formatName,
  keyIdentifier,
  keyUsageNames,
  purposeName,
  readIdentity,
  signatureAlgorithmName,
  type Certificate,
  type HealthIdentity,
  type IdentityField,
} from '@health-pki/pki';
import type { Extension, Name } from '@peculiar/asn1-x509';

/** Names of the extensions this report decodes (and a few it only names). */
const EXTENSION_NAMES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(EXT).map(([name, oid]) => [oid, name])),
  [OID.identityCode]: 'identityCode',
  [OID.insuranceNumber]: 'insuranceNumber',
  [OID.icRegistrationNumber]: 'icRegistrationNumber',
  [OID.organizationCode]: 'organizationCode',
  [OID.taxationNumber]: 'taxationNumber',
  [OID.unifiedSocialCreditCode]: 'unifiedSocialCreditCode',
  [OID.ocspNoCheck]: 'ocspNoCheck',
  '1.3.6.1.4.1.11129.2.4.2': 'ctSignedCertificateTimestamps',
  '2.16.840.1.113730.1.1': 'netscapeCertType',
  '2.16.840.1.113730.1.13': 'netscapeComment',
};

const OTHER_EKU_NAMES: Record<string, string> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.4.1.311.20.2.2': 'msSmartcardLogin',
  '1.3.6.1.5.5.7.3.17': 'ipsecIKE',
};

/** A subject alternative name, access location or distribution point name as JSON. */
export interface GeneralNameJson {
  type: string;
  value: string;
}

function generalNameJson(g: GeneralName): GeneralNameJson {
  if (g.dNSName !== undefined) return { type: 'dns', value: g.dNSName };
  if (g.rfc822Name !== undefined) return { type: 'email', value: g.rfc822Name };
  if (g.uniformResourceIdentifier !== undefined) return { type: 'uri', value: g.uniformResourceIdentifier };
  if (g.iPAddress !== undefined) return { type: 'ip', value: g.iPAddress };
  if (g.directoryName !== undefined) return { type: 'directoryName', value: formatName(g.directoryName) };
  if (g.registeredID !== undefined) return { type: 'registeredID', value: g.registeredID };
  if (g.otherName !== undefined) return { type: 'otherName', value: g.otherName.typeId };
  return { type: 'other', value: '' };
}

function nameJson(name: Name): Array<{ type: string; oid: string; value: string }> {
  return name.flatMap((rdn) => rdn.map((atv) => ({ type: attributeName(atv.type), oid: atv.type, value: attributeText(atv.value) })));
}

/** The content of a DER string TLV (a CPS URI is an IA5String). */
function stringTlvValue(tlv: Uint8Array): string {
  const len = tlv[1] ?? 0;
  const header = len & 0x80 ? 2 + (len & 0x7f) : 2;
  return Buffer.from(tlv.subarray(header)).toString('utf8');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The decoded value of one extension, shaped per extension type. */
function extensionValue(ext: Extension): unknown {
  const oid = ext.extnID;
  if (oid === OID.ocspNoCheck) return null;
  if (oid === OID.identityCode || Object.values(IDENTITY_LABELS).some((l) => l.oid === oid)) {
    const id = readIdentity([ext]);
    return (Object.keys(id) as IdentityField[]).map((field) => identityItem(field, id[field]!));
  }
  const decoded = decodeKnownExtension(ext);
  if (decoded === undefined) return { der: hex(new Uint8Array(ext.extnValue.buffer)) };
  switch (oid) {
    case EXT.keyUsage:
      return keyUsageNames(decoded as KeyUsage);
    case EXT.extKeyUsage:
      return [...(decoded as string[])].map((o) => ({ oid: o, name: purposeName(o) ?? OTHER_EKU_NAMES[o] ?? o }));
    case EXT.basicConstraints: {
      const bc = decoded as BasicConstraints;
      return { ca: bc.cA, pathLen: bc.pathLenConstraint ?? null };
    }
    case EXT.subjectKeyIdentifier:
      return hex(new Uint8Array((decoded as { buffer: ArrayBuffer }).buffer));
    case EXT.authorityKeyIdentifier: {
      const aki = decoded as AuthorityKeyIdentifier;
      return {
        keyId: aki.keyIdentifier ? hex(new Uint8Array(aki.keyIdentifier.buffer)) : null,
        issuer: aki.authorityCertIssuer ? aki.authorityCertIssuer.map(generalNameJson) : null,
        serial: aki.authorityCertSerialNumber ? hex(new Uint8Array(aki.authorityCertSerialNumber)) : null,
      };
    }
    case EXT.subjectAltName:
    case EXT.issuerAltName:
      return [...(decoded as GeneralName[])].map(generalNameJson);
    case EXT.certificatePolicies:
      return [...(decoded as CertificatePolicies)].map((p) => {
        const placeholder = Object.entries(POLICY_OIDS.policies).find(([, o]) => o === p.policyIdentifier)?.[0];
        const name = p.policyIdentifier === OID.anyPolicy ? 'anyPolicy' : placeholder ? `health placeholder policy ${placeholder}` : null;
        const cps = (p.policyQualifiers ?? []).filter((q) => q.policyQualifierId === '1.3.6.1.5.5.7.2.1').map((q) => stringTlvValue(new Uint8Array(q.qualifier)));
        return { oid: p.policyIdentifier, name, cps };
      });
    case EXT.crlDistributionPoints:
      return [...(decoded as CRLDistributionPoints)].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).map(generalNameJson));
    case EXT.authorityInfoAccess:
    case EXT.subjectInfoAccess:
      return [...(decoded as Array<{ accessMethod: string; accessLocation: GeneralName }>)].map((ad) => ({
        method: ad.accessMethod === '1.3.6.1.5.5.7.48.1' ? 'ocsp' : ad.accessMethod === '1.3.6.1.5.5.7.48.2' ? 'caIssuers' : ad.accessMethod,
        location: generalNameJson(ad.accessLocation),
      }));
    default:
      return { der: hex(new Uint8Array(ext.extnValue.buffer)) };
  }
}

function identityItem(field: IdentityField, value: string): { field: IdentityField; labelZh: string; label: string; oid: string; value: string } {
  const l = IDENTITY_LABELS[field];
  return { field, labelZh: l['zh-CN'], label: l.en, oid: l.oid, value };
}

/** The stable JSON report of a certificate. */
export function certificateReport(cert: Certificate): Record<string, unknown> {
  let publicKey: Record<string, unknown>;
  try {
    const k = cert.publicKey;
    publicKey = { algorithm: describeKey(k), kind: k.kind, curve: k.curve ?? null, bits: k.bits, keyId: hex(keyIdentifier(k)) };
  } catch (e) {
    publicKey = { algorithm: cert.tbs.subjectPublicKeyInfo.algorithm.algorithm, error: (e as Error).message };
  }
  let identity: HealthIdentity = {};
  try {
    identity = readIdentity(cert.extensions);
  } catch {
    // A malformed identity extension is reported with that extension below.
  }
  return {
    version: cert.version,
    serialNumber: cert.serialHex,
    subject: cert.subjectText,
    subjectAttributes: nameJson(cert.subject),
    issuer: cert.issuerText,
    issuerAttributes: nameJson(cert.issuer),
    validity: {
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      days: Math.round(((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000) * 100) / 100,
    },
    publicKey,
    signatureAlgorithm: { name: signatureAlgorithmName(cert.signatureAlgorithm.algorithm), oid: cert.signatureAlgorithm.algorithm },
    fingerprints: { sha256: hex(digest('sha256', cert.der)), sm3: hex(digest('sm3', cert.der)) },
    selfIssued: cert.isSelfIssued,
    identity: (Object.keys(identity) as IdentityField[]).map((f) => identityItem(f, identity[f]!)),
    extensions: cert.extensions.map((ext) => {
      let value: unknown;
      let error: string | undefined;
      try {
        value = extensionValue(ext);
      } catch (e) {
        error = (e as Error).message;
      }
      return { oid: ext.extnID, name: EXTENSION_NAMES[ext.extnID] ?? null, critical: ext.critical, ...(error ? { error } : { value }) };
    }),
  };
}

function extensionText(name: string | null, value: unknown): string {
  if (value === null) return '(present)';
  switch (name) {
    case 'keyUsage':
      return (value as string[]).map((u) => `${u} (${KEY_USAGE_LABELS[u as keyof typeof KEY_USAGE_LABELS]?.['zh-CN'] ?? '?'})`).join(', ');
    case 'extKeyUsage':
      return (value as Array<{ oid: string; name: string }>)
        .map((e) => {
          const p = purposeName(e.oid);
          return p ? `${e.name} (${PURPOSES[p].label['zh-CN']})` : e.name;
        })
        .join(', ');
    case 'basicConstraints': {
      const bc = value as { ca: boolean; pathLen: number | null };
      return `cA=${bc.ca}${bc.pathLen !== null ? `, pathLen=${bc.pathLen}` : ''}`;
    }
    case 'authorityKeyIdentifier': {
      const aki = value as { keyId: string | null };
      return `keyId ${aki.keyId ?? '(none)'}`;
    }
    case 'subjectAltName':
    case 'issuerAltName':
    case 'crlDistributionPoints':
      return (value as GeneralNameJson[]).map((g) => `${g.type}:${g.value}`).join(', ');
    case 'certificatePolicies':
      return (value as Array<{ oid: string; name: string | null; cps: string[] }>).map((p) => `${p.oid}${p.name ? ` (${p.name})` : ''}${p.cps.length ? ` CPS ${p.cps.join(' ')}` : ''}`).join(', ');
    case 'authorityInfoAccess':
    case 'subjectInfoAccess':
      return (value as Array<{ method: string; location: GeneralNameJson }>).map((a) => `${a.method} ${a.location.value}`).join(', ');
    default:
      if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v && 'labelZh' in v)) {
        return (value as Array<{ labelZh: string; label: string; value: string }>).map((i) => `${i.labelZh} ${i.label}: ${i.value}`).join(', ');
      }
      if (typeof value === 'string') return value;
      if (value && typeof value === 'object' && 'der' in value) return `DER ${(value as { der: string }).der}`;
      return JSON.stringify(value);
  }
}

/** The report as readable text, Chinese and English labels side by side. */
export function certificateReportText(r: ReturnType<typeof certificateReport>): string {
  const v = r.validity as { notBefore: string; notAfter: string; days: number };
  const k = r.publicKey as { algorithm: string; bits?: number; keyId?: string; error?: string };
  const sig = r.signatureAlgorithm as { name: string; oid: string };
  const fp = r.fingerprints as { sha256: string; sm3: string };
  const lines = [
    'Certificate 证书',
    `  Subject 主题:            ${r.subject}`,
    `  Issuer 颁发者:           ${r.issuer}${r.selfIssued ? '  (self-issued 自颁发)' : ''}`,
    `  Version 版本:            v${r.version}`,
    `  Serial 序列号:           ${r.serialNumber}`,
    `  Not before 生效时间:     ${v.notBefore}`,
    `  Not after 失效时间:      ${v.notAfter}  (${v.days} days 天)`,
    `  Public key 公钥:         ${k.error ? `${k.algorithm} (${k.error})` : `${k.algorithm}, ${k.bits} bits, key id ${k.keyId}`}`,
    `  Signature 签名算法:      ${sig.name} (${sig.oid})`,
    `  SHA-256 指纹:            ${fp.sha256}`,
    `  SM3 指纹:                ${fp.sm3}`,
  ];
  const identity = r.identity as Array<{ labelZh: string; label: string; value: string }>;
  if (identity.length) {
    lines.push('Identity 身份标识');
    for (const i of identity) lines.push(`  ${i.labelZh} ${i.label}: ${i.value}`);
  }
  const exts = r.extensions as Array<{ oid: string; name: string | null; critical: boolean; value?: unknown; error?: string }>;
  if (exts.length) {
    lines.push('Extensions 扩展');
    for (const e of exts) {
      const head = `${e.name ?? e.oid}${e.name ? ` (${e.oid})` : ''}${e.critical ? ' [critical 关键]' : ''}`;
      lines.push(`  ${head}: ${e.error ? `cannot decode: ${e.error}` : extensionText(e.name, e.value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

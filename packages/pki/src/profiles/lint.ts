/**
 * Re-checking an issued certificate against its profile, as Boulder lints every certificate:
 * the request rules once more on what was actually encoded, plus the extensions' exact contents
 * and criticality, key identifiers, policies and (given the issuer) the signature.
 */
import * as x from '@peculiar/asn1-x509';
import { OID } from '../oids.js';
import type { PublicKey } from '../crypto/keys.js';
import type { Certificate } from '../x509/certificate.js';
import { EXT, type AltName } from '../x509/extensions.js';
import { IDENTITY_EXTENSION_OIDS, readIdentity, type HealthIdentity } from '../x509/identity.js';
import { KEY_USAGE_LABELS, PURPOSES, purposeName } from './labels.js';
import { policyOidsFor } from './registry.js';
import { altNameViolations, identityViolations, keyFamilyOf, keyViolations, subjectViolations, validityViolations } from './rules.js';
import type { Profile } from './types.js';
import { throwFirst, violation, type Violation } from './violation.js';

const KNOWN_EXTENSIONS = new Set<string>([
  EXT.basicConstraints,
  EXT.keyUsage,
  EXT.extKeyUsage,
  EXT.subjectKeyIdentifier,
  EXT.authorityKeyIdentifier,
  EXT.subjectAltName,
  EXT.certificatePolicies,
  EXT.crlDistributionPoints,
  EXT.authorityInfoAccess,
  OID.ocspNoCheck,
  ...IDENTITY_EXTENSION_OIDS,
]);

/** Runs a reader; a decoding failure becomes a violation of `rule` instead of an exception. */
function reading<T>(out: Violation[], rule: string, what: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    out.push(violation(rule, `${what} cannot be decoded: ${msg}`, `${what} 无法解码：${msg}`));
    return undefined;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

function altNamesOf(names: x.GeneralName[], out: Violation[]): AltName[] {
  const result: AltName[] = [];
  for (const g of names) {
    if (g.dNSName !== undefined) result.push({ type: 'dns', value: g.dNSName });
    else if (g.rfc822Name !== undefined) result.push({ type: 'email', value: g.rfc822Name });
    else if (g.uniformResourceIdentifier !== undefined) result.push({ type: 'uri', value: g.uniformResourceIdentifier });
    else if (g.iPAddress !== undefined) result.push({ type: 'ip', value: g.iPAddress });
    else out.push(violation('san.allowed.other', 'subject alternative names other than dns, email, uri and ip are not allowed', '只允许 dns、email、uri、ip 类型的主题备用名称'));
  }
  return result;
}

function extensionViolations(profile: Profile, cert: Certificate, key: PublicKey | undefined, out: Violation[]): void {
  const seen = new Set<string>();
  for (const e of cert.rawExtensions) {
    if (seen.has(e.extnID)) out.push(violation('extensions.duplicate', `extension ${e.extnID} appears more than once`, `扩展 ${e.extnID} 重复出现`));
    seen.add(e.extnID);
    if (!KNOWN_EXTENSIONS.has(e.extnID)) {
      out.push(violation('extensions.unexpected', `extension ${e.extnID} is not part of profile ${profile.name}`, `扩展 ${e.extnID} 不属于模板 ${profile.name}`));
    }
  }

  // keyUsage: present, critical, exactly the profile's bits for this key family.
  const kuExt = cert.rawExtension(EXT.keyUsage);
  if (!kuExt) out.push(violation('keyUsage.missing', 'the key usage extension is missing', '缺少密钥用法扩展'));
  else {
    if (!kuExt.critical) out.push(violation('keyUsage.critical', 'the key usage extension must be critical', '密钥用法扩展必须为关键扩展'));
    const family = key ? keyFamilyOf(key) : undefined;
    const expected = family ? profile.keyUsage[family] : undefined;
    const actual = reading(out, 'keyUsage.encoding', 'key usage', () => cert.keyUsage);
    if (expected && actual && !sameSet(expected, actual)) {
      const zh = (l: string[]) => l.map((u) => KEY_USAGE_LABELS[u as keyof typeof KEY_USAGE_LABELS]?.['zh-CN'] ?? u).join('、');
      out.push(violation('keyUsage.bits', `key usage must be exactly ${expected.join(', ')}; found ${actual.join(', ') || 'none'}`, `密钥用法必须恰为 ${zh(expected)}；实际为 ${zh(actual) || '无'}`));
    }
  }

  // extKeyUsage: exactly the profile's purposes with the profile's criticality, or absent.
  const ekuExt = cert.rawExtension(EXT.extKeyUsage);
  if (!profile.extKeyUsage) {
    if (ekuExt) out.push(violation('extKeyUsage.unexpected', 'this profile has no extended key usage', '本模板不含扩展密钥用法'));
  } else if (!ekuExt) {
    out.push(violation('extKeyUsage.missing', `the extended key usage extension (${profile.extKeyUsage.purposes.join(', ')}) is missing`, '缺少扩展密钥用法扩展'));
  } else {
    const expected = profile.extKeyUsage.purposes.map((p) => PURPOSES[p].oid);
    const actual = reading(out, 'extKeyUsage.encoding', 'extended key usage', () => cert.extKeyUsage) ?? expected;
    if (!sameSet(expected, actual)) {
      const names = actual.map((o) => purposeName(o) ?? o).join(', ');
      out.push(violation('extKeyUsage.purposes', `extended key usage must be exactly ${profile.extKeyUsage.purposes.join(', ')}; found ${names}`, `扩展密钥用法必须恰为 ${profile.extKeyUsage.purposes.join(', ')}；实际为 ${names}`));
    }
    if (ekuExt.critical !== profile.extKeyUsage.critical) {
      const want = profile.extKeyUsage.critical ? 'critical' : 'non-critical';
      out.push(violation('extKeyUsage.critical', `the extended key usage extension must be ${want}`, `扩展密钥用法扩展必须${profile.extKeyUsage.critical ? '为' : '不为'}关键扩展`));
    }
  }

  // basicConstraints: CA profiles carry it critical with cA and the pathLen; end entities never say cA.
  const bcExt = cert.rawExtension(EXT.basicConstraints);
  const bc = bcExt ? reading(out, 'basicConstraints.encoding', 'basic constraints', () => cert.basicConstraints) : undefined;
  if (profile.basicConstraints) {
    if (!bcExt) out.push(violation('basicConstraints.missing', 'a CA certificate needs the basic constraints extension', 'CA证书必须包含基本约束扩展'));
    else {
      if (!bcExt.critical) out.push(violation('basicConstraints.critical', 'basic constraints must be critical in a CA certificate', 'CA证书的基本约束扩展必须为关键扩展'));
      if (bc && !bc.cA) out.push(violation('basicConstraints.ca', 'a CA certificate must say cA=TRUE', 'CA证书的基本约束必须为 cA=TRUE'));
      if (bc && bc.pathLenConstraint !== profile.basicConstraints.pathLen) {
        out.push(violation('basicConstraints.pathLen', `pathLen must be ${profile.basicConstraints.pathLen ?? 'absent'}, found ${bc.pathLenConstraint ?? 'absent'}`, `路径长度约束必须为 ${profile.basicConstraints.pathLen ?? '无'}，实际为 ${bc.pathLenConstraint ?? '无'}`));
      }
    }
  } else if (bc?.cA) {
    out.push(violation('basicConstraints.ca', 'an end-entity certificate must not say cA=TRUE', '终端实体证书不得为 cA=TRUE'));
  }

  // Key identifiers: SKI always; AKI always except that a self-signed root may omit it (if present it names its own key).
  const skiExt = cert.rawExtension(EXT.subjectKeyIdentifier);
  if (!skiExt) out.push(violation('subjectKeyIdentifier.missing', 'the subject key identifier is missing', '缺少主题密钥标识符'));
  else if (skiExt.critical) out.push(violation('subjectKeyIdentifier.critical', 'the subject key identifier must not be critical', '主题密钥标识符不得为关键扩展'));
  const akiExt = cert.rawExtension(EXT.authorityKeyIdentifier);
  const selfSigned = profile.class === 'root-ca';
  if (!akiExt) {
    if (!selfSigned) out.push(violation('authorityKeyIdentifier.missing', 'the authority key identifier is missing', '缺少颁发机构密钥标识符'));
  } else {
    if (akiExt.critical) out.push(violation('authorityKeyIdentifier.critical', 'the authority key identifier must not be critical', '颁发机构密钥标识符不得为关键扩展'));
    const aki = reading(out, 'authorityKeyIdentifier.encoding', 'authority key identifier', () => cert.authorityKeyId);
    const ski = reading(out, 'subjectKeyIdentifier.encoding', 'subject key identifier', () => cert.subjectKeyId);
    if (selfSigned && aki && ski && !aki.equals(ski)) {
      out.push(violation('authorityKeyIdentifier.mismatch', 'a self-signed root must name its own key as the authority key', '自签名根证书的颁发机构密钥标识符必须等于自身的主题密钥标识符'));
    }
  }

  // Policies: exactly the profile's.
  const expectedPolicies = policyOidsFor(profile);
  const policies = reading(out, 'policies.encoding', 'certificate policies', () => cert.policies) ?? [];
  if (!sameSet(expectedPolicies, policies)) {
    out.push(violation('policies.mismatch', `certificate policies must be ${expectedPolicies.join(', ') || 'absent'}; found ${policies.join(', ') || 'none'}`, `证书策略必须为 ${expectedPolicies.join(', ') || '无'}；实际为 ${policies.join(', ') || '无'}`));
  }

  // Revocation pointers only where the profile has them; ocsp-nocheck only on OCSP responder certificates.
  if (!profile.revocationInfo && (cert.rawExtension(EXT.crlDistributionPoints) || cert.rawExtension(EXT.authorityInfoAccess))) {
    out.push(violation('revocationInfo.unexpected', 'this profile carries no CRL distribution points or authority information access', '本模板不含CRL分发点和颁发机构信息访问扩展'));
  }
  const noCheck = cert.rawExtension(OID.ocspNoCheck);
  if (profile.ocspNoCheck && !noCheck) out.push(violation('ocspNoCheck.missing', 'an OCSP responder certificate needs id-pkix-ocsp-nocheck', 'OCSP响应者证书必须包含 id-pkix-ocsp-nocheck 扩展'));
  if (!profile.ocspNoCheck && noCheck) out.push(violation('ocspNoCheck.unexpected', 'only OCSP responder certificates carry id-pkix-ocsp-nocheck', '只有OCSP响应者证书才可包含 id-pkix-ocsp-nocheck 扩展'));

  const sanExt = cert.rawExtension(EXT.subjectAltName);
  if (sanExt?.critical) out.push(violation('san.critical', 'subject alternative name must not be critical when the subject is not empty', '主题非空时主题备用名称不得为关键扩展'));
}

/** How a lint may be narrowed. */
export interface LintOptions {
  /**
   * The caller has just made the signature with a key that passed a pairwise consistency test
   * and needs no check each time (crypto/signature.ts `needsSignatureCheckEachTime`): the
   * signature is not verified again. Every other rule is still checked.
   */
  signatureKnownGood?: boolean;
}

/**
 * Every rule of the profile the certificate breaks. `issuer` is the issuing CA's certificate
 * (for a root, the certificate itself is used): the signature, issuer name, AKI and validity
 * nesting are then checked too.
 */
export function certificateViolations(profile: Profile, cert: Certificate, issuer?: Certificate, opts: LintOptions = {}): Violation[] {
  const out: Violation[] = [];
  if (cert.version !== 3) out.push(violation('certificate.version', `the certificate must be X.509 v3, not v${cert.version}`, `证书必须为 X.509 第3版，而不是第${cert.version}版`));
  const serial = cert.serialNumber;
  if (serial.length > 20 || (serial[0]! & 0x80) !== 0 || cert.serialHex.replace(/0/g, '') === '') {
    out.push(violation('certificate.serial', 'the serial number must be positive and at most 20 octets (RFC 5280 §4.1.2.2)', '证书序列号必须为正数且不超过20字节'));
  }
  if (cert.tbsSignatureAlgorithmOid !== cert.signatureAlgorithm.algorithm) {
    out.push(violation('signature.algorithmMismatch', 'the signature algorithm inside and outside the signed part differ', '签名部分内外的签名算法不一致'));
  }
  out.push(...subjectViolations(profile, cert.subject));
  const key = reading(out, 'key.algorithm', 'the subject public key', () => cert.publicKey);
  if (key) out.push(...keyViolations(profile, key));
  const identity: HealthIdentity = reading(out, 'identity.encoding', 'an identity extension', () => readIdentity(cert.rawExtensions)) ?? {};
  out.push(...identityViolations(profile, identity));
  const sans = reading(out, 'san.encoding', 'subject alternative name', () => cert.subjectAltNames) ?? [];
  out.push(...altNameViolations(profile, altNamesOf(sans, out)));
  const days = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000;
  if (days <= 0) out.push(violation('validity.order', 'notAfter must be later than notBefore', '有效期终止时间必须晚于起始时间'));
  else out.push(...validityViolations(profile, days));
  extensionViolations(profile, cert, key, out);

  const signer = issuer ?? (profile.class === 'root-ca' ? cert : undefined);
  if (signer) {
    if (!signer.subjectDer.equals(cert.issuerDer)) {
      out.push(violation('issuer.name', `the issuer name "${cert.issuerText}" differs from the issuing CA's subject "${signer.subjectText}"`, `证书颁发者“${cert.issuerText}”与签发CA的主题“${signer.subjectText}”不一致`));
    }
    const verified = opts.signatureKnownGood ? true : reading(out, 'signature.invalid', 'the signature', () => cert.verifySignature(signer.publicKey));
    if (verified === false) out.push(violation('signature.invalid', "the signature does not verify with the issuing CA's key", '签名无法用签发CA的公钥验证'));
    if (signer !== cert) {
      const aki = reading(out, 'authorityKeyIdentifier.encoding', 'authority key identifier', () => cert.authorityKeyId);
      const issuerSki = reading(out, 'subjectKeyIdentifier.encoding', "the issuer's subject key identifier", () => signer.subjectKeyId);
      if (aki && issuerSki && !aki.equals(issuerSki)) {
        out.push(violation('authorityKeyIdentifier.mismatch', "the authority key identifier differs from the issuing CA's subject key identifier", '颁发机构密钥标识符与签发CA的主题密钥标识符不一致'));
      }
      if (cert.notAfter > signer.notAfter) {
        out.push(violation('validity.issuer', `the certificate would outlive its issuer (issuer expires ${signer.notAfter.toISOString()})`, `证书有效期超过了签发CA证书的有效期（CA证书 ${signer.notAfter.toISOString()} 到期）`));
      }
    }
  }
  return out;
}

/** Throws a ProfileError naming the first rule the issued certificate breaks. */
export function checkCertificate(profile: Profile, cert: Certificate, issuer?: Certificate, opts: LintOptions = {}): void {
  throwFirst(profile.name, certificateViolations(profile, cert, issuer, opts));
}

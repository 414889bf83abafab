/**
 * The rules a profile puts on what a certificate says: subject attributes, key algorithm,
 * identity numbers, alternative names and validity. They are checked both on a request
 * (before signing) and on the issued certificate (after signing), so they live here once.
 */
import { isIP } from 'node:net';
import type { Name } from '@peculiar/asn1-x509';
import { keyAlgorithmOf, type KeyAlgorithm, type PublicKey } from '../crypto/keys.js';
import type { AltName } from '../x509/extensions.js';
import { isValidOrganizationCode, isValidResidentId, isValidSocialCreditCode, type HealthIdentity } from '../x509/identity.js';
import { attributeName, attributeText } from '../x509/name.js';
import { IDENTITY_LABELS } from './labels.js';
import type { IdentityField, KeyFamily, Profile } from './types.js';
import { violation, type Violation } from './violation.js';

/** Display names of the key algorithms, for messages. */
export const KEY_ALGORITHM_LABELS: Record<KeyAlgorithm, string> = {
  sm2: 'SM2',
  p256: 'ECDSA P-256',
  p384: 'ECDSA P-384',
  rsa2048: 'RSA-2048',
  rsa3072: 'RSA-3072',
};

/** A readable description of any public key ("SM2", "ECDSA P-256", "RSA-4096", …). */
export function describeKey(key: PublicKey): string {
  const alg = keyAlgorithmOf(key);
  if (alg) return KEY_ALGORITHM_LABELS[alg];
  if (key.kind === 'ec') return `ECDSA ${key.curve ?? ''}`.trim();
  if (key.kind === 'rsa' || key.kind === 'rsa-pss' || key.kind === 'dsa') return `${key.kind.toUpperCase()}-${key.bits}`;
  return key.kind.toUpperCase();
}

/** The key family that decides the key usage bits. */
export function keyFamilyOf(key: PublicKey): KeyFamily | undefined {
  return key.kind === 'sm2' ? 'sm2' : key.kind === 'ec' ? 'ec' : key.kind === 'rsa' ? 'rsa' : undefined;
}

// Control characters, and the Unicode line/paragraph separators, never belong in a name.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Subject rules: allowed and required attributes, counts, fixed values, lengths, patterns. */
export function subjectViolations(profile: Profile, subject: Name): Violation[] {
  const out: Violation[] = [];
  const rules = profile.subject.attributes;
  const allowed = Object.keys(rules);
  const values = new Map<string, string[]>();
  for (const rdn of subject) {
    if (rdn.length > 1) {
      out.push(violation('subject.multiValuedRdn', 'each relative distinguished name must hold one attribute (no "+" in the subject)', '主题的每个相对可分辨名只能含一个属性（不能用“+”）'));
    }
    for (const atv of rdn) {
      const name = attributeName(atv.type);
      if (!(name in rules)) {
        out.push(violation(`subject.allowed.${name}`, `subject attribute ${name} is not allowed; allowed: ${allowed.join(', ')}`, `主题中不允许出现属性 ${name}；允许的属性：${allowed.join('、')}`));
        continue;
      }
      if (atv.value.anyValue) {
        out.push(violation(`subject.${name}.encoding`, `subject attribute ${name} must be a string`, `主题属性 ${name} 必须是字符串`));
        continue;
      }
      values.set(name, [...(values.get(name) ?? []), attributeText(atv.value)]);
    }
  }
  for (const [name, rule] of Object.entries(rules)) {
    const vs = values.get(name) ?? [];
    if (rule.required && vs.length === 0) {
      out.push(violation(`subject.required.${name}`, `the subject must contain ${name}`, `主题必须包含 ${name}`));
    }
    const maxCount = rule.maxCount ?? 1;
    if (vs.length > maxCount) {
      out.push(violation(`subject.${name}.count`, `the subject may contain ${name} at most ${maxCount} time(s), found ${vs.length}`, `主题中 ${name} 最多出现 ${maxCount} 次，实际 ${vs.length} 次`));
    }
    for (const v of vs) {
      if (CONTROL_RE.test(v) || v.trim() !== v || v === '') {
        out.push(violation(`subject.${name}.characters`, `${name} "${v}" has control characters, or leading or trailing spaces`, `${name}“${v}”含有控制字符或首尾空格`));
      }
      if (rule.values && !rule.values.includes(v)) {
        out.push(violation(`subject.${name}.value`, `${name} must be ${rule.values.join(' or ')}, not "${v}"`, `${name} 必须为 ${rule.values.join(' 或 ')}，而不是“${v}”`));
      }
      const length = [...v].length;
      if (length > rule.maxLength) {
        out.push(violation(`subject.${name}.length`, `${name} is ${length} characters long; at most ${rule.maxLength} are allowed`, `${name} 长 ${length} 个字符，最多允许 ${rule.maxLength} 个`));
      }
      if (rule.pattern && !new RegExp(rule.pattern, 'u').test(v)) {
        const hint = rule.patternHint ? ` (${rule.patternHint})` : '';
        out.push(violation(`subject.${name}.pattern`, `${name} "${v}" has the wrong form${hint}`, `${name}“${v}”格式不符合要求${hint ? `（${rule.patternHint}）` : ''}`));
      }
    }
  }
  return out;
}

/** Key rule: the subject key's algorithm is one the profile allows. */
export function keyViolations(profile: Profile, key: PublicKey): Violation[] {
  const alg = keyAlgorithmOf(key);
  if (alg && profile.keyAlgorithms.includes(alg)) return [];
  const allowed = profile.keyAlgorithms.map((a) => KEY_ALGORITHM_LABELS[a]).join(', ');
  return [violation('key.algorithm', `a ${describeKey(key)} key is not allowed; allowed: ${allowed}`, `不允许使用 ${describeKey(key)} 密钥；允许：${allowed}`)];
}

const PRINTABLE_RE = /^[A-Za-z0-9 '()+,\-./:=?]{1,64}$/;

function formatRule(field: IdentityField, value: string): Violation | undefined {
  const label = IDENTITY_LABELS[field];
  const fmt = (en: string, zh: string) => violation(`identity.${field}.format`, `${label.en} "${value}" ${en}`, `${label['zh-CN']}“${value}”${zh}`);
  const sum = (en: string, zh: string) => violation(`identity.${field}.checksum`, `${label.en} "${value}" ${en}`, `${label['zh-CN']}“${value}”${zh}`);
  switch (field) {
    case 'residentId':
      if (!/^\d{17}[\dX]$/.test(value)) return fmt('must be 17 digits and a digit or X (18 characters)', '必须为17位数字加1位数字或X（共18位）');
      if (!isValidResidentId(value)) return sum('fails the GB 11643 check (birth date or check character is wrong)', '未通过 GB 11643 校验（出生日期或校验码错误）');
      return undefined;
    case 'unifiedSocialCreditCode':
      if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(value)) return fmt('must be 18 characters of digits and capital letters except I, O, S, V, Z', '必须为18位数字或大写字母（不含 I、O、S、V、Z）');
      if (!isValidSocialCreditCode(value)) return sum('has a wrong check character (GB 32100)', '校验码错误（GB 32100）');
      return undefined;
    case 'organizationCode':
      if (!/^[0-9A-Z]{8}-?[0-9X]$/.test(value)) return fmt('must be 8 digits or capital letters and a check character (9 characters, optional "-")', '必须为8位数字或大写字母加1位校验码');
      if (!isValidOrganizationCode(value)) return sum('has a wrong check character (GB 11714)', '校验码错误（GB 11714）');
      return undefined;
    case 'passportNumber':
      if (!/^[A-Z0-9]{5,20}$/.test(value)) return fmt('must be 5 to 20 capital letters or digits', '必须为5至20位大写字母或数字');
      return undefined;
    case 'militaryOfficerId':
      if (value.length < 1 || value.length > 32 || CONTROL_RE.test(value)) return fmt('must be 1 to 32 characters without control characters', '必须为1至32个字符，不含控制字符');
      return undefined;
    default:
      if (!PRINTABLE_RE.test(value)) return fmt('must be 1 to 64 letters, digits or simple punctuation (PrintableString)', '必须为1至64个字母、数字或简单标点（PrintableString）');
      return undefined;
  }
}

/** Identity rules: which numbers must or may appear, one identity code at most, each number well formed. */
export function identityViolations(profile: Profile, identity: HealthIdentity = {}): Violation[] {
  const out: Violation[] = [];
  const present = (Object.keys(identity) as IdentityField[]).filter((f) => typeof identity[f] === 'string' && identity[f] !== '');
  const permitted = [...profile.identity.oneOf, ...profile.identity.allowed];
  for (const f of present) {
    if (!permitted.includes(f)) {
      const list = permitted.length ? permitted.join(', ') : 'none';
      out.push(violation(`identity.${f}.allowed`, `${IDENTITY_LABELS[f].en} is not allowed in this profile; allowed: ${list}`, `本模板不允许${IDENTITY_LABELS[f]['zh-CN']}；允许：${permitted.map((x) => IDENTITY_LABELS[x]['zh-CN']).join('、') || '无'}`));
    }
  }
  if (profile.identity.required && !profile.identity.oneOf.some((f) => present.includes(f))) {
    const en = profile.identity.oneOf.map((f) => IDENTITY_LABELS[f].en).join(' or ');
    const zh = profile.identity.oneOf.map((f) => IDENTITY_LABELS[f]['zh-CN']).join('或');
    out.push(violation('identity.required', `the certificate must carry a ${en}`, `证书必须包含${zh}`));
  }
  const codes = present.filter((f) => f === 'residentId' || f === 'militaryOfficerId' || f === 'passportNumber');
  if (codes.length > 1) {
    out.push(violation('identity.identifyCode.single', `give only one of ${codes.join(', ')}: they share one identity-code extension (GB/T 20518 IdentifyCode is a CHOICE)`, `${codes.map((f) => IDENTITY_LABELS[f]['zh-CN']).join('、')}只能给一个：它们共用一个个人身份标识码扩展`));
  }
  for (const f of present) {
    const v = formatRule(f, identity[f]!);
    if (v) out.push(v);
  }
  return out;
}

const DNS_LABEL = '(?!-)[A-Za-z0-9-]{1,63}(?<!-)';
const DNS_RE = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);

function altNameFormatOk(n: AltName): boolean {
  switch (n.type) {
    case 'dns':
      return n.value.length <= 253 && DNS_RE.test(n.value);
    case 'email':
      return /^[\x21-\x7e]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(n.value) && !/@.*@/.test(n.value);
    case 'uri':
      return /^[a-z][a-z0-9+.-]*:[\x21-\x7e]+$/i.test(n.value);
    case 'ip':
      return isIP(n.value) !== 0;
  }
}

/** Subject alternative name rules: allowed types, presence when required, well-formed values. */
export function altNameViolations(profile: Profile, altNames: readonly AltName[] = []): Violation[] {
  const out: Violation[] = [];
  const allowed = profile.subjectAltName.allowed;
  if (profile.subjectAltName.required && altNames.length === 0) {
    out.push(violation('san.required', 'the certificate must carry a subject alternative name', '证书必须包含主题备用名称'));
  }
  for (const n of altNames) {
    if (!allowed.includes(n.type)) {
      const list = allowed.length ? allowed.join(', ') : 'none';
      out.push(violation(`san.allowed.${n.type}`, `subject alternative names of type ${n.type} are not allowed; allowed: ${list}`, `不允许 ${n.type} 类型的主题备用名称；允许：${allowed.join('、') || '无'}`));
    } else if (!altNameFormatOk(n)) {
      out.push(violation(`san.${n.type}.format`, `"${n.value}" is not a valid ${n.type} name`, `“${n.value}”不是合法的 ${n.type} 名称`));
    }
  }
  return out;
}

/** Validity rule: a whole number of days between 1 and the profile's maximum. */
export function validityViolations(profile: Profile, days: number): Violation[] {
  if (!Number.isFinite(days) || days <= 0) {
    return [violation('validity.min', `validity must be a positive number of days, not ${days}`, `有效期必须是正的天数，而不是 ${days}`)];
  }
  if (days > profile.validity.maxDays) {
    return [violation('validity.max', `validity of ${days} days exceeds the maximum of ${profile.validity.maxDays} days`, `有效期 ${days} 天超过了最长 ${profile.validity.maxDays} 天`)];
  }
  return [];
}

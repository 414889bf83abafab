/**
 * The profile registry. Each profile is a JSON file in ./data, imported statically so that the
 * library stays free of I/O; the shapes are checked once at load so that a typo in a data file
 * fails loudly instead of producing certificates that silently lack a rule.
 */
import rootCa from './data/root-ca.json' with { type: 'json' };
import subCa from './data/sub-ca.json' with { type: 'json' };
import ocspSigning from './data/ocsp-signing.json' with { type: 'json' };
import tsa from './data/tsa.json' with { type: 'json' };
import orgSign from './data/org-sign.json' with { type: 'json' };
import orgEnc from './data/org-enc.json' with { type: 'json' };
import staffSign from './data/staff-sign.json' with { type: 'json' };
import staffEnc from './data/staff-enc.json' with { type: 'json' };
import deviceSign from './data/device-sign.json' with { type: 'json' };
import deviceEnc from './data/device-enc.json' with { type: 'json' };
import extOrgSign from './data/ext-org-sign.json' with { type: 'json' };
import extOrgEnc from './data/ext-org-enc.json' with { type: 'json' };
import personSign from './data/person-sign.json' with { type: 'json' };
import personEnc from './data/person-enc.json' with { type: 'json' };
import extDeviceSign from './data/ext-device-sign.json' with { type: 'json' };
import extDeviceEnc from './data/ext-device-enc.json' with { type: 'json' };
import policyOids from './policy-oids.json' with { type: 'json' };
import { PkiError } from '../errors.js';
import { OID } from '../oids.js';
import { KEY_ALGORITHMS } from '../crypto/keys.js';
import { KEY_USAGE_NAMES } from '../x509/extensions.js';
import { ATTRIBUTE_LABELS, IDENTITY_LABELS, PURPOSES } from './labels.js';
import type { Profile } from './types.js';
import { ProfileRuleError, violation } from './violation.js';

/** In listing order: CAs and services first, then the six classes, each signing before encryption. */
const RAW: unknown[] = [
  rootCa, subCa, ocspSigning, tsa,
  orgSign, orgEnc, staffSign, staffEnc, deviceSign, deviceEnc,
  extOrgSign, extOrgEnc, personSign, personEnc, extDeviceSign, extDeviceEnc,
];

/** The placeholder policy arc and the policy OID of each profile (see docs/profiles.md). */
export const POLICY_OIDS: { placeholder: boolean; arc: string; policies: Record<string, string> } = policyOids;

function bad(name: string, what: string): never {
  throw new PkiError('profile.data', `profile data ${name}: ${what}`);
}

function checkList(name: string, field: string, values: unknown, known: readonly string[]): void {
  if (!Array.isArray(values)) bad(name, `${field} must be a list`);
  for (const v of values) if (!known.includes(v as string)) bad(name, `${field} has unknown entry "${String(v)}"`);
}

/** Checks that a parsed JSON object has every field a Profile needs, with known values. */
export function validateProfileData(raw: unknown): Profile {
  const p = raw as Profile;
  const name = typeof p?.name === 'string' ? p.name : bad('?', 'missing name');
  for (const f of ['class', 'variant'] as const) if (typeof p[f] !== 'string') bad(name, `missing ${f}`);
  for (const f of ['displayName', 'description'] as const) {
    if (typeof p[f]?.['zh-CN'] !== 'string' || typeof p[f]?.en !== 'string') bad(name, `${f} needs zh-CN and en`);
  }
  const attrs = p.subject?.attributes;
  if (!attrs || typeof attrs !== 'object') bad(name, 'missing subject.attributes');
  for (const [a, rule] of Object.entries(attrs)) {
    if (!(a in ATTRIBUTE_LABELS)) bad(name, `unknown subject attribute ${a}`);
    if (!(typeof rule.maxLength === 'number' && rule.maxLength > 0)) bad(name, `subject.${a}.maxLength must be a positive number`);
    if (rule.pattern !== undefined) new RegExp(rule.pattern, 'u');
  }
  checkList(name, 'identity.oneOf', p.identity?.oneOf, Object.keys(IDENTITY_LABELS));
  checkList(name, 'identity.allowed', p.identity?.allowed, Object.keys(IDENTITY_LABELS));
  if (p.identity.required && p.identity.oneOf.length === 0) bad(name, 'identity.required needs identity.oneOf');
  checkList(name, 'keyAlgorithms', p.keyAlgorithms, KEY_ALGORITHMS);
  if (p.keyAlgorithms.length === 0) bad(name, 'keyAlgorithms is empty');
  for (const alg of p.keyAlgorithms) {
    const family = alg === 'sm2' ? 'sm2' : alg.startsWith('rsa') ? 'rsa' : 'ec';
    const ku = p.keyUsage?.[family];
    if (!ku || ku.length === 0) bad(name, `keyUsage.${family} is needed for key algorithm ${alg}`);
    checkList(name, `keyUsage.${family}`, ku, KEY_USAGE_NAMES);
  }
  if (p.extKeyUsage !== null) {
    checkList(name, 'extKeyUsage.purposes', p.extKeyUsage?.purposes, Object.keys(PURPOSES));
    if (typeof p.extKeyUsage.critical !== 'boolean') bad(name, 'extKeyUsage.critical must be true or false');
  }
  if (p.basicConstraints !== null && p.basicConstraints?.ca !== true) bad(name, 'basicConstraints must be null or {"ca": true}');
  checkList(name, 'subjectAltName.allowed', p.subjectAltName?.allowed, ['dns', 'email', 'uri', 'ip']);
  const v = p.validity;
  if (!(v && v.defaultDays > 0 && v.maxDays >= v.defaultDays)) bad(name, 'validity needs 0 < defaultDays <= maxDays');
  checkList(name, 'policies', p.policies, ['anyPolicy', ...Object.keys(POLICY_OIDS.policies)]);
  if (typeof p.revocationInfo !== 'boolean' || typeof p.ocspNoCheck !== 'boolean') bad(name, 'revocationInfo and ocspNoCheck must be true or false');
  return p;
}

const PROFILES: readonly Profile[] = RAW.map(validateProfileData);

/** Every profile, CAs and services first. */
export function listProfiles(): Profile[] {
  return [...PROFILES];
}

/** The profile with this name; a ProfileError listing the known names when there is none. */
export function getProfile(name: string): Profile {
  const p = PROFILES.find((x) => x.name === name);
  if (p) return p;
  const known = PROFILES.map((x) => x.name).join(', ');
  throw new ProfileRuleError(name, violation('unknown', `unknown profile; known profiles: ${known}`, `没有这个证书模板；已有模板：${known}`));
}

/** The certificate policy OIDs a profile's certificates carry. */
export function policyOidsFor(profile: Profile): string[] {
  return profile.policies.map((key) => (key === 'anyPolicy' ? OID.anyPolicy : POLICY_OIDS.policies[key]!));
}

/**
 * Options shared by `hpki req` and `hpki cert create`: identity numbers, subject alternative
 * names, validity days, and reading them back from a CSR's requested extensions.
 */
import type { Command } from 'commander';
// Type-only: at run time the CLI depends on @health-pki/pki and commander alone.
import type { Extension, GeneralName, Name } from '@peculiar/asn1-x509';
import { EXT, decodeKnownExtension, parseName, readIdentity, type AltName, type HealthIdentity } from '@health-pki/pki';
import { collect, listOption, usageError, withContext } from '../io.js';

/** Identity flags and the HealthIdentity field each one fills. */
const IDENTITY_FLAGS: Array<[flag: string, field: keyof HealthIdentity, help: string]> = [
  ['--resident-id <number>', 'residentId', 'resident identity card number 公民身份号码 (GB 11643, 18 characters)'],
  ['--passport <number>', 'passportNumber', 'passport number 护照号'],
  ['--military-id <number>', 'militaryOfficerId', 'military officer card number 军官证号'],
  ['--insurance-number <number>', 'insuranceNumber', 'social insurance number 社会保险号'],
  ['--credit-code <code>', 'unifiedSocialCreditCode', 'unified social credit code 统一社会信用代码 (GB 32100, 18 characters)'],
  ['--org-code <code>', 'organizationCode', 'organisation code 组织机构代码 (GB 11714, 9 characters)'],
  ['--ic-registration <number>', 'icRegistrationNumber', 'business registration number 工商注册号'],
  ['--tax-number <number>', 'taxationNumber', 'taxation number 税号'],
];

/** The commander attribute name of a flag ("--resident-id <n>" → "residentId"). */
function optionKey(flag: string): string {
  return flag.split(' ')[0]!.replace(/^--/, '').replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}

/** Adds the identity-number flags. */
export function addIdentityOptions(cmd: Command): Command {
  for (const [flag, , help] of IDENTITY_FLAGS) cmd.option(flag, help);
  return cmd;
}

/** The identity numbers given as flags. */
export function identityFromOptions(opts: Record<string, unknown>): HealthIdentity {
  const id: HealthIdentity = {};
  for (const [flag, field] of IDENTITY_FLAGS) {
    const v = opts[optionKey(flag)];
    if (typeof v === 'string') id[field] = v.trim();
  }
  return id;
}

/** Adds --san (repeatable or comma-separated "dns:…,email:…,uri:…,ip:…"). */
export function addSanOption(cmd: Command): Command {
  return cmd.option('--san <names>', 'subject alternative names, comma-separated or repeated: dns:host, email:addr, uri:url, ip:addr', collect);
}

/** Parses "dns:a.example,email:x@y" items into AltNames. */
export function parseAltNames(values: string[] | undefined): AltName[] {
  return listOption(values).map((item) => {
    const m = /^(dns|email|uri|ip):(.+)$/i.exec(item);
    if (!m) usageError(`--san "${item}" must be TYPE:value with TYPE one of dns, email, uri, ip`);
    return { type: m[1]!.toLowerCase() as AltName['type'], value: m[2]!.trim() };
  });
}

/** Parses --subject; a malformed name is a usage error naming the problem. */
export function parseSubject(text: string): Name {
  return withContext('--subject', () => parseName(text));
}

/** Parses --days as a positive whole number. */
export function parseDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) === 0) usageError(`--days must be a positive whole number, not "${text}"`);
  return Number(text);
}

/** Converts GeneralNames (from a CSR or certificate) to AltNames; other name forms are refused. */
export function altNamesFromGeneralNames(names: GeneralName[]): AltName[] {
  return names.map((g) => {
    if (g.dNSName !== undefined) return { type: 'dns', value: g.dNSName };
    if (g.rfc822Name !== undefined) return { type: 'email', value: g.rfc822Name };
    if (g.uniformResourceIdentifier !== undefined) return { type: 'uri', value: g.uniformResourceIdentifier };
    if (g.iPAddress !== undefined) return { type: 'ip', value: g.iPAddress };
    return usageError('the request asks for a subject alternative name form other than dns, email, uri or ip');
  });
}

/** Identity numbers and alternative names requested in a CSR's extensionRequest attribute. */
export function requestedIdentityAndNames(extensions: Extension[]): { identity: HealthIdentity; altNames: AltName[] } {
  return withContext('certification request', () => {
    const identity = readIdentity(extensions);
    const san = extensions.find((e) => e.extnID === EXT.subjectAltName);
    const altNames = san ? altNamesFromGeneralNames([...(decodeKnownExtension(san) as GeneralName[])]) : [];
    return { identity, altNames };
  });
}

/**
 * The identity extensions of GB/T 20518 / GM/T 0015 that Chinese health and e-government
 * certificates carry (arc 1.2.156.10260.4.1), plus the unified social credit code.
 * IdentifyCode is a CHOICE of implicitly tagged strings; the others are a PrintableString each.
 */
import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import type { Extension } from '@peculiar/asn1-x509';
import { OID } from '../oids.js';
import { derAscii } from '../encoding/der-writer.js';
import { decodeExtension, extension, rawExtension } from './extensions.js';

@AsnType({ type: AsnTypeTypes.Choice })
class IdentifyCode {
  @AsnProp({ type: AsnPropTypes.PrintableString, context: 0, implicit: true }) residenterCardNumber?: string;
  @AsnProp({ type: AsnPropTypes.Utf8String, context: 1, implicit: true }) militaryOfficerCardNumber?: string;
  @AsnProp({ type: AsnPropTypes.PrintableString, context: 2, implicit: true }) passportNumber?: string;
  constructor(params: Partial<IdentifyCode> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Choice })
class PrintableValue {
  @AsnProp({ type: AsnPropTypes.PrintableString }) value = '';
  constructor(value = '') {
    this.value = value;
  }
}

/** A holder's identity numbers, as carried in the GB/T 20518 extensions. */
export interface HealthIdentity {
  /** 公民身份号码, resident identity card number (GB 11643). */
  residentId?: string;
  /** 军官证号. */
  militaryOfficerId?: string;
  /** 护照号. */
  passportNumber?: string;
  /** 社会保险号. */
  insuranceNumber?: string;
  /** 工商注册号. */
  icRegistrationNumber?: string;
  /** 组织机构代码 (GB 11714). */
  organizationCode?: string;
  /** 税号. */
  taxationNumber?: string;
  /** 统一社会信用代码 (GB 32100). */
  unifiedSocialCreditCode?: string;
}

const SIMPLE: Array<[keyof HealthIdentity, string]> = [
  ['insuranceNumber', OID.insuranceNumber],
  ['icRegistrationNumber', OID.icRegistrationNumber],
  ['organizationCode', OID.organizationCode],
  ['taxationNumber', OID.taxationNumber],
  ['unifiedSocialCreditCode', OID.unifiedSocialCreditCode],
];

/** OIDs of every identity extension, for recognising them as known. */
export const IDENTITY_EXTENSION_OIDS: string[] = [OID.identityCode, ...SIMPLE.map(([, oid]) => oid)];

/** The non-critical extensions that carry an identity. */
export function identityExtensions(id: HealthIdentity): Extension[] {
  const out: Extension[] = [];
  // PrintableStrings are written directly (one byte per UTF-16 unit, as the schema encoder writes
  // them, which test/decode-fastpath.test.ts checks): a schema encode costs more than the signature.
  // One IdentifyCode: the resident ID number, else the military officer's, else the passport number.
  if (id.residentId) out.push(rawExtension(OID.identityCode, false, derAscii(0x80, id.residentId)));
  else if (id.militaryOfficerId) out.push(extension(OID.identityCode, false, new IdentifyCode({ militaryOfficerCardNumber: id.militaryOfficerId })));
  else if (id.passportNumber) out.push(rawExtension(OID.identityCode, false, derAscii(0x82, id.passportNumber)));
  for (const [field, oid] of SIMPLE) {
    const v = id[field];
    if (v) out.push(rawExtension(oid, false, derAscii(0x13, v)));
  }
  return out;
}

/** An extension as a certificate or request reader gives it without schema objects: OID, criticality, extnValue bytes. */
interface ReadExtension {
  extnID: string;
  critical: boolean;
  value: Uint8Array;
}

/** Reads whichever identity extensions are present (schema objects, or extensions as read). */
export function readIdentity(extensions: ReadonlyArray<Extension | ReadExtension>): HealthIdentity {
  const id: HealthIdentity = {};
  for (const ext of extensions) {
    if (ext.extnID !== OID.identityCode && !SIMPLE.some(([, oid]) => oid === ext.extnID)) continue;
    const bytes = 'value' in ext ? ext.value : new Uint8Array(ext.extnValue.buffer);
    const schema = () => ('value' in ext ? rawExtension(ext.extnID, ext.critical, bytes) : ext);
    if (ext.extnID === OID.identityCode) {
      const code = readIdentifyCode(bytes) ?? decodeExtension(schema(), IdentifyCode);
      if (code.residenterCardNumber) id.residentId = code.residenterCardNumber;
      if (code.militaryOfficerCardNumber) id.militaryOfficerId = code.militaryOfficerCardNumber;
      if (code.passportNumber) id.passportNumber = code.passportNumber;
      continue;
    }
    const simple = SIMPLE.find(([, oid]) => oid === ext.extnID);
    if (simple) id[simple[0]] = readPrintable(bytes) ?? decodeExtension(schema(), PrintableValue).value;
  }
  return id;
}

// Issuance reads these twice per certificate (request, lint) and a schema decode costs more than
// the rest of the lint: the common forms are read by hand, anything else by the schema as before.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The one TLV of `value` with a string read one byte per character (as the schema reads PrintableString), or undefined. */
function wholeString(value: Uint8Array, tag: number, utf8 = false): string | undefined {
  if (value.length < 2 || value[0] !== tag || value[1]! >= 0x80 || value[1]! + 2 !== value.length) return undefined;
  const bytes = value.subarray(2);
  if (!utf8) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** IdentifyCode by hand (short form only), or undefined for the schema decoder. */
function readIdentifyCode(value: Uint8Array): IdentifyCode | undefined {
  const tag = value[0];
  const text = tag === 0x81 ? wholeString(value, tag, true) : tag === 0x80 || tag === 0x82 ? wholeString(value, tag) : undefined;
  if (text === undefined) return undefined;
  return new IdentifyCode(tag === 0x80 ? { residenterCardNumber: text } : tag === 0x81 ? { militaryOfficerCardNumber: text } : { passportNumber: text });
}

/** A PrintableString value by hand (short form only), or undefined for the schema decoder. */
function readPrintable(value: Uint8Array): string | undefined {
  return wholeString(value, 0x13);
}

const RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_CHECK = '10X98765432';

/** Checks an 18-character resident ID number: digits, a real birth date, and the ISO 7064 MOD 11-2 check character (GB 11643-1999). */
export function isValidResidentId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  const sum = RESIDENT_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return RESIDENT_CHECK[sum % 11] === id[17];
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Checks an 18-character unified social credit code and its MOD 31 check character (GB 32100-2015). */
export function isValidSocialCreditCode(code: string): boolean {
  if (code.length !== 18) return false;
  const values = [...code].map((c) => USCC_CHARS.indexOf(c));
  if (values.some((v) => v < 0)) return false;
  const sum = USCC_WEIGHTS.reduce((acc, w, i) => acc + w * values[i]!, 0);
  return values[17] === (31 - (sum % 31)) % 31;
}

/** Checks a 9-character organisation code (8 characters and a MOD 11 check character, GB 11714-1997). */
export function isValidOrganizationCode(code: string): boolean {
  const c = code.replace('-', '');
  if (!/^[0-9A-Z]{8}[0-9X]$/.test(c)) return false;
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  const val = (ch: string) => (/\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55);
  const sum = weights.reduce((acc, w, i) => acc + w * val(c[i]!), 0);
  const check = 11 - (sum % 11);
  const expected = check === 10 ? 'X' : check === 11 ? '0' : String(check);
  return c[8] === expected;
}

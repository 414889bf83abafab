import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { ParseError } from '../errors.js';

interface AttrType {
  short: string;
  oid: string;
  /** DER string type: C and serialNumber are PrintableString, e-mail and DC IA5String, the rest UTF8String (GM/T 0015). */
  encoding: 'printable' | 'ia5' | 'utf8';
}

const ATTRS: AttrType[] = [
  { short: 'C', oid: '2.5.4.6', encoding: 'printable' },
  { short: 'ST', oid: '2.5.4.8', encoding: 'utf8' },
  { short: 'L', oid: '2.5.4.7', encoding: 'utf8' },
  { short: 'O', oid: '2.5.4.10', encoding: 'utf8' },
  { short: 'OU', oid: '2.5.4.11', encoding: 'utf8' },
  { short: 'CN', oid: '2.5.4.3', encoding: 'utf8' },
  { short: 'serialNumber', oid: '2.5.4.5', encoding: 'printable' },
  { short: 'title', oid: '2.5.4.12', encoding: 'utf8' },
  { short: 'SN', oid: '2.5.4.4', encoding: 'utf8' },
  { short: 'GN', oid: '2.5.4.42', encoding: 'utf8' },
  { short: 'street', oid: '2.5.4.9', encoding: 'utf8' },
  { short: 'postalCode', oid: '2.5.4.17', encoding: 'utf8' },
  { short: 'organizationIdentifier', oid: '2.5.4.97', encoding: 'utf8' },
  { short: 'DC', oid: '0.9.2342.19200300.100.1.25', encoding: 'ia5' },
  { short: 'UID', oid: '0.9.2342.19200300.100.1.1', encoding: 'utf8' },
  { short: 'emailAddress', oid: '1.2.840.113549.1.9.1', encoding: 'ia5' },
];
const ALIASES: Record<string, string> = { E: 'emailAddress', EMAIL: 'emailAddress', S: 'ST', SERIALNUMBER: 'serialNumber' };
const PRINTABLE_RE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function attrByName(name: string): AttrType | undefined {
  const canonical = ALIASES[name.toUpperCase()] ?? name;
  return ATTRS.find((a) => a.short.toLowerCase() === canonical.toLowerCase()) ?? ATTRS.find((a) => a.oid === name);
}

/** The short name of an attribute type OID ("CN", "O", …) or the dotted OID itself. */
export function attributeName(oid: string): string {
  return ATTRS.find((a) => a.oid === oid)?.short ?? oid;
}

/** Splits on an unescaped separator character. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** Encodes one attribute value with the string type its attribute requires. */
export function attributeValue(type: AttrType | undefined, value: string): AttributeValue {
  const enc = type?.encoding ?? 'utf8';
  if (enc === 'printable') {
    if (!PRINTABLE_RE.test(value)) throw new ParseError('name', `${type?.short} allows only PrintableString characters: "${value}"`);
    return new AttributeValue({ printableString: value });
  }
  if (enc === 'ia5') {
    if (!/^[\x00-\x7f]*$/.test(value)) throw new ParseError('name', `${type?.short} allows only ASCII: "${value}"`);
    return new AttributeValue({ ia5String: value });
  }
  return new AttributeValue({ utf8String: value });
}

/** Escapes an attribute value so that parseName reads it back as one value (",", "+", "=", "\\", "/"). */
export function escapeDnValue(v: string): string {
  return v.replace(/([,+=\\/])/g, '\\$1');
}

/**
 * Parses a distinguished name written most-significant first, "C=CN,O=某医院,CN=张三" (commas,
 * "+" for multi-valued RDNs, backslash escapes) or OpenSSL's "/C=CN/O=…/CN=…".
 */
export function parseName(text: string): Name {
  const trimmed = text.trim();
  if (trimmed === '') return new Name([]);
  const rdnTexts = trimmed.startsWith('/') ? splitUnescaped(trimmed.slice(1), '/') : splitUnescaped(trimmed, ',');
  const rdns = rdnTexts.map((rdnText) => {
    const atvs = splitUnescaped(rdnText, '+').map((atv) => {
      const eq = atv.indexOf('=');
      if (eq <= 0) throw new ParseError('name', `"${atv.trim()}" is not TYPE=value`);
      const typeName = atv.slice(0, eq).trim();
      const value = unescape(atv.slice(eq + 1).trim());
      if (value === '') throw new ParseError('name', `${typeName} has an empty value`);
      const type = attrByName(typeName);
      if (!type && !/^\d+(\.\d+)+$/.test(typeName)) throw new ParseError('name', `unknown attribute type "${typeName}"`);
      if (type?.short === 'C' && !/^[A-Z]{2}$/.test(value)) throw new ParseError('name', `C must be a two-letter country code, got "${value}"`);
      return new AttributeTypeAndValue({ type: type?.oid ?? typeName, value: attributeValue(type, value) });
    });
    return new RelativeDistinguishedName(atvs);
  });
  return new Name(rdns);
}

/** The text of one attribute value, whatever string type encodes it. */
export function attributeText(v: AttributeValue): string {
  if (v.anyValue) return '#' + Buffer.from(v.anyValue).toString('hex');
  return v.toString();
}

function escapeValue(v: string): string {
  return v.replace(/([,+=\\])/g, '\\$1');
}

/** Formats a name most-significant first, "C=CN, O=…, CN=…". */
export function formatName(name: Name): string {
  return [...name]
    .map((rdn) => [...rdn].map((atv) => `${attributeName(atv.type)}=${escapeValue(attributeText(atv.value))}`).join(' + '))
    .join(', ');
}

/** The values of every attribute of one type in a name, in order (e.g. all "OU"). */
export function nameAttributes(name: Name, typeName: string): string[] {
  const oid = attrByName(typeName)?.oid ?? typeName;
  return [...name].flatMap((rdn) => [...rdn].filter((a) => a.type === oid).map((a) => attributeText(a.value)));
}

/** DER encoding of a name. */
export function nameToDer(name: Name): Buffer {
  return Buffer.from(AsnConvert.serialize(name));
}

/** Decodes a DER Name. */
export function nameFromDer(der: Uint8Array): Name {
  try {
    return AsnConvert.parse(der, Name);
  } catch (e) {
    throw new ParseError('name', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/**
 * Distinguished name comparison of RFC 5280 §7.1: names match when their RDNs match in order;
 * an RDN matches as a set of attribute type-and-values; string values are compared after the
 * LDAP StringPrep steps that matter in practice (RFC 4518: Unicode NFKC, case folding and
 * insignificant-space handling), whatever string type encodes them, so a PrintableString and a
 * UTF8String with the same text are one name. Byte-identical encodings match without any work.
 */
import { ParseError, parsing } from '../errors.js';
import { formatName, nameFromDer } from '../x509/name.js';
import { readTlv, childTlvs, readOid } from '../encoding/der.js';
import { wholeTlv } from './der-read.js';

/** A Name decoded once into comparable form. */
export interface NormalizedName {
  /** The Name exactly as encoded. */
  der: Buffer;
  /** One comparison key per RDN, most significant first. */
  rdns: string[];
  /** The whole name as one key: equal keys mean equal names. */
  key: string;
  /** Values of emailAddress attributes (checked against rfc822Name constraints). */
  emails: string[];
  /** True for the empty sequence. */
  empty: boolean;
}

const EMAIL_OID = '1.2.840.113549.1.9.1';

// Tags of the ASN.1 string types a DirectoryString or an IA5 attribute may use.
const STRING_DECODERS: Record<number, (b: Buffer) => string> = {
  0x0c: (b) => b.toString('utf8'), // UTF8String
  0x13: (b) => b.toString('latin1'), // PrintableString
  0x14: (b) => b.toString('latin1'), // TeletexString (T.61; Latin-1 is the usual reading)
  0x16: (b) => b.toString('latin1'), // IA5String
  0x1a: (b) => b.toString('latin1'), // VisibleString
  0x12: (b) => b.toString('latin1'), // NumericString
  0x1e: (b) => decodeBmp(b), // BMPString (UTF-16BE)
  0x1c: (b) => decodeUniversal(b), // UniversalString (UTF-32BE)
};

function decodeBmp(b: Buffer): string {
  if (b.length % 2) throw new ParseError('name', 'BMPString with an odd length');
  const le = Buffer.alloc(b.length);
  for (let i = 0; i < b.length; i += 2) {
    le[i] = b[i + 1]!;
    le[i + 1] = b[i]!;
  }
  return le.toString('utf16le');
}

function decodeUniversal(b: Buffer): string {
  if (b.length % 4) throw new ParseError('name', 'UniversalString length not a multiple of 4');
  let s = '';
  for (let i = 0; i < b.length; i += 4) s += String.fromCodePoint(b.readUInt32BE(i));
  return s;
}

/** RFC 4518 in brief: NFKC, case fold, fold runs of white space, drop leading and trailing spaces. */
export function prepareString(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const cache = new Map<string, NormalizedName>();
const CACHE_LIMIT = 8192;

/** Decodes and normalizes a DER Name; results are memoized by encoding. Bad input is a ParseError. */
export function normalizeName(der: Buffer): NormalizedName {
  const hex = der.toString('hex');
  const hit = cache.get(hex);
  if (hit) return hit;
  const n = parsing('name', () => decodeName(der));
  if (cache.size >= CACHE_LIMIT) cache.clear(); // names recur within one PKI; a simple flush keeps memory bounded
  cache.set(hex, n);
  return n;
}

function decodeName(der: Buffer): NormalizedName {
  const top = wholeTlv(der, 'name', 0x30);
  const rdns: string[] = [];
  const emails: string[] = [];
  for (const set of childTlvs(der, top, 'name')) {
    if (set.tag !== 0x31) throw new ParseError('name', 'RDN must be a SET');
    const atvs = childTlvs(der, set, 'name').map((atv) => {
      if (atv.tag !== 0x30) throw new ParseError('name', 'AttributeTypeAndValue must be a SEQUENCE');
      const [typeT, valueT, extra] = childTlvs(der, atv, 'name');
      if (!typeT || !valueT || extra || typeT.tag !== 0x06) throw new ParseError('name', 'AttributeTypeAndValue must be an OID and a value');
      const oid = readOid(der, typeT);
      const decode = STRING_DECODERS[valueT.tag];
      let value: string;
      if (decode) {
        const text = decode(Buffer.from(der.subarray(valueT.valueStart, valueT.end)));
        if (oid === EMAIL_OID) emails.push(text);
        value = 's' + prepareString(text);
      } else {
        // Not a string: only an identical encoding matches.
        value = 'b' + Buffer.from(der.subarray(valueT.start, valueT.end)).toString('hex');
      }
      return `${oid}=${value.length}:${value}`;
    });
    if (atvs.length === 0) throw new ParseError('name', 'empty RDN');
    rdns.push(atvs.sort().join('+'));
  }
  // Length-prefixed parts keep the joined key unambiguous whatever characters the values hold.
  const key = rdns.map((r) => `${r.length}|${r}`).join('');
  return { der, rdns, key, emails, empty: rdns.length === 0 };
}

/** RFC 5280 §7.1 name equality. */
export function namesEqual(a: NormalizedName, b: NormalizedName): boolean {
  return a === b || a.der.equals(b.der) || a.key === b.key;
}

/** True when `name` lies in the subtree rooted at `base` (its leading RDNs equal base's RDNs). */
export function nameWithin(name: NormalizedName, base: NormalizedName): boolean {
  if (base.rdns.length > name.rdns.length) return false;
  for (let i = 0; i < base.rdns.length; i++) if (name.rdns[i] !== base.rdns[i]) return false;
  return true;
}

/** Appends one RDN (a SET, as DER) to a Name (as DER), for nameRelativeToIssuer. */
export function appendRdn(nameDer: Buffer, rdnSetDer: Buffer): Buffer {
  const t = readTlv(nameDer, 0, 'name');
  const content = Buffer.concat([nameDer.subarray(t.valueStart, t.end), rdnSetDer]);
  return Buffer.concat([derHeader(0x30, content.length), content]);
}

function derHeader(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

const texts = new WeakMap<NormalizedName, string>();

/** The name as text ("C=CN, O=…, CN=…") for messages; memoized, as formatting needs a full decode. */
export function nameText(n: NormalizedName): string {
  let t = texts.get(n);
  if (t === undefined) {
    try {
      t = formatName(nameFromDer(n.der));
    } catch {
      t = n.der.toString('hex');
    }
    texts.set(n, t);
  }
  return t;
}

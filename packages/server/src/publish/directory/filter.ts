/**
 * LDAP search filters (RFC 4511 §4.5.1.7) over directory entries, and what of a filter the
 * database can use to narrow the end-entity certificates it reads. Matching is three-valued
 * (TRUE, FALSE, Undefined for unknown attributes) as RFC 4511 asks; string matching follows
 * caseIgnoreMatch/caseIgnoreIA5Match (case folded, inner spaces collapsed).
 */
import { normalizeSerial } from '../../ca/authority.js';

/** An entry's attributes: name (with options, e.g. "userCertificate;binary") → values. */
export type Attributes = Record<string, Array<string | Buffer>>;

/** The shape of an @ldapjs/filter filter, as far as it is read here. */
export interface LdapFilter {
  type: string;
  attribute?: string;
  value?: unknown;
  filters?: LdapFilter[];
  filter?: LdapFilter;
  subInitial?: string;
  subAny?: string[];
  subFinal?: string;
}

/** What the database can use to narrow the certificates it reads; matching stays authoritative. */
export interface CertificateHints {
  serial?: string;
  email?: string;
  emailContains?: string;
  subjectContains: string[];
  /** The filter can match no certificate entry (e.g. a serialNumber that is no hexadecimal). */
  impossible: boolean;
}

/** The attribute type without options, lower case ("userCertificate;binary" → "usercertificate"). */
export function baseName(attribute: string): string {
  const i = attribute.indexOf(';');
  return (i < 0 ? attribute : attribute.slice(0, i)).toLowerCase();
}

function fold(v: string): string {
  return v.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The canonical form of an assertion value for an attribute (serial numbers as canonical hex). */
function canonical(attr: string, v: string): string {
  if (attr === 'serialnumber') {
    try {
      return normalizeSerial(v);
    } catch {
      return fold(v);
    }
  }
  return fold(v);
}

function textValues(entry: Attributes, attr: string): string[] | undefined {
  let out: string[] | undefined;
  for (const [name, values] of Object.entries(entry)) {
    if (baseName(name) !== attr) continue;
    out ??= [];
    for (const v of values) if (typeof v === 'string') out.push(canonical(attr, v));
  }
  return out;
}

function substringMatch(v: string, initial: string | undefined, any: string[], final: string | undefined): boolean {
  let pos = 0;
  if (initial) {
    if (!v.startsWith(initial)) return false;
    pos = initial.length;
  }
  for (const a of any) {
    const at = v.indexOf(a, pos);
    if (at < 0) return false;
    pos = at + a.length;
  }
  return !final || (v.length - final.length >= pos && v.endsWith(final));
}

/** ldapjs hands filter values over RFC 4515-escaped ("张" is "\\e5\\bc\\a0"): the UTF-8 text they stand for. */
export function unescapeFilterValue(v: string): string {
  if (!v.includes('\\')) return v;
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const hex = v[i] === '\\' ? /^[0-9a-fA-F]{2}/.exec(v.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      const ch = String.fromCodePoint(v.codePointAt(i)!);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function assertion(f: LdapFilter): string {
  return typeof f.value === 'string' ? unescapeFilterValue(f.value) : Buffer.isBuffer(f.value) ? f.value.toString('utf8') : String(f.value ?? '');
}

/** The pieces of a substring filter, unescaped. */
function pieces(f: LdapFilter): { initial?: string; any: string[]; final?: string } {
  const u = (p: string | undefined) => (typeof p === 'string' && p !== '' ? unescapeFilterValue(p) : undefined);
  return { initial: u(f.subInitial), any: (f.subAny ?? []).map((p) => unescapeFilterValue(p)).filter((p) => p !== ''), final: u(f.subFinal) };
}

/** Evaluates a filter against an entry: true, false, or undefined (RFC 4511 Undefined). */
export function evaluate(f: LdapFilter, entry: Attributes): boolean | undefined {
  switch (f.type) {
    case 'AndFilter': {
      let result: boolean | undefined = true;
      for (const c of f.filters ?? []) {
        const r = evaluate(c, entry);
        if (r === false) return false;
        if (r === undefined) result = undefined;
      }
      return result;
    }
    case 'OrFilter': {
      let result: boolean | undefined = false;
      for (const c of f.filters ?? []) {
        const r = evaluate(c, entry);
        if (r === true) return true;
        if (r === undefined) result = undefined;
      }
      return result;
    }
    case 'NotFilter': {
      const r = f.filter ? evaluate(f.filter, entry) : undefined;
      return r === undefined ? undefined : !r;
    }
    case 'PresenceFilter':
      return Object.keys(entry).some((n) => baseName(n) === baseName(f.attribute ?? ''));
    case 'EqualityFilter':
    case 'ApproximateFilter':
    case 'GreaterThanEqualsFilter':
    case 'LessThanEqualsFilter': {
      const attr = baseName(f.attribute ?? '');
      const values = textValues(entry, attr);
      if (values === undefined) return undefined;
      const a = canonical(attr, assertion(f));
      if (f.type === 'GreaterThanEqualsFilter') return values.some((v) => v >= a);
      if (f.type === 'LessThanEqualsFilter') return values.some((v) => v <= a);
      return values.includes(a);
    }
    case 'SubstringFilter': {
      const attr = baseName(f.attribute ?? '');
      const values = textValues(entry, attr);
      if (values === undefined) return undefined;
      const p = pieces(f);
      const initial = p.initial === undefined ? undefined : fold(p.initial);
      const final = p.final === undefined ? undefined : fold(p.final);
      const any = p.any.map(fold).filter((s) => s !== '');
      return values.some((v) => substringMatch(v, initial, any, final));
    }
    default:
      // Extensible matches and anything unknown: Undefined, which never selects an entry.
      return undefined;
  }
}

/** Characters the stored subject text escapes; a piece containing them cannot be looked up literally. */
const SUBJECT_ESCAPED = /[,+=\\]/;

/** What of a filter narrows the certificate rows read: the terms of a top-level AND (or the filter itself). */
export function certificateHints(f: LdapFilter): CertificateHints {
  const hints: CertificateHints = { subjectContains: [], impossible: false };
  const terms = f.type === 'AndFilter' ? (f.filters ?? []) : [f];
  for (const t of terms) {
    const attr = baseName(t.attribute ?? '');
    if (t.type === 'EqualityFilter') {
      const v = assertion(t);
      if (attr === 'serialnumber') {
        try {
          hints.serial = normalizeSerial(v);
        } catch {
          hints.impossible = true;
        }
      } else if (attr === 'mail') hints.email = fold(v);
      else if (attr === 'cn' && !SUBJECT_ESCAPED.test(v)) hints.subjectContains.push(`CN=${v.trim()}`);
    } else if (t.type === 'SubstringFilter') {
      const p = pieces(t);
      const texts = [p.initial, ...p.any, p.final].filter((x): x is string => x !== undefined && x.trim() !== '').map((x) => x.trim());
      if (attr === 'cn') hints.subjectContains.push(...texts.filter((x) => !SUBJECT_ESCAPED.test(x)));
      else if (attr === 'mail' && texts.length) hints.emailContains = texts.reduce((a, b) => (b.length > a.length ? b : a)).toLowerCase();
    }
  }
  return hints;
}

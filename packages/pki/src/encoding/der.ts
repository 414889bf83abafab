import { ParseError } from '../errors.js';

/** One DER TLV located in a buffer: tag byte, where its value starts and where the TLV ends. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

/**
 * Reads the TLV at `offset`. Used to lift out the exact signed bytes (TBSCertificate, TBSCertList,
 * names) without re-encoding, since a signature covers the bytes as received.
 */
export function readTlv(buf: Uint8Array, offset: number, what = 'DER'): Tlv {
  if (offset + 2 > buf.length) throw new ParseError(what, 'truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new ParseError(what, 'multi-byte tags are not used in these structures');
  let len = buf[offset + 1]!;
  let valueStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new ParseError(what, 'indefinite length is not DER');
    if (n > 4) throw new ParseError(what, 'length field too large');
    if (valueStart + n > buf.length) throw new ParseError(what, 'truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[valueStart + i]!;
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > buf.length) throw new ParseError(what, `length ${len} runs past the end of the input`);
  return { tag, start: offset, valueStart, end };
}

/** Splits a SEQUENCE's value into its child TLVs, requiring the SEQUENCE to fill `buf` exactly. */
export function sequenceChildren(buf: Uint8Array, what = 'DER'): Tlv[] {
  const outer = readTlv(buf, 0, what);
  if (outer.tag !== 0x30) throw new ParseError(what, 'expected a SEQUENCE');
  if (outer.end !== buf.length) throw new ParseError(what, `${buf.length - outer.end} trailing bytes after the SEQUENCE`);
  const out: Tlv[] = [];
  for (let off = outer.valueStart; off < outer.end; ) {
    const t = readTlv(buf, off, what);
    if (t.end > outer.end) throw new ParseError(what, 'element runs past its SEQUENCE');
    out.push(t);
    off = t.end;
  }
  return out;
}

/** The bytes of a TLV, header included. */
export function tlvBytes(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.subarray(t.start, t.end));
}

/** The child TLVs inside a constructed TLV's value, which they must fill exactly. */
export function childTlvs(buf: Uint8Array, parent: Tlv, what = 'DER'): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.valueStart; off < parent.end; ) {
    const t = readTlv(buf, off, what);
    if (t.end > parent.end) throw new ParseError(what, 'element runs past its parent');
    out.push(t);
    off = t.end;
  }
  return out;
}

/** Reads the TLV at `offset`, requiring the tag `tag`. */
export function expectTlv(buf: Uint8Array, offset: number, tag: number, what = 'DER'): Tlv {
  const t = readTlv(buf, offset, what);
  if (t.tag !== tag) throw new ParseError(what, `expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

// Certificates, CRLs and OCSP messages repeat the same few dozen OIDs, so their text is memoised,
// keyed by a hash of the content bytes (a number key needs no string built per lookup) and
// confirmed byte for byte. The bound keeps hostile input (endless distinct OIDs) from growing it.
const OID_TEXT_CACHE = new Map<number, { bytes: Uint8Array; text: string }>();
const OID_TEXT_CACHE_MAX = 2000;

/** Dotted text of the OBJECT IDENTIFIER TLV `t`; a malformed encoding is a ParseError. */
export function readOid(buf: Uint8Array, t: Tlv, what = 'OID'): string {
  if (t.tag !== 0x06) throw new ParseError(what, `expected an OBJECT IDENTIFIER, got tag 0x${t.tag.toString(16)}`);
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = t.valueStart; i < t.end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
  const hit = OID_TEXT_CACHE.get(hash);
  if (hit && sameBytes(hit.bytes, buf, t.valueStart, t.end)) return hit.text;
  const text = oidTextOf(buf, t.valueStart, t.end, what);
  if (!hit && OID_TEXT_CACHE.size < OID_TEXT_CACHE_MAX) OID_TEXT_CACHE.set(hash, { bytes: buf.slice(t.valueStart, t.end), text });
  return text;
}

/** Whether `a` equals buf[start, end). */
function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

/** Decodes OID content bytes (X.690 §8.19), rejecting empty, truncated and non-minimal arcs. */
function oidTextOf(buf: Uint8Array, start: number, end: number, what: string): string {
  if (start === end) throw new ParseError(what, 'empty OBJECT IDENTIFIER');
  if (buf[end - 1]! & 0x80) throw new ParseError(what, 'truncated OBJECT IDENTIFIER arc');
  const arcs: bigint[] = [];
  let arcStart = true;
  let v = 0n;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (arcStart && b === 0x80) throw new ParseError(what, 'non-minimal OBJECT IDENTIFIER arc');
    // BigInt only here, on a cache miss: arcs such as UUID OIDs (2.25.…) exceed 2^53.
    v = (v << 7n) | BigInt(b & 0x7f);
    arcStart = !(b & 0x80);
    if (arcStart) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Reads a BOOLEAN TLV's value (any non-zero octet is TRUE, as BER allows and OpenSSL reads). */
export function readBoolean(buf: Uint8Array, t: Tlv, what = 'BOOLEAN'): boolean {
  if (t.tag !== 0x01 || t.end - t.valueStart !== 1) throw new ParseError(what, 'malformed BOOLEAN');
  return buf[t.valueStart] !== 0;
}

/**
 * Decodes a Time TLV strictly as DER and RFC 5280 §4.1.2.5 want it: UTCTime "YYMMDDHHMMSSZ"
 * (50-99 → 19xx) or GeneralizedTime "YYYYMMDDHHMMSSZ", seconds present, no fraction, no offset.
 * Read by hand because a schema decode of one time costs more than a whole hand-read certificate.
 */
export function readDerTime(buf: Uint8Array, t: Tlv, what = 'time'): Date {
  const utc = t.tag === 0x17;
  if (!utc && t.tag !== 0x18) throw new ParseError(what, `expected UTCTime or GeneralizedTime, got tag 0x${t.tag.toString(16)}`);
  const digits = utc ? 12 : 14;
  if (t.end - t.valueStart !== digits + 1 || buf[t.end - 1] !== 0x5a) throw new ParseError(what, `${utc ? 'UTCTime' : 'GeneralizedTime'} must be ${digits} digits and "Z"`);
  const n = (i: number, len: number): number => {
    let v = 0;
    for (let k = t.valueStart + i; k < t.valueStart + i + len; k++) {
      const c = buf[k]! - 0x30;
      if (c < 0 || c > 9) throw new ParseError(what, 'time has a non-digit');
      v = v * 10 + c;
    }
    return v;
  };
  const y = utc ? n(0, 2) : n(0, 4);
  const year = utc ? (y < 50 ? 2000 + y : 1900 + y) : y;
  const o = utc ? 2 : 4;
  return utcDate(year, n(o, 2), n(o + 2, 2), n(o + 4, 2), n(o + 6, 2), n(o + 8, 2), what);
}

/** A UTC Date from calendar fields, rejecting out-of-range ones instead of letting Date roll them over. */
function utcDate(year: number, month: number, day: number, hour: number, minute: number, second: number, what: string): Date {
  const monthDays = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (month < 1 || month > 12 || day < 1 || day > monthDays[month - 1]! || hour > 23 || minute > 59 || second > 59) {
    throw new ParseError(what, 'time field out of range');
  }
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  // Date.UTC maps years 0-99 to 1900-1999; setting the full year afterwards keeps them literal.
  d.setUTCFullYear(year);
  return d;
}

/** The content bytes of an INTEGER TLV (two's complement, as encoded); empty content is a ParseError. */
export function readIntegerBytes(buf: Uint8Array, t: Tlv, what = 'INTEGER'): Buffer {
  if (t.tag !== 0x02 || t.end === t.valueStart) throw new ParseError(what, 'expected a non-empty INTEGER');
  return Buffer.from(buf.subarray(t.valueStart, t.end));
}

/** A small non-negative INTEGER (versions, counts) as a number. */
export function readSmallInteger(buf: Uint8Array, t: Tlv, what = 'INTEGER'): number {
  const len = t.end - t.valueStart;
  if (t.tag !== 0x02 || len < 1 || len > 4 || buf[t.valueStart]! & 0x80) throw new ParseError(what, 'expected a small non-negative INTEGER');
  let v = 0;
  for (let i = t.valueStart; i < t.end; i++) v = v * 256 + buf[i]!;
  return v;
}

/** The BIT STRING TLV `t` as its unused-bits count and its bytes (a view into `buf`). */
export function readBitString(buf: Uint8Array, t: Tlv, what = 'BIT STRING'): { unusedBits: number; bytes: Uint8Array } {
  if (t.tag !== 0x03 || t.end === t.valueStart || buf[t.valueStart]! > 7) throw new ParseError(what, 'malformed BIT STRING');
  const unusedBits = buf[t.valueStart]!;
  if (unusedBits && t.end - t.valueStart === 1) throw new ParseError(what, 'an empty BIT STRING cannot have unused bits');
  return { unusedBits, bytes: buf.subarray(t.valueStart + 1, t.end) };
}

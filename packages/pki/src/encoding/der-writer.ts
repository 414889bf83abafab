/**
 * Writing DER by hand where the schema library would be too slow (million-entry CRLs) or would
 * re-encode bytes that must stay exact (a signed part placed next to its signature).
 */
import { PkiError } from '../errors.js';

/** A growable output buffer for DER written front to back. */
export class DerWriter {
  private buf: Buffer;
  private len = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    // A plain loop beats TypedArray.set for the short pieces (serials, OIDs) a CRL is made of.
    if (b.length < 48) for (let i = 0; i < b.length; i++) this.buf[this.len++] = b[i]!;
    else {
      this.buf.set(b, this.len);
      this.len += b.length;
    }
  }
  /** Writes a Time TLV as derTime would: UTCTime for 1950-2049, GeneralizedTime otherwise, whole seconds. */
  time(d: Date): void {
    this.timeTlv(d, isUtcTime(d));
  }
  /** Writes a GeneralizedTime TLV in whole seconds. */
  generalizedTime(d: Date): void {
    this.timeTlv(d, false);
  }
  /** The digits written straight into the buffer: a CRL or an OCSP responder writes millions of times. */
  private timeTlv(d: Date, utc: boolean): void {
    const year = d.getUTCFullYear();
    if (!(year >= 0 && year <= 9999)) throw new PkiError('options.date', `date out of range: ${String(d)}`);
    this.room(17);
    const b = this.buf;
    let n = this.len;
    b[n++] = utc ? 0x17 : 0x18;
    b[n++] = utc ? 13 : 15;
    if (!utc) n = twoDigits(b, n, Math.floor(year / 100));
    n = twoDigits(b, n, year % 100);
    n = twoDigits(b, n, d.getUTCMonth() + 1);
    n = twoDigits(b, n, d.getUTCDate());
    n = twoDigits(b, n, d.getUTCHours());
    n = twoDigits(b, n, d.getUTCMinutes());
    n = twoDigits(b, n, d.getUTCSeconds());
    b[n++] = 0x5a; // 'Z'
    this.len = n;
  }
  /** Writes text as UTF-8 or Latin-1 (one byte per UTF-16 unit); `byteLength` is its encoded length. */
  text(text: string, encoding: 'utf8' | 'latin1', byteLength: number): void {
    this.room(byteLength);
    if (byteLength === text.length && byteLength < 48) {
      // Latin-1, or UTF-8 that is all ASCII: a plain loop beats a call into native code for names' short strings.
      for (let i = 0; i < byteLength; i++) this.buf[this.len++] = text.charCodeAt(i);
      return;
    }
    this.len += this.buf.write(text, this.len, byteLength, encoding);
  }
  header(tag: number, length: number): void {
    this.room(6);
    this.buf[this.len++] = tag;
    if (length < 0x80) {
      this.buf[this.len++] = length;
      return;
    }
    const n = length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
    this.buf[this.len++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) this.buf[this.len++] = Math.floor(length / 256 ** i) & 0xff;
  }
  /**
   * Writes an INTEGER TLV for a non-negative number given as hex digits (a serial as a database
   * stores it), minimal two's complement, without an intermediate Buffer.
   */
  hexInteger(hex: string): void {
    let start = 0;
    while (start < hex.length - 1 && hex.charCodeAt(start) === 0x30) start++; // leading "0" digits
    const digits = hex.length - start;
    const odd = digits % 2 === 1;
    const first = parseInt(hex[start]!, 16);
    const pad = !odd && first >= 8 ? 1 : 0; // a set top bit needs a 00 byte to stay positive
    const len = (digits + (odd ? 1 : 0)) / 2 + pad;
    if (digits === 0 || Number.isNaN(first)) throw new PkiError('options.integer', `"${hex.slice(0, 80)}" is not hexadecimal`);
    this.header(0x02, len);
    this.room(len);
    if (pad) this.buf[this.len++] = 0;
    let bytes = len - pad;
    if (odd) {
      this.buf[this.len++] = first;
      bytes--;
      start++;
    }
    if (bytes > 0 && this.buf.write(hex.slice(start), this.len, bytes, 'hex') !== bytes) throw new PkiError('options.integer', `"${hex.slice(0, 80)}" is not hexadecimal`);
    this.len += bytes;
  }
  /**
   * Writes a Time TLV (UTCTime for 1950-2049, GeneralizedTime otherwise, or always GeneralizedTime
   * when `generalized`) for an ISO-8601 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.fff]Z", copying its
   * digits: a million-entry CRL read from a database need not make a Date per entry.
   */
  isoTime(iso: string, generalized = false): void {
    if (!ISO_UTC.test(iso)) throw new PkiError('options.date', `"${iso.slice(0, 40)}" is not an ISO-8601 UTC timestamp`);
    const year = Number(iso.slice(0, 4));
    const utc = !generalized && year >= 1950 && year < 2050;
    this.room(17);
    const b = this.buf;
    let n = this.len;
    b[n++] = utc ? 0x17 : 0x18;
    b[n++] = utc ? 13 : 15;
    for (let i = utc ? 2 : 0; i < 19; i++) {
      const c = iso.charCodeAt(i);
      if (c >= 0x30 && c <= 0x39) b[n++] = c;
    }
    b[n++] = 0x5a; // 'Z'
    this.len = n;
  }
  /**
   * Sets the length of the TLV whose header was written at `mark` with a one-byte length, now
   * that its `length` bytes of value follow; a longer length form moves the value up.
   */
  patchLength(mark: number, length: number): void {
    if (length < 0x80) {
      this.buf[mark + 1] = length;
      return;
    }
    const header = derHeader(this.buf[mark]!, length);
    const shift = header.length - 2;
    this.room(shift);
    this.buf.copyWithin(mark + header.length, mark + 2, this.len);
    header.copy(this.buf, mark);
    this.len += shift;
  }
  /** How many bytes have been written. */
  get position(): number {
    return this.len;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

// Digits checked, and month 01-12, day 01-31, hour 00-23, minute and second 00-59.
const ISO_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;

/** The identifier and length octets of a TLV whose value is `length` bytes long. */
export function derHeader(tag: number, length: number): Buffer {
  const w = new DerWriter(6);
  w.header(tag, length);
  return w.result();
}

/** One TLV with the given tag around the concatenated parts. */
export function derTlv(tag: number, parts: Uint8Array[]): Buffer {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const w = new DerWriter(len + 6);
  w.header(tag, len);
  for (const p of parts) w.bytes(p);
  return w.result();
}

/** A minimal two's-complement INTEGER TLV for a non-negative bigint. */
export function derIntegerFromBigInt(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return derTlv(0x02, [b]);
}

/** Whether a Time for this date is a UTCTime (1950-2049, RFC 5280 §4.1.2.5) rather than a GeneralizedTime. */
export function isUtcTime(d: Date): boolean {
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050;
}

/** The length of the TLV derTime writes for a date. */
export function derTimeLength(d: Date): number {
  return isUtcTime(d) ? 15 : 17;
}

/**
 * UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 §5.1.2.4), whole seconds. Written by
 * hand because a million-entry CRL has up to a million distinct revocation times.
 */
export function derTime(d: Date): Buffer {
  const w = new DerWriter(17);
  w.time(d);
  return w.result();
}

/** GeneralizedTime in whole seconds (invalidityDate, OCSP times are always GeneralizedTime). */
export function derGeneralizedTime(d: Date): Buffer {
  const w = new DerWriter(17);
  w.generalizedTime(d);
  return w.result();
}

/** Writes a number 0-99 as two ASCII digits at `n`, returning the offset after them. */
function twoDigits(b: Buffer, n: number, v: number): number {
  b[n] = 0x30 + Math.floor(v / 10);
  b[n + 1] = 0x30 + (v % 10);
  return n + 2;
}

/** A TLV whose value is ASCII text (times, IA5/Printable strings). */
export function derAscii(tag: number, text: string): Buffer {
  if (text.length > 127) return derTlv(tag, [Buffer.from(text, 'latin1')]);
  const b = Buffer.allocUnsafe(2 + text.length);
  b[0] = tag;
  b[1] = text.length;
  b.write(text, 2, 'latin1');
  return b;
}

/** A BIT STRING TLV with no unused bits (signatures, key bits). */
export function derBitString(bytes: Uint8Array): Buffer {
  return derTlv(0x03, [Buffer.from([0]), bytes]);
}

/** An OCTET STRING TLV. */
export function derOctetString(bytes: Uint8Array): Buffer {
  return derTlv(0x04, [bytes]);
}

// Issuing repeats the same few dozen OIDs (attribute types, extensions, algorithms) in every
// object; memoising their encodings takes BigInt arithmetic off the issuing path. Bounded so that
// caller-chosen OIDs cannot grow it without limit.
const OID_DER_CACHE = new Map<string, Buffer>();
const OID_DER_CACHE_MAX = 2000;

/**
 * An OBJECT IDENTIFIER TLV for dotted text ("1.2.840.113549.1.7.1"). The result may be shared
 * with other callers (it is memoised): write it out, never modify it.
 */
export function derOid(text: string): Buffer {
  let der = OID_DER_CACHE.get(text);
  if (der === undefined) {
    der = encodeOid(text);
    if (OID_DER_CACHE.size < OID_DER_CACHE_MAX) OID_DER_CACHE.set(text, der);
  }
  return der;
}

function encodeOid(text: string): Buffer {
  const arcs = text.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new PkiError('options.oid', `"${text}" is not a dotted OID`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new PkiError('options.oid', `"${text}" is not a valid OID`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...group);
  }
  return derTlv(0x06, [Buffer.from(out)]);
}

/** A SET OF TLV: DER orders the elements by their encodings (X.690 §11.6). */
export function derSetOf(elements: Uint8Array[]): Buffer {
  return derTlv(0x31, [...elements].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

/** BOOLEAN TRUE as DER writes it (0xff): the only BOOLEAN DER ever writes for a DEFAULT FALSE field. */
export const DER_TRUE: Buffer = Buffer.from([0x01, 0x01, 0xff]);

/** A TLV whose value is the UTF-8 encoding of `text` (UTF8String, or any tag carrying UTF-8). */
export function derUtf8(tag: number, text: string): Buffer {
  return derTlv(tag, [Buffer.from(text, 'utf8')]);
}

/** A BIT STRING TLV for a named-bit list given as flags (a non-negative 31-bit integer), bit 0 first (keyUsage, ReasonFlags). */
export function derNamedBits(flags: number): Buffer {
  // The length in bits is up to the highest set bit: X.690 §11.2.2 drops trailing zero bits.
  if (flags === 0) return Buffer.from([0x03, 0x01, 0x00]);
  const bitLength = 32 - Math.clz32(flags);
  const octets = (bitLength + 7) >> 3;
  const out = Buffer.alloc(3 + octets);
  out[0] = 0x03;
  out[1] = octets + 1;
  out[2] = octets * 8 - bitLength;
  for (let bit = 0; bit < bitLength; bit++) if (flags & (1 << bit)) out[3 + (bit >> 3)] |= 0x80 >> (bit & 7);
  return out;
}

/**
 * A constructed TLV to be written by derTree: its children are encoded bytes or further nodes.
 * Nesting whole structures this way (a TBSCertificate, a ResponseData) measures every length
 * first and then writes each byte once, where nested derTlv calls would copy each level again.
 */
export interface DerNode {
  tag: number;
  children: DerPart[];
  /** The value length, filled in by derTree's measuring pass. */
  length?: number;
}
/** An already encoded TLV (or raw value bytes) or a node to encode. */
export type DerPart = Uint8Array | DerNode;

/** A constructed (or primitive, when its children are raw value bytes) TLV for derTree. */
export function derNode(tag: number, children: DerPart[]): DerNode {
  return { tag, children };
}

/** Encodes a tree of DerNodes in one buffer. */
export function derTree(root: DerPart): Buffer {
  const w = new DerWriter(measure(root));
  emit(w, root);
  return w.result();
}

/** The encoded length of a part, recording each node's value length on the way. */
function measure(part: DerPart): number {
  if (part instanceof Uint8Array) return part.length;
  let length = 0;
  for (const c of part.children) length += measure(c);
  part.length = length;
  return tlvLength(length);
}

function emit(w: DerWriter, part: DerPart): void {
  if (part instanceof Uint8Array) {
    w.bytes(part);
    return;
  }
  w.header(part.tag, part.length!);
  for (const c of part.children) emit(w, c);
}

/** The size of a TLV header (one tag byte) for a value of `length` bytes. */
export function headerLength(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : length < 0x1000000 ? 5 : 6;
}

/** The size of a whole TLV (one tag byte) whose value is `length` bytes. */
export function tlvLength(length: number): number {
  return headerLength(length) + length;
}

// Signature and hash AlgorithmIdentifiers come from a short fixed list and head every signed
// object: memoised by OID, one map per parameters form.
const ALGORITHM_DER_CACHE = new Map<string, Buffer>();
const ALGORITHM_NULL_DER_CACHE = new Map<string, Buffer>();
const DER_NULL = Buffer.from([0x05, 0x00]);

/**
 * An AlgorithmIdentifier TLV with absent or NULL parameters (RSA PKCS#1 and OCSP CertID hashes
 * carry NULL). Memoised like derOid: write it out, never modify it.
 */
export function derAlgorithm(oid: string, nullParams: boolean): Buffer {
  const cache = nullParams ? ALGORITHM_NULL_DER_CACHE : ALGORITHM_DER_CACHE;
  let der = cache.get(oid);
  if (der === undefined) {
    der = derTlv(0x30, nullParams ? [derOid(oid), DER_NULL] : [derOid(oid)]);
    if (cache.size < OID_DER_CACHE_MAX) cache.set(oid, der);
  }
  return der;
}

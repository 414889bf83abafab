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
  /** Writes a Time TLV as derTime would, without an intermediate buffer. */
  time(d: Date): void {
    const year = d.getUTCFullYear();
    const utc = year >= 1950 && year < 2050;
    if (!utc) {
      this.bytes(derGeneralizedTime(d));
      return;
    }
    this.room(15);
    const b = this.buf;
    let n = this.len;
    b[n++] = 0x17;
    b[n++] = 13;
    for (const v of [year % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]) {
      b[n++] = 0x30 + Math.floor(v / 10);
      b[n++] = 0x30 + (v % 10);
    }
    b[n++] = 0x5a; // 'Z'
    this.len = n;
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
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
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

/** The length of the TLV derTime writes for a date. */
export function derTimeLength(d: Date): number {
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? 15 : 17;
}

/**
 * UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 §5.1.2.4), whole seconds. Written by
 * hand because a million-entry CRL has up to a million distinct revocation times.
 */
export function derTime(d: Date): Buffer {
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? derAscii(0x17, timeDigits(d).slice(2)) : derGeneralizedTime(d);
}

/** GeneralizedTime in whole seconds (invalidityDate is always GeneralizedTime). */
export function derGeneralizedTime(d: Date): Buffer {
  return derAscii(0x18, timeDigits(d));
}

/** "YYYYMMDDHHMMSSZ" for a date, fractions dropped. */
function timeDigits(d: Date): string {
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) throw new PkiError('options.date', `date out of range: ${String(d)}`);
  const two = (n: number) => (n < 10 ? '0' : '') + n;
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    'Z'
  );
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

/** An OBJECT IDENTIFIER TLV for dotted text ("1.2.840.113549.1.7.1"). */
export function derOid(text: string): Buffer {
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

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

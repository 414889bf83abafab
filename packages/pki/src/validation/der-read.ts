/**
 * Small DER readers for the parts of certificates and CRLs that path validation needs as exact
 * bytes: GeneralNames (IP address masks, directory names) and distribution points. The
 * @peculiar schemas turn IP masks into text and re-encode names, which loses what the name
 * constraint and distribution point checks must compare, so these few structures are read here.
 */
import { ParseError } from '../errors.js';
import { childTlvs, readTlv, type Tlv } from '../encoding/der.js';

/** Reads one TLV that must fill `buf` exactly. */
export function wholeTlv(buf: Uint8Array, what: string, tag?: number): Tlv {
  const t = readTlv(buf, 0, what);
  if (t.end !== buf.length) throw new ParseError(what, `${buf.length - t.end} trailing bytes`);
  if (tag !== undefined && t.tag !== tag) throw new ParseError(what, `expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** The value bytes of a TLV. */
export function valueOf(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.subarray(t.valueStart, t.end));
}


/** The name forms of RFC 5280 §4.2.1.6, by GeneralName tag number. */
export type GeneralNameKind = 'otherName' | 'email' | 'dns' | 'x400' | 'directory' | 'edi' | 'uri' | 'ip' | 'registeredId';
const KINDS: GeneralNameKind[] = ['otherName', 'email', 'dns', 'x400', 'directory', 'edi', 'uri', 'ip', 'registeredId'];

/** One GeneralName with its raw value: text for the IA5 forms, bytes for IP, Name DER for directoryName. */
export interface GeneralNameValue {
  kind: GeneralNameKind;
  /** e-mail, DNS name or URI text (IA5String, read as Latin-1 so no byte is lost). */
  text?: string;
  /** The value bytes: the IP address (and mask in a constraint), or the content of other forms. */
  bytes: Buffer;
  /** directoryName only: the Name DER. */
  nameDer?: Buffer;
}

/** Decodes the GeneralName at `t` in `buf`. */
export function readGeneralName(buf: Uint8Array, t: Tlv, what: string): GeneralNameValue {
  if ((t.tag & 0xc0) !== 0x80) throw new ParseError(what, `GeneralName must be context-tagged, got tag 0x${t.tag.toString(16)}`);
  const n = t.tag & 0x1f;
  const kind = KINDS[n];
  if (!kind) throw new ParseError(what, `unknown GeneralName choice [${n}]`);
  const bytes = valueOf(buf, t);
  if (kind === 'email' || kind === 'dns' || kind === 'uri') {
    if (t.tag & 0x20) throw new ParseError(what, `${kind} must be primitive`);
    return { kind, text: bytes.toString('latin1'), bytes };
  }
  if (kind === 'directory') {
    const inner = readTlv(buf, t.valueStart, what);
    if (inner.tag !== 0x30 || inner.end !== t.end) throw new ParseError(what, 'directoryName must hold exactly one Name');
    return { kind, bytes, nameDer: Buffer.from(buf.subarray(inner.start, inner.end)) };
  }
  return { kind, bytes };
}

/** Decodes the GeneralName items directly inside `parent` (a GeneralNames SEQUENCE or an implicitly tagged one). */
export function readGeneralNames(buf: Uint8Array, parent: Tlv, what: string): GeneralNameValue[] {
  return childTlvs(buf, parent, what).map((t) => readGeneralName(buf, t, what));
}

/** Reads a BIT STRING's value as a number whose bit i is the i-th named bit (ReasonFlags, KeyUsage order). */
export function namedBits(content: Uint8Array, what: string): number {
  if (content.length === 0) throw new ParseError(what, 'empty BIT STRING');
  const unused = content[0]!;
  if (unused > 7) throw new ParseError(what, 'bad unused-bits count');
  let flags = 0;
  for (let i = 1; i < content.length && i <= 4; i++) {
    const byte = content[i]!;
    for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) flags |= 1 << ((i - 1) * 8 + b);
  }
  return flags;
}

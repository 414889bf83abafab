/**
 * TSTInfo (RFC 3161 §2.4.2), the content a time-stamp token signs:
 *
 *   TSTInfo ::= SEQUENCE { version INTEGER { v1(1) }, policy TSAPolicyId,
 *     messageImprint MessageImprint, serialNumber INTEGER, genTime GeneralizedTime,
 *     accuracy Accuracy OPTIONAL, ordering BOOLEAN DEFAULT FALSE, nonce INTEGER OPTIONAL,
 *     tsa [0] GeneralName OPTIONAL, extensions [1] IMPLICIT Extensions OPTIONAL }
 *   Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 *     micros [1] INTEGER (1..999) OPTIONAL }
 *
 * genTime may carry a fraction of a second, written without trailing zeros (RFC 3161 §2.4.2).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { PkiError, ParseError, parsing } from '../errors.js';
import { childTlvs, readBoolean, readOid, readSmallInteger, readTlv, sequenceChildren, tlvBytes, type Tlv } from '../encoding/der.js';
import { DER_TRUE, derAscii, derOid, derTlv } from '../encoding/der-writer.js';
import { bigIntHex, derBigInt, encodeExtensionList, encodeMessageImprint, readBigInt, readExtensions, readMessageImprint, type MessageImprint, type TspExtension } from './fields.js';

const WHAT = 'TSTInfo';

/** How far genTime may be from the true time (RFC 3161 Accuracy); missing fields count as zero. */
export interface Accuracy {
  seconds?: number;
  /** 1..999 */
  millis?: number;
  /** 1..999 */
  micros?: number;
}

/** Everything a TSTInfo states. */
export interface TstInfoFields {
  policy: string;
  /** The imprint, or the request's messageImprint DER to echo byte for byte. */
  messageImprint: MessageImprint | Buffer;
  serialNumber: bigint;
  /** Written with its milliseconds as a fraction (trailing zeros dropped; none for whole seconds). */
  genTime: Date;
  accuracy?: Accuracy;
  ordering?: boolean;
  nonce?: bigint;
  /** The TSA's name as a GeneralName DER (e.g. directoryName [4] of its certificate subject). */
  tsa?: Buffer;
  extensions?: TspExtension[];
}

/** DER of a TSTInfo (version 1). */
export function encodeTstInfo(f: TstInfoFields): Buffer {
  const parts: Buffer[] = [
    derTlv(0x02, [Buffer.from([1])]),
    derOid(f.policy),
    Buffer.isBuffer(f.messageImprint) ? f.messageImprint : encodeMessageImprint(f.messageImprint),
    derBigInt(f.serialNumber),
    genTimeDer(f.genTime),
  ];
  if (f.accuracy) parts.push(encodeAccuracy(f.accuracy));
  if (f.ordering) parts.push(DER_TRUE);
  if (f.nonce !== undefined) parts.push(derBigInt(f.nonce));
  if (f.tsa) parts.push(derTlv(0xa0, [f.tsa])); // [0] EXPLICIT: GeneralName is a CHOICE
  if (f.extensions?.length) parts.push(derTlv(0xa1, encodeExtensionList(f.extensions)));
  return derTlv(0x30, parts);
}

/** GeneralizedTime "YYYYMMDDhhmmss[.fff]Z" with the date's milliseconds, trailing zeros dropped. */
export function genTimeDer(d: Date): Buffer {
  return derAscii(0x18, genTimeText(d));
}

/** The text genTimeDer writes. */
export function genTimeText(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) throw new PkiError('options.date', `genTime out of range: ${String(d)}`);
  const iso = d.toISOString(); // YYYY-MM-DDThh:mm:ss.fffZ for years 1-9999
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + (fraction ? '.' + fraction : '') + 'Z';
}

function encodeAccuracy(a: Accuracy): Buffer {
  const parts: Buffer[] = [];
  const check = (v: number | undefined, min: number, max: number, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new PkiError('options.tsp', `accuracy ${name} must be an integer in ${min}..${max}`);
  };
  check(a.seconds, 0, 2 ** 31 - 1, 'seconds');
  check(a.millis, 1, 999, 'millis');
  check(a.micros, 1, 999, 'micros');
  if (a.seconds !== undefined) parts.push(derBigInt(BigInt(a.seconds)));
  if (a.millis !== undefined) parts.push(derBigInt(BigInt(a.millis)).fill(0x80, 0, 1)); // [0] IMPLICIT INTEGER
  if (a.micros !== undefined) parts.push(derBigInt(BigInt(a.micros)).fill(0x81, 0, 1)); // [1] IMPLICIT INTEGER
  return derTlv(0x30, parts);
}

/** A parsed TSTInfo that keeps its bytes. */
export class TstInfo {
  readonly der: Buffer;
  readonly version: number;
  readonly policy: string;
  readonly messageImprint: MessageImprint;
  readonly serialNumber: bigint;
  /** genTime to the millisecond (finer fractions are in genTimeText). */
  readonly genTime: Date;
  /** genTime exactly as encoded, e.g. "20260301093000.25Z". */
  readonly genTimeText: string;
  readonly accuracy?: Accuracy;
  readonly ordering: boolean;
  readonly nonce?: bigint;
  /** The tsa GeneralName DER (inside the [0] EXPLICIT tag), when present. */
  readonly tsaDer?: Buffer;
  readonly extensions: TspExtension[];

  private constructor(der: Buffer) {
    this.der = der;
    const f = sequenceChildren(der, WHAT);
    let i = 0;
    if (f[i]?.tag !== 0x02) throw new ParseError(WHAT, 'version missing');
    this.version = readSmallInteger(der, f[i++]!, WHAT);
    if (f[i]?.tag !== 0x06) throw new ParseError(WHAT, 'policy missing');
    this.policy = readOid(der, f[i++]!, WHAT);
    if (!f[i]) throw new ParseError(WHAT, 'messageImprint missing');
    this.messageImprint = readMessageImprint(der, f[i++]!, WHAT);
    if (f[i]?.tag !== 0x02) throw new ParseError(WHAT, 'serialNumber missing');
    this.serialNumber = readBigInt(der, f[i++]!, WHAT);
    if (f[i]?.tag !== 0x18) throw new ParseError(WHAT, 'genTime missing or not a GeneralizedTime');
    const gt = readGenTime(der, f[i++]!);
    this.genTime = gt.date;
    this.genTimeText = gt.text;
    if (f[i]?.tag === 0x30) this.accuracy = readAccuracy(der, f[i++]!);
    this.ordering = f[i]?.tag === 0x01 ? readBoolean(der, f[i++]!, WHAT) : false;
    if (f[i]?.tag === 0x02) this.nonce = readBigInt(der, f[i++]!, WHAT);
    if (f[i]?.tag === 0xa0) {
      const outer = f[i++]!;
      const inner = readTlv(der, outer.valueStart, WHAT);
      if (inner.end !== outer.end) throw new ParseError(WHAT, 'tsa must hold exactly one GeneralName');
      this.tsaDer = tlvBytes(der, inner);
    }
    this.extensions = f[i]?.tag === 0xa1 ? readExtensions(der, f[i++]!, WHAT) : [];
    if (i !== f.length) throw new ParseError(WHAT, 'unexpected or out-of-order fields');
  }

  /** Parses a TSTInfo DER; bad input is a ParseError. */
  static parse(der: Uint8Array): TstInfo {
    const bytes = Buffer.from(der);
    return parsing(WHAT, () => new TstInfo(bytes));
  }

  /** Serial number as hex (for display and audit). */
  get serialHex(): string {
    return bigIntHex(this.serialNumber);
  }
  /** The tsa field as a @peculiar GeneralName (decoded on use). */
  get tsa(): x.GeneralName | undefined {
    const der = this.tsaDer;
    return der ? parsing(WHAT, () => AsnConvert.parse(der, x.GeneralName)) : undefined;
  }
}

const GEN_TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{0,17}[1-9]))?Z$/;

/** Reads a GeneralizedTime with an optional fraction (no trailing zeros, "Z" only, as RFC 3161 wants). */
function readGenTime(buf: Buffer, t: Tlv): { date: Date; text: string } {
  const text = buf.toString('latin1', t.valueStart, t.end);
  const m = GEN_TIME_RE.exec(text);
  if (!m) throw new ParseError(WHAT, `genTime "${text.slice(0, 40)}" is not YYYYMMDDhhmmss[.f]Z without trailing zeros`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const monthDays = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (month < 1 || month > 12 || day < 1 || day > monthDays[month - 1]! || hour > 23 || minute > 59 || second > 59) {
    throw new ParseError(WHAT, `genTime "${text}" is out of range`);
  }
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year); // Date.UTC would map years 0-99 to 1900-1999
  return { date, text };
}

function readAccuracy(buf: Buffer, t: Tlv): Accuracy {
  const a: Accuracy = {};
  let i = 0;
  const f = childTlvs(buf, t, WHAT);
  const small = (tlv: Tlv, min: number, max: number, name: string): number => {
    const v = readBigInt(buf, { ...tlv, tag: 0x02 }, WHAT);
    if (v < BigInt(min) || v > BigInt(max)) throw new ParseError(WHAT, `accuracy ${name} out of range ${min}..${max}`);
    return Number(v);
  };
  if (f[i]?.tag === 0x02) a.seconds = small(f[i++]!, 0, 2 ** 31 - 1, 'seconds');
  if (f[i]?.tag === 0x80) a.millis = small(f[i++]!, 1, 999, 'millis');
  if (f[i]?.tag === 0x81) a.micros = small(f[i++]!, 1, 999, 'micros');
  if (i !== f.length) throw new ParseError(WHAT, 'malformed accuracy');
  return a;
}

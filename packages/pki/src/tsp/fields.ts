/**
 * Pieces shared by the RFC 3161 structures: MessageImprint, signed INTEGERs (nonces, serial
 * numbers) as bigint, and Extensions. Read and written by hand: the structures are small, and a
 * TSA answering thousands of requests a second should not pay for a schema round trip.
 */
import { ParseError } from '../errors.js';
import { childTlvs, readBoolean, readOid, type Tlv } from '../encoding/der.js';
import { DER_TRUE, derOctetString, derOid, derTlv } from '../encoding/der-writer.js';
import { digest, hashOid, type HashName } from '../crypto/hash.js';
import { OID } from '../oids.js';

/** MessageImprint: the hash of the time-stamped data and the algorithm that made it. */
export interface MessageImprint {
  /** OID of the hash algorithm. */
  hashAlgorithm: string;
  /** The AlgorithmIdentifier parameters TLV when present (NULL, or something a TSA must refuse). */
  hashParameters?: Buffer;
  hashedMessage: Buffer;
}

/** One extension of a request or TSTInfo: OID, criticality and the extnValue contents. */
export interface TspExtension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** The hash algorithms a time-stamp imprint may name, by OID, with their digest lengths. */
const IMPRINT_HASHES: Record<string, { name: HashName; length: number }> = {
  [OID.sha1]: { name: 'sha1', length: 20 },
  [OID.sha224]: { name: 'sha224', length: 28 },
  [OID.sha256]: { name: 'sha256', length: 32 },
  [OID.sha384]: { name: 'sha384', length: 48 },
  [OID.sha512]: { name: 'sha512', length: 64 },
  [OID.sm3]: { name: 'sm3', length: 32 },
};

/** The hash an imprint algorithm OID names, with its digest length, or undefined when unknown. */
export function imprintHash(oid: string): { name: HashName; length: number } | undefined {
  return IMPRINT_HASHES[oid];
}

/** The imprint of `data` under `hash` (AlgorithmIdentifier without parameters, RFC 5754). */
export function messageImprintOf(data: Uint8Array, hash: HashName): MessageImprint {
  return { hashAlgorithm: hashOid(hash), hashedMessage: digest(hash, data) };
}

/** DER of a MessageImprint. */
export function encodeMessageImprint(mi: MessageImprint): Buffer {
  const alg = derTlv(0x30, mi.hashParameters ? [derOid(mi.hashAlgorithm), mi.hashParameters] : [derOid(mi.hashAlgorithm)]);
  return derTlv(0x30, [alg, derOctetString(mi.hashedMessage)]);
}

/** Reads the MessageImprint SEQUENCE `t`. */
export function readMessageImprint(buf: Buffer, t: Tlv, what: string): MessageImprint {
  if (t.tag !== 0x30) throw new ParseError(what, 'messageImprint must be a SEQUENCE');
  const [algT, hashT, extra] = childTlvs(buf, t, what);
  if (!algT || algT.tag !== 0x30 || !hashT || hashT.tag !== 0x04 || extra) throw new ParseError(what, 'messageImprint must be { AlgorithmIdentifier, OCTET STRING }');
  const [oidT, paramsT, more] = childTlvs(buf, algT, what);
  if (!oidT || more) throw new ParseError(what, 'malformed hash AlgorithmIdentifier');
  const mi: MessageImprint = { hashAlgorithm: readOid(buf, oidT, what), hashedMessage: Buffer.from(buf.subarray(hashT.valueStart, hashT.end)) };
  if (paramsT) mi.hashParameters = Buffer.from(buf.subarray(paramsT.start, paramsT.end));
  return mi;
}

/** True when two imprints name the same algorithm (parameters absent and NULL are the same) and hash. */
export function sameImprint(a: MessageImprint, b: MessageImprint): boolean {
  const nullish = (p?: Buffer) => !p || (p.length === 2 && p[0] === 0x05 && p[1] === 0x00);
  const sameParams = nullish(a.hashParameters) && nullish(b.hashParameters) ? true : !!a.hashParameters && !!b.hashParameters && a.hashParameters.equals(b.hashParameters);
  return a.hashAlgorithm === b.hashAlgorithm && sameParams && a.hashedMessage.equals(b.hashedMessage);
}

/** A signed INTEGER (two's complement, minimal) as bigint; DER's minimal encoding is required. */
export function readBigInt(buf: Uint8Array, t: Tlv, what: string): bigint {
  const len = t.end - t.valueStart;
  if (t.tag !== 0x02 || len === 0) throw new ParseError(what, 'expected a non-empty INTEGER');
  if (len > 1) {
    const b0 = buf[t.valueStart]!;
    const b1 = buf[t.valueStart + 1]!;
    if ((b0 === 0x00 && !(b1 & 0x80)) || (b0 === 0xff && b1 & 0x80)) throw new ParseError(what, 'INTEGER is not minimally encoded');
  }
  // Nonces and serials are at most a few dozen bytes; anything longer is not one of ours to read.
  if (len > 64) throw new ParseError(what, 'INTEGER longer than 64 bytes');
  let v = BigInt('0x' + Buffer.from(buf.subarray(t.valueStart, t.end)).toString('hex'));
  if (buf[t.valueStart]! & 0x80) v -= 1n << BigInt(len * 8);
  return v;
}

/** The minimal two's-complement INTEGER TLV of a bigint (negative values allowed). */
export function derBigInt(n: bigint): Buffer {
  let len = 1;
  while (n >= 1n << BigInt(len * 8 - 1) || n < -(1n << BigInt(len * 8 - 1))) len++;
  const v = n < 0n ? (1n << BigInt(len * 8)) + n : n;
  return derTlv(0x02, [Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex')]);
}

/** Reads Extensions (SEQUENCE OF Extension) held in the constructed TLV `t` (any tag). */
export function readExtensions(buf: Buffer, t: Tlv, what: string): TspExtension[] {
  const out: TspExtension[] = [];
  for (const e of childTlvs(buf, t, what)) {
    if (e.tag !== 0x30) throw new ParseError(what, 'Extension must be a SEQUENCE');
    const f = childTlvs(buf, e, what);
    if (!f[0]) throw new ParseError(what, 'Extension without extnID');
    const oid = readOid(buf, f[0], what);
    let i = 1;
    let critical = false;
    if (f[i]?.tag === 0x01) critical = readBoolean(buf, f[i++]!, what);
    const valueT = f[i++];
    if (!valueT || valueT.tag !== 0x04 || i !== f.length) throw new ParseError(what, 'Extension must be { extnID, critical, extnValue OCTET STRING }');
    out.push({ oid, critical, value: Buffer.from(buf.subarray(valueT.valueStart, valueT.end)) });
  }
  if (out.length === 0) throw new ParseError(what, 'Extensions must not be empty');
  return out;
}

/** The Extensions content (the Extension SEQUENCEs), to be wrapped in the caller's tag. */
export function encodeExtensionList(exts: TspExtension[]): Buffer[] {
  return exts.map((e) => derTlv(0x30, [derOid(e.oid), ...(e.critical ? [DER_TRUE] : []), derOctetString(e.value)]));
}

/** Hex of a bigint's magnitude, even length, with a "-" for negative values (for display). */
export function bigIntHex(n: bigint): string {
  const mag = (n < 0n ? -n : n).toString(16);
  return (n < 0n ? '-' : '') + (mag.length % 2 ? '0' + mag : mag);
}

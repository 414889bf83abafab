/**
 * TimeStampReq (RFC 3161 §2.4.1; GM/T 0033 §7.1 uses the same structure):
 *
 *   TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *     reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *     extensions [0] IMPLICIT Extensions OPTIONAL }
 *
 * The parser checks structure only; whether the TSA accepts the version, hash, policy and
 * extensions is issueTimeStamp's decision, answered with a PKIFailureInfo rather than an error.
 */
import { randomBytes } from 'node:crypto';
import { PkiError, ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { readBoolean, readOid, readSmallInteger, sequenceChildren, tlvBytes } from '../encoding/der.js';
import { DER_TRUE, derOid, derTlv } from '../encoding/der-writer.js';
import type { HashName } from '../crypto/hash.js';
import { derBigInt, encodeExtensionList, encodeMessageImprint, messageImprintOf, readBigInt, readExtensions, readMessageImprint, type MessageImprint, type TspExtension } from './fields.js';

const WHAT = 'TimeStampReq';

/** A parsed TimeStampReq that keeps its bytes. */
export class TimeStampRequest {
  readonly der: Buffer;
  readonly version: number;
  readonly messageImprint: MessageImprint;
  /** The messageImprint exactly as encoded: a TSTInfo echoes these bytes. */
  readonly messageImprintDer: Buffer;
  readonly reqPolicy?: string;
  readonly nonce?: bigint;
  readonly certReq: boolean;
  readonly extensions: TspExtension[];

  private constructor(der: Buffer) {
    this.der = der;
    const f = sequenceChildren(der, WHAT);
    let i = 0;
    if (f[i]?.tag !== 0x02) throw new ParseError(WHAT, 'version missing');
    this.version = readSmallInteger(der, f[i++]!, WHAT);
    if (!f[i]) throw new ParseError(WHAT, 'messageImprint missing');
    this.messageImprint = readMessageImprint(der, f[i]!, WHAT);
    this.messageImprintDer = tlvBytes(der, f[i++]!);
    if (f[i]?.tag === 0x06) this.reqPolicy = readOid(der, f[i++]!, WHAT);
    if (f[i]?.tag === 0x02) this.nonce = readBigInt(der, f[i++]!, WHAT);
    // An explicit FALSE is not DER, but it means the default; requests are read leniently here.
    this.certReq = f[i]?.tag === 0x01 ? readBoolean(der, f[i++]!, WHAT) : false;
    this.extensions = f[i]?.tag === 0xa0 ? readExtensions(der, f[i++]!, WHAT) : [];
    if (i !== f.length) throw new ParseError(WHAT, 'unexpected or out-of-order fields');
  }

  /** Parses DER (or PEM labelled "TIMESTAMP REQUEST"); bad input is a ParseError. */
  static parse(input: Uint8Array | string): TimeStampRequest {
    const der = toDer(input, ['TIMESTAMP REQUEST'], WHAT);
    return parsing(WHAT, () => new TimeStampRequest(der));
  }

  toPem(): string {
    return toPem('TIMESTAMP REQUEST', this.der);
  }
}

/** What a time-stamp request asks for. */
export interface TimeStampRequestOptions {
  /** The data to time-stamp (hashed here with `hash`), or give `messageImprint`. */
  data?: Uint8Array;
  /** Hash for `data` (default SHA-256; SM3 for the GM/T 0033 profile). */
  hash?: HashName;
  /** A precomputed imprint instead of `data`. */
  messageImprint?: MessageImprint;
  reqPolicy?: string;
  /** A nonce, or `true` for a random 64-bit one (as `openssl ts -query` makes). */
  nonce?: bigint | boolean;
  /** Ask the TSA to include its certificate in the token. */
  certReq?: boolean;
  extensions?: TspExtension[];
}

/** Builds a TimeStampReq (version 1) and returns it parsed. */
export function buildTimeStampRequest(opts: TimeStampRequestOptions): TimeStampRequest {
  const mi = opts.messageImprint ?? (opts.data ? messageImprintOf(opts.data, opts.hash ?? 'sha256') : undefined);
  if (!mi) throw new PkiError('options.tsp', 'a time-stamp request needs data or a messageImprint');
  const nonce = opts.nonce === true ? BigInt('0x' + randomBytes(8).toString('hex')) : opts.nonce === false ? undefined : opts.nonce;
  const parts: Buffer[] = [derTlv(0x02, [Buffer.from([1])]), encodeMessageImprint(mi)];
  if (opts.reqPolicy) parts.push(derOid(opts.reqPolicy));
  if (nonce !== undefined) parts.push(derBigInt(nonce));
  if (opts.certReq) parts.push(DER_TRUE);
  if (opts.extensions?.length) parts.push(derTlv(0xa0, encodeExtensionList(opts.extensions)));
  return TimeStampRequest.parse(derTlv(0x30, parts));
}

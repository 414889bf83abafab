/**
 * TimeStampResp (RFC 3161 §2.4.2) and the PKIStatusInfo it shares with CMP (RFC 4210):
 *
 *   TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
 *   PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
 *                                failInfo PKIFailureInfo OPTIONAL }
 *   PKIFreeText   ::= SEQUENCE SIZE (1..MAX) OF UTF8String
 *
 * A token is present exactly when the status is granted or grantedWithMods.
 */
import { PkiError, ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { childTlvs, readBitString, readSmallInteger, sequenceChildren, tlvBytes } from '../encoding/der.js';
import { derNamedBits, derTlv, derUtf8 } from '../encoding/der-writer.js';
import { TimeStampToken } from './token.js';

const WHAT = 'TimeStampResp';

/** PKIStatus values in order (0 granted … 5 revocationNotification). */
export const PKI_STATUSES = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'] as const;
export type PkiStatus = (typeof PKI_STATUSES)[number];

/** The PKIFailureInfo bits a TSA uses (RFC 3161 §2.4.2), by bit number. */
export const PKI_FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PkiFailureInfo = keyof typeof PKI_FAILURE_BITS;

/** What a TimeStampResp says. */
export interface TimeStampRespFields {
  status: PkiStatus;
  /** statusString: free text for people (UTF-8). */
  statusText?: string[];
  failInfo?: PkiFailureInfo[];
  /** The TimeStampToken (ContentInfo DER); required for granted statuses, forbidden otherwise. */
  token?: Uint8Array;
}

/** DER of a TimeStampResp. */
export function encodeTimeStampResp(f: TimeStampRespFields): Buffer {
  const granted = f.status === 'granted' || f.status === 'grantedWithMods';
  if (granted !== !!f.token) throw new PkiError('options.tsp', granted ? 'a granted response needs a token' : 'only a granted response carries a token');
  const info: Buffer[] = [derTlv(0x02, [Buffer.from([PKI_STATUSES.indexOf(f.status)])])];
  if (f.statusText?.length) info.push(derTlv(0x30, f.statusText.map((s) => derUtf8(0x0c, s))));
  if (f.failInfo?.length) info.push(derNamedBits(f.failInfo.reduce((bits, name) => bits | (1 << PKI_FAILURE_BITS[name]), 0)));
  return derTlv(0x30, [derTlv(0x30, info), ...(f.token ? [Buffer.from(f.token)] : [])]);
}

/** A rejection response (status rejection) with one failure reason and a sentence saying why. */
export function timeStampRejection(failInfo: PkiFailureInfo, text: string): Buffer {
  return encodeTimeStampResp({ status: 'rejection', statusText: [text], failInfo: [failInfo] });
}

/** A parsed TimeStampResp that keeps its bytes. */
export class TimeStampResponse {
  readonly der: Buffer;
  /** The status name; numbers beyond the known ones are a ParseError. */
  readonly status: PkiStatus;
  readonly statusText: string[];
  /** The failure reasons named by known bits. */
  readonly failInfo: PkiFailureInfo[];
  /** Every set bit of failInfo, known or not. */
  readonly failInfoBits: number[];
  /** The TimeStampToken (SignedData and its TSTInfo), when granted. */
  readonly token?: TimeStampToken;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, WHAT);
    const [infoT, tokenT, extra] = top;
    if (!infoT || infoT.tag !== 0x30 || (tokenT && tokenT.tag !== 0x30) || extra) throw new ParseError(WHAT, 'expected { PKIStatusInfo, TimeStampToken OPTIONAL }');
    const f = childTlvs(der, infoT, WHAT);
    let i = 0;
    if (f[i]?.tag !== 0x02) throw new ParseError(WHAT, 'status missing');
    const code = readSmallInteger(der, f[i++]!, WHAT);
    const status = PKI_STATUSES[code];
    if (!status) throw new ParseError(WHAT, `unknown PKIStatus ${code}`);
    this.status = status;
    this.statusText = [];
    if (f[i]?.tag === 0x30) {
      for (const s of childTlvs(der, f[i++]!, WHAT)) {
        if (s.tag !== 0x0c) throw new ParseError(WHAT, 'statusString must hold UTF8Strings');
        const text = der.subarray(s.valueStart, s.end);
        // fatal: invalid UTF-8 is bad input, not text to show with replacement characters.
        this.statusText.push(parsing(WHAT, () => new TextDecoder('utf-8', { fatal: true }).decode(text)));
      }
      if (this.statusText.length === 0) throw new ParseError(WHAT, 'statusString must not be empty');
    }
    this.failInfoBits = [];
    if (f[i]?.tag === 0x03) {
      const { unusedBits, bytes } = readBitString(der, f[i++]!, WHAT);
      for (let bit = 0; bit < bytes.length * 8 - unusedBits; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) this.failInfoBits.push(bit);
    }
    if (i !== f.length) throw new ParseError(WHAT, 'unexpected fields in PKIStatusInfo');
    this.failInfo = (Object.keys(PKI_FAILURE_BITS) as PkiFailureInfo[]).filter((k) => this.failInfoBits.includes(PKI_FAILURE_BITS[k]));
    if (this.granted !== !!tokenT) throw new ParseError(WHAT, this.granted ? 'granted status without a timeStampToken' : `status ${status} with a timeStampToken`);
    // Parsed now, so that a damaged token makes the whole response a ParseError.
    if (tokenT) this.token = TimeStampToken.parse(tlvBytes(der, tokenT));
  }

  /** Parses DER (or PEM labelled "TIMESTAMP RESPONSE"); bad input is a ParseError. */
  static parse(input: Uint8Array | string): TimeStampResponse {
    const der = toDer(input, ['TIMESTAMP RESPONSE'], WHAT);
    return parsing(WHAT, () => new TimeStampResponse(der));
  }

  /** True for granted and grantedWithMods. */
  get granted(): boolean {
    return this.status === 'granted' || this.status === 'grantedWithMods';
  }
  toPem(): string {
    return toPem('TIMESTAMP RESPONSE', this.der);
  }
}

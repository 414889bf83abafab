/**
 * TimeStampToken (RFC 3161 §2.4.2): a ContentInfo holding SignedData whose encapsulated content
 * is a DER TSTInfo of type id-ct-TSTInfo. The outer type may be id-signedData or GM/T 0010's
 * signedData (1.2.156.10197.6.1.4.2.2); SignedDataDoc reads both.
 */
import { ParseError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { SignedDataDoc } from '../cms/signed-data.js';
import { OID } from '../oids.js';
import { TstInfo } from './tst-info.js';

/** A parsed time-stamp token: its SignedData and the TSTInfo it signs. */
export class TimeStampToken {
  readonly der: Buffer;
  readonly signedData: SignedDataDoc;
  readonly tstInfo: TstInfo;

  private constructor(signedData: SignedDataDoc) {
    this.der = signedData.der;
    this.signedData = signedData;
    if (signedData.eContentType !== OID.ctTstInfo) throw new ParseError('TimeStampToken', `eContentType ${signedData.eContentType} is not id-ct-TSTInfo`);
    if (!signedData.content) throw new ParseError('TimeStampToken', 'the TSTInfo is missing (detached content)');
    this.tstInfo = TstInfo.parse(signedData.content);
  }

  /** Parses a token (ContentInfo DER, or PEM labelled "CMS" / "PKCS7"); bad input is a ParseError. */
  static parse(input: Uint8Array | string): TimeStampToken {
    const doc = SignedDataDoc.parse(toDer(input, ['CMS', 'PKCS7'], 'TimeStampToken'));
    return parsing('TimeStampToken', () => new TimeStampToken(doc));
  }

  toPem(): string {
    return toPem('PKCS7', this.der);
  }
}

/**
 * The archived validation data of a signed record, in the places CAdES puts them (RFC 5126 §6.3.3,
 * §6.3.4; ETSI EN 319 122-1 "X-Long"): unsigned attributes of the SignerInfo
 *
 *   id-aa-ets-certValues       CertificateValues ::= SEQUENCE OF Certificate
 *   id-aa-ets-revocationValues RevocationValues ::= SEQUENCE {
 *       crlVals [0] SEQUENCE OF CertificateList OPTIONAL, ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL, … }
 *
 * OCSP responses are kept as the standard says, as BasicOCSPResponse; reading wraps each back into
 * an OCSPResponse so that pki's parser and verifier take it.
 */
import { Certificate, Crl, OcspResponse, ParseError, childTlvs, readTlv, tlvBytes } from '@health-pki/pki';
import { oid, tlv } from '../signing/der.js';

/** RFC 5126 / RFC 3161 attribute types used by signed records. */
export const ATTR = {
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  certValues: '1.2.840.113549.1.9.16.2.23',
  revocationValues: '1.2.840.113549.1.9.16.2.24',
} as const;

const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** Validation data: certificates, CRLs and OCSP responses. */
export interface ValidationData {
  certificates: Certificate[];
  crls: Crl[];
  ocsp: OcspResponse[];
}

/** The CertificateValues attribute value. */
export function encodeCertValues(certs: Certificate[]): Buffer {
  return tlv(0x30, certs.map((c) => c.der));
}

/** The RevocationValues attribute value. */
export function encodeRevocationValues(crls: Crl[], ocsp: OcspResponse[]): Buffer {
  const parts: Buffer[] = [];
  if (crls.length) parts.push(tlv(0xa0, [tlv(0x30, crls.map((c) => c.der))]));
  const basics = ocsp.filter((r) => r.isSuccessful).map((r) => r.basicDer);
  if (basics.length) parts.push(tlv(0xa1, [tlv(0x30, basics)]));
  return tlv(0x30, parts);
}

/** Reads a CertificateValues value; bad input is a ParseError. */
export function decodeCertValues(value: Buffer): Certificate[] {
  const seq = readTlv(value, 0, 'certValues');
  if (seq.tag !== 0x30 || seq.end !== value.length) throw new ParseError('certValues', 'expected SEQUENCE OF Certificate');
  return childTlvs(value, seq, 'certValues').map((t) => Certificate.parse(tlvBytes(value, t)));
}

/** Reads a RevocationValues value; bad input is a ParseError. */
export function decodeRevocationValues(value: Buffer): { crls: Crl[]; ocsp: OcspResponse[] } {
  const seq = readTlv(value, 0, 'revocationValues');
  if (seq.tag !== 0x30 || seq.end !== value.length) throw new ParseError('revocationValues', 'expected a SEQUENCE');
  const out = { crls: [] as Crl[], ocsp: [] as OcspResponse[] };
  for (const field of childTlvs(value, seq, 'revocationValues')) {
    if (field.tag !== 0xa0 && field.tag !== 0xa1) continue; // otherRevVals: not ours to read
    const inner = readTlv(value, field.valueStart, 'revocationValues');
    if (inner.tag !== 0x30 || inner.end !== field.end) throw new ParseError('revocationValues', 'expected [n] SEQUENCE OF');
    for (const item of childTlvs(value, inner, 'revocationValues')) {
      const der = tlvBytes(value, item);
      if (field.tag === 0xa0) out.crls.push(Crl.parse(der));
      else out.ocsp.push(OcspResponse.parse(wrapBasic(der)));
    }
  }
  return out;
}

/** OCSPResponse { successful, responseBytes { id-pkix-ocsp-basic, OCTET STRING basic } }. */
function wrapBasic(basic: Buffer): Buffer {
  return tlv(0x30, [Buffer.from([0x0a, 0x01, 0x00]), tlv(0xa0, [tlv(0x30, [oid(OCSP_BASIC), tlv(0x04, [basic])])])]);
}

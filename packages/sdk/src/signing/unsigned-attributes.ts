/**
 * Unsigned attributes of a SignedData's (single) SignerInfo (RFC 5652 §5.3, `[1] IMPLICIT SET OF
 * Attribute`): where a signature's time-stamp token (RFC 3161 appendix A) and its archived
 * validation data (RFC 5126 certValues / revocationValues) go. pki's CMS writer signs but does not
 * add unsigned attributes and its reader skips them, so this module reads and rewrites them by
 * walking the DER: every other byte of the SignedData is kept exactly as signed.
 */
import { ParseError, SignedDataDoc, childTlvs, readOid, readTlv, sequenceChildren, tlvBytes, type CmsAttribute, type Tlv } from '@health-pki/pki';
import { oid, setOf, tlv } from './der.js';

interface Located {
  der: Buffer;
  /** The SignedData SEQUENCE and its fields. */
  signedData: Tlv;
  fields: Tlv[];
  /** The signerInfos SET and the one SignerInfo in it. */
  signerInfos: Tlv;
  signerInfo: Tlv;
  signerFields: Tlv[];
}

function locate(input: Uint8Array): Located {
  const der = Buffer.from(input);
  // SignedDataDoc.parse checks the structure (and that it is SignedData) before we walk it.
  const doc = SignedDataDoc.parse(der);
  if (doc.signerInfos.length !== 1) throw new ParseError('CMS', `a signed record has exactly one SignerInfo, this one ${doc.signerInfos.length}`);
  const top = sequenceChildren(der, 'CMS');
  const signedData = readTlv(der, top[1]!.valueStart, 'CMS');
  const fields = childTlvs(der, signedData, 'CMS');
  const signerInfos = fields[fields.length - 1]!;
  const signerInfo = childTlvs(der, signerInfos, 'CMS')[0]!;
  return { der, signedData, fields, signerInfos, signerInfo, signerFields: childTlvs(der, signerInfo, 'CMS') };
}

/** The unsigned attributes of the SignedData's one SignerInfo (empty when it has none). */
export function readUnsignedAttributes(signed: Uint8Array): CmsAttribute[] {
  const l = locate(signed);
  const last = l.signerFields[l.signerFields.length - 1]!;
  if (last.tag !== 0xa1) return [];
  return childTlvs(l.der, last, 'CMS').map((a) => {
    if (a.tag !== 0x30) throw new ParseError('CMS', 'an unsigned attribute must be a SEQUENCE');
    const [typeT, valuesT, extra] = childTlvs(l.der, a, 'CMS');
    if (!typeT || typeT.tag !== 0x06 || !valuesT || valuesT.tag !== 0x31 || extra) throw new ParseError('CMS', 'an unsigned attribute must be { type, SET OF values }');
    return { type: readOid(l.der, typeT), values: childTlvs(l.der, valuesT, 'CMS').map((v) => tlvBytes(l.der, v)) };
  });
}

/**
 * Returns the SignedData with its SignerInfo's unsigned attributes replaced by `attributes`
 * (none: the field is removed). The signed part is untouched, so the signature stays valid.
 */
export function withUnsignedAttributes(signed: Uint8Array, attributes: CmsAttribute[]): Buffer {
  const l = locate(signed);
  const kept = l.signerFields.filter((f) => f.tag !== 0xa1).map((f) => tlvBytes(l.der, f));
  const unsigned = attributes.length ? [setOf(attributes.map((a) => tlv(0x30, [oid(a.type), setOf(a.values)])), 0xa1)] : [];
  const signerInfo = tlv(0x30, [...kept, ...unsigned]);
  const signerInfos = tlv(0x31, [signerInfo]);
  const signedData = tlv(0x30, [...l.fields.slice(0, -1).map((f) => tlvBytes(l.der, f)), signerInfos]);
  const top = sequenceChildren(l.der, 'CMS');
  return tlv(0x30, [tlvBytes(l.der, top[0]!), tlv(0xa0, [signedData])]);
}

/** The signature value (the SignerInfo's `signature` OCTET STRING contents): what a signature time-stamp stamps. */
export function signatureValue(signed: Uint8Array | SignedDataDoc): Buffer {
  const doc = signed instanceof SignedDataDoc ? signed : SignedDataDoc.parse(signed);
  if (doc.signerInfos.length !== 1) throw new ParseError('CMS', `a signed record has exactly one SignerInfo, this one ${doc.signerInfos.length}`);
  return doc.signerInfos[0]!.signature;
}

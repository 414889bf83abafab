/**
 * The "certs-only" CMS message (RFC 8551 §3.2.2, RFC 5652 §5.2): a degenerate SignedData with no
 * content and no signers that only carries certificates (and optionally CRLs). It is what a
 * ".p7b"/".p7c" chain download is, and what `openssl pkcs7 -print_certs` and Windows read.
 */
import { derOid, derSetOf, derTlv } from '../encoding/der-writer.js';
import { OID } from '../oids.js';
import { implicitSet } from './sign.js';

/**
 * A certs-only SignedData ContentInfo, DER. The certificates (and CRLs) are DER each and are
 * written as DER SET OFs, so in byte order, not in the order given (RFC 5652 gives no order).
 */
export function buildCertsOnly(certificates: readonly Uint8Array[], crls: readonly Uint8Array[] = []): Buffer {
  const signedData = derTlv(0x30, [
    // Version 1: id-data content type, only X.509 certificates, no signers (RFC 5652 §5.1).
    derTlv(0x02, [Buffer.from([1])]),
    derSetOf([]),
    derTlv(0x30, [derOid(OID.cmsData)]),
    ...(certificates.length ? [implicitSet(0xa0, certificates.map((c) => Buffer.from(c)))] : []),
    ...(crls.length ? [implicitSet(0xa1, crls.map((c) => Buffer.from(c)))] : []),
    derSetOf([]),
  ]);
  return derTlv(0x30, [derOid(OID.cmsSignedData), derTlv(0xa0, [signedData])]);
}

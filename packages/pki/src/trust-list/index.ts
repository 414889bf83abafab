/** The platform's signed trust list: its JSON document and the relying party's check. */
export { verifyTrustList, type TrustListVerdict, type TrustListVerifyOptions } from './verify.js';
export { decodeTrustList, encodeTrustList, trustListCertificates, TRUST_LIST_PLATFORM, type TrustListDocument, type TrustListEntry } from './document.js';

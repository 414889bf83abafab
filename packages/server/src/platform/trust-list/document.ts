/** The trust list document; it lives in the pure library (@health-pki/pki trust-list/) so the SDK shares it. */
export { decodeTrustList, encodeTrustList, trustListCertificates, TRUST_LIST_PLATFORM, type TrustListDocument, type TrustListEntry } from '@health-pki/pki';

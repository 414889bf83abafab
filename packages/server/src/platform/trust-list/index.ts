/** The platform's trust list: publication, history, routes, and the relying party's check. */
export { TrustListPublisher, type PublishedTrustList, type TrustListHistoryEntry, type TrustListPublisherOptions } from './publisher.js';
export { trustListMigrations, type TrustListTables } from './tables.js';
export { registerTrustListRoutes, TRUST_LIST_TYPE, type TrustListRouteDeps } from './routes.js';
export { verifyTrustList, type TrustListVerdict, type TrustListVerifyOptions } from './verify.js';
export { decodeTrustList, encodeTrustList, trustListCertificates, TRUST_LIST_PLATFORM, type TrustListDocument, type TrustListEntry } from './document.js';

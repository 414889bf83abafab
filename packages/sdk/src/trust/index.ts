/** The platform's trust list as a relying party keeps it. */
export { TrustStore, TrustListUnavailable, type TrustStoreOptions, type TrustListUpdate, type TrustedCaCertificate } from './trust-store.js';

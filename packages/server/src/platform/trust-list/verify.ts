/** The relying party's check of a trust list; it lives in the pure library (@health-pki/pki trust-list/) so the SDK shares it. */
export { verifyTrustList, type TrustListVerdict, type TrustListVerifyOptions } from '@health-pki/pki';

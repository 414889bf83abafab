/** Validation data for long-term verification: archiving (CAdES places), fetching, and revocation at a time. */
export { ATTR, encodeCertValues, encodeRevocationValues, decodeCertValues, decodeRevocationValues, type ValidationData } from './archive.js';
export { fetchOcsp, fetchCrls, type FetchOptions } from './fetch.js';
export { collectRevocationData, type Collected } from './collect.js';
export { revocationStatusAt, type RevocationAt } from './status.js';

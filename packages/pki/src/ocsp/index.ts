/** OCSP (RFC 6960): CertIDs, requests, responses. */
export * from './cert-id.js';
export * from './request.js';
export * from './response.js';

/** @health-pki/pki: the pure PKI library. No I/O, no database, no HTTP. */
export * from './errors.js';
export * from './oids.js';
export * from './encoding/pem.js';
export * from './crypto/hash.js';
export * from './crypto/keys.js';
export * from './crypto/signature.js';
export * from './crypto/sm2.js';
export * from './encoding/der.js';
export * from './x509/time.js';
export * from './x509/name.js';
export * from './x509/extensions.js';
export * from './x509/identity.js';
export * from './x509/certificate.js';
export * from './x509/csr.js';

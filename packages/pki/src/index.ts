/** @health-pki/pki: the pure PKI library. No I/O, no database, no HTTP. */
export * from './errors.js';
export * from './oids.js';
export * from './encoding/pem.js';
export * from './crypto/hash.js';
export * from './crypto/keys.js';
export * from './crypto/signature.js';
export * from './crypto/sm2.js';

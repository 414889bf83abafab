/** @health-pki/server: the certification service (RA, CA) with SQLite and PostgreSQL storage, and its HTTP API. */
export * from './errors.js';
export * from './store/database.js';
export * from './store/migrate.js';
export { isUniqueViolation } from './store/errors.js';
export * from './auth/principal.js';
export { ADMIN_TOKEN_FILE, BOOTSTRAP_ADMIN_ID, TokenRegistry } from './auth/tokens.js';
export * from './ca/authority.js';
export * from './ca/urls.js';
export type { KeyCustody } from './ca/key-custody.js';
export * from './ra/registration.js';
export type { ApplicationKind, ApplicationState } from './ra/tables.js';
export * from './services.js';
export { KeyManagementCentre, type KmcOptions, type KmcClientView, type EscrowView } from './kmc/centre.js';
export { openKmcServices, buildKmcApp, startKmcServer, KMC_REQUEST_TYPE, KMC_RESPONSE_TYPE, type KmcServices, type KmcServiceOptions, type RunningKmc } from './kmc/server.js';
export { buildHttpApp, type HttpOptions } from './http/app.js';
export * from './server.js';

/** The CA side of the platform link (docs/platform.md "CA side"). */
export { PlatformLink, type PlatformEndpoint, type LinkOptions } from './link.js';
export { AccessIdentities, ACCESS_PROFILE, type AccessIdentity } from './identity.js';
export { OutboxEvents, DEFAULT_PROVINCE, statsClass } from './events.js';
export { CertificateQuery, registerQueryRoute, QUERY_LIMIT, REPLAY_WINDOW_MS, type QueriedCertificate } from './query.js';
export { registerPlatformLinkRoutes } from './routes.js';
export { outboxState } from './outbox-state.js';
export { registerPlatformProxy, PROXY_BODY_LIMIT } from './proxy.js';
export { platformLinkMigrations } from './tables.js';
export { admitCa, AdmissionError, type AdmissionParams, type AdmissionResult } from './admission.js';

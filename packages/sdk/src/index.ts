/** @health-pki/sdk: what a health information system embeds to rely on any admitted CA's certificates. */
export * from './trust/index.js';
export * from './validation/index.js';
export * from './identity/index.js';
export * from './auth/index.js';
export * from './authorization/index.js';
export * from './signing/index.js';
export * from './timestamp/index.js';
export * from './evidence/index.js';
export * from './sof/index.js';

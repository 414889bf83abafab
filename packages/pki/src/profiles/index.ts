/** Health certificate profiles: data, request checks, extensions, certificate lint, issuance. */
export * from './types.js';
export * from './labels.js';
export * from './violation.js';
export { listProfiles, getProfile, policyOidsFor, validateProfileData, POLICY_OIDS } from './registry.js';
export { KEY_ALGORITHM_LABELS, describeKey, keyFamilyOf, subjectViolations, keyViolations, identityViolations, altNameViolations, validityViolations } from './rules.js';
export * from './request.js';
export * from './extensions.js';
export * from './lint.js';
export * from './issue.js';

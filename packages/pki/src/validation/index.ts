/** Certification path validation (RFC 5280 §6) and path building. */
export * from './result.js';
export { PathValidator, validateCertificate, type PathValidatorOptions, type ValidateOptions } from './validator.js';
export { prepareString } from './names.js';

/** Certificate validation against the trust list, with OCSP and CRL revocation checking. */
export { CertificateValidator, type CertificateValidatorOptions, type CertificateUsage, type UnreachablePolicy, type ValidateOptions, type ValidationResult } from './validator.js';
export { RevocationChecker, type RevocationAnswer, type RevocationOutcome, type RevocationCheckerOptions } from './revocation.js';

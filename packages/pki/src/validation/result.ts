/**
 * What path validation answers: a valid path with its policy outcome, or a typed reason saying
 * which certificate failed which rule, in words a person can act on.
 */
import type { Certificate } from '../x509/certificate.js';

/** Every reason a certificate path can be rejected. */
export type ValidationCode =
  /** A signature does not verify with its issuer's key (or the key cannot be used). */
  | 'badSignature'
  /** The validation time is after notAfter. */
  | 'expired'
  /** The validation time is before notBefore. */
  | 'notYetValid'
  /** A CRL lists the certificate. */
  | 'revoked'
  /** No usable CRL covers the certificate (missing, stale, wrong scope, bad signature, untrusted signer). */
  | 'revocationUnknown'
  /** An issuer in the path is not a CA (basicConstraints), or a v1/v2 certificate is used as a CA. */
  | 'notCa'
  /** A pathLenConstraint is exceeded. */
  | 'pathLength'
  /** An issuer's keyUsage forbids signing certificates. */
  | 'keyUsage'
  /** A name is outside a permitted subtree or inside an excluded one. */
  | 'nameConstraints'
  /** No acceptable certificate policy (explicit policy required, or nothing in the user's policy set). */
  | 'policy'
  /** A policy mapping maps to or from anyPolicy. */
  | 'policyMapping'
  /** A critical extension that this validator does not process. */
  | 'unknownCriticalExtension'
  /** The issuer name does not match the issuing certificate's subject (given paths only). */
  | 'nameChaining'
  /** An extension or key cannot be decoded. */
  | 'malformedCertificate'
  /** The signature or key algorithm is not supported. */
  | 'unsupportedAlgorithm'
  /** No chain from the certificate to any trust anchor exists among the certificates given. */
  | 'noPath'
  /** Every chain would be longer than the depth limit. */
  | 'depthLimit'
  /** Path building gave up after its work budget (hostile or huge certificate bag). */
  | 'workBudgetExceeded';

/** A rejection: what went wrong, where, and the specifics. */
export interface ValidationFailure {
  code: ValidationCode;
  /** One sentence for a person. */
  message: string;
  /**
   * Which certificate: an index into `path` (0 is the certificate being validated, the last is
   * the trust anchor). Undefined when no single certificate is to blame (e.g. noPath).
   */
  certIndex?: number;
  /** Subject of that certificate, for display. */
  subject?: string;
  /** Code-specific facts: revocation reason and date, the name and the constraint it broke, … */
  details?: Record<string, unknown>;
}

/** The outcome of validating one certificate. */
export type ValidationResult = ValidPath | InvalidPath;

/** A valid certification path. */
export interface ValidPath {
  valid: true;
  /** The certificate, its issuers, and the trust anchor last. */
  path: Certificate[];
  /** The user-constrained-policy-set (RFC 5280 §6.1.5 (g)), in the trust anchor's policy domain. */
  userConstrainedPolicySet: string[];
  /** True when an explicit policy was required by the end of the path (explicit_policy reached 0). */
  explicitPolicy: boolean;
  /** Non-fatal remarks (e.g. revocation not checked). */
  warnings: string[];
}

/** A rejected certificate. */
export interface InvalidPath {
  valid: false;
  reason: ValidationFailure;
  /** The candidate path the reason refers to (certificate first, anchor last), when one was complete. */
  path?: Certificate[];
  /** Other complete candidate paths that also failed, with their reasons (at most a few). */
  otherFailures?: Array<{ reason: ValidationFailure; path: Certificate[] }>;
}

/** The four policy inputs of RFC 5280 §6.1.1 (c), (e), (f), (g). */
export interface PolicyInputs {
  /** user-initial-policy-set; default {anyPolicy}. */
  initialPolicySet?: string[];
  /** initial-explicit-policy. */
  explicitPolicy?: boolean;
  /** initial-policy-mapping-inhibit. */
  inhibitPolicyMapping?: boolean;
  /** initial-any-policy-inhibit. */
  inhibitAnyPolicy?: boolean;
}

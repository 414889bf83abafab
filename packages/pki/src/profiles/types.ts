/**
 * The shape of a health certificate profile. Profiles are data (src/profiles/data/*.json); this
 * module only names their fields so that code reading them is typed.
 */
import type { KeyAlgorithm } from '../crypto/keys.js';
import type { KeyUsageName } from '../x509/extensions.js';
import type { HealthIdentity } from '../x509/identity.js';

/** The sector's certificate classes, plus the CA and service classes. */
export type CertificateClass =
  | 'root-ca'
  | 'sub-ca'
  | 'ocsp-signing'
  | 'time-stamping'
  | 'internal-organization'
  | 'internal-staff'
  | 'internal-device'
  | 'external-organization'
  | 'external-person'
  | 'external-device';

/** Dual certificates: the holder's signing certificate and the KMC-made encryption certificate. */
export type CertificateVariant = 'sign' | 'enc' | 'ca' | 'service';

/** Key families that decide which key usage bits make sense (RFC 5480 forbids encipherment for ECDSA keys). */
export type KeyFamily = 'sm2' | 'ec' | 'rsa';

/** A text in Chinese (first) and English. */
export interface Bilingual {
  'zh-CN': string;
  en: string;
}

/** The rule for one subject attribute. */
export interface AttributeRule {
  required?: boolean;
  /** Maximum length in characters (RFC 5280 upper bounds unless stricter). */
  maxLength: number;
  /** How many times the attribute may appear (default 1). */
  maxCount?: number;
  /** The only values allowed (e.g. C must be "CN"). */
  values?: string[];
  /** A regular expression the value must match (anchored by the author). */
  pattern?: string;
  /** What the pattern means, for messages. */
  patternHint?: string;
}

/** Extended key usage purposes by name. */
export type PurposeName = 'serverAuth' | 'clientAuth' | 'emailProtection' | 'codeSigning' | 'timeStamping' | 'ocspSigning';

/** Subject alternative name types a profile may allow. */
export type AltNameType = 'dns' | 'email' | 'uri' | 'ip';

/** Identity fields of GB/T 20518 a profile may require or allow. */
export type IdentityField = keyof HealthIdentity;

/** A health certificate profile, as loaded from its JSON file. */
export interface Profile {
  name: string;
  class: CertificateClass;
  variant: CertificateVariant;
  displayName: Bilingual;
  description: Bilingual;
  subject: {
    /** Attribute rules by short name (C, ST, L, O, OU, CN, title, serialNumber); others are not allowed. */
    attributes: Record<string, AttributeRule>;
  };
  identity: {
    /** When true, at least one of `oneOf` must be present. */
    required: boolean;
    oneOf: IdentityField[];
    /** Further identity fields that may appear. */
    allowed: IdentityField[];
  };
  /** Allowed subject key algorithms, in order of preference (SM2 first). */
  keyAlgorithms: KeyAlgorithm[];
  /** Key usage bits by key family; the certificate carries exactly these, marked critical. */
  keyUsage: Partial<Record<KeyFamily, KeyUsageName[]>>;
  /** Extended key usages, or null when the certificate carries none. */
  extKeyUsage: { purposes: PurposeName[]; critical: boolean } | null;
  /** basicConstraints for CA profiles (always critical); null for end entities, which carry none. */
  basicConstraints: { ca: true; pathLen?: number } | null;
  subjectAltName: { allowed: AltNameType[]; required?: boolean };
  validity: { defaultDays: number; maxDays: number };
  /** Keys into policy-oids.json, or "anyPolicy". */
  policies: string[];
  /** Whether CRL distribution points and AIA (OCSP, CA issuers) are added when URLs are given. */
  revocationInfo: boolean;
  /** Whether the certificate carries id-pkix-ocsp-nocheck (OCSP responder certificates, RFC 6960 §4.2.2.2.1). */
  ocspNoCheck: boolean;
}

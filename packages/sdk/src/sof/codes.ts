/**
 * Error codes and item codes of the GM/T 0020-style facade. The standard's text was not available
 * to us (it is sold); the names below (SOR_*, SGD_CERT_*, the SOF_ValidateCert results, GM/T 0033's
 * STF_* time-stamp items) follow the published vendor documentation of SOF interfaces. Code that
 * migrates should match by name; docs/sdk.md lists every value.
 */

/** Error codes (SOF_GetLastError), in the 0x0B00xxxx range GM/T 0020 reserves for SOR_ errors. */
export const SOR = {
  OK: 0x00000000,
  UNKNOWNERR: 0x0b000001,
  NOTSUPPORTYETERR: 0x0b000002,
  ALGOTYPEERR: 0x0b000007,
  KEYUSAGEERR: 0x0b000009,
  NOTINITIALIZEERR: 0x0b000011,
  TIMEOUTERR: 0x0b000101,
  INDATALENERR: 0x0b000200,
  INDATAERR: 0x0b000201,
  HASHNOTEQUALERR: 0x0b000308,
  KEYNOTFOUNTERR: 0x0b000309,
  CERTNOTFOUNTERR: 0x0b000310,
  CERTREVOKEDERR: 0x0b000316,
  CERTNOTYETVALIDERR: 0x0b000317,
  CERTHASEXPIREDERR: 0x0b000318,
  CERTVERIFYERR: 0x0b000319,
  CERTENCODEERR: 0x0b000320,
  PARAMETERNOTSUPPORTERR: 0x0b000406,
  /** Not logged in to the container (SOF_Login first). */
  NOTLOGINERR: 0x0b000502,
  /** Wrong PIN. */
  PINERR: 0x0b000504,
  /** A signature or signed message does not verify. */
  VERIFYSIGNERR: 0x0b000601,
  /** The time-stamp service failed or its answer was refused. */
  TSAERR: 0x0b000701,
} as const;

/** Certificate items of SOF_GetCertInfo (GM/T 0006 SGD_CERT_* identifiers). */
export const SGD_CERT = {
  VERSION: 0x00000001,
  SERIAL: 0x00000002,
  ISSUER: 0x00000005,
  VALID_TIME: 0x00000006,
  SUBJECT: 0x00000007,
  DER_PUBLIC_KEY: 0x00000008,
  DER_EXTENSIONS: 0x00000009,
  ISSUER_CN: 0x00000021,
  ISSUER_O: 0x00000022,
  ISSUER_OU: 0x00000023,
  SUBJECT_CN: 0x00000031,
  SUBJECT_O: 0x00000032,
  SUBJECT_OU: 0x00000033,
  SUBJECT_EMAIL: 0x00000034,
  NOTBEFORE_TIME: 0x00000035,
  NOTAFTER_TIME: 0x00000036,
} as const;

/** SOF_ValidateCert results: 0 valid, negative the reason. */
export const VALIDATE_CERT = {
  OK: 0,
  UNTRUSTED: -1,
  EXPIRED: -2,
  REVOKED: -3,
  /** On the CRL (blacklist). We report revocation as REVOKED whatever told us; kept for old callers' switch statements. */
  BLACKLISTED: -4,
  NOT_YET_VALID: -5,
  /** Ours: revocation status unknown (no OCSP or CRL reachable). */
  STATUS_UNKNOWN: -6,
  /** Ours: other failures (key usage, malformed certificate, bad signature in the path). */
  OTHER: -7,
} as const;

/** Time-stamp items of SOF_GetTimeStampInfo (GM/T 0033 STF_* identifiers). */
export const STF = {
  TIME_OF_STAMP: 0x00000201,
  CN_OF_TSSIGNER: 0x00000202,
  ORINGINAL_DATA: 0x00000203,
  CERT_OF_TSSERVER: 0x00000204,
  CERTCHAIN_OF_TSSERVER: 0x00000205,
  SOURCE_OF_TIME: 0x00000206,
  TIME_PRECISION: 0x00000207,
  RESPONSE_TYPE: 0x00000208,
} as const;

/** A facade failure: a SOR_ code and a message (also kept for SOF_GetLastError). */
export class SofError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'SofError';
  }
}

/** RFC 3161 time-stamping (and its GM/T 0033 SM2 profile): requests, responses, tokens, issuing and verifying. */
export { type MessageImprint, type TspExtension, messageImprintOf, imprintHash } from './fields.js';
export { TimeStampRequest, buildTimeStampRequest, type TimeStampRequestOptions } from './request.js';
export { TstInfo, encodeTstInfo, genTimeText, type Accuracy, type TstInfoFields } from './tst-info.js';
export { TimeStampToken } from './token.js';
export {
  TimeStampResponse,
  encodeTimeStampResp,
  timeStampRejection,
  PKI_STATUSES,
  PKI_FAILURE_BITS,
  type PkiStatus,
  type PkiFailureInfo,
  type TimeStampRespFields,
} from './response.js';
export { encodeSigningCertificate, parseSigningCertificate, essCertIdMismatch, type EssCertId, type EssVersion } from './ess.js';
export { tsaCertificateProblem } from './tsa-cert.js';
export { issueTimeStamp, DEFAULT_TSA_HASHES, type IssueTimeStampOptions } from './issue.js';
export {
  verifyTimeStampToken,
  type VerifyTimeStampOptions,
  type TimeStampVerification,
  type TimeStampValid,
  type TimeStampInvalid,
  type TimeStampFailureCode,
} from './verify.js';

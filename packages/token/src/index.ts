/** @health-pki/token: a file-backed software certificate token with GM/T 0016 (SKF) semantics, and the CA's side of PIN unblock. */
export { TokenError, PinIncorrectError, PinLockedError, type PinRole } from './errors.js';
export {
  SoftToken,
  DEFAULT_APPLICATION,
  DEFAULT_USER_RETRIES,
  DEFAULT_ADMIN_RETRIES,
  DEFAULT_UNBLOCK_VALIDITY_MS,
  type ApplicationOptions,
  type InitOptions,
} from './token.js';
export { TokenSession, type DecryptOptions, type GenerateOptions, type ImportEnvelopedOptions } from './session.js';
export type { TokenInfo, ApplicationInfo, ContainerInfo, SlotInfo, PinStatus } from './info.js';
export type { SlotName } from './format.js';
export { DEFAULT_KDF, DEFAULT_CIPHER, KDF_LIMITS, PIN_RULES, generateAdminPin, type KdfParams, type CipherName } from './protection.js';
export {
  answerUnblockChallenge,
  parseUnblockRequest,
  parseUnblockResponse,
  UNBLOCK_REQUEST_FORMAT,
  UNBLOCK_RESPONSE_FORMAT,
  type AnswerOptions,
  type UnblockRequest,
  type UnblockResponse,
} from './unblock.js';

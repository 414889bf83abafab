/** CA–KMC protocol messages (modelled on GM/T 0014). */
export {
  encodeKmcRequestBody,
  encodeKmcResponseBody,
  parseKmcRequestBody,
  parseKmcResponseBody,
  KMC_ERRORS,
  KMC_MAX_REQUESTS,
  type KmcKeyType,
  type KmcRequestBody,
  type KmcRequestItem,
  type KmcResponseBody,
  type KmcResponseItem,
  type ApplyKeyRequest,
  type RestoreKeyRequest,
  type RevokeKeyRequest,
  type RetKeyResponse,
  type RevokeKeyResponse,
  type ErrorResponse,
} from './protocol.js';
export { signKmcMessage, parseSignedKmcMessage, kmcSignatureValid, type SignedKmcMessage } from './signed.js';

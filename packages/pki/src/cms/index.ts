/** CMS SignedData (RFC 5652) and its GM/T 0010 SM2 flavour. */
export { SignedDataDoc, type CmsAttribute, type SignerIdentifierInfo, type SignerInfoView } from './signed-data.js';
export { signCms, signCmsDer, type CmsSignOptions, type Sm2CmsSignatureOid } from './sign.js';
export { verifyCms, type CmsSignerResult, type CmsVerifyOptions, type CmsVerifyResult } from './verify.js';
export { buildCertsOnly } from './certs-only.js';

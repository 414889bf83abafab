/** Signed records: CMS detached signatures with a signature time-stamp and archived validation data. */
export { signRecord, type SignRecordOptions, type SignedRecord } from './sign-record.js';
export { verifyRecord, type VerifyRecordOptions, type RecordVerification, type RecordFailureCode, type RecordSignerInfo } from './verify-record.js';
export { SigningError, signRecordCms, type RecordSigner, type KeyRecordSigner, type CallbackRecordSigner } from './signer.js';
export { readUnsignedAttributes, withUnsignedAttributes, signatureValue } from './unsigned-attributes.js';

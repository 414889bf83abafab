/** Key envelopes: the GM/T 0009 SM2EnvelopedKey for SM2 holders and CMS EnvelopedData for RSA/ECDSA holders. */
export { EnvelopeError, type EnvelopeFailure } from './errors.js';
export { sm2PrivateKeyFromScalar, sm2PublicKeyFromPoint } from './sm2-raw-keys.js';
export { buildSm2EnvelopedKey, openSm2EnvelopedKey, parseSm2EnvelopedKey, sm2EnvelopedPublicKey, type Sm2EnvelopedKeyParts } from './sm2-enveloped-key.js';
export {
  buildEnvelopedData,
  envelopePrivateKey,
  openEnvelopedData,
  openEnvelopedPrivateKey,
  parseEnvelopedData,
  type EnvelopeOptions,
  type RsaKeyTransport,
} from './cms-enveloped-data.js';

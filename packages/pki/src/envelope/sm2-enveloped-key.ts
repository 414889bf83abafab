/**
 * The SM2 key-pair protection envelope of GM/T 0009-2012 §7.4 (also GB/T 35276), in which a key
 * management centre returns an escrowed encryption key pair to its holder:
 *
 *   SM2EnvelopedKey ::= SEQUENCE {
 *     symAlgID               AlgorithmIdentifier,  -- SM4-ECB (1.2.156.10197.1.104.1), NULL parameters
 *     symEncryptedKey        SM2Cipher,            -- the 16-byte SM4 key, SM2-encrypted to the holder's signing key (C1, C3, C2)
 *     Sm2PublicKey           SM2PublicKey,         -- BIT STRING 04‖x‖y of the enveloped (encryption) key
 *     Sm2EncryptedPrivateKey BIT STRING }          -- the 32-byte private scalar, SM4-ECB without padding
 *
 * We write exactly that form (the one GmSSL, gmsm and BouncyCastle-based CA kits write). When
 * reading we also accept the variants seen in the field, because the standard does not pin them
 * down: the bare SM4 OID (1.2.156.10197.1.104), absent parameters, a PKCS#7-padded scalar (48
 * bytes) and the 64-byte SKF ECCPRIVATEKEYBLOB layout (32 zero bytes, then the scalar).
 * ECB has no integrity: a changed ciphertext shows up as a scalar that does not match the public
 * key, which is why opening always checks the pair.
 */
import { randomBytes } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ParseError, PkiError, UnsupportedError, parsing } from '../errors.js';
import { OID } from '../oids.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { decodeSm2Cipher, sm2Decrypt, sm2Encrypt } from '../crypto/sm2-encrypt.js';
import { sm4DecryptEcb, sm4EncryptEcb } from '../crypto/sm4.js';
import { EnvelopeError } from './errors.js';
import { sm2PrivateKeyFromScalar, sm2PublicKeyFromPoint } from './sm2-raw-keys.js';

/** The ASN.1 schema; the SM2Cipher is kept as raw DER so that its own strict decoder judges it. */
class Sm2EnvelopedKeyAsn {
  @AsnProp({ type: AlgorithmIdentifier }) symAlgID = new AlgorithmIdentifier();
  @AsnProp({ type: AsnPropTypes.Any }) symEncryptedKey = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.BitString }) sm2PublicKey = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.BitString }) sm2EncryptedPrivateKey = new ArrayBuffer(0);
}

/** The fields of an SM2EnvelopedKey, readable without the recipient's key. */
export interface Sm2EnvelopedKeyParts {
  /** The symmetric algorithm OID (SM4-ECB, or bare SM4 from some writers). */
  symAlgorithm: string;
  /** SM2Cipher DER holding the encrypted SM4 key. */
  encryptedSymmetricKey: Buffer;
  /** The enveloped key's public point, 04‖x‖y (65 bytes, checked to be on the curve). */
  publicPoint: Buffer;
  /** The SM4-ECB ciphertext of the private scalar (32, 48 or 64 bytes). */
  encryptedPrivateKey: Buffer;
}

const NULL_DER = Buffer.from([0x05, 0x00]);
const ACCEPTED_SYM_OIDS: readonly string[] = [OID.sm4Ecb, OID.sm4];
const ENCRYPTED_KEY_LENGTHS: readonly number[] = [32, 48, 64];

/** Reads an SM2EnvelopedKey (DER) strictly: non-DER input, an unknown cipher or a bad point is a ParseError. */
export function parseSm2EnvelopedKey(der: Uint8Array): Sm2EnvelopedKeyParts {
  const input = Buffer.from(der);
  const asn = parsing('SM2EnvelopedKey', () => AsnConvert.parse(input, Sm2EnvelopedKeyAsn));
  if (!Buffer.from(AsnConvert.serialize(asn)).equals(input)) throw new ParseError('SM2EnvelopedKey', 'not DER (or trailing bytes)');
  const alg = asn.symAlgID;
  if (!ACCEPTED_SYM_OIDS.includes(alg.algorithm)) {
    throw new UnsupportedError(`SM2EnvelopedKey: symmetric algorithm ${alg.algorithm} is not SM4-ECB`);
  }
  if (alg.parameters != null && !Buffer.from(alg.parameters).equals(NULL_DER)) {
    throw new ParseError('SM2EnvelopedKey', 'SM4-ECB takes no parameters');
  }
  const encryptedSymmetricKey = Buffer.from(asn.symEncryptedKey);
  decodeSm2Cipher(encryptedSymmetricKey); // its own strict checks, as a ParseError naming SM2Cipher
  const publicPoint = Buffer.from(asn.sm2PublicKey);
  // The point check is the parse of the key; the object itself is rebuilt when needed.
  parsing('SM2EnvelopedKey', () => sm2PublicKeyFromPoint(publicPoint));
  const encryptedPrivateKey = Buffer.from(asn.sm2EncryptedPrivateKey);
  if (!ENCRYPTED_KEY_LENGTHS.includes(encryptedPrivateKey.length)) {
    throw new ParseError('SM2EnvelopedKey', `encrypted private key of ${encryptedPrivateKey.length} bytes (expected 32, 48 or 64)`);
  }
  return { symAlgorithm: alg.algorithm, encryptedSymmetricKey, publicPoint, encryptedPrivateKey };
}

/** The public key of the enveloped key pair, read without opening the envelope. */
export function sm2EnvelopedPublicKey(der: Uint8Array): PublicKey {
  return sm2PublicKeyFromPoint(parseSm2EnvelopedKey(der).publicPoint);
}

function requireSm2(key: PublicKey | PrivateKey, role: string): void {
  if (key.kind !== 'sm2') throw new UnsupportedError(`SM2EnvelopedKey: the ${role} must be an SM2 key, not ${key.kind}`);
}

/**
 * Envelopes the SM2 key pair `enveloped` for the holder of `recipient` (their signing public key,
 * from the signing certificate or CSR) and returns the SM2EnvelopedKey DER.
 */
export function buildSm2EnvelopedKey(enveloped: PrivateKey, recipient: PublicKey): Buffer {
  requireSm2(enveloped, 'enveloped key');
  requireSm2(recipient, 'recipient key');
  const symKey = randomBytes(16);
  try {
    const asn = new Sm2EnvelopedKeyAsn();
    asn.symAlgID = new AlgorithmIdentifier({ algorithm: OID.sm4Ecb, parameters: null });
    asn.symEncryptedKey = new Uint8Array(sm2Encrypt(recipient.sm2Point!, symKey)).buffer as ArrayBuffer;
    asn.sm2PublicKey = new Uint8Array(enveloped.publicKey.sm2Point!).buffer as ArrayBuffer;
    asn.sm2EncryptedPrivateKey = new Uint8Array(sm4EncryptEcb(symKey, enveloped.sm2D!, { padding: false })).buffer as ArrayBuffer;
    return Buffer.from(AsnConvert.serialize(asn));
  } finally {
    symKey.fill(0);
  }
}

/** The scalar inside the SM4 plaintext, for each accepted layout; undefined when the layout is broken. */
function scalarFromPlaintext(symKey: Buffer, ciphertext: Buffer): Buffer | undefined {
  if (ciphertext.length === 32) return sm4DecryptEcb(symKey, ciphertext, { padding: false });
  if (ciphertext.length === 48) {
    try {
      const plain = sm4DecryptEcb(symKey, ciphertext, { padding: true });
      return plain.length === 32 ? plain : undefined;
    } catch {
      return undefined; // bad padding: the ciphertext was altered
    }
  }
  const plain = sm4DecryptEcb(symKey, ciphertext, { padding: false });
  return plain.subarray(0, 32).every((b) => b === 0) ? plain.subarray(32) : undefined;
}

/**
 * Opens an SM2EnvelopedKey with the recipient's signing private key and returns the enveloped
 * key pair. EnvelopeError "envelope.recipient" when the key is not the recipient's (or the
 * wrapped SM4 key was altered), "envelope.mismatch" when the private key inside does not belong
 * to the public key beside it, "envelope.content" when the plaintext is no SM2 scalar at all.
 */
export function openSm2EnvelopedKey(der: Uint8Array, recipient: PrivateKey): PrivateKey {
  requireSm2(recipient, 'recipient key');
  const parts = parseSm2EnvelopedKey(der);
  let symKey: Buffer;
  try {
    symKey = sm2Decrypt(recipient.sm2D!, parts.encryptedSymmetricKey);
  } catch (e) {
    if (e instanceof PkiError && e.code === 'crypto.decrypt') {
      throw new EnvelopeError('recipient', 'SM2EnvelopedKey: this key cannot open the envelope (wrong recipient, or the wrapped key was altered)', { cause: e });
    }
    throw e;
  }
  try {
    if (symKey.length !== 16) throw new EnvelopeError('content', `SM2EnvelopedKey: the wrapped SM4 key is ${symKey.length} bytes, not 16`);
    const scalar = scalarFromPlaintext(symKey, parts.encryptedPrivateKey);
    if (!scalar) throw new EnvelopeError('mismatch', 'SM2EnvelopedKey: the encrypted private key does not decrypt to a 32-byte scalar');
    let key: PrivateKey;
    try {
      key = sm2PrivateKeyFromScalar(scalar);
    } catch (e) {
      throw new EnvelopeError('mismatch', 'SM2EnvelopedKey: the decrypted private key is not a valid SM2 scalar', { cause: e });
    } finally {
      scalar.fill(0);
    }
    if (!Buffer.from(key.publicKey.sm2Point!).equals(parts.publicPoint)) {
      throw new EnvelopeError('mismatch', 'SM2EnvelopedKey: the private key does not match the public key in the envelope');
    }
    return key;
  } finally {
    symKey.fill(0);
  }
}

/**
 * SM2 keys from their bare forms — the 32-byte private scalar and the 65-byte point 04‖x‖y — as
 * GM/T 0009 envelopes and SKF key blobs carry them, wrapped in PKCS#8 / SubjectPublicKeyInfo
 * (id-ecPublicKey with the SM2 curve, the GM/T 0015 form) so that the rest of the library, Node
 * and OpenSSL all see ordinary keys.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ECParameters, ECPrivateKey } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { ParseError } from '../errors.js';
import { OID } from '../oids.js';
import { importPrivateKey, publicKeyFromSpki, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { sm2PublicFromPrivate } from '../crypto/sm2.js';
import { SM2_CURVE } from '../crypto/sm2-core.js';
import { decodePoint } from '../crypto/sm2-arith.js';

/** Builds the SM2 PrivateKey whose scalar is `d` (32 bytes, 1 ≤ d ≤ n − 2); anything else is a ParseError. */
export function sm2PrivateKeyFromScalar(d: Uint8Array): PrivateKey {
  if (d.length !== 32) throw new ParseError('SM2 private key', `the scalar is 32 bytes, not ${d.length}`);
  const value = BigInt('0x' + Buffer.from(d).toString('hex'));
  // n − 1 is excluded too: SM2 signing divides by 1 + d.
  if (value < 1n || value > SM2_CURVE.n - 2n) throw new ParseError('SM2 private key', 'not a scalar in [1, n − 2]');
  const point = sm2PublicFromPrivate(d);
  const ec = new ECPrivateKey({
    version: 1,
    privateKey: new OctetString(d),
    parameters: new ECParameters({ namedCurve: OID.sm2Curve }),
    publicKey: new Uint8Array(point).buffer as ArrayBuffer,
  });
  const info = new PrivateKeyInfo({
    privateKeyAlgorithm: sm2KeyAlgorithm(),
    privateKey: new OctetString(AsnConvert.serialize(ec)),
  });
  return importPrivateKey(Buffer.from(AsnConvert.serialize(info)));
}

/** The SM2 AlgorithmIdentifier of GM/T 0015 keys: id-ecPublicKey with the SM2 curve as parameter. */
function sm2KeyAlgorithm(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: OID.ecPublicKey, parameters: AsnConvert.serialize(new ECParameters({ namedCurve: OID.sm2Curve })) });
}

/** Builds the SM2 PublicKey of an uncompressed point 04‖x‖y; a point off the curve is a ParseError. */
export function sm2PublicKeyFromPoint(point: Uint8Array): PublicKey {
  if (!decodePoint(point)) throw new ParseError('SM2 public key', 'not an uncompressed point of the SM2 curve');
  const spki = new SubjectPublicKeyInfo({ algorithm: sm2KeyAlgorithm(), subjectPublicKey: new Uint8Array(point).buffer as ArrayBuffer });
  return publicKeyFromSpki(Buffer.from(AsnConvert.serialize(spki)));
}

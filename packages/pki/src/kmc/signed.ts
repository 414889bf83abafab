/**
 * The signature wrapper of CA–KMC messages (GM/T 0014's CARequest and KMRespond): the body
 * (KSRequest or KSRespond DER), the signature algorithm and the signature over the body's bytes,
 * as an X.509 certificate wraps its TBSCertificate. SM2 signs with the default user ID.
 */
import { derAlgorithm, derBitString, derTlv } from '../encoding/der-writer.js';
import { readBitString, readOid, sequenceChildren, tlvBytes } from '../encoding/der.js';
import { ParseError, parsing } from '../errors.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor, verifyData } from '../crypto/signature.js';

/** A signed message taken apart; `body` is exactly the signed bytes. */
export interface SignedKmcMessage {
  body: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

/** Signs a KSRequest or KSRespond body with `key`; returns the CARequest / KMRespond DER. */
export function signKmcMessage(body: Buffer, key: PrivateKey): Buffer {
  const alg = signatureAlgorithmFor(key);
  const { signature } = signData(key, body);
  return derTlv(0x30, [body, derAlgorithm(alg.algorithm, alg.parameters === null), derBitString(signature)]);
}

/** Takes a CARequest / KMRespond apart without checking the signature; malformed input is a ParseError. */
export function parseSignedKmcMessage(der: Uint8Array): SignedKmcMessage {
  return parsing('KMC message', () => {
    const buf = Buffer.from(der);
    const f = sequenceChildren(buf, 'KMC message');
    if (f.length !== 3 || f[0]!.tag !== 0x30 || f[1]!.tag !== 0x30 || f[2]!.tag !== 0x03) throw new ParseError('KMC message', 'expected SEQUENCE { body, signatureAlgorithm, signatureValue }');
    const algFields = sequenceChildren(tlvBytes(buf, f[1]!), 'KMC message');
    const signatureAlgorithm = readOid(tlvBytes(buf, f[1]!), algFields[0]!, 'KMC message');
    const bits = readBitString(buf, f[2]!, 'KMC message');
    if (bits.unusedBits !== 0) throw new ParseError('KMC message', 'the signature has unused bits');
    return { body: tlvBytes(buf, f[0]!), signatureAlgorithm, signature: Buffer.from(bits.bytes) };
  });
}

/** Whether the message was signed by the holder of `signer`; an unknown algorithm is false. */
export function kmcSignatureValid(message: SignedKmcMessage, signer: PublicKey): boolean {
  try {
    return verifyData(signer, message.signatureAlgorithm, message.body, message.signature);
  } catch {
    return false;
  }
}

/**
 * Who signs a record: a pki PrivateKey held in this process, or a callback for a key that never
 * leaves its medium (a USB key / smart token, an HSM). The callback receives the bytes to be signed
 * (the DER of the signed attributes) and the hash to use, and returns the signature as X.509
 * carries it (DER ECDSA-Sig-Value, PKCS#1 v1.5, or a DER SM2 signature computed with the GM/T 0009
 * default user ID, as SKF_DigestInit with the public key and ID followed by SKF_ECCSignData does).
 */
import { PkiError, signCmsDer, verifyCms, type Certificate, type HashName, type KeySigner, type PrivateKey } from '@health-pki/pki';

/** A signer whose key this process holds. */
export interface KeyRecordSigner {
  key: PrivateKey;
  certificate: Certificate;
  /** Intermediate CA certificates to carry (the root comes from the trust list). */
  chain?: Certificate[];
}

/** A signer whose key is elsewhere (token, HSM): it signs through a callback, possibly asynchronously. */
export interface CallbackRecordSigner {
  sign: (toBeSigned: Buffer, hash: HashName) => Uint8Array | Promise<Uint8Array>;
  certificate: Certificate;
  chain?: Certificate[];
}

export type RecordSigner = KeyRecordSigner | CallbackRecordSigner;

/** A signature that could not be made. */
export class SigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningError';
  }
}

/** What signRecordCms needs. */
export interface RecordCmsOptions {
  signingTime: Date;
  /** Carry the data inside the SignedData (default false: detached, the record is stored elsewhere). */
  attached?: boolean;
  /** Digest for ECDSA/RSA (default SHA-256); SM2 always uses SM3. */
  hash?: HashName;
}

/**
 * A CMS SignedData over `data` (detached unless asked otherwise) with signingTime (GM/T 0010 OIDs for SM2, as pki writes
 * them) and RFC 6211 algorithm protection. A callback signer is run in two passes: the first
 * captures the exact signed-attribute bytes, the callback signs them (possibly asynchronously),
 * the second pass writes its signature; with the signing time fixed both passes build the same bytes.
 */
export async function signRecordCms(data: Uint8Array, signer: RecordSigner, o: RecordCmsOptions): Promise<Buffer> {
  const base = { content: data, cert: signer.certificate, chain: signer.chain, detached: !o.attached, signingTime: o.signingTime, hash: o.hash, algorithmProtection: true };
  let der: Buffer;
  if ('key' in signer) {
    der = signCmsDer({ ...base, signer: signer.key });
  } else {
    let captured: { data: Buffer; hash: HashName } | undefined;
    const capture = deviceKey(signer.certificate, {
      description: 'signature callback',
      sign(tbs, hash) {
        captured = { data: Buffer.from(tbs), hash };
        return Buffer.alloc(64); // a placeholder: this first pass's output is thrown away
      },
    });
    signCmsDer({ ...base, signer: capture });
    let signature: Uint8Array;
    try {
      signature = await signer.sign(captured!.data, captured!.hash);
    } catch (e) {
      throw new SigningError(`the signing callback failed: ${(e as Error).message}`);
    }
    der = signCmsDer({ ...base, signer: deviceKey(signer.certificate, { description: 'signature callback', sign: () => signature }) });
  }
  // A token that signed with another key or the wrong user ID must not yield a record that never verifies.
  const check = verifyCms(der, { content: data });
  if (!check.valid) throw new SigningError(`the signature made does not verify with the signer's certificate: ${check.error}`);
  return der;
}

/** A PrivateKey whose signing is delegated (pki's externalPrivateKey refuses SM2, which we handle in the callback contract). */
function deviceKey(cert: Certificate, signer: KeySigner): PrivateKey {
  const pub = cert.publicKey;
  if (pub.kind !== 'sm2' && pub.kind !== 'ec' && pub.kind !== 'rsa') throw new PkiError('key.external', `a ${pub.kind} key cannot sign records`);
  return { kind: pub.kind, curve: pub.curve, bits: pub.bits, publicKey: pub, signer } as unknown as PrivateKey;
}

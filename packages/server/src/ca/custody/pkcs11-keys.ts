/**
 * CA keys inside a PKCS#11 token: generating them there (sensitive, never extractable), importing
 * a software key once (seal of a key made elsewhere), finding them again by CKA_ID, and the
 * KeySigner that signs inside the token. ECDSA: the hash is computed here and CKM_ECDSA signs it,
 * its r‖s becoming the DER ECDSA-Sig-Value X.509 carries; RSA: CKM_RSA_PKCS signs the DigestInfo.
 * Sending only the hash keeps large CRLs off the token's wire.
 */
import { createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import type * as Pkcs11Types from 'pkcs11js';
import {
  digest,
  ecdsaRawToDer,
  externalPrivateKey,
  publicKeyFromSpki,
  rsaDigestInfo,
  type HashName,
  type KeyAlgorithm,
  type KeySigner,
  type PrivateKey,
  type PublicKey,
} from '@health-pki/pki';
import { RuleError } from '../../errors.js';
import { HsmError, type Pkcs11Token } from './pkcs11-token.js';

type Template = Pkcs11Types.Template;

/** DER of the curve OIDs (CKA_EC_PARAMS). */
const EC_PARAMS: Record<string, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
};

/** Refuses what a PKCS#11 token cannot hold for us: SM2 (no standard mechanism) and unknown algorithms. */
export function hsmAlgorithm(algorithm: KeyAlgorithm | string): { kind: 'ec'; curve: 'P-256' | 'P-384' } | { kind: 'rsa'; bits: number } {
  switch (algorithm) {
    case 'p256':
      return { kind: 'ec', curve: 'P-256' };
    case 'p384':
      return { kind: 'ec', curve: 'P-384' };
    case 'rsa2048':
      return { kind: 'rsa', bits: 2048 };
    case 'rsa3072':
      return { kind: 'rsa', bits: 3072 };
    case 'sm2':
      throw new RuleError(
        'ca.algorithm.hsm',
        'SM2 keys cannot be kept in this PKCS#11 HSM: PKCS#11 defines no SM2 mechanism. An SM2 CA key in hardware needs a GM/T 0018 (SDF) cryptographic module or a vendor PKCS#11 with SM2 mechanisms; use an RSA or ECDSA CA here, or a deployment without PKCS#11 for SM2',
      );
    default:
      throw new RuleError('ca.algorithm.hsm', `a ${algorithm} key cannot be kept in the PKCS#11 HSM; use p256, p384, rsa2048 or rsa3072`);
  }
}

/** Where a key is: the token, and the key's CKA_ID and CKA_LABEL there. */
export interface HsmKeyRef {
  token: string;
  /** CKA_ID, hex. */
  id: string;
  label: string;
}

/** Generates a key pair inside the token: private half sensitive and not extractable. */
export function generateInToken(token: Pkcs11Token, algorithm: KeyAlgorithm, label: string): { ref: HsmKeyRef; publicKey: PublicKey; mechanism: string } {
  const spec = hsmAlgorithm(algorithm);
  const { lib } = token;
  const id = randomBytes(16);
  const common: Template = [
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_ID, value: id },
    { type: lib.CKA_LABEL, value: label },
  ];
  const pub: Template = [...common, { type: lib.CKA_VERIFY, value: true }, { type: lib.CKA_PRIVATE, value: false }];
  const priv: Template = [...common, ...privateAttributes(token)];
  let mechanism: number;
  if (spec.kind === 'ec') {
    mechanism = lib.CKM_EC_KEY_PAIR_GEN;
    pub.push({ type: lib.CKA_EC_PARAMS, value: EC_PARAMS[spec.curve]! });
  } else {
    mechanism = lib.CKM_RSA_PKCS_KEY_PAIR_GEN;
    pub.push({ type: lib.CKA_MODULUS_BITS, value: spec.bits }, { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
  }
  const publicKey = token.run((p11, session) => {
    const pair = p11.C_GenerateKeyPair(session, { mechanism }, pub, priv);
    return readPublicKey(token, p11, session, pair.publicKey, spec.kind);
  });
  return { ref: { token: token.config.token, id: id.toString('hex'), label }, publicKey, mechanism: spec.kind === 'ec' ? 'CKM_EC_KEY_PAIR_GEN' : 'CKM_RSA_PKCS_KEY_PAIR_GEN' };
}

/**
 * Moves a software key into the token (C_CreateObject, sensitive, not extractable): for keys
 * generated outside (e.g. by a module that calls `seal` on a key it made). The caller drops the
 * software copy; from then on only the token signs with it.
 */
export function importIntoToken(token: Pkcs11Token, key: PrivateKey, label: string): HsmKeyRef {
  if (key.kind !== 'ec' && key.kind !== 'rsa') hsmAlgorithm(key.kind === 'sm2' ? 'sm2' : key.kind);
  const { lib } = token;
  const jwk = key.node.export({ format: 'jwk' });
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  const id = randomBytes(16);
  const template: Template = [
    { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_ID, value: id },
    { type: lib.CKA_LABEL, value: label },
    ...privateAttributes(token),
  ];
  if (key.kind === 'ec') {
    const params = EC_PARAMS[key.curve ?? ''];
    if (!params) throw new RuleError('ca.algorithm.hsm', `an EC key on ${key.curve} cannot be kept in the PKCS#11 HSM; use P-256 or P-384`);
    template.push({ type: lib.CKA_KEY_TYPE, value: lib.CKK_EC }, { type: lib.CKA_EC_PARAMS, value: params }, { type: lib.CKA_VALUE, value: b(jwk.d) });
  } else {
    template.push(
      { type: lib.CKA_KEY_TYPE, value: lib.CKK_RSA },
      { type: lib.CKA_MODULUS, value: b(jwk.n) },
      { type: lib.CKA_PUBLIC_EXPONENT, value: b(jwk.e) },
      { type: lib.CKA_PRIVATE_EXPONENT, value: b(jwk.d) },
      { type: lib.CKA_PRIME_1, value: b(jwk.p) },
      { type: lib.CKA_PRIME_2, value: b(jwk.q) },
      { type: lib.CKA_EXPONENT_1, value: b(jwk.dp) },
      { type: lib.CKA_EXPONENT_2, value: b(jwk.dq) },
      { type: lib.CKA_COEFFICIENT, value: b(jwk.qi) },
    );
  }
  token.run((p11, session) => p11.C_CreateObject(session, template));
  return { token: token.config.token, id: id.toString('hex'), label };
}

/** The attributes every CA private key gets: usable only for signing, only after login, never readable. */
function privateAttributes(token: Pkcs11Token): Template {
  const { lib } = token;
  return [
    { type: lib.CKA_PRIVATE, value: true },
    { type: lib.CKA_SENSITIVE, value: true },
    { type: lib.CKA_EXTRACTABLE, value: false },
    { type: lib.CKA_SIGN, value: true },
    { type: lib.CKA_DECRYPT, value: false },
  ];
}

function readPublicKey(token: Pkcs11Token, p11: Pkcs11Types.PKCS11, session: Buffer, handle: Buffer, kind: 'ec' | 'rsa'): PublicKey {
  const { lib } = token;
  let jwk: JsonWebKey;
  if (kind === 'ec') {
    const [params, point] = p11.C_GetAttributeValue(session, handle, [{ type: lib.CKA_EC_PARAMS }, { type: lib.CKA_EC_POINT }]);
    const curve = Object.keys(EC_PARAMS).find((c) => EC_PARAMS[c]!.equals(params!.value as Buffer));
    const raw = unwrapOctetString(point!.value as Buffer);
    const size = (raw.length - 1) / 2;
    if (!curve || raw[0] !== 4 || size !== (curve === 'P-256' ? 32 : 48)) throw new HsmError('hsm.key', 'the token returned an EC public key this service cannot read');
    jwk = { kty: 'EC', crv: curve, x: raw.subarray(1, 1 + size).toString('base64url'), y: raw.subarray(1 + size).toString('base64url') };
  } else {
    const [n, e] = p11.C_GetAttributeValue(session, handle, [{ type: lib.CKA_MODULUS }, { type: lib.CKA_PUBLIC_EXPONENT }]);
    jwk = { kty: 'RSA', n: (n!.value as Buffer).toString('base64url'), e: (e!.value as Buffer).toString('base64url') };
  }
  return publicKeyFromSpki(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/** CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.20+); some modules give the bare point. */
function unwrapOctetString(v: Buffer): Buffer {
  if (v[0] === 0x04 && v[1] === v.length - 2) return v.subarray(2);
  if (v[0] === 0x04 && v[1] === 0x81 && v[2] === v.length - 3) return v.subarray(3);
  return v;
}

/** Signs inside the token with the private key whose CKA_ID the reference names. */
export class Pkcs11Signer implements KeySigner {
  readonly description: string;
  private handle: Buffer | undefined;
  private handleGeneration = -1;

  constructor(
    readonly token: Pkcs11Token,
    readonly ref: HsmKeyRef,
    private readonly publicKey: PublicKey,
  ) {
    this.description = `PKCS#11 token "${ref.token}", key "${ref.label}" (CKA_ID ${ref.id})`;
  }

  /** Finds the key now, so that a missing key is reported when the CA is opened, not at its first signature. */
  check(): void {
    this.token.run((p11, session) => this.find(p11, session));
  }

  /** Signs `data` with `hash` inside the token; see the module comment for the mechanisms. */
  sign(data: Uint8Array, hash: HashName): Uint8Array {
    const h = digest(hash, data);
    const { lib } = this.token;
    const ec = this.publicKey.kind === 'ec';
    const input = ec ? h : rsaDigestInfo(hash, h);
    const out = this.token.run((p11, session) => {
      const key = this.find(p11, session);
      p11.C_SignInit(session, { mechanism: ec ? lib.CKM_ECDSA : lib.CKM_RSA_PKCS }, key);
      return p11.C_Sign(session, input, Buffer.alloc(ec ? 2 * Math.ceil(this.publicKey.bits / 8) : Math.ceil(this.publicKey.bits / 8)));
    });
    return ec ? ecdsaRawToDer(out) : out;
  }

  private find(p11: Pkcs11Types.PKCS11, session: Buffer): Buffer {
    if (this.handle && this.handleGeneration === this.token.generation) return this.handle;
    const { lib } = this.token;
    p11.C_FindObjectsInit(session, [
      { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
      { type: lib.CKA_ID, value: Buffer.from(this.ref.id, 'hex') },
    ]);
    let found: Buffer[];
    try {
      found = p11.C_FindObjects(session, 2);
    } finally {
      p11.C_FindObjectsFinal(session);
    }
    if (found.length !== 1) {
      throw new HsmError(
        'hsm.key',
        found.length === 0
          ? `${this.description} is not on the token: was the token re-initialised, or is this the wrong token?`
          : `${this.description} is ambiguous: the token holds several private keys with that CKA_ID`,
      );
    }
    this.handle = found[0]!;
    this.handleGeneration = this.token.generation;
    return this.handle;
  }
}

/** A PrivateKey for the pki library whose signatures the token makes. */
export function tokenKey(token: Pkcs11Token, ref: HsmKeyRef, publicKey: PublicKey): PrivateKey {
  return externalPrivateKey(publicKey, new Pkcs11Signer(token, ref, publicKey));
}

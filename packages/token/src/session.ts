/**
 * A logged-in application (after the user PIN was verified): the operations of GM/T 0016 that need
 * the user's permission — containers, on-token key generation, certificate and enveloped-key
 * import, signing and decryption. Private keys never leave: no method returns one, and the data
 * key sits in a private field. Each operation re-reads the file under the lock, so sessions in
 * several processes see each other's changes and never overwrite them.
 */
import { constants, privateDecrypt } from 'node:crypto';
import {
  Certificate,
  UnsupportedError,
  buildCsr,
  generateKey,
  openEnvelopedData,
  openEnvelopedPrivateKey,
  openSm2EnvelopedKey,
  parseName,
  publicKeyFromSpki,
  signData,
  sm2Decrypt,
  type CertificationRequestDoc,
  type HashName,
  type KeyAlgorithm,
  type PrivateKey,
  type PublicKey,
  type SignatureOptions,
} from '@health-pki/pki';
import type { Extension, Name } from '@peculiar/asn1-x509';
import { TokenError } from './errors.js';
import { NAME_PATTERN, findApplication, type ApplicationRecord, type SlotName, type TokenRecord } from './format.js';
import { findContainer, openContents, sealContents, slotKey, type Contents } from './contents.js';
import { containerInfo, type ContainerInfo } from './info.js';
import { readToken, withToken } from './store.js';

/** Options of generateKeyPair. */
export interface GenerateOptions {
  /** Replace a key already in the slot (its certificate is removed too). */
  replace?: boolean;
}

/** Options of importEnvelopedKey. */
export interface ImportEnvelopedOptions {
  /** The encryption certificate to store with the key; it must match the key. */
  certificate?: Certificate | Uint8Array | string;
}

/** Options of decrypt. */
export interface DecryptOptions {
  /** RSA only: the OAEP hash (default SHA-256). */
  oaepHash?: HashName;
}

function asCertificate(c: Certificate | Uint8Array | string): Certificate {
  return c instanceof Certificate ? c : Certificate.parse(c);
}

/** A user-PIN session on one application of a token. */
export class TokenSession {
  readonly path: string;
  readonly tokenId: string;
  readonly application: string;
  #dataKey: Buffer | undefined;

  /** Made by SoftToken.login; not meant to be constructed directly. */
  constructor(path: string, tokenId: string, application: string, dataKey: Buffer) {
    this.path = path;
    this.tokenId = tokenId;
    this.application = application;
    this.#dataKey = dataKey;
  }

  private key(): Buffer {
    if (!this.#dataKey) throw new TokenError('session.closed', 'the session is logged out');
    return this.#dataKey;
  }

  private app(record: TokenRecord): ApplicationRecord {
    if (record.tokenId !== this.tokenId) throw new TokenError('session.stale', 'the token file was replaced by another token');
    return findApplication(record, this.application);
  }

  private read<T>(fn: (c: Contents) => T): T {
    const record = readToken(this.path);
    return fn(openContents(record.tokenId, this.app(record), this.key()));
  }

  private mutate<T>(fn: (c: Contents) => T): T {
    return withToken(this.path, (t) => {
      const app = this.app(t.record);
      const contents = openContents(t.record.tokenId, app, this.key());
      const result = fn(contents);
      sealContents(t.record.tokenId, app, this.key(), contents);
      t.save();
      return result;
    });
  }

  /** Ends the session and forgets the data key (as far as a garbage-collected runtime allows). */
  logout(): void {
    this.#dataKey?.fill(0);
    this.#dataKey = undefined;
  }

  /** The containers, as listed without a PIN but read from the authenticated copy. */
  containers(): ContainerInfo[] {
    return this.read((c) => c.mirror.map(containerInfo));
  }

  /** Creates an empty container (SKF_CreateContainer). */
  createContainer(name: string): void {
    if (!NAME_PATTERN.test(name)) throw new TokenError('container.name', 'a container name is 1 to 32 characters without control characters');
    this.mutate((c) => {
      if (c.mirror.some((m) => m.name === name)) throw new TokenError('container.exists', `container "${name}" already exists`);
      c.containers.push({ name, signing: {}, encryption: {} });
      c.mirror.push({ name, signing: {}, encryption: {} });
    });
  }

  /** Deletes a container and its keys (SKF_DeleteContainer). */
  deleteContainer(name: string): void {
    this.mutate((c) => {
      findContainer(c, name);
      c.containers = c.containers.filter((x) => x.name !== name);
      c.mirror = c.mirror.filter((x) => x.name !== name);
    });
  }

  /** Generates the signing key pair inside the token (SKF_GenECCKeyPair / SKF_GenRSAKeyPair) and returns its public key. */
  generateKeyPair(container: string, algorithm: KeyAlgorithm = 'sm2', opts: GenerateOptions = {}): PublicKey {
    return this.mutate((c) => {
      const { secret, mirror } = findContainer(c, container);
      if (secret.signing.privateKey && !opts.replace) throw new TokenError('container.slotOccupied', `container "${container}" already has a signing key`);
      const key = generateKey(algorithm);
      secret.signing.privateKey = key.pkcs8;
      mirror.signing = { publicKey: key.publicKey.spki };
      return key.publicKey;
    });
  }

  /** A PKCS#10 request signed by the container's signing key (the CSR the CA needs for enrolment). */
  certificationRequest(container: string, subject: Name | string, extensions: Extension[] = [], opts: SignatureOptions = {}): CertificationRequestDoc {
    const name = typeof subject === 'string' ? parseName(subject) : subject;
    return this.read((c) => buildCsr(name, slotKey(c, container, 'signing'), extensions, opts));
  }

  /** Imports a certificate into a slot (SKF_ImportCertificate); it must match the slot's key, if the slot has one. */
  importCertificate(container: string, slot: SlotName, certificate: Certificate | Uint8Array | string): void {
    const cert = asCertificate(certificate);
    this.mutate((c) => {
      const { mirror } = findContainer(c, container);
      const pub = mirror[slot].publicKey;
      if (slot === 'signing' && !pub) throw new TokenError('container.slotEmpty', `container "${container}" has no signing key for this certificate`);
      if (pub && !cert.spkiDer.equals(pub)) throw new TokenError('container.keyMismatch', `the certificate's public key is not the ${slot} key of container "${container}"`);
      mirror[slot] = { ...mirror[slot], certificate: cert.der };
    });
  }

  /**
   * Imports an enveloped encryption key pair into the container's encryption slot
   * (SKF_ImportECCKeyPair): an SM2EnvelopedKey (GM/T 0009) opened with the container's SM2 signing
   * key, or a CMS EnvelopedData carrying PKCS#8 opened with an RSA or EC signing key. The key must
   * match the encryption certificate already in the slot or given here. Returns its public key.
   */
  importEnvelopedKey(container: string, envelope: Uint8Array, opts: ImportEnvelopedOptions = {}): PublicKey {
    const given = opts.certificate !== undefined ? asCertificate(opts.certificate) : undefined;
    return this.mutate((c) => {
      const { secret, mirror } = findContainer(c, container);
      const signing = slotKey(c, container, 'signing');
      const signingCert = mirror.signing.certificate ? Certificate.parse(mirror.signing.certificate) : undefined;
      let key: PrivateKey;
      if (signing.kind === 'sm2') key = openSm2EnvelopedKey(envelope, signing);
      else if (signing.kind === 'rsa' || signing.kind === 'ec') key = openEnvelopedPrivateKey(envelope, signing, signingCert);
      else throw new UnsupportedError(`cannot open an enveloped key with a ${signing.kind} signing key`);
      const certDer = given?.der ?? mirror.encryption.certificate;
      if (certDer && !Certificate.parse(certDer).spkiDer.equals(key.publicKey.spki)) {
        throw new TokenError('container.keyMismatch', `the enveloped key does not match the encryption certificate of container "${container}"`);
      }
      secret.encryption.privateKey = key.pkcs8;
      mirror.encryption = { publicKey: key.publicKey.spki, ...(certDer ? { certificate: certDer } : {}) };
      return key.publicKey;
    });
  }

  /** Signs `data` with the container's signing key (SM2 with a user ID, ECDSA or RSA); returns the algorithm OID and signature. */
  sign(container: string, data: Uint8Array, opts: SignatureOptions = {}): { algorithm: string; signature: Buffer } {
    return this.read((c) => {
      const { algorithm, signature } = signData(slotKey(c, container, 'signing'), data, opts);
      return { algorithm: algorithm.algorithm, signature };
    });
  }

  /** Decrypts with the container's encryption key: an SM2Cipher (GM/T 0009, as `openssl pkeyutl -encrypt` makes) or RSA-OAEP. */
  decrypt(container: string, ciphertext: Uint8Array, opts: DecryptOptions = {}): Buffer {
    return this.read((c) => {
      const key = slotKey(c, container, 'encryption');
      if (key.kind === 'sm2') return sm2Decrypt(key.sm2D!, ciphertext);
      if (key.kind === 'rsa') {
        try {
          return privateDecrypt({ key: key.node, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: opts.oaepHash ?? 'sha256' }, ciphertext);
        } catch (e) {
          throw new TokenError('decrypt', 'RSA-OAEP decryption failed', { cause: e });
        }
      }
      throw new UnsupportedError(`a ${key.kind} encryption key decrypts CMS EnvelopedData only: use openEnvelope`);
    });
  }

  /** Opens a CMS EnvelopedData addressed to the container's encryption certificate (RSA or EC keys). */
  openEnvelope(container: string, envelope: Uint8Array): Buffer {
    return this.read((c) => {
      const key = slotKey(c, container, 'encryption');
      const { mirror } = findContainer(c, container);
      const cert = mirror.encryption.certificate ? Certificate.parse(mirror.encryption.certificate) : undefined;
      return openEnvelopedData(envelope, key, cert);
    });
  }

  /** The public key in a slot (also readable without a PIN through SoftToken). */
  publicKey(container: string, slot: SlotName): PublicKey | undefined {
    return this.read((c) => {
      const spki = findContainer(c, container).mirror[slot].publicKey;
      return spki ? publicKeyFromSpki(spki) : undefined;
    });
  }
}


/**
 * Envelope encryption of objects at rest (CA keys, application materials): each object gets a
 * fresh data key, the data key is wrapped by a key-encryption key derived from the master key,
 * and both layers carry associated data naming what the object is ("ca-key:<issuer id>",
 * "material:<id>"), so a sealed blob copied into another row does not open there.
 *
 * Blob format v1 (all lengths fixed by the cipher byte):
 *   version (1, = 0x01) | cipher (1: 0x01 AES-256-GCM, 0x02 SM4-GCM) | master key id (8)
 *   | wrap nonce (12) | wrapped data key (32 or 16) | wrap tag (16)
 *   | data nonce (12) | ciphertext | data tag (16)
 * The data layer's associated data leaves out the master key id, so that rotating the master
 * key re-wraps the data key (`rewrap`) without touching the ciphertext.
 *
 * AES-256-GCM is the default: OpenSSL's constant-time, hardware-accelerated implementation in
 * Node. SM4-GCM (GB/T 32907, RFC 8998) is the option for deployments assessed under GM/T 0054
 * (商用密码应用安全性评估), which asks for SM4 at rest; its GHASH is ours (packages/pki), so it is
 * slower, which matters little for a few keys and megabyte-sized scans.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sm4GcmDecrypt, sm4GcmEncrypt } from '@health-pki/pki';
import { ServiceError } from '../errors.js';

/** The ciphers a deployment may seal with. */
export type SealCipher = 'aes-256-gcm' | 'sm4-gcm';
/** Every accepted cipher name, for option parsing. */
export const SEAL_CIPHERS: readonly SealCipher[] = ['aes-256-gcm', 'sm4-gcm'];

/** Seals and opens byte strings bound to a context; what the RA stores materials through. */
export interface Sealer {
  /** Stored beside each sealed object ("plaintext", "master-aes256gcm-v1", "master-sm4gcm-v1"). */
  readonly protection: string;
  /** Seals `plaintext` for storage as the object named `context`. */
  seal(plaintext: Uint8Array, context: string): Buffer;
  /** Opens an object stored with `protection` as `context`; throws SealError when it cannot. */
  open(sealed: Uint8Array, protection: string, context: string): Buffer;
}

/**
 * A sealed object that cannot be opened: wrong master key, another row's blob, damaged bytes.
 * Not the caller's fault but the stored record's, hence a 500 that names the record.
 */
export class SealError extends ServiceError {
  constructor(code: string, message: string) {
    super(500, code, message);
  }
}

/** Stores objects as they are: only for rows written before a master key existed. */
export const plaintextSealer: Sealer = {
  protection: 'plaintext',
  seal: (plaintext) => Buffer.from(plaintext),
  open(sealed, protection) {
    if (protection !== 'plaintext') throw new SealError('seal.protection', `this deployment has no master key and cannot open objects protected as "${protection}"`);
    return Buffer.from(sealed);
  },
};

const VERSION = 0x01;
const HEADER = 10;
const NONCE = 12;
const TAG = 16;

interface CipherSpec {
  id: number;
  protection: string;
  keyBytes: number;
  kekInfo: string;
  kdfDigest: string;
}

const CIPHERS: Record<SealCipher, CipherSpec> = {
  'aes-256-gcm': { id: 0x01, protection: 'master-aes256gcm-v1', keyBytes: 32, kekInfo: 'health-pki kek aes-256-gcm v1', kdfDigest: 'sha256' },
  'sm4-gcm': { id: 0x02, protection: 'master-sm4gcm-v1', keyBytes: 16, kekInfo: 'health-pki kek sm4-gcm v1', kdfDigest: 'sm3' },
};

function specById(id: number): [SealCipher, CipherSpec] | undefined {
  return (Object.entries(CIPHERS) as Array<[SealCipher, CipherSpec]>).find(([, s]) => s.id === id);
}

/** The protection names a master-key envelope writes. */
export function envelopeProtections(): string[] {
  return Object.values(CIPHERS).map((s) => s.protection);
}

/**
 * A master key in memory: 32 secret bytes from which the key-encryption keys, the key id
 * written into every blob and the check value stored in the database are derived (HKDF), so
 * that the master key itself never encrypts anything directly.
 */
export class MasterKey {
  /** 16 hex digits naming this key in blobs and messages (not secret). */
  readonly keyId: string;
  /** Stored in the database to recognise this key at start (HKDF output; reveals nothing of the key). */
  readonly check: Buffer;
  private readonly keks = new Map<SealCipher, Buffer>();

  constructor(secret: Uint8Array) {
    if (secret.length !== 32) throw new Error('a master key is 32 bytes');
    for (const [name, spec] of Object.entries(CIPHERS) as Array<[SealCipher, CipherSpec]>) {
      this.keks.set(name, Buffer.from(hkdfSync(spec.kdfDigest, secret, Buffer.alloc(0), spec.kekInfo, spec.keyBytes)));
    }
    this.check = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'health-pki master key check v1', 32));
    this.keyId = this.check.subarray(0, 8).toString('hex');
  }

  /** The key-encryption key for `cipher`. */
  kek(cipher: SealCipher): Buffer {
    return this.keks.get(cipher)!;
  }
}

function encrypt(cipher: SealCipher, key: Uint8Array, nonce: Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  if (cipher === 'sm4-gcm') {
    const r = sm4GcmEncrypt(key, nonce, plaintext, aad);
    return Buffer.concat([r.ciphertext, r.tag]);
  }
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function decrypt(cipher: SealCipher, key: Uint8Array, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const body = sealed.subarray(0, sealed.length - TAG);
  const tag = sealed.subarray(sealed.length - TAG);
  if (cipher === 'sm4-gcm') return sm4GcmDecrypt(key, nonce, body, tag, aad);
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(body), d.final()]);
}

function wrapAad(header: Buffer, context: string): Buffer {
  return Buffer.concat([Buffer.from('health-pki envelope v1 data-key\0'), header, Buffer.from(context, 'utf8')]);
}

function dataAad(header: Buffer, context: string): Buffer {
  return Buffer.concat([Buffer.from('health-pki envelope v1 data\0'), header.subarray(0, 2), Buffer.from(context, 'utf8')]);
}

/** The parts of a v1 blob. */
interface Parsed {
  cipher: SealCipher;
  spec: CipherSpec;
  header: Buffer;
  keyId: string;
  wrapped: Buffer;
  data: Buffer;
}

function parse(blob: Uint8Array): Parsed {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < HEADER || b[0] !== VERSION) throw new SealError('seal.format', `sealed object has unknown format version ${b.length ? b[0] : 'none'}`);
  const found = specById(b[1]!);
  if (!found) throw new SealError('seal.format', `sealed object names unknown cipher ${b[1]}`);
  const [cipher, spec] = found;
  const wrappedLen = NONCE + spec.keyBytes + TAG;
  if (b.length < HEADER + wrappedLen + NONCE + TAG) throw new SealError('seal.format', 'sealed object is truncated');
  return {
    cipher,
    spec,
    header: b.subarray(0, HEADER),
    keyId: b.subarray(2, HEADER).toString('hex'),
    wrapped: b.subarray(HEADER, HEADER + wrappedLen),
    data: b.subarray(HEADER + wrappedLen),
  };
}

/** Envelope encryption under the active master key; opens blobs of any key it was given. */
export class Envelope implements Sealer {
  readonly protection: string;
  readonly cipher: SealCipher;
  private readonly active: MasterKey;
  private readonly keys = new Map<string, MasterKey>();

  /** `others`: retired master keys still needed to open objects not yet re-wrapped. */
  constructor(active: MasterKey, cipher: SealCipher = 'aes-256-gcm', others: MasterKey[] = []) {
    this.active = active;
    this.cipher = cipher;
    this.protection = CIPHERS[cipher].protection;
    for (const k of [active, ...others]) this.keys.set(k.keyId, k);
  }

  /** The id of the master key new objects are sealed under. */
  get keyId(): string {
    return this.active.keyId;
  }

  /** Seals with a fresh data key. */
  seal(plaintext: Uint8Array, context: string): Buffer {
    const spec = CIPHERS[this.cipher];
    const header = Buffer.concat([Buffer.from([VERSION, spec.id]), Buffer.from(this.active.keyId, 'hex')]);
    const dataKey = randomBytes(spec.keyBytes);
    try {
      const wrapNonce = randomBytes(NONCE);
      const dataNonce = randomBytes(NONCE);
      const wrapped = encrypt(this.cipher, this.active.kek(this.cipher), wrapNonce, dataKey, wrapAad(header, context));
      const data = encrypt(this.cipher, dataKey, dataNonce, plaintext, dataAad(header, context));
      return Buffer.concat([header, wrapNonce, wrapped, dataNonce, data]);
    } finally {
      dataKey.fill(0);
    }
  }

  /** Opens a blob; plaintext rows (written before the deployment had a master key) are returned as stored. */
  open(sealed: Uint8Array, protection: string, context: string): Buffer {
    if (protection === 'plaintext') return Buffer.from(sealed);
    const p = parse(sealed);
    if (p.spec.protection !== protection) throw new SealError('seal.protection', `sealed object is ${p.spec.protection} but its row says "${protection}"`);
    const dataKey = this.unwrap(p, context);
    try {
      return this.guard(context, () => decrypt(p.cipher, dataKey, p.data.subarray(0, NONCE), p.data.subarray(NONCE), dataAad(p.header, context)));
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * The same object with its data key wrapped under the active master key (rotation): the
   * ciphertext is unchanged. Returns the blob itself when it is already under the active key.
   */
  rewrap(sealed: Uint8Array, context: string): Buffer {
    const p = parse(sealed);
    if (p.keyId === this.active.keyId) return Buffer.from(sealed);
    const dataKey = this.unwrap(p, context);
    try {
      const header = Buffer.concat([p.header.subarray(0, 2), Buffer.from(this.active.keyId, 'hex')]);
      const wrapNonce = randomBytes(NONCE);
      const wrapped = encrypt(p.cipher, this.active.kek(p.cipher), wrapNonce, dataKey, wrapAad(header, context));
      return Buffer.concat([header, wrapNonce, wrapped, p.data]);
    } finally {
      dataKey.fill(0);
    }
  }

  /** The master key id a blob was wrapped under. */
  static keyIdOf(sealed: Uint8Array): string {
    return parse(sealed).keyId;
  }

  private unwrap(p: Parsed, context: string): Buffer {
    const kek = this.keys.get(p.keyId);
    if (!kek) throw new SealError('seal.key-unknown', `"${context}" is sealed under master key ${p.keyId}, which this deployment was not given (active: ${this.active.keyId})`);
    return this.guard(context, () => decrypt(p.cipher, kek.kek(p.cipher), p.wrapped.subarray(0, NONCE), p.wrapped.subarray(NONCE), wrapAad(p.header, context)));
  }

  private guard<T>(context: string, fn: () => T): T {
    try {
      return fn();
    } catch {
      // Authentication failed: damaged bytes, or a blob that belongs to another row.
      throw new SealError('seal.integrity', `sealed object "${context}" does not authenticate: it was altered or belongs to another record`);
    }
  }
}

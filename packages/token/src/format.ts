/**
 * The token file: one JSON document (UTF-8) per device, described in docs/token.md. Everything
 * secret is inside AEAD-sealed fields; the rest — labels, retry counters, public keys and
 * certificates — is in the clear, as a GM/T 0016 device lets anyone enumerate containers and read
 * certificates without a PIN. Reading is strict: a file that does not match the schema is a
 * TokenError "token.corrupt", never a crash half-way through an operation.
 */
import { TokenError } from './errors.js';
import { checkKdfParams, type CipherName, type KdfParams, type Sealed } from './protection.js';

export const FORMAT = 'hpki-soft-token';
export const FORMAT_VERSION = 1;

/** The two key slots of a container, as in SKF: a signing key pair and an encryption key pair. */
export type SlotName = 'signing' | 'encryption';
export const SLOTS: readonly SlotName[] = ['signing', 'encryption'];

/** The public side of a key slot. */
export interface SlotPublic {
  /** SubjectPublicKeyInfo DER of the slot's key pair (absent: no key yet). */
  publicKey?: Buffer;
  /** The slot's certificate, DER (may arrive before the encryption key). */
  certificate?: Buffer;
}

/** A container as anyone may list it. */
export interface ContainerPublic {
  name: string;
  signing: SlotPublic;
  encryption: SlotPublic;
}

/** A PIN's retry counter and its wrap of the data key. */
export interface PinRecord {
  maxRetries: number;
  /** Tries left; 0 means locked. Decremented on disk before a PIN is checked. */
  remaining: number;
  salt: Buffer;
  wrappedKey: Sealed;
}

/** An unblock the token asked for and the CA has not answered yet. */
export interface PendingUnblock {
  challenge: Buffer;
  /** The ephemeral SM2 key the CA's response is encrypted to (PKCS#8); deleted once used. */
  ephemeralKey: Buffer;
  createdAt: string;
  expiresAt: string;
}

/** An application: its PINs, its sealed contents and the public mirror of its containers. */
export interface ApplicationRecord {
  name: string;
  kdf: KdfParams;
  cipher: CipherName;
  user: PinRecord;
  admin: PinRecord;
  sealed: Sealed;
  containers: ContainerPublic[];
  pendingUnblock?: PendingUnblock;
  /** SM3 of answered (or spent) unblock challenges, newest last, hex; a replay is refused. */
  spentChallenges: string[];
}

/** The whole device. */
export interface TokenRecord {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  tokenId: string;
  label: string;
  createdAt: string;
  applications: ApplicationRecord[];
}

// ---- reading --------------------------------------------------------------------------------

type Json = unknown;

function corrupt(path: string, why: string): never {
  throw new TokenError('corrupt', `token file is damaged or not a token (${path}: ${why})`);
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) corrupt(path, 'expected an object');
  return v as Record<string, Json>;
}

function str(v: Json, path: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) corrupt(path, 'expected a string of the right form');
  return v;
}

function int(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) corrupt(path, `expected a whole number in [${min}, ${max}]`);
  return v;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bytes(v: Json, path: string, length?: number): Buffer {
  const s = str(v, path, B64);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) corrupt(path, 'not canonical base64');
  if (length !== undefined && b.length !== length) corrupt(path, `expected ${length} bytes`);
  return b;
}

function optionalBytes(v: Json, path: string): Buffer | undefined {
  return v === undefined ? undefined : bytes(v, path);
}

function sealed(v: Json, path: string): Sealed {
  const o = obj(v, path);
  return { iv: bytes(o.iv, `${path}.iv`, 12), ciphertext: bytes(o.ciphertext, `${path}.ciphertext`), tag: bytes(o.tag, `${path}.tag`, 16) };
}

function pinRecord(v: Json, path: string): PinRecord {
  const o = obj(v, path);
  const maxRetries = int(o.maxRetries, `${path}.maxRetries`, 1, 100);
  return { maxRetries, remaining: int(o.remaining, `${path}.remaining`, 0, maxRetries), salt: bytes(o.salt, `${path}.salt`, 16), wrappedKey: sealed(o.wrappedKey, `${path}.wrappedKey`) };
}

function kdf(v: Json, path: string): KdfParams {
  const o = obj(v, path);
  let k: KdfParams;
  if (o.alg === 'scrypt') k = { alg: 'scrypt', N: int(o.N, `${path}.N`, 1, 2 ** 30), r: int(o.r, `${path}.r`, 1, 1024), p: int(o.p, `${path}.p`, 1, 1024) };
  else if (o.alg === 'pbkdf2-sm3') k = { alg: 'pbkdf2-sm3', iterations: int(o.iterations, `${path}.iterations`, 1, 2 ** 31) };
  else corrupt(`${path}.alg`, 'unknown KDF');
  return checkKdfParams(k, 'corrupt');
}

function slot(v: Json, path: string): SlotPublic {
  const o = obj(v, path);
  return { publicKey: optionalBytes(o.publicKey, `${path}.publicKey`), certificate: optionalBytes(o.certificate, `${path}.certificate`) };
}

/** Names of applications and containers: what SKF allows (up to 32 bytes), minus control characters. */
export const NAME_PATTERN = /^[^\0-\x1f\x7f]{1,32}$/u;

function container(v: Json, path: string): ContainerPublic {
  const o = obj(v, path);
  return { name: str(o.name, `${path}.name`, NAME_PATTERN), signing: slot(o.signing, `${path}.signing`), encryption: slot(o.encryption, `${path}.encryption`) };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function application(v: Json, path: string): ApplicationRecord {
  const o = obj(v, path);
  const cipher = str(o.cipher, `${path}.cipher`);
  if (cipher !== 'sm4-gcm' && cipher !== 'aes-256-gcm') corrupt(`${path}.cipher`, 'unknown cipher');
  const containers = Array.isArray(o.containers) ? o.containers.map((c, i) => container(c, `${path}.containers[${i}]`)) : corrupt(`${path}.containers`, 'expected an array');
  if (new Set(containers.map((c) => c.name)).size !== containers.length) corrupt(`${path}.containers`, 'duplicate container names');
  let pendingUnblock: PendingUnblock | undefined;
  if (o.pendingUnblock !== undefined) {
    const p = obj(o.pendingUnblock, `${path}.pendingUnblock`);
    pendingUnblock = {
      challenge: bytes(p.challenge, `${path}.pendingUnblock.challenge`, 32),
      ephemeralKey: bytes(p.ephemeralKey, `${path}.pendingUnblock.ephemeralKey`),
      createdAt: str(p.createdAt, `${path}.pendingUnblock.createdAt`, ISO_TIME),
      expiresAt: str(p.expiresAt, `${path}.pendingUnblock.expiresAt`, ISO_TIME),
    };
  }
  const spent = Array.isArray(o.spentChallenges) ? o.spentChallenges.map((s, i) => str(s, `${path}.spentChallenges[${i}]`, /^[0-9a-f]{64}$/)) : corrupt(`${path}.spentChallenges`, 'expected an array');
  return {
    name: str(o.name, `${path}.name`, NAME_PATTERN),
    kdf: kdf(o.kdf, `${path}.kdf`),
    cipher,
    user: pinRecord(o.user, `${path}.user`),
    admin: pinRecord(o.admin, `${path}.admin`),
    sealed: sealed(o.sealed, `${path}.sealed`),
    containers,
    pendingUnblock,
    spentChallenges: spent,
  };
}

/** Parses and checks a token file's bytes. */
export function parseTokenFile(data: Uint8Array): TokenRecord {
  let json: Json;
  try {
    json = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return corrupt('$', 'not JSON (truncated?)');
  }
  const o = obj(json, '$');
  if (o.format !== FORMAT) corrupt('$.format', `not "${FORMAT}"`);
  if (o.version !== FORMAT_VERSION) corrupt('$.version', `version ${String(o.version)} is not supported (this software reads ${FORMAT_VERSION})`);
  const apps = Array.isArray(o.applications) ? o.applications.map((a, i) => application(a, `$.applications[${i}]`)) : corrupt('$.applications', 'expected an array');
  if (new Set(apps.map((a) => a.name)).size !== apps.length) corrupt('$.applications', 'duplicate application names');
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    tokenId: str(o.tokenId, '$.tokenId', /^[0-9a-f]{32}$/),
    label: str(o.label, '$.label', /^[^\0]{0,64}$/u),
    createdAt: str(o.createdAt, '$.createdAt', ISO_TIME),
    applications: apps,
  };
}

// ---- writing --------------------------------------------------------------------------------

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

function sealedJson(s: Sealed): Record<string, string> {
  return { iv: b64(s.iv), ciphertext: b64(s.ciphertext), tag: b64(s.tag) };
}

function pinJson(p: PinRecord): Record<string, unknown> {
  return { maxRetries: p.maxRetries, remaining: p.remaining, salt: b64(p.salt), wrappedKey: sealedJson(p.wrappedKey) };
}

function slotJson(s: SlotPublic): Record<string, string> {
  const out: Record<string, string> = {};
  if (s.publicKey) out.publicKey = b64(s.publicKey);
  if (s.certificate) out.certificate = b64(s.certificate);
  return out;
}

/** The file's bytes for a record (pretty JSON, so that an operator can read counters and labels). */
export function serializeTokenFile(t: TokenRecord): Buffer {
  const doc = {
    format: t.format,
    version: t.version,
    tokenId: t.tokenId,
    label: t.label,
    createdAt: t.createdAt,
    applications: t.applications.map((a) => ({
      name: a.name,
      kdf: a.kdf,
      cipher: a.cipher,
      user: pinJson(a.user),
      admin: pinJson(a.admin),
      sealed: sealedJson(a.sealed),
      containers: a.containers.map((c) => ({ name: c.name, signing: slotJson(c.signing), encryption: slotJson(c.encryption) })),
      ...(a.pendingUnblock
        ? {
            pendingUnblock: {
              challenge: b64(a.pendingUnblock.challenge),
              ephemeralKey: b64(a.pendingUnblock.ephemeralKey),
              createdAt: a.pendingUnblock.createdAt,
              expiresAt: a.pendingUnblock.expiresAt,
            },
          }
        : {}),
      spentChallenges: a.spentChallenges,
    })),
  };
  return Buffer.from(JSON.stringify(doc, null, 2) + '\n', 'utf8');
}

/** The application named `name`, or TokenError "application.notFound". */
export function findApplication(t: TokenRecord, name: string): ApplicationRecord {
  const a = t.applications.find((x) => x.name === name);
  if (!a) throw new TokenError('application.notFound', `no application "${name}" on this token (it has: ${t.applications.map((x) => x.name).join(', ') || 'none'})`);
  return a;
}

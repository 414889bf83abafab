/**
 * PIN unblock through the CA (the remote form of SKF_UnblockPIN). The CA keeps each token's admin
 * PIN from issuance; the holder never sees it.
 *
 * 1. The token makes a request: a fresh 32-byte challenge, a fresh ephemeral SM2 public key, and
 *    what the CA needs to use the admin PIN — the KDF parameters, the admin salt and the data key
 *    wrapped under the admin-PIN key. It remembers the challenge and the ephemeral private key.
 * 2. After an RA officer has authorised it, the CA calls answerUnblockChallenge(adminPin, tokenId,
 *    request): it derives the admin key, unwraps the data key (which proves the request really comes
 *    from the token with that id and admin PIN: the wrap's associated data names the token), and
 *    returns the data key SM2-encrypted to the ephemeral key, with an HMAC-SM3 under the data key
 *    over (token id, application, challenge, ephemeral key).
 * 3. The token decrypts with the ephemeral key it kept, checks the MAC and that the key opens its
 *    contents, re-wraps the data key under the new user PIN chosen locally, resets the counter,
 *    and forgets the challenge and the ephemeral key. A second use of the same response (or one
 *    made for an earlier challenge) finds no matching pending challenge and is refused; a response
 *    for another token does not match its id, its challenge, its ephemeral key or its data key.
 *
 * The new user PIN is never sent to the CA, and the admin PIN and the key derived from it never
 * leave the CA. What the holder learns is the data key, which any user-PIN holder's software has in
 * memory during a session anyway.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PkiError, generateKey, importPrivateKey, sm2Decrypt, sm2Encrypt, sm3 } from '@health-pki/pki';
import { TokenError } from './errors.js';
import type { ApplicationRecord } from './format.js';
import { checkKdfParams, deriveKek, keyLength, unseal, wrapAad, type CipherName, type KdfParams, type Sealed } from './protection.js';

export const UNBLOCK_REQUEST_FORMAT = 'hpki-unblock-request';
export const UNBLOCK_RESPONSE_FORMAT = 'hpki-unblock-response';

/** What the token sends to the CA (JSON; binary fields base64). */
export interface UnblockRequest {
  format: typeof UNBLOCK_REQUEST_FORMAT;
  version: 1;
  tokenId: string;
  application: string;
  /** 32 random bytes. */
  challenge: string;
  /** The ephemeral SM2 public point 04‖x‖y the response is encrypted to. */
  ephemeralPublicKey: string;
  kdf: KdfParams;
  cipher: CipherName;
  adminSalt: string;
  adminWrappedKey: { iv: string; ciphertext: string; tag: string };
  createdAt: string;
  expiresAt: string;
}

/** What the CA answers (JSON; binary fields base64). */
export interface UnblockResponse {
  format: typeof UNBLOCK_RESPONSE_FORMAT;
  version: 1;
  tokenId: string;
  application: string;
  challenge: string;
  /** SM2Cipher DER: the data key encrypted to the request's ephemeral key. */
  encryptedKey: string;
  /** HMAC-SM3 under the data key over the binding (see responseMac). */
  mac: string;
}

function bad(reason: string, why: string): never {
  throw new TokenError(reason, why);
}

function field(o: Record<string, unknown>, name: string, reason: string): string {
  const v = o[name];
  if (typeof v !== 'string') bad(reason, `${name} is missing`);
  return v;
}

function b64Field(o: Record<string, unknown>, name: string, reason: string, length?: number): Buffer {
  const s = field(o, name, reason);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s || (length !== undefined && b.length !== length)) bad(reason, `${name} is not ${length ?? 'valid'}${length ? '-byte ' : ' '}base64`);
  return b;
}

function asObject(input: unknown, reason: string, what: string): Record<string, unknown> {
  let v = input;
  if (typeof v === 'string' || v instanceof Uint8Array) {
    try {
      v = JSON.parse(typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));
    } catch {
      bad(reason, `the ${what} is not JSON`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(reason, `the ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Reads and checks an unblock request (object, JSON text or bytes); TokenError "unblock.request" when malformed. */
export function parseUnblockRequest(input: unknown): UnblockRequest & { parsed: { challenge: Buffer; ephemeralPoint: Buffer; adminSalt: Buffer; adminWrappedKey: Sealed } } {
  const R = 'unblock.request';
  const o = asObject(input, R, 'unblock request');
  if (o.format !== UNBLOCK_REQUEST_FORMAT || o.version !== 1) bad(R, `not an ${UNBLOCK_REQUEST_FORMAT} version 1`);
  const tokenId = field(o, 'tokenId', R);
  if (!/^[0-9a-f]{32}$/.test(tokenId)) bad(R, 'tokenId is not 32 hex digits');
  const application = field(o, 'application', R);
  const cipher = field(o, 'cipher', R);
  if (cipher !== 'sm4-gcm' && cipher !== 'aes-256-gcm') bad(R, `unknown cipher ${cipher}`);
  const k = o.kdf;
  if (typeof k !== 'object' || k === null) bad(R, 'kdf is missing');
  const ko = k as Record<string, unknown>;
  const kdfIn: KdfParams =
    ko.alg === 'scrypt'
      ? { alg: 'scrypt', N: Number(ko.N), r: Number(ko.r), p: Number(ko.p) }
      : ko.alg === 'pbkdf2-sm3'
        ? { alg: 'pbkdf2-sm3', iterations: Number(ko.iterations) }
        : bad(R, `unknown KDF ${String(ko.alg)}`);
  const kdf = checkKdfParams(kdfIn, R);
  const w = o.adminWrappedKey;
  if (typeof w !== 'object' || w === null) bad(R, 'adminWrappedKey is missing');
  const wo = w as Record<string, unknown>;
  const adminWrappedKey = { iv: b64Field(wo, 'iv', R, 12), ciphertext: b64Field(wo, 'ciphertext', R), tag: b64Field(wo, 'tag', R, 16) };
  const createdAt = field(o, 'createdAt', R);
  const expiresAt = field(o, 'expiresAt', R);
  if (Number.isNaN(Date.parse(createdAt)) || Number.isNaN(Date.parse(expiresAt))) bad(R, 'createdAt/expiresAt are not times');
  const parsed = {
    challenge: b64Field(o, 'challenge', R, 32),
    ephemeralPoint: b64Field(o, 'ephemeralPublicKey', R, 65),
    adminSalt: b64Field(o, 'adminSalt', R, 16),
    adminWrappedKey,
  };
  return {
    format: UNBLOCK_REQUEST_FORMAT,
    version: 1,
    tokenId,
    application,
    challenge: field(o, 'challenge', R),
    ephemeralPublicKey: field(o, 'ephemeralPublicKey', R),
    kdf,
    cipher,
    adminSalt: field(o, 'adminSalt', R),
    adminWrappedKey: { iv: field(wo, 'iv', R), ciphertext: field(wo, 'ciphertext', R), tag: field(wo, 'tag', R) },
    createdAt,
    expiresAt,
    parsed,
  };
}

/** Reads and checks an unblock response; TokenError "unblock.response" when malformed. */
export function parseUnblockResponse(input: unknown): UnblockResponse & { parsed: { challenge: Buffer; encryptedKey: Buffer; mac: Buffer } } {
  const R = 'unblock.response';
  const o = asObject(input, R, 'unblock response');
  if (o.format !== UNBLOCK_RESPONSE_FORMAT || o.version !== 1) bad(R, `not an ${UNBLOCK_RESPONSE_FORMAT} version 1`);
  const parsed = { challenge: b64Field(o, 'challenge', R, 32), encryptedKey: b64Field(o, 'encryptedKey', R), mac: b64Field(o, 'mac', R, 32) };
  return {
    format: UNBLOCK_RESPONSE_FORMAT,
    version: 1,
    tokenId: field(o, 'tokenId', R),
    application: field(o, 'application', R),
    challenge: field(o, 'challenge', R),
    encryptedKey: field(o, 'encryptedKey', R),
    mac: field(o, 'mac', R),
    parsed,
  };
}

/** HMAC-SM3(dataKey, label ‖ tokenId ‖ 0 ‖ application ‖ 0 ‖ challenge ‖ ephemeral point). */
export function responseMac(dataKey: Uint8Array, tokenId: string, application: string, challenge: Uint8Array, ephemeralPoint: Uint8Array): Buffer {
  return createHmac('sm3', dataKey)
    .update(`hpki-unblock-response/1\0${tokenId}\0${application}\0`, 'utf8')
    .update(challenge)
    .update(ephemeralPoint)
    .digest();
}

/** Options of answerUnblockChallenge. */
export interface AnswerOptions {
  /** The time to judge the request's expiry by (default now). */
  now?: Date;
}

/**
 * The CA's side: answers a token's unblock request with the admin PIN recorded for `tokenId`.
 * Call it only after an RA officer has authorised the unblock. Refuses (TokenError) a request
 * for another token ("unblock.tokenMismatch"), an expired one ("unblock.expired"), and one the
 * admin PIN does not open ("unblock.adminPin": wrong PIN on record, or an altered request).
 */
export function answerUnblockChallenge(adminPin: string, tokenId: string, request: UnblockRequest | string | Uint8Array, opts: AnswerOptions = {}): UnblockResponse {
  const req = parseUnblockRequest(request);
  if (req.tokenId !== tokenId) throw new TokenError('unblock.tokenMismatch', `the request comes from token ${req.tokenId}, not ${tokenId}`);
  if ((opts.now ?? new Date()).getTime() > Date.parse(req.expiresAt)) throw new TokenError('unblock.expired', 'the unblock request has expired: ask the holder for a new one');
  const kek = deriveKek(adminPin, req.parsed.adminSalt, req.kdf, req.cipher);
  const dataKey = unseal(req.cipher, kek, req.parsed.adminWrappedKey, wrapAad(req.tokenId, req.application, 'admin'));
  kek.fill(0);
  if (!dataKey || dataKey.length !== keyLength(req.cipher)) {
    throw new TokenError('unblock.adminPin', 'the admin PIN on record does not open this token (wrong PIN, or the request was altered)');
  }
  try {
    let encryptedKey: Uint8Array;
    try {
      encryptedKey = sm2Encrypt(req.parsed.ephemeralPoint, dataKey);
    } catch (e) {
      if (e instanceof PkiError) throw new TokenError('unblock.request', 'the ephemeral public key is not an SM2 point', { cause: e });
      throw e;
    }
    const mac = responseMac(dataKey, req.tokenId, req.application, req.parsed.challenge, req.parsed.ephemeralPoint);
    return {
      format: UNBLOCK_RESPONSE_FORMAT,
      version: 1,
      tokenId: req.tokenId,
      application: req.application,
      challenge: req.challenge,
      encryptedKey: Buffer.from(encryptedKey).toString('base64'),
      mac: mac.toString('base64'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** The hex SM3 of a challenge, as kept in the spent list. */
export function challengeDigest(challenge: Uint8Array): string {
  return Buffer.from(sm3(challenge)).toString('hex');
}

/** Makes a new pending unblock for an application and the request that goes with it. */
export function newUnblockRequest(tokenId: string, app: ApplicationRecord, now: Date, validForMs: number): UnblockRequest {
  const challenge = randomBytes(32);
  const eph = generateKey('sm2');
  const createdAt = now.toISOString();
  const expiresAt = new Date(now.getTime() + validForMs).toISOString();
  app.pendingUnblock = { challenge, ephemeralKey: eph.pkcs8, createdAt, expiresAt };
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return {
    format: UNBLOCK_REQUEST_FORMAT,
    version: 1,
    tokenId,
    application: app.name,
    challenge: b64(challenge),
    ephemeralPublicKey: b64(eph.publicKey.sm2Point!),
    kdf: app.kdf,
    cipher: app.cipher,
    adminSalt: b64(app.admin.salt),
    adminWrappedKey: { iv: b64(app.admin.wrappedKey.iv), ciphertext: b64(app.admin.wrappedKey.ciphertext), tag: b64(app.admin.wrappedKey.tag) },
    createdAt,
    expiresAt,
  };
}

/**
 * The token's side: checks a response against the application's pending unblock and returns the
 * data key it carries. Refuses a response that matches no pending challenge ("unblock.challenge":
 * replayed, for an older request, or for another token) and one that does not verify
 * ("unblock.response"). The caller still checks that the key opens the contents.
 */
export function dataKeyFromResponse(tokenId: string, app: ApplicationRecord, response: ReturnType<typeof parseUnblockResponse>, now: Date): Buffer {
  const pending = app.pendingUnblock;
  const r = response.parsed;
  if (response.tokenId !== tokenId || response.application !== app.name) {
    throw new TokenError('unblock.challenge', `the response is for token ${response.tokenId} application "${response.application}", not this one`);
  }
  if (app.spentChallenges.includes(challengeDigest(r.challenge))) throw new TokenError('unblock.challenge', 'this unblock response was already used (replay refused)');
  if (!pending || !timingSafeEqual(pending.challenge, r.challenge)) {
    throw new TokenError('unblock.challenge', 'the response does not answer the pending unblock request of this token (replayed, or for an older request)');
  }
  if (now.getTime() > Date.parse(pending.expiresAt)) throw new TokenError('unblock.expired', 'the unblock request has expired: make a new one');
  const eph = importPrivateKey(pending.ephemeralKey);
  let dataKey: Buffer;
  try {
    dataKey = sm2Decrypt(eph.sm2D!, r.encryptedKey);
  } catch (e) {
    throw new TokenError('unblock.response', 'the unblock response does not decrypt (altered, or not made for this request)', { cause: e });
  }
  const expected = responseMac(dataKey, tokenId, app.name, pending.challenge, eph.publicKey.sm2Point!);
  if (dataKey.length !== keyLength(app.cipher) || !timingSafeEqual(expected, r.mac)) {
    dataKey.fill(0);
    throw new TokenError('unblock.response', 'the unblock response does not verify (altered, or not made for this request)');
  }
  return dataKey;
}

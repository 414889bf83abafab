/**
 * A file-backed software certificate token with GM/T 0016 (SKF) semantics: a device holds
 * applications; each application has a user PIN and an admin (SO) PIN with retry counters and
 * holds containers; each container holds a signing and an encryption key pair and their
 * certificates. This class is the device: PIN management, listing and the PIN unblock flow.
 * Key operations happen in a TokenSession obtained with login().
 */
import { randomBytes } from 'node:crypto';
import { Certificate, publicKeyFromSpki, type PublicKey } from '@health-pki/pki';
import { TokenError, type PinRole } from './errors.js';
import { FORMAT, FORMAT_VERSION, NAME_PATTERN, findApplication, type ApplicationRecord, type SlotName, type TokenRecord } from './format.js';
import { emptyContents, openContents, sealContents, tryOpenContents } from './contents.js';
import { pinStatus, tokenInfo, type PinStatus, type TokenInfo } from './info.js';
import { checkPin, newPinRecord } from './pins.js';
import { DEFAULT_CIPHER, DEFAULT_KDF, checkKdfParams, checkNewPin, keyLength, type CipherName, type KdfParams } from './protection.js';
import { createToken, readToken, withToken, type LockedToken } from './store.js';
import { TokenSession } from './session.js';
import { challengeDigest, dataKeyFromResponse, newUnblockRequest, parseUnblockResponse, type UnblockRequest, type UnblockResponse } from './unblock.js';

/** The application name used when none is given. */
export const DEFAULT_APPLICATION = 'HPKI';
/** Default retry counters: 6 for the user PIN, 10 for the admin PIN (common SKF device defaults). */
export const DEFAULT_USER_RETRIES = 6;
export const DEFAULT_ADMIN_RETRIES = 10;
/** How long an unblock request stays answerable by default: a week, for the RA's identity check. */
export const DEFAULT_UNBLOCK_VALIDITY_MS = 7 * 24 * 3600 * 1000;
/** How many spent challenges an application remembers. */
const SPENT_KEPT = 64;

/** Settings of a new application. */
export interface ApplicationOptions {
  userPin: string;
  adminPin: string;
  userMaxRetries?: number;
  adminMaxRetries?: number;
  kdf?: KdfParams;
  cipher?: CipherName;
}

/** Settings of a new token. */
export interface InitOptions extends ApplicationOptions {
  label?: string;
  /** The first application's name (default "HPKI"). */
  application?: string;
}

function checkRetries(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new TokenError('pin.policy', `${what} must be a whole number from 1 to 100`);
  return n;
}

function newApplication(tokenId: string, name: string, opts: ApplicationOptions): ApplicationRecord {
  if (!NAME_PATTERN.test(name)) throw new TokenError('application.name', 'an application name is 1 to 32 characters without control characters');
  const kdf = checkKdfParams(opts.kdf ?? DEFAULT_KDF, 'kdf');
  const cipher = opts.cipher ?? DEFAULT_CIPHER;
  const base = { name, kdf, cipher };
  const dataKey = randomBytes(keyLength(cipher));
  try {
    const app: ApplicationRecord = {
      ...base,
      user: newPinRecord(tokenId, base, 'user', opts.userPin, dataKey, checkRetries(opts.userMaxRetries ?? DEFAULT_USER_RETRIES, 'user PIN retries')),
      admin: newPinRecord(tokenId, base, 'admin', opts.adminPin, dataKey, checkRetries(opts.adminMaxRetries ?? DEFAULT_ADMIN_RETRIES, 'admin PIN retries')),
      sealed: { iv: Buffer.alloc(12), ciphertext: Buffer.alloc(0), tag: Buffer.alloc(16) },
      containers: [],
      spentChallenges: [],
    };
    sealContents(tokenId, app, dataKey, emptyContents());
    return app;
  } finally {
    dataKey.fill(0);
  }
}

function spend(app: ApplicationRecord, challenge: Uint8Array): void {
  app.spentChallenges = [...app.spentChallenges.filter((d) => d !== challengeDigest(challenge)), challengeDigest(challenge)].slice(-SPENT_KEPT);
  app.pendingUnblock = undefined;
}

/** A software token kept in one file. */
export class SoftToken {
  readonly path: string;
  readonly tokenId: string;

  private constructor(path: string, tokenId: string) {
    this.path = path;
    this.tokenId = tokenId;
  }

  /** Creates a new token file with one application (SKF device initialisation + SKF_CreateApplication). */
  static init(path: string, opts: InitOptions): SoftToken {
    const tokenId = randomBytes(16).toString('hex');
    const label = opts.label ?? 'health-pki soft token';
    if (!/^[^\0]{0,64}$/u.test(label)) throw new TokenError('label', 'a token label is at most 64 characters');
    const record: TokenRecord = {
      format: FORMAT,
      version: FORMAT_VERSION,
      tokenId,
      label,
      createdAt: new Date().toISOString(),
      applications: [newApplication(tokenId, opts.application ?? DEFAULT_APPLICATION, opts)],
    };
    createToken(path, record);
    return new SoftToken(path, tokenId);
  }

  /** Opens an existing token file (TokenError "notFound" or "corrupt" otherwise). */
  static open(path: string): SoftToken {
    return new SoftToken(path, readToken(path).tokenId);
  }

  private locked<T>(fn: (t: LockedToken) => T): T {
    return withToken(this.path, (t) => {
      if (t.record.tokenId !== this.tokenId) throw new TokenError('stale', 'the token file was replaced by another token');
      return fn(t);
    });
  }

  /** Everything readable without a PIN. */
  info(): TokenInfo {
    return tokenInfo(readToken(this.path));
  }

  /** Adds an application with its own PINs (SKF_CreateApplication; the device authentication key of SKF is not modelled). */
  createApplication(name: string, opts: ApplicationOptions): void {
    this.locked((t) => {
      if (t.record.applications.some((a) => a.name === name)) throw new TokenError('application.exists', `application "${name}" already exists`);
      t.record.applications.push(newApplication(t.record.tokenId, name, opts));
      t.save();
    });
  }

  /** A PIN's retry counter (SKF_GetPINInfo). */
  pinStatus(application: string, role: PinRole): PinStatus {
    return pinStatus(findApplication(readToken(this.path), application)[role]);
  }

  /** Checks a PIN (SKF_VerifyPIN); PinIncorrectError with the tries left, or PinLockedError. */
  verifyPin(application: string, role: PinRole, pin: string): void {
    this.locked((t) => {
      const app = findApplication(t.record, application);
      checkPin(t, app, role, pin).fill(0);
      t.save();
    });
  }

  /** Verifies the user PIN and opens a session for key operations. */
  login(application: string, userPin: string): TokenSession {
    const dataKey = this.locked((t) => {
      const app = findApplication(t.record, application);
      const key = checkPin(t, app, 'user', userPin);
      t.save();
      try {
        // Notice at login, not at first use, that the file was altered outside the token.
        openContents(t.record.tokenId, app, key);
      } catch (e) {
        key.fill(0);
        throw e;
      }
      return key;
    });
    return new TokenSession(this.path, this.tokenId, application, dataKey);
  }

  /** Changes a PIN, knowing the old one (SKF_ChangePIN). A wrong old PIN spends a try. */
  changePin(application: string, role: PinRole, oldPin: string, newPin: string): void {
    checkNewPin(newPin, `new ${role} PIN`); // before the old PIN spends a try
    this.locked((t) => {
      const app = findApplication(t.record, application);
      const dataKey = checkPin(t, app, role, oldPin);
      try {
        app[role] = newPinRecord(t.record.tokenId, app, role, newPin, dataKey, app[role].maxRetries);
      } finally {
        dataKey.fill(0);
      }
      t.save();
    });
  }

  /** Sets a new user PIN with the admin PIN and resets its counter (SKF_UnblockPIN, when the admin PIN is at hand). */
  unblockPin(application: string, adminPin: string, newUserPin: string): void {
    checkNewPin(newUserPin, 'new user PIN');
    this.locked((t) => {
      const app = findApplication(t.record, application);
      const dataKey = checkPin(t, app, 'admin', adminPin);
      try {
        app.user = newPinRecord(t.record.tokenId, app, 'user', newUserPin, dataKey, app.user.maxRetries);
      } finally {
        dataKey.fill(0);
      }
      t.save();
    });
  }

  /**
   * Starts a PIN unblock through the CA: makes a fresh challenge and ephemeral key, remembers them,
   * and returns the request to send to the CA. A newer request replaces (and spends) an older one.
   */
  requestUnblock(application: string, opts: { validForMs?: number; now?: Date } = {}): UnblockRequest {
    return this.locked((t) => {
      const app = findApplication(t.record, application);
      if (app.pendingUnblock) spend(app, app.pendingUnblock.challenge);
      const req = newUnblockRequest(t.record.tokenId, app, opts.now ?? new Date(), opts.validForMs ?? DEFAULT_UNBLOCK_VALIDITY_MS);
      t.save();
      return req;
    });
  }

  /**
   * Completes a PIN unblock with the CA's response: sets `newUserPin` (chosen here, never sent to
   * the CA) and resets the user PIN's counter. The pending challenge is spent whether the response
   * verifies or not, so each challenge admits one attempt; a response that matches no pending
   * challenge (replayed, older, another token's) is refused without spending anything.
   */
  applyUnblock(application: string, response: UnblockResponse | string | Uint8Array, newUserPin: string, opts: { now?: Date } = {}): void {
    checkNewPin(newUserPin, 'new user PIN');
    const parsed = parseUnblockResponse(response);
    this.locked((t) => {
      const app = findApplication(t.record, application);
      let dataKey: Buffer;
      try {
        dataKey = dataKeyFromResponse(t.record.tokenId, app, parsed, opts.now ?? new Date());
      } catch (e) {
        if (e instanceof TokenError && e.code === 'token.unblock.response') {
          spend(app, parsed.parsed.challenge);
          t.save();
        }
        throw e;
      }
      try {
        if (!tryOpenContents(t.record.tokenId, app, dataKey)) {
          spend(app, parsed.parsed.challenge);
          t.save();
          throw new TokenError('unblock.response', 'the key in the unblock response does not open this token');
        }
        app.user = newPinRecord(t.record.tokenId, app, 'user', newUserPin, dataKey, app.user.maxRetries);
      } finally {
        dataKey.fill(0);
      }
      spend(app, parsed.parsed.challenge);
      t.save();
    });
  }

  /** A slot's certificate, readable without a PIN (SKF_ExportCertificate). */
  exportCertificate(application: string, container: string, slot: SlotName): Certificate | undefined {
    const der = this.containerPublic(application, container)[slot].certificate;
    return der ? Certificate.parse(der) : undefined;
  }

  /** A slot's public key, readable without a PIN (SKF_ExportPublicKey). */
  exportPublicKey(application: string, container: string, slot: SlotName): PublicKey | undefined {
    const spki = this.containerPublic(application, container)[slot].publicKey;
    return spki ? publicKeyFromSpki(spki) : undefined;
  }

  private containerPublic(application: string, container: string) {
    const c = findApplication(readToken(this.path), application).containers.find((x) => x.name === container);
    if (!c) throw new TokenError('container.notFound', `no container "${container}"`);
    return c;
  }
}

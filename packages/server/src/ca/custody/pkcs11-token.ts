/**
 * One PKCS#11 token as this process uses it: the module loaded and initialised once per process
 * (several custodies of one process share it), one logged-in session on the token, reopened when
 * the module says the session is gone, and every Cryptoki failure turned into an HsmError that
 * says what to fix, never a crash. PKCS#11 calls are synchronous, and Node runs them on one
 * thread, so one session serves every caller without interleaving C_SignInit/C_Sign pairs.
 */
import { createRequire } from 'node:module';
import type * as Pkcs11Types from 'pkcs11js';
import { ServiceError } from '../../errors.js';

type Pkcs11Lib = typeof Pkcs11Types;
type Handle = Buffer;

/** An HSM that is missing, misconfigured or failing: refused with a code such as "hsm.pin" (503). */
export class HsmError extends ServiceError {
  constructor(code: string, message: string) {
    super(503, code, message);
  }
}

/** Where the token is and how to log in. */
export interface Pkcs11TokenConfig {
  /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** The token's label (CKA_LABEL of the token, as set at initialisation). */
  token: string;
  /** The user PIN. */
  pin: string;
}

interface LoadedModule {
  lib: Pkcs11Lib;
  p11: Pkcs11Types.PKCS11;
  users: number;
}

// Cryptoki may be initialised once per process: every token of one library shares the load.
const modules = new Map<string, LoadedModule>();
const require = createRequire(import.meta.url);

function acquireModule(path: string): LoadedModule {
  const hit = modules.get(path);
  if (hit) {
    hit.users++;
    return hit;
  }
  let lib: Pkcs11Lib;
  try {
    lib = require('pkcs11js') as Pkcs11Lib;
  } catch (e) {
    throw new HsmError('hsm.module', `the pkcs11js binding cannot be loaded: ${message(e)}`);
  }
  const p11 = new lib.PKCS11();
  try {
    p11.load(path);
  } catch (e) {
    throw new HsmError('hsm.module', `cannot load the PKCS#11 module "${path}": ${message(e)}`);
  }
  try {
    p11.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
  } catch (e) {
    if (ckr(e) !== lib.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      p11.close();
      throw new HsmError('hsm.module', `the PKCS#11 module "${path}" failed to initialise: ${message(e)}`);
    }
  }
  const loaded = { lib, p11, users: 1 };
  modules.set(path, loaded);
  return loaded;
}

function releaseModule(path: string): void {
  const m = modules.get(path);
  if (!m || --m.users > 0) return;
  modules.delete(path);
  try {
    m.p11.C_Finalize();
  } catch {
    // finalising a module that is already gone: nothing left to release
  }
  m.p11.close();
}

/** The CKR_ code of a Cryptoki error, or undefined for anything else. */
export function ckr(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A logged-in session on one token, reopened on demand. */
export class Pkcs11Token {
  /** The binding's constants (CKA_*, CKM_*, CKO_*, …). */
  readonly lib: Pkcs11Lib;
  readonly config: Pkcs11TokenConfig;
  private readonly p11: Pkcs11Types.PKCS11;
  private session: Handle | undefined;
  private closed = false;
  /** Bumped on each reconnect: object handles found before it may no longer be valid. */
  generation = 0;
  /** The token's serial number, read at login. */
  serial = '';

  private constructor(config: Pkcs11TokenConfig, loaded: LoadedModule) {
    this.config = config;
    this.lib = loaded.lib;
    this.p11 = loaded.p11;
  }

  /** Loads the module, finds the token and logs in; a missing module or token or a wrong PIN is a clear HsmError. */
  static open(config: Pkcs11TokenConfig): Pkcs11Token {
    const loaded = acquireModule(config.module);
    const token = new Pkcs11Token(config, loaded);
    try {
      token.connect();
    } catch (e) {
      releaseModule(config.module);
      throw e;
    }
    return token;
  }

  /** Runs `fn` with the session; if the module says the session or login is gone, reconnects once and runs it again. */
  run<T>(fn: (p11: Pkcs11Types.PKCS11, session: Handle) => T): T {
    if (this.closed) throw new HsmError('hsm.closed', `the session with token "${this.config.token}" is closed`);
    const session = this.session ?? this.connect();
    try {
      return fn(this.p11, session);
    } catch (e) {
      if (!this.isLostSession(e)) throw this.explain(e);
      this.session = undefined;
      try {
        return fn(this.p11, this.connect());
      } catch (again) {
        throw this.explain(again);
      }
    }
  }

  /** Logs out and closes the session; the module is finalised when its last token closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.session) {
      try {
        this.p11.C_Logout(this.session);
        this.p11.C_CloseSession(this.session);
      } catch {
        // the session died already
      }
      this.session = undefined;
    }
    releaseModule(this.config.module);
  }

  private connect(): Handle {
    const { lib, p11, config } = this;
    let slot: Handle | undefined;
    const seen: string[] = [];
    try {
      for (const s of p11.C_GetSlotList(true)) {
        const info = p11.C_GetTokenInfo(s);
        const label = info.label.trim();
        if (label) seen.push(label);
        if (label === config.token) {
          slot = s;
          this.serial = info.serialNumber.trim();
          break;
        }
      }
    } catch (e) {
      throw new HsmError('hsm.module', `the PKCS#11 module "${config.module}" cannot list its tokens: ${message(e)}`);
    }
    if (!slot) {
      throw new HsmError('hsm.token', `no token labelled "${config.token}" in "${config.module}"${seen.length ? `; its tokens are ${seen.map((l) => `"${l}"`).join(', ')}` : '; it has no initialised token'}`);
    }
    let session: Handle;
    try {
      session = p11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
    } catch (e) {
      throw new HsmError('hsm.session', `cannot open a session with token "${config.token}": ${message(e)}`);
    }
    try {
      p11.C_Login(session, lib.CKU_USER, config.pin);
    } catch (e) {
      const code = ckr(e);
      if (code !== lib.CKR_USER_ALREADY_LOGGED_IN) {
        try {
          p11.C_CloseSession(session);
        } catch {
          // nothing to close
        }
        if (code === lib.CKR_PIN_INCORRECT) throw new HsmError('hsm.pin', `wrong user PIN for token "${config.token}"`);
        if (code === lib.CKR_PIN_LOCKED) throw new HsmError('hsm.pin', `the user PIN of token "${config.token}" is locked; the token's security officer must unlock it`);
        if (code === lib.CKR_PIN_LEN_RANGE) throw new HsmError('hsm.pin', `the user PIN for token "${config.token}" has a length the token does not accept`);
        throw new HsmError('hsm.login', `cannot log in to token "${config.token}": ${message(e)}`);
      }
    }
    this.session = session;
    this.generation++;
    return session;
  }

  private isLostSession(e: unknown): boolean {
    const code = ckr(e);
    const { lib } = this;
    return (
      code === lib.CKR_SESSION_HANDLE_INVALID ||
      code === lib.CKR_SESSION_CLOSED ||
      code === lib.CKR_USER_NOT_LOGGED_IN ||
      code === lib.CKR_DEVICE_REMOVED ||
      code === lib.CKR_TOKEN_NOT_PRESENT ||
      code === lib.CKR_OBJECT_HANDLE_INVALID ||
      code === lib.CKR_KEY_HANDLE_INVALID
    );
  }

  private explain(e: unknown): Error {
    if (e instanceof ServiceError) return e;
    return new HsmError('hsm.device', `token "${this.config.token}" refused the operation: ${message(e)}`);
  }
}

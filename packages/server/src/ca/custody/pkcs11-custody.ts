/**
 * CA keys in an HSM through PKCS#11. What the database keeps ("sealed", protection "pkcs11") is
 * only a reference: the token's label, the key's CKA_ID and CKA_LABEL, and the public key. The
 * private key is generated inside the token, sensitive and not extractable, and every signature
 * is made there (pkcs11-keys.ts). Keys sealed under another protection (made before the HSM was
 * configured) are opened by the fallback custody.
 *
 * SM2 is refused: PKCS#11 has no standard SM2 mechanism; see docs/hsm.md.
 */
import { publicKeyFromSpki, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';
import type { KeyCustody } from '../key-custody.js';
import { HsmError, Pkcs11Token, type Pkcs11TokenConfig } from './pkcs11-token.js';
import { generateInToken, importIntoToken, Pkcs11Signer, tokenKey, type HsmKeyRef } from './pkcs11-keys.js';

/** The protection recorded beside keys this custody keeps. */
export const PKCS11_PROTECTION = 'pkcs11';

/** A key event for the audit log (generation, import, activation). */
export interface HsmKeyEvent {
  action: 'ca.key.generate' | 'ca.key.import' | 'ca.key.open';
  target: string;
  details: Record<string, unknown>;
}

/** What the PKCS#11 custody needs. */
export interface Pkcs11CustodyOptions extends Pkcs11TokenConfig {
  /** Opens keys sealed under other protections (e.g. those made before the HSM was configured). */
  fallback?: KeyCustody;
  /** Called for every key generated, imported or opened, to be written to the audit log. */
  audit?: (event: HsmKeyEvent) => void;
}

/** The stored reference: everything needed to find the key again, nothing secret. */
interface SealedRef extends HsmKeyRef {
  v: 1;
  /** The token's serial number when the key was made (informational: a restored token may differ). */
  tokenSerial: string;
  /** SubjectPublicKeyInfo, base64. */
  spki: string;
}

/** Keeps CA keys in a PKCS#11 token; one logged-in session per process. */
export class Pkcs11Custody implements KeyCustody {
  readonly protection = PKCS11_PROTECTION;
  private readonly token: Pkcs11Token;
  private readonly fallback?: KeyCustody;
  private readonly audit: (event: HsmKeyEvent) => void;

  /** Loads the module and logs in now, so that a missing module or token or a wrong PIN stops the start with a clear HsmError. */
  constructor(opts: Pkcs11CustodyOptions) {
    this.token = Pkcs11Token.open({ module: opts.module, token: opts.token, pin: opts.pin });
    this.fallback = opts.fallback;
    this.audit = opts.audit ?? (() => undefined);
  }

  /** The token this custody uses, e.g. for start-up messages. */
  get description(): string {
    return `PKCS#11 token "${this.token.config.token}" (serial ${this.token.serial}) in ${this.token.config.module}`;
  }

  /** Generates the key pair inside the token (C_GenerateKeyPair; CKA_SENSITIVE, not CKA_EXTRACTABLE). */
  generate(algorithm: KeyAlgorithm, label: string): PrivateKey {
    const made = generateInToken(this.token, algorithm, label);
    this.audit({ action: 'ca.key.generate', target: keyTarget(made.ref), details: { algorithm, label, mechanism: made.mechanism, tokenSerial: this.token.serial } });
    return tokenKey(this.token, made.ref, made.publicKey);
  }

  /** Records a reference to a key of this token; a software key is first moved into the token. */
  seal(key: PrivateKey): Buffer {
    let ref: HsmKeyRef;
    if (key.signer instanceof Pkcs11Signer && key.signer.token === this.token) {
      ref = key.signer.ref;
    } else if (key.signer) {
      throw new HsmError('hsm.key', `cannot keep a key held by ${key.signer.description} in token "${this.token.config.token}"`);
    } else {
      ref = importIntoToken(this.token, key, `hpki imported ${key.kind} ${new Date().toISOString()}`);
      this.audit({ action: 'ca.key.import', target: keyTarget(ref), details: { kind: key.kind, curve: key.curve, bits: key.bits, tokenSerial: this.token.serial } });
    }
    const sealed: SealedRef = { v: 1, token: ref.token, tokenSerial: this.token.serial, id: ref.id, label: ref.label, spki: key.publicKey.spki.toString('base64') };
    return Buffer.from(JSON.stringify(sealed));
  }

  /** Finds the referenced key on the token and returns a key that signs there; other protections go to the fallback. */
  open(sealed: Buffer, protection: string): PrivateKey {
    if (protection !== PKCS11_PROTECTION) {
      if (!this.fallback) throw new HsmError('hsm.protection', `this deployment cannot open CA keys protected as "${protection}"`);
      return this.fallback.open(sealed, protection);
    }
    const ref = parseRef(sealed);
    const publicKey = publicKeyFromSpki(Buffer.from(ref.spki, 'base64'));
    const key = tokenKey(this.token, ref, publicKey);
    (key.signer as Pkcs11Signer).check();
    this.audit({ action: 'ca.key.open', target: keyTarget(ref), details: { label: ref.label, tokenSerial: this.token.serial } });
    return key;
  }

  /** Logs out and closes the session. */
  close(): void {
    this.token.close();
  }
}

function keyTarget(ref: HsmKeyRef): string {
  return `hsm:${ref.token}/key:${ref.id}`;
}

function parseRef(sealed: Buffer): SealedRef {
  let ref: Partial<SealedRef>;
  try {
    ref = JSON.parse(sealed.toString('utf8')) as Partial<SealedRef>;
  } catch {
    throw new HsmError('hsm.reference', 'a CA key reference marked "pkcs11" is not readable');
  }
  if (ref.v !== 1 || typeof ref.id !== 'string' || !/^[0-9a-f]{2,128}$/.test(ref.id) || typeof ref.spki !== 'string' || typeof ref.token !== 'string') {
    throw new HsmError('hsm.reference', 'a CA key reference marked "pkcs11" lacks its token, CKA_ID or public key');
  }
  return { v: 1, token: ref.token, tokenSerial: String(ref.tokenSerial ?? ''), id: ref.id, label: String(ref.label ?? ''), spki: ref.spki };
}

/**
 * The PKCS#11 settings from the environment: HPKI_PKCS11_MODULE, HPKI_PKCS11_TOKEN and
 * HPKI_PKCS11_PIN; undefined when no module is named. A module without token or PIN is an error.
 */
export function pkcs11ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Pkcs11TokenConfig | undefined {
  return pkcs11Config({ module: env.HPKI_PKCS11_MODULE, token: env.HPKI_PKCS11_TOKEN, pin: env.HPKI_PKCS11_PIN });
}

/** Checks partial settings (start options over environment): all three or none. */
export function pkcs11Config(parts: Partial<Pkcs11TokenConfig>): Pkcs11TokenConfig | undefined {
  const { module, token, pin } = parts;
  if (!module) {
    if (token || pin) throw new HsmError('hsm.config', 'a PKCS#11 token or PIN is set but no module: set HPKI_PKCS11_MODULE (or --pkcs11-module) too');
    return undefined;
  }
  if (!token) throw new HsmError('hsm.config', 'the PKCS#11 module is set but not the token label: set HPKI_PKCS11_TOKEN (or --pkcs11-token)');
  if (pin === undefined || pin === '') throw new HsmError('hsm.config', 'the PKCS#11 module is set but not the user PIN: set HPKI_PKCS11_PIN (or --pkcs11-pin)');
  return { module, token, pin };
}

/**
 * Certificate login by challenge-response. The system asks for a challenge for its session; the
 * holder's token signs the bytes `toBeSigned` with the certificate's key; the system verifies.
 *
 * Signed data (UTF-8, fields separated by "\n", no trailing newline):
 *     health-pki sdk login v1
 *     nonce=<32 random bytes, base64>
 *     session=<SHA-256 of the session id, hex>
 * SM2 keys sign it with SM3 and the GM/T 0009 user ID (default "1234567812345678"), ECDSA keys with
 * SHA-256 (SHA-384 for P-384), RSA keys with SHA-256 PKCS#1 v1.5; signatures are DER (r, s) for
 * SM2/ECDSA. The fixed first line keeps a login signature from ever being taken for a signature
 * over a document; the session line binds it to the session that asked, so a signature captured
 * from one session is worthless in another.
 *
 * A challenge is random, expires after `ttlMs`, and is single use: `verify` consumes it whatever
 * the outcome (one attempt per challenge), so a replayed answer is refused. Only the newest
 * challenge of a session counts. The certificate is then validated against the trust list for
 * usage "login" (CertificateValidator).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Certificate, SM2_DEFAULT_USER_ID, signatureAlgorithmFor, verifyData } from '@health-pki/pki';
import type { CertificateValidator, ValidationResult } from '../validation/validator.js';
import { readHolderIdentity, type HolderIdentity } from '../identity/identity.js';

/** The first line of every login's signed data. */
export const LOGIN_CONTEXT = 'health-pki sdk login v1';

/** The bytes a holder signs for a challenge nonce (base64) and session id. */
export function loginToBeSigned(nonce: string, sessionId: string): Buffer {
  return Buffer.from(`${LOGIN_CONTEXT}\nnonce=${nonce}\nsession=${sessionHash(sessionId)}`, 'utf8');
}

/** A challenge as handed to the client. */
export interface LoginChallenge {
  nonce: string;
  /** The exact bytes to sign. */
  toBeSigned: Buffer;
  expiresAt: Date;
}

/** Where outstanding challenges live; in memory by default, a shared store for several instances. */
export interface ChallengeStore {
  /** Remembers the session's newest challenge (replacing an older one). */
  put(sessionHash: string, challenge: { nonce: string; expiresAt: number }): void | Promise<void>;
  /** Removes and returns the session's challenge (atomically: at most one caller gets it). */
  take(sessionHash: string): { nonce: string; expiresAt: number } | undefined | Promise<{ nonce: string; expiresAt: number } | undefined>;
}

/** The default ChallengeStore: a Map, swept of expired entries as it grows. */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly map = new Map<string, { nonce: string; expiresAt: number }>();
  constructor(private readonly maxEntries = 100_000) {}
  /** Stores the challenge; when full, drops expired ones first, then the oldest. */
  put(key: string, challenge: { nonce: string; expiresAt: number }): void {
    this.map.delete(key);
    if (this.map.size >= this.maxEntries) {
      const now = Date.now();
      for (const [k, v] of this.map) if (v.expiresAt <= now) this.map.delete(k);
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    }
    this.map.set(key, challenge);
  }
  /** Removes and returns the challenge. */
  take(key: string): { nonce: string; expiresAt: number } | undefined {
    const c = this.map.get(key);
    this.map.delete(key);
    return c;
  }
}

/** A successful login. */
export interface LoginSuccess {
  ok: true;
  identity: HolderIdentity;
  validation: ValidationResult;
  certificate: Certificate;
}

/** A refused login, with the reason (for the log; tell the user less). */
export interface LoginFailure {
  ok: false;
  reason: string;
  validation?: ValidationResult;
}

/** Options of a LoginVerifier. */
export interface LoginVerifierOptions {
  validator: CertificateValidator;
  /** How long a challenge may be answered (default 2 minutes). */
  ttlMs?: number;
  store?: ChallengeStore;
  /** SM2 user ID the holder's token signs with (default 1234567812345678). */
  sm2UserId?: Uint8Array;
  clock?: () => Date;
}

/** Issues and checks login challenges. */
export class LoginVerifier {
  private readonly store: ChallengeStore;
  private readonly clock: () => Date;

  constructor(private readonly opts: LoginVerifierOptions) {
    this.store = opts.store ?? new MemoryChallengeStore();
    this.clock = opts.clock ?? (() => new Date());
  }

  /** A fresh challenge for this session (any earlier one of the session stops counting). */
  async challenge(sessionId: string): Promise<LoginChallenge> {
    if (typeof sessionId !== 'string' || sessionId.length === 0) throw new TypeError('a login challenge needs a session id');
    const nonce = randomBytes(32).toString('base64');
    const expiresAt = this.clock().getTime() + (this.opts.ttlMs ?? 120_000);
    await this.store.put(sessionHash(sessionId), { nonce, expiresAt });
    return { nonce, toBeSigned: loginToBeSigned(nonce, sessionId), expiresAt: new Date(expiresAt) };
  }

  /**
   * Checks the answer of the session's challenge: `certificate` (parsed, PEM or DER) and
   * `signature` (DER bytes or base64). Consumes the challenge. Never throws for bad input.
   */
  async verify(sessionId: string, certificate: Certificate | Uint8Array | string, signature: Uint8Array | string, chain?: Certificate[]): Promise<LoginSuccess | LoginFailure> {
    if (typeof sessionId !== 'string' || sessionId.length === 0) return { ok: false, reason: 'no session id' };
    const challenge = await this.store.take(sessionHash(sessionId));
    if (!challenge) return { ok: false, reason: 'no outstanding challenge for this session (never issued, already used, or replaced)' };
    if (challenge.expiresAt <= this.clock().getTime()) return { ok: false, reason: 'the challenge expired' };
    let cert: Certificate;
    try {
      cert = certificate instanceof Certificate ? certificate : Certificate.parse(certificate);
    } catch (e) {
      return { ok: false, reason: `the certificate cannot be read: ${e instanceof Error ? e.message : String(e)}` };
    }
    const sig = typeof signature === 'string' ? decodeBase64(signature) : signature;
    if (!sig || sig.length === 0 || sig.length > 1024) return { ok: false, reason: 'the signature is missing or not base64' };
    let verified: boolean;
    try {
      const key = cert.publicKey;
      verified = verifyData(key, signatureAlgorithmFor(key), loginToBeSigned(challenge.nonce, sessionId), sig, { sm2UserId: this.opts.sm2UserId ?? SM2_DEFAULT_USER_ID });
    } catch (e) {
      return { ok: false, reason: `the certificate's key cannot be used for login: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!verified) return { ok: false, reason: 'the signature does not verify over this session\'s challenge with the certificate\'s key' };
    // The signature is checked first: validating costs network round trips, and a forger gets no oracle.
    const validation = await this.opts.validator.validate(cert, { usage: 'login', chain });
    if (!validation.valid) return { ok: false, reason: `the certificate is not accepted: ${validation.reason}`, validation };
    return { ok: true, identity: readHolderIdentity(cert), validation, certificate: cert };
  }
}

function sessionHash(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

function decodeBase64(s: string): Buffer | undefined {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'base64');
}

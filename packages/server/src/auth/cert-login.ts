/**
 * Certificate login. A certificate authenticates when it validates (RFC 5280 path validation
 * anchored at this deployment's CA roots), this deployment's records show it issued exactly that
 * certificate, and the records say it is neither revoked nor on hold. It then maps to the officer
 * it is bound to (by issuer + serial, or by key), or else to a certificate holder.
 *
 * Signed-challenge flow: a challenge is a random nonce bound to the SHA-256 of the certificate
 * that will answer it, single use, valid for CHALLENGE_TTL_MS. The client signs
 * "health-pki login v1\n<nonce>" (SM2 with the default user ID, ECDSA or RSA, per its key), so a
 * login signature can never be mistaken for a signature over anything else.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Certificate, PathValidator, signatureAlgorithmFor, verifyData } from '@health-pki/pki';
import type { CertificateAuthorities, CertificateRecord } from '../ca/authority.js';
import { normalizeSerial } from '../ca/authority.js';
import type { Database } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { NotFoundError, ServiceError } from '../errors.js';
import type { AccountTables } from './tables.js';
import { sha256Hex } from './secrets.js';

/** How long a challenge may be answered. */
export const CHALLENGE_TTL_MS = 2 * 60_000;
/** What a client signs: this prefix, then the challenge (base64) as ASCII. */
export const LOGIN_PREFIX = 'health-pki login v1\n';

/** The bytes a login signature covers for a challenge. */
export function loginMessage(challenge: string): Buffer {
  return Buffer.from(LOGIN_PREFIX + challenge, 'ascii');
}

/** A certificate this deployment issued and still stands behind. */
export interface ResolvedCertificate {
  ca: string;
  serial: string;
  subject: string;
  certSha256: string;
  spkiSha256: string;
  record: CertificateRecord;
  certificate: Certificate;
}

/** The binding keys a certificate matches: this exact certificate, and any certificate of its key. */
export function bindingKeys(c: { ca: string; serial: string; spkiSha256: string }): string[] {
  return [`cert:${c.ca}/${c.serial}`, `spki:${c.spkiSha256}`];
}

/** A login refusal; `reason` goes to the audit log, the client gets the message. */
export class LoginRefused extends ServiceError {
  constructor(readonly reason: string) {
    super(401, 'auth.login-refused', `certificate login refused: ${reason}`);
  }
}

/** Parses PEM or base64 DER; a bad certificate is a login refusal, not a 500. */
export function parseLoginCertificate(text: string): Certificate {
  try {
    return Certificate.parse(text.includes('-----BEGIN') ? text : Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  } catch (e) {
    throw new LoginRefused(`the certificate cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

interface Trust {
  validator: PathValidator;
  /** SHA-256 of each CA certificate → the authority it belongs to. */
  authorityOf: Map<string, string>;
  until: number;
}

/** Validates login certificates and runs the challenge store. */
export class CertificateLogin {
  private trust?: Trust;
  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The deployment's CA certificates (roots and issuing CAs), e.g. as TLS client CAs. */
  async caCertificates(): Promise<{ roots: Certificate[]; issuing: Certificate[] }> {
    const roots: Certificate[] = [];
    const issuing: Certificate[] = [];
    for (const a of await this.ca.listAuthorities()) for (const i of a.issuers) (i.role === 'root' ? roots : issuing).push(i.certificate);
    return { roots, issuing };
  }

  /** The path validator over the current CAs; rebuilt at most every 30 s, or at once when a certificate names an unknown issuer. */
  private async trustNow(force = false): Promise<Trust> {
    if (this.trust && !force && this.trust.until > Date.now()) return this.trust;
    const { roots, issuing } = await this.caCertificates();
    if (!roots.length) throw new LoginRefused('this deployment has no CA yet');
    const authorityOf = new Map<string, string>();
    for (const a of await this.ca.listAuthorities()) for (const i of a.issuers) authorityOf.set(sha256Hex(i.certificate.der), a.name);
    this.trust = { validator: new PathValidator({ anchors: roots, intermediates: issuing }), authorityOf, until: Date.now() + 30_000 };
    return this.trust;
  }

  /** Checks a certificate as described above; throws LoginRefused saying why not. */
  async resolve(cert: Certificate, chain: Certificate[] = []): Promise<ResolvedCertificate> {
    let trust = await this.trustNow();
    let result = trust.validator.validate(cert, { time: this.clock(), intermediates: chain, checkRevocation: false });
    if (!result.valid && result.reason.code === 'noPath') {
      trust = await this.trustNow(true);
      result = trust.validator.validate(cert, { time: this.clock(), intermediates: chain, checkRevocation: false });
    }
    if (!result.valid) throw new LoginRefused(`the certificate does not validate against this deployment's CAs (${result.reason.code}: ${result.reason.message})`);
    if (result.path.length < 2 || cert.isCa) throw new LoginRefused('a CA certificate cannot log in');
    const ku = cert.keyUsage;
    if (ku && !ku.includes('digitalSignature')) throw new LoginRefused('the certificate\'s key usage does not allow digital signatures');
    const ca = trust.authorityOf.get(sha256Hex(result.path[1]!.der));
    if (!ca) throw new LoginRefused('the certificate was not issued by a CA of this deployment');
    const serial = normalizeSerial(cert.serialHex);
    let record: CertificateRecord;
    try {
      record = await this.ca.getCertificate(ca, serial);
    } catch (e) {
      if (e instanceof NotFoundError) throw new LoginRefused(`CA "${ca}" has no record of serial ${serial}`);
      throw e;
    }
    if (!record.der.equals(cert.der)) throw new LoginRefused(`CA "${ca}" recorded a different certificate under serial ${serial}`);
    if (record.status !== 'valid') throw new LoginRefused(`certificate ${ca}/${serial} is ${record.status === 'hold' ? 'on hold' : 'revoked'}`);
    return { ca, serial, subject: record.subject, certSha256: sha256Hex(cert.der), spkiSha256: sha256Hex(cert.spkiDer), record, certificate: cert };
  }

  /** Issues a challenge bound to one certificate (given by its SHA-256). */
  async challenge(certSha256: string): Promise<{ challenge: string; toBeSigned: string; expiresAt: string }> {
    const now = this.clock();
    const challenge = randomBytes(32).toString('base64');
    const expiresAt = nowIso(new Date(now.getTime() + CHALLENGE_TTL_MS));
    const db = this.database.db as unknown as Kysely<AccountTables>;
    // Old challenges are useless; drop them as we go so the table stays small.
    await db.deleteFrom('auth_challenges').where('expires_at', '<', nowIso(new Date(now.getTime() - CHALLENGE_TTL_MS))).execute();
    await db.insertInto('auth_challenges').values({ id: challenge, cert_sha256: certSha256, expires_at: expiresAt, used_at: null, created_at: nowIso(now) }).execute();
    return { challenge, toBeSigned: loginMessage(challenge).toString('base64'), expiresAt };
  }

  /**
   * Checks an answer to a challenge: the challenge exists, is unused and unexpired, was bound
   * to this certificate, and the signature verifies with the certificate's key. The challenge is
   * used up whatever the outcome, so each one allows one attempt.
   */
  async answer(challenge: string, cert: Certificate, signature: Buffer): Promise<void> {
    const db = this.database.db as unknown as Kysely<AccountTables>;
    const now = nowIso(this.clock());
    const row = await db.selectFrom('auth_challenges').selectAll().where('id', '=', challenge).executeTakeFirst();
    if (!row) throw new LoginRefused('unknown challenge');
    const used = await db.updateTable('auth_challenges').set({ used_at: now }).where('id', '=', challenge).where('used_at', 'is', null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw new LoginRefused('the challenge was already used');
    if (row.expires_at <= now) throw new LoginRefused('the challenge expired');
    if (row.cert_sha256 !== sha256Hex(cert.der)) throw new LoginRefused('the challenge was issued for another certificate');
    let ok = false;
    try {
      const key = cert.publicKey;
      ok = verifyData(key, signatureAlgorithmFor(key), loginMessage(challenge), signature);
    } catch (e) {
      throw new LoginRefused(`the certificate's key cannot sign a login (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!ok) throw new LoginRefused('the signature over the challenge does not verify with the certificate\'s key');
  }
}

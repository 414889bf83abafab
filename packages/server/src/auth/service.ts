/**
 * The security module's face: turns credentials into principals (bearer secrets, certificate
 * logins, TLS client certificates), with failed logins audited and throttled.
 */
import type { Database } from '../store/database.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import { normalizeSerial } from '../ca/authority.js';
import { appendAudit } from '../audit/log.js';
import { NotFoundError, ServiceError } from '../errors.js';
import type { Certificate } from '@health-pki/pki';
import { Accounts, type IssuedCredential } from './accounts.js';
import { bindingKeys, CertificateLogin, LoginRefused, type ResolvedCertificate } from './cert-login.js';
import type { Principal } from './principal.js';
import { FailureLimiter } from './rate-limit.js';
import type { TokenRegistry } from './tokens.js';
import { strongestRole } from './principal.js';

/** Who a certificate is: a bound officer, or the holder of that certificate. */
export type CertificateIdentity = { officer: string; resolved: ResolvedCertificate } | { holder: ResolvedCertificate };

/** Authentication for the HTTP layer. */
export class AuthService {
  readonly accounts: Accounts;
  readonly certificates: CertificateLogin;
  readonly limiter = new FailureLimiter();

  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    readonly legacy: TokenRegistry,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.accounts = new Accounts(database, async (name) => ca.getAuthority(name).then(
      () => true,
      (e) => {
        if (e instanceof NotFoundError) return false;
        throw e;
      },
    ), clock);
    this.certificates = new CertificateLogin(database, ca, clock);
  }

  /** The principal of a bearer secret: an API token or session, else a bootstrap/legacy token. */
  async bearer(token: string): Promise<Principal | undefined> {
    const p = (await this.accounts.authenticate(token)) ?? (await this.legacy.authenticate(token));
    // A holder's session ends when their certificate is revoked.
    if (p?.holder) {
      const rec = await this.ca.getCertificate(p.holder.ca, p.holder.serial).catch(() => undefined);
      if (!rec || rec.status === 'revoked') return undefined;
    }
    return p;
  }

  /** Maps a validated certificate to its officer (when bound and enabled) or to its holder. */
  async identify(resolved: ResolvedCertificate): Promise<CertificateIdentity> {
    const officer = await this.accounts.officerForBinding(bindingKeys(resolved));
    return officer ? { officer: officer.id, resolved } : { holder: resolved };
  }

  /** The principal of a TLS client certificate (each request; nothing is cached, so revocation and disabling apply at once). */
  async tlsClient(cert: Certificate, chain: Certificate[], ip: string): Promise<Principal> {
    try {
      const id = await this.identify(await this.certificates.resolve(cert, chain));
      if ('officer' in id) {
        const o = await this.accounts.getOfficer(id.officer);
        return { id: o.id, role: strongestRole(o.grants), bootstrap: false, grants: o.grants, via: 'tls-client-certificate' };
      }
      const h = id.holder;
      return { id: `holder:${h.ca}/${h.serial}`, role: 'holder', bootstrap: false, grants: [], holder: { ca: h.ca, serial: h.serial, subject: h.subject }, via: 'tls-client-certificate' };
    } catch (e) {
      if (e instanceof LoginRefused) await this.auditFailure(`tls:${ip}`, e.reason, { ip });
      throw e;
    }
  }

  /**
   * A signed-challenge login: throttled per client address and per certificate, every failure
   * audited, success opening a session.
   */
  async login(input: { challenge: string; certificate: Certificate; chain: Certificate[]; signature: Buffer }, ip: string): Promise<{ session: IssuedCredential; principal: Principal }> {
    const certKey = `certificate ${input.certificate.serialHex}`;
    const keys = [`address ${ip}`, certKey];
    this.limiter.check(keys);
    try {
      await this.certificates.answer(input.challenge, input.certificate, input.signature);
      const resolved = await this.certificates.resolve(input.certificate, input.chain);
      const id = await this.identify(resolved);
      const actor: Principal =
        'officer' in id
          ? { id: id.officer, role: 'officer', bootstrap: false }
          : { id: `holder:${resolved.ca}/${resolved.serial}`, role: 'holder', bootstrap: false };
      const session = await this.accounts.createSession(actor, {
        name: `${resolved.ca}/${resolved.serial}`,
        ...('officer' in id ? { officer: id.officer } : { holder: { ca: resolved.ca, serial: resolved.serial, subject: resolved.subject } }),
      });
      const principal = await this.accounts.authenticate(session.token);
      return { session, principal: principal! };
    } catch (e) {
      if (e instanceof LoginRefused) {
        this.limiter.fail(keys);
        await this.auditFailure(`cert:${input.certificate.serialHex}`, e.reason, { ip, subject: safeSubject(input.certificate) });
      }
      throw e;
    }
  }

  /** Whether the certificate `ca`/`serial` is the holder's own: same CA and same subject as the one they logged in with. */
  async holderOwns(p: Principal, ca: string, serial: string): Promise<boolean> {
    if (!p.holder || p.holder.ca !== ca) return false;
    let key: string;
    try {
      key = normalizeSerial(serial);
    } catch {
      return false;
    }
    if (key === p.holder.serial) return true;
    const rec = await this.ca.getCertificate(ca, key).catch((e) => {
      if (e instanceof ServiceError) return undefined;
      throw e;
    });
    return rec !== undefined && rec.subject === p.holder.subject;
  }

  private async auditFailure(target: string, reason: string, details: Record<string, unknown>): Promise<void> {
    const actor: Principal = { id: 'unauthenticated', role: 'public', bootstrap: false };
    await this.database.transaction((tx) => appendAudit(tx, { actor, action: 'auth.login.failed', target: `auth:${target}`, details: { reason, ...details } }, this.clock()));
  }
}

function safeSubject(c: Certificate): string | undefined {
  try {
    return c.subjectText;
  } catch {
    return undefined;
  }
}

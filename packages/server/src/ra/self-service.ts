/**
 * A holder renews their own certificate, without an officer (issue 10). The rule, as EJBCA's
 * renewal window and step-ca's "renew with the current certificate" have it: the holder logged in
 * with the certificate, which proves possession of its key; the identity behind it was verified
 * by an officer at first issuance. So, for that one certificate — valid, neither revoked nor on
 * hold, not expired, inside its CA's renewal window — the RA enters the application as the
 * holder's own and approves it by policy ("holder-renewal"), recording which policy and why.
 * Same CA, subject, identity numbers, alternative names and profile; a CSR with a new key makes
 * it a re-key (the old certificate is revoked as superseded), the same key (or no CSR) a
 * renewal (the old certificate stays valid until it expires), exactly as registration.ts does.
 */
import { Certificate, CertificationRequestDoc, readIdentity } from '@health-pki/pki';
import { sql } from 'kysely';
import type { Database } from '../store/database.js';
import { first } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import type { TimedAuditEvent } from '../audit/log.js';
import { normalizeSerial, spkiFingerprint, type CertificateAuthorities, type CertificateRecord } from '../ca/authority.js';
import { ConflictError, ForbiddenError, InvalidRequestError, RuleError } from '../errors.js';
import { altNamesFrom, cleanIdentity, sameIdentity } from '../work/pki-tasks.js';
import type { Applicant, Approval, RegistrationAuthority } from './registration.js';

/** When a certificate becomes renewable: in its last `days` days, or in the last `fraction` of its validity, whichever opens first. */
export interface RenewalWindow {
  days: number;
  fraction: number;
}

/** The default window: the last 30 days or the last third of the validity (a 1-year certificate: its last ~122 days). */
export const DEFAULT_RENEWAL_WINDOW: RenewalWindow = { days: 30, fraction: 1 / 3 };

/** Self-service settings: the default window and per-CA overrides (by CA name). */
export interface SelfServiceSettings {
  renewalWindow?: Partial<RenewalWindow>;
  perCa?: Record<string, { renewalWindow?: Partial<RenewalWindow> }>;
}

/** The policy that approves a holder's renewal; its name is recorded as the approver. */
export const HOLDER_RENEWAL_POLICY: Principal = { id: 'policy:holder-renewal', role: 'officer', bootstrap: false, via: 'system' };

/** What a holder sends: a CSR for the new certificate (absent: renew with the same key). */
export interface SelfRenewalInput {
  csr?: string;
  /** The certificate to renew; must be the one the holder logged in with (default). */
  serial?: string;
}

const DAY_MS = 86_400_000;

/** The moment a certificate's renewal window opens. */
export function renewableFrom(notBefore: Date, notAfter: Date, w: RenewalWindow): Date {
  const life = notAfter.getTime() - notBefore.getTime();
  return new Date(Math.max(notBefore.getTime(), notAfter.getTime() - Math.max(w.days * DAY_MS, w.fraction * life)));
}

/** Holder self-service renewal (see the module comment). */
export class SelfServiceRenewal {
  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    private readonly ra: RegistrationAuthority,
    private readonly settings: SelfServiceSettings = {},
    private readonly clock: () => Date = () => new Date(),
  ) {
    for (const w of [settings.renewalWindow, ...Object.values(settings.perCa ?? {}).map((c) => c.renewalWindow)]) {
      if (!w) continue;
      if (w.days !== undefined && !(Number.isFinite(w.days) && w.days >= 0)) throw new Error('renewalWindow.days must be a number ≥ 0');
      if (w.fraction !== undefined && !(Number.isFinite(w.fraction) && w.fraction >= 0 && w.fraction <= 1)) throw new Error('renewalWindow.fraction must be between 0 and 1');
    }
  }

  /** The renewal window of a CA: its override, else the deployment's default, else DEFAULT_RENEWAL_WINDOW. */
  windowOf(caName: string): RenewalWindow {
    return { ...DEFAULT_RENEWAL_WINDOW, ...this.settings.renewalWindow, ...this.settings.perCa?.[caName]?.renewalWindow };
  }

  /** When the certificate's renewal window opens (ISO), by its CA's window. */
  renewableFrom(caName: string, rec: Pick<CertificateRecord, 'notBefore' | 'notAfter'>): string {
    return renewableFrom(new Date(rec.notBefore), new Date(rec.notAfter), this.windowOf(caName)).toISOString();
  }

  /** Renews the certificate the holder logged in with, approved by the holder-renewal policy. */
  async renew(actor: Principal, input: SelfRenewalInput): Promise<Approval> {
    const h = actor.holder;
    if (actor.role !== 'holder' || !h) throw new ForbiddenError('holder.only', `${actor.id} is not a certificate holder: log in with the certificate to renew`);
    if (input.serial !== undefined && sameSerial(input.serial) !== h.serial) {
      throw new ForbiddenError('renewal.not-login-certificate', `only the certificate this session logged in with (${h.serial}) can be renewed by its holder; log in with certificate ${input.serial.slice(0, 80)} to renew it`);
    }
    const previous = await this.ca.getCertificate(h.ca, h.serial);
    // A revoked certificate's session has already ended; one on hold still logs in, but the policy needs a valid certificate.
    if (previous.status !== 'valid') throw new ConflictError(`previous.${previous.status}`, `certificate ${previous.serial} is ${previous.status === 'hold' ? 'on hold' : previous.status}; only a valid certificate can be renewed`);
    const now = this.clock();
    if (now.getTime() >= Date.parse(previous.notAfter)) throw new ConflictError('previous.expired', `certificate ${previous.serial} expired at ${previous.notAfter}; apply for a new certificate at the RA`);
    const opens = this.renewableFrom(h.ca, previous);
    if (now.getTime() < Date.parse(opens)) {
      throw new RuleError('renewal.window', `certificate ${previous.serial} can be renewed from ${opens} (CA "${h.ca}": the last ${this.windowOf(h.ca).days} days or the last ${Math.round(this.windowOf(h.ca).fraction * 100)}% of its validity); it is valid until ${previous.notAfter}`);
    }
    const successor = await this.successor(h.ca, previous.serial);
    if (successor) throw new ConflictError('renewal.done', `certificate ${previous.serial} was already renewed: certificate ${successor} replaces it; log in with that one`);
    const prevCert = Certificate.parse(previous.der);
    const identity = cleanIdentity(prevCert.identity);
    let kind: 'renewal' | 'rekey' = 'renewal';
    if (input.csr !== undefined) {
      let csr: CertificationRequestDoc;
      try {
        csr = CertificationRequestDoc.parse(input.csr);
      } catch (e) {
        throw new InvalidRequestError('csr', `not a PKCS#10 certificate request: ${e instanceof Error ? e.message : String(e)}`);
      }
      const csrIdentity = cleanIdentity(readIdentity(csr.rawRequestedExtensions));
      if (Object.keys(csrIdentity).length > 0 && !sameIdentity(csrIdentity, identity)) {
        throw new RuleError('identity.changed', 'the CSR carries other identity numbers than the certificate renewed; a changed identity needs a new application checked by an officer');
      }
      kind = spkiFingerprint(csr.spkiDer) === previous.spkiSha256 ? 'renewal' : 'rekey';
    }
    const original = await this.originalApplication(h.ca, previous.serial);
    const note = `self-service renewal by ${actor.id}`;
    const applicant: Applicant = original ? { ...original.applicant, notes: note } : { name: prevCert.subjectText, notes: note };
    const reason = `approved by policy holder-renewal: identity verified by an officer at first issuance${original ? ` (certificate ${previous.serial} issued by application ${original.id})` : ''}, key possession proven by certificate login, within the renewal window (open since ${opens})`;
    const audit = (applicationId: string, serial: string): TimedAuditEvent => ({
      actor,
      action: 'ra.self-renewal',
      target: `ra:application:${applicationId}`,
      details: { ca: h.ca, policy: 'holder-renewal', kind, previous: previous.serial, serial, windowOpened: opens },
      at: this.clock(),
    });
    return this.ra.enterByPolicy(actor, HOLDER_RENEWAL_POLICY, h.ca, {
      kind,
      previousSerial: previous.serial,
      ...(input.csr !== undefined ? { csr: input.csr } : {}),
      applicant,
      identity,
      altNames: prevCert.extension('2.5.29.17') ? altNamesFrom(prevCert.subjectAltNames) : [],
    }, reason, audit);
  }

  /** The certificate an issued renewal or re-key of `serial` produced, if any. */
  private async successor(caName: string, serial: string): Promise<string | undefined> {
    const row = await first<{ certificate_serial: string }>(
      this.database.db,
      sql`select certificate_serial from ra_applications where authority_name = ${caName} and previous_serial = ${serial} and kind in (${'renewal'}, ${'rekey'}) and state = ${'issued'}`,
    );
    return row?.certificate_serial;
  }

  /** The application that issued a certificate (the one whose identity an officer checked), if the RA issued it. */
  private async originalApplication(caName: string, serial: string): Promise<{ id: string; applicant: Applicant } | undefined> {
    const row = await first<{ id: string; applicant: string }>(
      this.database.db,
      sql`select id, applicant from ra_applications where authority_name = ${caName} and certificate_serial = ${serial}`,
    );
    return row ? { id: row.id, applicant: JSON.parse(row.applicant) as Applicant } : undefined;
  }
}

/** A serial as the CA records it, or '' for text that is no serial (never equal to a holder's). */
function sameSerial(text: string): string {
  try {
    return normalizeSerial(text);
  } catch {
    return '';
  }
}

/**
 * Retention of application records (regulation Art. 13: kept at least 5 years after the
 * certificate's expiry). The rule, in one place:
 * - an application that produced a certificate keeps its materials until 5 years (calendar
 *   years, UTC) after that certificate's notAfter — revocation does not shorten it;
 * - a rejected application keeps them until 5 years after the decision;
 * - an application awaiting a decision keeps them.
 * Before that date, deleting them is refused (409 records.retained). After it, the daily
 * retention job purges them; every deletion and purge is an RA event and an audit entry.
 */
import type { Database } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { SYSTEM_PRINCIPAL, grantsOf, type Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import { deleteMaterials, purgeCandidates, retentionFacts, type RetentionFacts } from '../ra/records.js';

/** Years materials are kept after the certificate expires. */
export const RETENTION_YEARS = 5;

const DAY_MS = 24 * 60 * 60 * 1000;

/** `t` moved by `years` calendar years (UTC). */
function addYears(t: Date, years: number): Date {
  const d = new Date(t.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

/** Until when an application's materials must be kept (null: for now, indefinitely), and why. */
export function retentionOf(f: Pick<RetentionFacts, 'state' | 'certificateSerial' | 'certificateNotAfter' | 'decidedAt'>): { until: Date | null; basis: string } {
  if (f.certificateNotAfter) {
    return { until: addYears(new Date(f.certificateNotAfter), RETENTION_YEARS), basis: `certificate ${f.certificateSerial} expires ${f.certificateNotAfter}` };
  }
  if (f.state === 'rejected' && f.decidedAt) return { until: addYears(new Date(f.decidedAt), RETENTION_YEARS), basis: `the application was rejected on ${f.decidedAt}` };
  return { until: null, basis: f.state === 'submitted' ? 'the application awaits a decision' : 'the application has no expiry to count from' };
}

/** One application whose materials a purge removed. */
export interface PurgedApplication {
  ca: string;
  application: string;
  materials: number;
  retainedUntil: string;
}

/** What the retention module needs. */
export interface RecordsOptions {
  database: Database;
  ca: CertificateAuthorities;
  clock?: () => Date;
  /** How often the retention job runs (default daily). */
  intervalMs?: number;
}

/** Application records retention: refusal of early deletion and the purge job. */
export class RecordsRetention {
  private readonly database: Database;
  private readonly ca: CertificateAuthorities;
  private readonly clock: () => Date;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;

  constructor(opts: RecordsOptions) {
    this.database = opts.database;
    this.ca = opts.ca;
    this.clock = opts.clock ?? (() => new Date());
    this.intervalMs = opts.intervalMs ?? DAY_MS;
  }

  /** Until when the materials of an application must be kept. */
  async retention(caName: string, applicationId: string): Promise<{ until: string | null; basis: string; materials: number }> {
    const f = await this.facts(this.database.db, caName, applicationId);
    const r = retentionOf(f);
    return { until: r.until?.toISOString() ?? null, basis: r.basis, materials: f.materials };
  }

  /** Deletes an application's materials; refused (409) while they must be kept. Administrators only. */
  async deleteMaterials(actor: Principal, caName: string, applicationId: string): Promise<{ deleted: number }> {
    if (!grantsOf(actor).some((g) => g.role === 'admin')) throw new ForbiddenError('records.admin', 'only an administrator may delete application materials');
    const authority = await this.ca.getAuthority(caName);
    return this.database.transaction(async (tx) => {
      const f = await this.facts(tx, caName, applicationId, authority.id);
      const now = this.clock();
      const r = retentionOf(f);
      if (r.until === null || now < r.until) {
        const until = r.until ? `until ${r.until.toISOString()} (${RETENTION_YEARS} years after ${r.basis.replace(/^the application was /, '')})` : `while ${r.basis}`;
        throw new ConflictError('records.retained', `the materials of application ${f.applicationId} must be kept ${until}: regulation Art. 13 requires at least ${RETENTION_YEARS} years after the certificate expires`);
      }
      const at = nowIso(now);
      const deleted = await deleteMaterials(tx, f, actor, at, 'materials-deleted', { retainedUntil: r.until.toISOString() });
      await appendAudit(tx, { actor, action: 'records.delete', target: `ra:application:${f.applicationId}`, details: { ca: caName, materials: deleted, certificate: f.certificateSerial, retainedUntil: r.until.toISOString() } }, now);
      return { deleted };
    });
  }

  /** The retention job: purges the materials of every application past its retention date, each purge audited. */
  async purgeExpired(): Promise<PurgedApplication[]> {
    const now = this.clock();
    const cutoff = addYears(now, -RETENTION_YEARS).toISOString();
    const purged: PurgedApplication[] = [];
    for (;;) {
      const batch = await purgeCandidates(this.database.db, cutoff, 100);
      let progressed = false;
      for (const candidate of batch) {
        const done = await this.database.transaction(async (tx) => {
          // Re-read inside the transaction: the application may have changed since the listing.
          const f = await retentionFacts(tx, candidate.authorityId, candidate.applicationId);
          const r = f && retentionOf(f);
          if (!f || !r?.until || now < r.until || f.materials === 0) return undefined;
          const at = nowIso(now);
          const materials = await deleteMaterials(tx, f, SYSTEM_PRINCIPAL, at, 'materials-purged', { retainedUntil: r.until.toISOString() });
          await appendAudit(tx, { actor: SYSTEM_PRINCIPAL, action: 'records.purge', target: `ra:application:${f.applicationId}`, details: { ca: f.authorityName, materials, certificate: f.certificateSerial, basis: r.basis, retainedUntil: r.until.toISOString() } }, now);
          return { ca: f.authorityName, application: f.applicationId, materials, retainedUntil: r.until.toISOString() };
        });
        if (done) {
          purged.push(done);
          progressed = true;
        }
      }
      if (batch.length < 100 || !progressed) return purged;
    }
  }

  /** Runs the job every `intervalMs` (first run one minute after start); the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      // A failed run is retried at the next one; the service log shows nothing because nothing was deleted.
      void this.purgeExpired().catch(() => undefined);
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, Math.min(60_000, this.intervalMs));
    this.timer.unref();
  }

  /** Stops the job. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async facts(ex: Parameters<typeof retentionFacts>[0], caName: string, applicationId: string, authorityId?: string): Promise<RetentionFacts> {
    const id = authorityId ?? (await this.ca.getAuthority(caName, ex)).id;
    const f = /^[0-9a-f-]{36}$/.test(applicationId) ? await retentionFacts(ex, id, applicationId) : undefined;
    if (!f) throw new NotFoundError('application.unknown', `CA "${caName}" has no application ${applicationId.slice(0, 80)}`);
    return f;
  }
}

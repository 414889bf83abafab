/**
 * The automated conformance test (Regulation Art. 6, 21; issue 8): run by the national office
 * against a CA the province forwarded. It reads the CA's application (registered certificates,
 * platform-access certificate, query endpoint, sample certificates), runs every check against
 * the CA's live endpoints, and stores the report through the registry's conformance path — a
 * passing report moves the CA to "tested", a failing one keeps it (or puts it back) in
 * "province-reviewed", so approval stays refused. Checks never throw for what the CA serves:
 * each problem is a fault in the report.
 */
import { Certificate } from '@health-pki/pki';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { ConflictError } from '../../errors.js';
import { requireRole } from '../registry/access.js';
import type { CaRecord, CaRegistry } from '../registry/registry.js';
import type { PlatformPrincipal } from '../registry/roles.js';
import { CHECKS, FaultList, errorText, type Fault, type Sample } from './faults.js';
import { checkSamples } from './samples.js';
import { checkCrls } from './crl-check.js';
import { checkOcsp } from './ocsp-check.js';
import { checkQueryInterface, checkSyncEvents } from './query-check.js';
import type { QuerySigner } from './query-client.js';

/** The report's document: what was tested, each check's fault count, and the faults. */
export interface ConformanceDocument {
  ca: string;
  startedAt: string;
  finishedAt: string;
  passed: boolean;
  samples: Array<{ kind: 'good' | 'revoked'; serial: string; subject: string; profile?: string; ocsp?: string; crl?: 'listed' | 'not listed'; query?: string }>;
  checks: Array<{ check: string; faults: number }>;
  faults: Fault[];
}

/** What the runner needs. */
export interface ConformanceRunnerOptions {
  database: Database;
  registry: CaRegistry;
  /** Signs the platform's certificate queries (the trust list's identity). */
  signer: QuerySigner;
  clock?: () => Date;
  /** Time limit of each fetch, ms (default 5 s). */
  timeoutMs?: number;
}

/** Statuses a test may run in: forwarded by the province, or tested before (a re-run). */
const TESTABLE = ['province-reviewed', 'tested'];

/** Runs conformance tests and stores their reports. */
export class ConformanceRunner {
  private readonly clock: () => Date;
  private readonly running = new Set<string>();

  constructor(private readonly opts: ConformanceRunnerOptions) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /** Tests the CA against its live endpoints and stores the report (national office). */
  async run(actor: PlatformPrincipal, name: string): Promise<{ document: ConformanceDocument; ca: CaRecord }> {
    await requireRole(this.opts.database, this.clock, actor, ['national'], 'platform.ca.conformance', `platform:ca:${name}`);
    const ca = await this.opts.registry.getFor(actor, name);
    if (!TESTABLE.includes(ca.status)) throw new ConflictError('platform.ca.status', `a conformance test runs for a CA the province forwarded, not one that is ${ca.status}`);
    // One run per CA at a time: a second click would only double the load on the CA's endpoints.
    if (this.running.has(name)) throw new ConflictError('platform.conformance.running', `a conformance test of "${name}" is running; wait for its report`);
    this.running.add(name);
    try {
      const document = await this.test(ca);
      const lines = document.faults.map((f) => `[${f.check}] ${f.subject}: ${f.message}`.slice(0, 2000));
      const stored = await this.opts.registry.recordConformance(actor, name, { passed: document.passed, faults: lines, document }, 'automated');
      return { document, ca: stored };
    } finally {
      this.running.delete(name);
    }
  }

  /** Runs every check on a CA record (nothing stored). */
  async test(ca: CaRecord): Promise<ConformanceDocument> {
    const startedAt = nowIso(this.clock());
    const faults = new FaultList();
    const samples = this.samplesOf(ca, faults);
    const now = this.clock();
    const facts = checkSamples(samples, ca.certificates, faults, now);
    const timeoutMs = this.opts.timeoutMs;
    const crl = await checkCrls(samples, facts.issuerOf, faults, { now, timeoutMs });
    const [ocsp, answer] = await Promise.all([
      checkOcsp(samples, facts.issuerOf, crl, faults, { now, timeoutMs }),
      checkQueryInterface(samples, crl, faults, { ca: ca.name, url: ca.endpoints.query, accessCertificate: ca.platformAccessCertificate, signer: this.opts.signer, timeoutMs, clock: this.clock }),
    ]);
    try {
      await checkSyncEvents(this.opts.database.db, ca.name, samples, faults);
    } catch (e) {
      faults.add('sync', ca.name, `the platform's sync records could not be read: ${errorText(e)}`);
    }
    const ordered = CHECKS.flatMap((c) => faults.items.filter((f) => f.check === c));
    return {
      ca: ca.name,
      startedAt,
      finishedAt: nowIso(this.clock()),
      passed: ordered.length === 0,
      samples: samples.map((s) => {
        const c = crl.get(s);
        const profile = facts.profileOf.get(s);
        const o = ocsp.get(s)?.status;
        const q = answer?.certificates.find((e) => e.serial === s.serial)?.status;
        return { kind: s.kind, serial: s.serial, subject: s.cert.subjectText, ...(profile ? { profile } : {}), ...(o ? { ocsp: o } : {}), ...(c ? { crl: c.listed ? ('listed' as const) : ('not listed' as const) } : {}), ...(q ? { query: q } : {}) };
      }),
      checks: CHECKS.map((check) => ({ check, faults: ordered.filter((f) => f.check === check).length })),
      faults: ordered,
    };
  }

  /** The samples of the application, and faults for inputs the test cannot do without. */
  private samplesOf(ca: CaRecord, faults: FaultList): Sample[] {
    if (ca.samples.good.length === 0) faults.add('inputs', ca.name, 'the application gives no good sample certificate');
    if (ca.samples.revoked.length === 0) faults.add('inputs', ca.name, 'the application gives no revoked sample certificate');
    if (!ca.endpoints.query) faults.add('inputs', ca.name, 'the application gives no certificate query interface (endpoints.query)');
    if (!ca.platformAccessCertificate) faults.add('inputs', ca.name, 'the application gives no platform-access certificate, so the query answers and sync messages cannot be checked');
    const out: Sample[] = [];
    for (const kind of ['good', 'revoked'] as const) {
      for (const pem of ca.samples[kind]) {
        const cert = Certificate.parse(pem); // checked when the application was filed
        out.push({ kind, cert, serial: cert.serialHex });
      }
    }
    return out;
  }
}

/**
 * The CA registry: the admission workflow (apply to the province → provincial review → stored
 * conformance report, automated (platform/conformance/) or offline → national approval → connected), suspension, resumption and termination,
 * and the `CaDirectory` the sync and trust-list modules read. Every change is audited in its own
 * transaction; status listeners (the trust list's republish) run after the commit.
 */
import { sql } from 'kysely';
import { Certificate } from '@health-pki/pki';
import type { Database, Executor } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { ConflictError, InvalidRequestError, NotFoundError, RuleError } from '../../errors.js';
import type { CaDirectory, CaEndpoints, CaStatus, ConnectedCa, SampleCertificates } from './types.js';
import { auditActor, checkCaName, checkProvince, type PlatformPrincipal } from './roles.js';
import { canSee, refuse, requireRole } from './access.js';

/** The MIIT electronic-certification licence. */
export interface Licence {
  number: string;
  notBefore: string;
  notAfter: string;
}

/** One document of the application file (its content stays with the office; the platform keeps its digest). */
export interface Material {
  title: string;
  sha256?: string;
  url?: string;
}

/** What a CA submits to its provincial office. */
export interface CaApplication {
  name: string;
  displayName: string;
  homeProvince: string;
  provinces: string[];
  licence: Licence;
  company: Record<string, string>;
  servicePlan: string;
  materials: Material[];
  /** CA certificates (root, issuing), PEM. */
  certificates: string[];
  /** The certificate that signs the CA's sync messages, PEM. */
  platformAccessCertificate?: string;
  /** Where the conformance test reaches the CA (the query interface). */
  endpoints?: CaEndpoints;
  /** Sample certificates for the conformance test. */
  samples?: SampleCertificates;
}

/** The conformance test's report as stored: run by the platform (automated) or handed in (offline). */
export interface ConformanceReport {
  passed: boolean;
  faults: string[];
  testedAt: string;
  /** "automated": the platform's own run against the live endpoints; "offline": a report given to it. */
  source?: 'automated' | 'offline';
  document?: unknown;
}

/** One step of a CA's history. */
export interface StatusStep {
  at: string;
  by: string;
  from: CaStatus | null;
  to: CaStatus;
  note: string;
}

/** A CA with its admission file, as the registry returns it. */
export interface CaRecord extends ConnectedCa {
  homeProvince: string;
  licenceNotBefore: string;
  /** True once the licence has ended (the CA is flagged, not removed). */
  licenceExpired: boolean;
  company: Record<string, string>;
  servicePlan: string;
  materials: Material[];
  endpoints: CaEndpoints;
  samples: SampleCertificates;
  conformanceReport?: ConformanceReport;
  history: StatusStep[];
  createdAt: string;
  updatedAt: string;
}

/** Called after a committed status change. */
export type StatusListener = (ca: string, status: CaStatus, reason: string) => Promise<void> | void;

interface Row {
  name: string;
  display_name: string;
  status: CaStatus;
  home_province: string;
  provinces: string;
  certificates_pem: string;
  access_cert_der: Buffer | null;
  licence_number: string;
  licence_not_before: string;
  licence_not_after: string;
  company: string;
  service_plan: string;
  materials: string;
  conformance_report: string | null;
  endpoints: string | null;
  samples: string | null;
  history: string;
  created_at: string;
  updated_at: string;
}

/** The statuses whose change the trust list must follow. */
const PUBLISHED_CHANGES: readonly CaStatus[] = ['connected', 'suspended', 'terminated'];

function text(v: unknown, field: string, max = 200): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw new InvalidRequestError('platform.application.field', `${field} must be a non-empty text of at most ${max} characters`);
  return v.trim();
}

function isoDate(v: unknown, field: string): string {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new InvalidRequestError('platform.application.date', `${field} must be an ISO-8601 date`);
  return d.toISOString();
}

function parseCertificate(pem: unknown, field: string): Certificate {
  if (typeof pem !== 'string') throw new InvalidRequestError('platform.application.certificate', `${field} must be a PEM certificate`);
  try {
    return Certificate.parse(pem);
  } catch (e) {
    throw new InvalidRequestError('platform.application.certificate', `${field} is not a certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** At most this many sample certificates of each kind. */
const MAX_SAMPLES = 10;

/** Checks the `endpoints` of an application (absent: none yet). */
export function checkEndpoints(v: unknown): CaEndpoints {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidRequestError('platform.application.endpoints', 'endpoints must be an object such as {"query": "https://…"}');
  const e = v as Record<string, unknown>;
  for (const k of Object.keys(e)) if (k !== 'query') throw new InvalidRequestError('platform.application.endpoints', `endpoints.${k} is not known (only "query"; OCSP and CRL URLs come from the samples)`);
  if (e.query === undefined) return {};
  const url = text(e.query, 'endpoints.query', 1000);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRequestError('platform.application.endpoints', 'endpoints.query must be an absolute http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidRequestError('platform.application.endpoints', 'endpoints.query must be an http or https URL');
  return { query: url };
}

/** Checks the `samples` of an application (absent: none yet); each must be an end-entity certificate. */
export function checkSamples(v: unknown): SampleCertificates {
  if (v === undefined || v === null) return { good: [], revoked: [] };
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidRequestError('platform.application.samples', 'samples must be {"good": [PEM…], "revoked": [PEM…]}');
  const s = v as Record<string, unknown>;
  const list = (kind: 'good' | 'revoked'): string[] => {
    const l = s[kind] ?? [];
    if (!Array.isArray(l) || l.length > MAX_SAMPLES) throw new InvalidRequestError('platform.application.samples', `samples.${kind} must list at most ${MAX_SAMPLES} certificates (PEM)`);
    return l.map((pem, i) => {
      const c = parseCertificate(pem, `samples.${kind}[${i}]`);
      if (c.isCa) throw new RuleError('platform.application.samples', `samples.${kind}[${i}] (${c.subjectText}) is a CA certificate; samples are certificates the CA issued to holders`);
      return c.toPem();
    });
  };
  const out = { good: list('good'), revoked: list('revoked') };
  const serials = [...out.good, ...out.revoked].map((p) => Certificate.parse(p).serialHex);
  if (new Set(serials).size !== serials.length) throw new InvalidRequestError('platform.application.samples', 'a sample certificate is listed twice');
  return out;
}

/** Validates an application body (from HTTP) into its checked form. */
export function checkApplication(body: unknown): { app: CaApplication; certificates: Certificate[]; access?: Certificate } {
  if (typeof body !== 'object' || body === null) throw new InvalidRequestError('platform.application', 'the application must be a JSON object');
  const b = body as Record<string, unknown>;
  const provinces = Array.isArray(b.provinces) ? b.provinces.map(checkProvince) : [];
  const homeProvince = checkProvince(b.homeProvince);
  if (!provinces.includes(homeProvince)) provinces.unshift(homeProvince);
  const lic = (b.licence ?? {}) as Record<string, unknown>;
  const licence = { number: text(lic.number, 'licence.number', 64), notBefore: isoDate(lic.notBefore, 'licence.notBefore'), notAfter: isoDate(lic.notAfter, 'licence.notAfter') };
  if (licence.notAfter <= licence.notBefore) throw new InvalidRequestError('platform.application.licence', 'the licence must end after it begins');
  const company: Record<string, string> = {};
  if (typeof b.company !== 'object' || b.company === null) throw new InvalidRequestError('platform.application.company', 'company must be an object of texts (name, creditCode, address, contact…)');
  for (const [k, v] of Object.entries(b.company as Record<string, unknown>)) company[k] = text(v, `company.${k}`, 500);
  if (!company.name) throw new InvalidRequestError('platform.application.company', 'company.name is required');
  const materials = Array.isArray(b.materials) ? b.materials : [];
  if (materials.length > 100) throw new InvalidRequestError('platform.application.materials', 'at most 100 materials');
  const checkedMaterials: Material[] = materials.map((m, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    return { title: text(o.title, `materials[${i}].title`), ...(o.sha256 !== undefined ? { sha256: text(o.sha256, `materials[${i}].sha256`, 64) } : {}), ...(o.url !== undefined ? { url: text(o.url, `materials[${i}].url`, 1000) } : {}) };
  });
  if (!Array.isArray(b.certificates) || b.certificates.length === 0 || b.certificates.length > 10) throw new InvalidRequestError('platform.application.certificates', 'certificates must list 1-10 CA certificates (PEM)');
  const certificates = b.certificates.map((c, i) => parseCertificate(c, `certificates[${i}]`));
  certificates.forEach((c, i) => {
    if (!c.isCa) throw new RuleError('platform.application.not-ca', `certificates[${i}] (${c.subjectText}) is not a CA certificate`);
  });
  const access = b.platformAccessCertificate === undefined ? undefined : parseCertificate(b.platformAccessCertificate, 'platformAccessCertificate');
  const app: CaApplication = {
    name: checkCaName(b.name),
    displayName: text(b.displayName, 'displayName'),
    homeProvince,
    provinces,
    licence,
    company,
    servicePlan: text(b.servicePlan, 'servicePlan', 20_000),
    materials: checkedMaterials,
    certificates: certificates.map((c) => c.toPem()),
    platformAccessCertificate: access?.toPem(),
    endpoints: checkEndpoints(b.endpoints),
    samples: checkSamples(b.samples),
  };
  return { app, certificates, access };
}

/** The registry of one platform. */
export class CaRegistry implements CaDirectory {
  private readonly listeners: StatusListener[] = [];

  constructor(private readonly database: Database, private readonly clock: () => Date = () => new Date()) {}

  /** Adds a listener called after every committed change to connected, suspended or terminated. */
  onStatusChange(listener: StatusListener): void {
    this.listeners.push(listener);
  }

  /** CaDirectory: the CA of that name, whatever its status. */
  async get(name: string, ex: Executor = this.database.db): Promise<CaRecord | undefined> {
    const row = await first<Row>(ex, sql`select * from platform_cas where name = ${name}`);
    return row && this.view(row);
  }

  /** CaDirectory: every CA, whatever its status. */
  async list(): Promise<CaRecord[]> {
    return (await all<Row>(this.database.db, sql`select * from platform_cas order by name`)).map((r) => this.view(r));
  }

  /** The CAs a principal may see. */
  async listFor(actor: PlatformPrincipal): Promise<CaRecord[]> {
    return (await this.list()).filter((c) => canSee(actor, c));
  }

  /** One CA, if the principal may see it (404 otherwise, so names do not leak). */
  async getFor(actor: PlatformPrincipal, name: string): Promise<CaRecord> {
    const ca = await this.get(name);
    if (!ca || !canSee(actor, ca)) throw new NotFoundError('platform.ca.unknown', `no CA "${name}"`);
    return ca;
  }

  /** A CA (itself), its provincial office or the national office files an application. */
  async apply(actor: PlatformPrincipal, body: unknown): Promise<CaRecord> {
    const { app, access } = checkApplication(body);
    const target = `platform:ca:${app.name}`;
    await requireRole(this.database, this.clock, actor, ['national', 'provincial', 'ca'], 'platform.ca.apply', target);
    if (actor.role === 'ca' && actor.ca !== app.name) throw await refuse(this.database, this.clock, actor, 'platform.ca.apply', target, 'platform.scope.ca', `a CA can apply only for itself (${actor.ca})`);
    if (actor.role === 'provincial' && actor.province !== app.homeProvince) {
      throw await refuse(this.database, this.clock, actor, 'platform.ca.apply', target, 'platform.scope.province', `the office of ${actor.province} cannot file for a CA of ${app.homeProvince}`);
    }
    const now = nowIso(this.clock());
    const history: StatusStep[] = [{ at: now, by: auditActor(actor).id, from: null, to: 'applied', note: 'application filed' }];
    try {
      await this.database.transaction(async (tx) => {
        await run(
          tx,
          sql`insert into platform_cas (name, display_name, status, home_province, provinces, certificates_pem, access_cert_der, licence_number, licence_not_before, licence_not_after, company, service_plan, materials, conformance_report, endpoints, samples, history, created_at, updated_at)
              values (${app.name}, ${app.displayName}, ${'applied'}, ${app.homeProvince}, ${JSON.stringify(app.provinces)}, ${JSON.stringify(app.certificates)}, ${access?.der ?? null}, ${app.licence.number}, ${app.licence.notBefore}, ${app.licence.notAfter}, ${JSON.stringify(app.company)}, ${app.servicePlan}, ${JSON.stringify(app.materials)}, ${null}, ${JSON.stringify(app.endpoints ?? {})}, ${JSON.stringify(app.samples ?? { good: [], revoked: [] })}, ${JSON.stringify(history)}, ${now}, ${now})`,
        );
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.ca.apply', target, details: { homeProvince: app.homeProvince, provinces: app.provinces, licence: app.licence.number } }, this.clock());
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('platform.ca.exists', `a CA named "${app.name}" is already registered`);
      throw e;
    }
    return (await this.get(app.name))!;
  }

  /** The home province's office reviews: forwards (province-reviewed) or rejects. */
  async provinceReview(actor: PlatformPrincipal, name: string, decision: { approve: boolean; note?: string }): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.province-review', ['provincial']);
    if (actor.province !== ca.homeProvince) {
      throw await refuse(this.database, this.clock, actor, 'platform.ca.province-review', `platform:ca:${name}`, 'platform.scope.province', `only the office of ${ca.homeProvince} reviews this CA`);
    }
    return this.transition(actor, ca, ['applied'], decision.approve ? 'province-reviewed' : 'rejected', noteOf(decision.note, decision.approve ? 'forwarded by the province' : 'rejected by the province'));
  }

  /**
   * The CA (itself), its home province or the national office replaces the conformance test's
   * inputs (endpoints, samples) before admission, e.g. after fixing what a failed test found.
   */
  async updateConformanceInputs(actor: PlatformPrincipal, name: string, body: unknown): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.conformance-inputs', ['national', 'provincial', 'ca']);
    const target = `platform:ca:${name}`;
    if (actor.role === 'provincial' && actor.province !== ca.homeProvince) {
      throw await refuse(this.database, this.clock, actor, 'platform.ca.conformance-inputs', target, 'platform.scope.province', `only the office of ${ca.homeProvince} or the national office changes this CA's test inputs`);
    }
    if (typeof body !== 'object' || body === null) throw new InvalidRequestError('platform.application', 'send {"endpoints"?, "samples"?}');
    const b = body as Record<string, unknown>;
    const endpoints = b.endpoints === undefined ? ca.endpoints : checkEndpoints(b.endpoints);
    const samples = b.samples === undefined ? ca.samples : checkSamples(b.samples);
    if (!['applied', 'province-reviewed', 'tested'].includes(ca.status)) throw new ConflictError('platform.ca.status', `the test inputs of a CA that is ${ca.status} are fixed`);
    const now = nowIso(this.clock());
    await this.database.transaction(async (tx) => {
      const changed = await run(tx, sql`update platform_cas set endpoints = ${JSON.stringify(endpoints)}, samples = ${JSON.stringify(samples)}, updated_at = ${now} where name = ${name} and status = ${ca.status}`);
      if (changed !== 1) throw new ConflictError('platform.ca.changed', `CA "${name}" changed meanwhile; try again`);
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.ca.conformance-inputs', target, details: { endpoints, good: samples.good.length, revoked: samples.revoked.length } }, this.clock());
    });
    return (await this.get(name))!;
  }

  /** The national office stores the conformance report; a passing one moves the CA to "tested". */
  async recordConformance(actor: PlatformPrincipal, name: string, body: unknown, source: 'automated' | 'offline' = 'offline'): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.conformance', ['national']);
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.passed !== 'boolean') throw new InvalidRequestError('platform.conformance.passed', 'passed must be true or false');
    const faults = Array.isArray(b.faults) ? b.faults.map((f, i) => text(f, `faults[${i}]`, 2000)) : [];
    if (!b.passed && faults.length === 0) throw new InvalidRequestError('platform.conformance.faults', 'a failed report names its faults');
    const report: ConformanceReport = { passed: b.passed, faults, testedAt: nowIso(this.clock()), source, ...(b.document !== undefined ? { document: b.document } : {}) };
    if (JSON.stringify(report).length > 1_000_000) throw new InvalidRequestError('platform.conformance.size', 'the report is larger than 1 MB');
    if (ca.status !== 'province-reviewed' && ca.status !== 'tested') throw new ConflictError('platform.ca.status', `a conformance report is stored for a CA the province forwarded, not one that is ${ca.status}`);
    await this.database.transaction(async (tx) => {
      await run(tx, sql`update platform_cas set conformance_report = ${JSON.stringify(report)}, updated_at = ${report.testedAt} where name = ${name}`);
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.ca.conformance', target: `platform:ca:${name}`, details: { passed: report.passed, source, faults } }, this.clock());
    });
    const stored = (await this.get(name))!;
    if (report.passed && ca.status === 'province-reviewed') return this.transition(actor, stored, ['province-reviewed'], 'tested', 'conformance test passed');
    if (!report.passed && ca.status === 'tested') return this.transition(actor, stored, ['tested'], 'province-reviewed', 'conformance test failed: ' + faults.join('; '));
    return stored;
  }

  /** The national office approves a tested CA: it is connected (and published). */
  async approve(actor: PlatformPrincipal, name: string, note?: string): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.approve', ['national']);
    if (ca.status !== 'tested') throw new ConflictError('platform.ca.status', `CA "${name}" is ${ca.status}; approval needs a tested CA`);
    if (ca.licenceExpired) throw new RuleError('platform.licence.expired', `the MIIT licence ${ca.licenceNumber} ended on ${ca.licenceNotAfter}`);
    if (!ca.platformAccessCertificate) throw new RuleError('platform.access-certificate', 'the CA has no platform-access certificate to sign its sync messages');
    if (!ca.conformanceReport?.passed) throw new RuleError('platform.conformance.missing', 'no passing conformance report is stored');
    return this.transition(actor, ca, ['tested'], 'connected', noteOf(note, 'approved by the national office'));
  }

  /** An office rejects an application not yet connected (national: any; province: its own CAs). */
  async reject(actor: PlatformPrincipal, name: string, note?: string): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.reject', ['national', 'provincial']);
    if (actor.role === 'provincial' && actor.province !== ca.homeProvince) {
      throw await refuse(this.database, this.clock, actor, 'platform.ca.reject', `platform:ca:${name}`, 'platform.scope.province', `only the office of ${ca.homeProvince} or the national office rejects this CA`);
    }
    return this.transition(actor, ca, ['applied', 'province-reviewed', 'tested'], 'rejected', noteOf(note, 'rejected'));
  }

  /** The national office suspends a connected CA (it leaves the trust list). */
  async suspend(actor: PlatformPrincipal, name: string, note?: string): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.suspend', ['national']);
    return this.transition(actor, ca, ['connected'], 'suspended', noteOf(note, 'suspended'));
  }

  /** The national office resumes a suspended CA. */
  async resume(actor: PlatformPrincipal, name: string, note?: string): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.resume', ['national']);
    if (ca.licenceExpired) throw new RuleError('platform.licence.expired', `the MIIT licence ${ca.licenceNumber} ended on ${ca.licenceNotAfter}`);
    return this.transition(actor, ca, ['suspended'], 'connected', noteOf(note, 'resumed'));
  }

  /** The national office terminates a CA's service (final). */
  async terminate(actor: PlatformPrincipal, name: string, note?: string): Promise<CaRecord> {
    const ca = await this.scoped(actor, name, 'platform.ca.terminate', ['national']);
    return this.transition(actor, ca, ['connected', 'suspended'], 'terminated', noteOf(note, 'terminated'));
  }

  /** Moves a CA from one of `from` to `to` in `tx` (or its own transaction), audited; listeners run after the commit. */
  async transition(actor: PlatformPrincipal, ca: CaRecord, from: readonly CaStatus[], to: CaStatus, note: string, tx?: Executor): Promise<CaRecord> {
    if (!from.includes(ca.status)) throw new ConflictError('platform.ca.status', `CA "${ca.name}" is ${ca.status}; this needs ${from.join(' or ')}`);
    const at = nowIso(this.clock());
    const step: StatusStep = { at, by: auditActor(actor).id, from: ca.status, to, note };
    const write = async (ex: Executor) => {
      const changed = await run(ex, sql`update platform_cas set status = ${to}, history = ${JSON.stringify([...ca.history, step])}, updated_at = ${at} where name = ${ca.name} and status = ${ca.status}`);
      if (changed !== 1) throw new ConflictError('platform.ca.changed', `CA "${ca.name}" changed meanwhile; try again`);
      await appendAudit(ex, { actor: auditActor(actor), action: `platform.ca.${to}`, target: `platform:ca:${ca.name}`, details: { from: ca.status, to, note } }, this.clock());
    };
    if (tx) await write(tx);
    else await this.database.transaction(write);
    if (!tx) await this.notify(ca.name, to, note);
    return (await this.get(ca.name, tx))!;
  }

  /** Runs the status listeners for a committed change (for callers that committed their own transaction). */
  async notify(name: string, status: CaStatus, reason: string): Promise<void> {
    if (!PUBLISHED_CHANGES.includes(status)) return;
    for (const l of this.listeners) await l(name, status, reason);
  }

  /** A CA the principal may act on with one of the roles (refusals audited). */
  private async scoped(actor: PlatformPrincipal, name: string, action: string, roles: PlatformPrincipal['role'][]): Promise<CaRecord> {
    await requireRole(this.database, this.clock, actor, roles, action, `platform:ca:${name}`);
    const ca = await this.get(name);
    if (!ca) throw new NotFoundError('platform.ca.unknown', `no CA "${name}"`);
    if (!canSee(actor, ca)) throw await refuse(this.database, this.clock, actor, action, `platform:ca:${name}`, 'platform.scope.province', `the office of ${actor.province} cannot act on a CA of ${ca.homeProvince}`);
    return ca;
  }

  private view(r: Row): CaRecord {
    const access = r.access_cert_der ? Certificate.parse(Buffer.from(r.access_cert_der)) : undefined;
    return {
      name: r.name,
      displayName: r.display_name,
      status: r.status,
      homeProvince: r.home_province,
      provinces: JSON.parse(r.provinces) as string[],
      certificates: (JSON.parse(r.certificates_pem) as string[]).map((p) => Certificate.parse(p)),
      ...(access ? { platformAccessCertificate: access } : {}),
      licenceNumber: r.licence_number,
      licenceNotBefore: r.licence_not_before,
      licenceNotAfter: r.licence_not_after,
      licenceExpired: r.licence_not_after <= nowIso(this.clock()),
      company: JSON.parse(r.company) as Record<string, string>,
      servicePlan: r.service_plan,
      materials: JSON.parse(r.materials) as Material[],
      endpoints: r.endpoints ? (JSON.parse(r.endpoints) as CaEndpoints) : {},
      samples: r.samples ? (JSON.parse(r.samples) as SampleCertificates) : { good: [], revoked: [] },
      ...(r.conformance_report ? { conformanceReport: JSON.parse(r.conformance_report) as ConformanceReport } : {}),
      history: JSON.parse(r.history) as StatusStep[],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }
}

function noteOf(note: unknown, fallback: string): string {
  if (note === undefined || note === null || note === '') return fallback;
  return text(note, 'note', 2000);
}

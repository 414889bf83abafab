/**
 * Supervision of connected CAs: selection (Art. 7–9: the national office for the Ministry and its
 * direct units, a province for itself), inspections (Art. 10: plans and records with findings),
 * and evaluation with rectification (Art. 21: a failed evaluation opens an order with a one-year
 * deadline, a passing re-evaluation ends it, an order past its deadline terminates the CA).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { addDays } from '@health-pki/pki';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { SYSTEM_PRINCIPAL } from '../../auth/principal.js';
import { ConflictError, InvalidRequestError, NotFoundError, RuleError } from '../../errors.js';
import { auditActor, checkProvince, type PlatformPrincipal } from './roles.js';
import { canSee, refuse, requireRole } from './access.js';
import type { CaRecord, CaRegistry } from './registry.js';

/** The scope of a selection or inspection: "national" or a province code. */
export type Scope = string;

/** A CA chosen to serve a scope. */
export interface Selection {
  id: string;
  scope: Scope;
  ca: string;
  note: string;
  createdAt: string;
  createdBy: string;
}

/** An inspection plan and, once done, its findings. */
export interface Inspection {
  id: string;
  ca: string;
  scope: Scope;
  plannedFor: string;
  status: 'planned' | 'done';
  findings: string[];
  createdAt: string;
  createdBy: string;
  recordedAt?: string;
}

/** An evaluation against the Art. 6 conditions. */
export interface Evaluation {
  id: string;
  ca: string;
  province: string;
  passed: boolean;
  findings: string[];
  at: string;
  createdBy: string;
  /** The rectification order it opened or closed, if any. */
  rectification?: Rectification;
}

/** A rectification order. */
export interface Rectification {
  id: string;
  ca: string;
  evaluationId: string;
  deadline: string;
  status: 'open' | 'passed' | 'expired';
  openedAt: string;
  closedAt?: string;
}

/** The principal the platform acts as when a deadline terminates a CA. */
const DEADLINE_ACTOR: PlatformPrincipal = { id: 'rectification-deadline', role: 'national', bootstrap: false };

const RECT_DAYS = 365;

function findingsOf(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 200 || v.some((f) => typeof f !== 'string' || f.length === 0 || f.length > 2000)) {
    throw new InvalidRequestError('platform.findings', 'findings must be a list of at most 200 non-empty texts');
  }
  return v as string[];
}

type RectRow = { id: string; ca_name: string; evaluation_id: string; deadline: string; status: Rectification['status']; opened_at: string; closed_at: string | null };

function rectView(r: RectRow): Rectification {
  return { id: r.id, ca: r.ca_name, evaluationId: r.evaluation_id, deadline: r.deadline, status: r.status, openedAt: r.opened_at, ...(r.closed_at ? { closedAt: r.closed_at } : {}) };
}

/** Selections, inspections, evaluations and rectification orders of one platform. */
export class Supervision {
  constructor(private readonly database: Database, private readonly registry: CaRegistry, private readonly clock: () => Date = () => new Date()) {}

  /** The national office selects for "national", a province for itself; the CA must be connected and serve the province. */
  async select(actor: PlatformPrincipal, caName: string, note = ''): Promise<Selection> {
    const ca = await this.visible(actor, caName, 'platform.selection.add', ['national', 'provincial']);
    const scope = actor.role === 'national' ? 'national' : actor.province!;
    if (ca.status !== 'connected') throw new RuleError('platform.selection.not-connected', `CA "${caName}" is ${ca.status}; only connected CAs can be selected`);
    if (scope !== 'national' && !ca.provinces.includes(scope)) throw new RuleError('platform.selection.province', `CA "${caName}" does not serve ${scope}`);
    const s: Selection = { id: randomUUID(), scope, ca: caName, note: String(note).slice(0, 2000), createdAt: nowIso(this.clock()), createdBy: auditActor(actor).id };
    try {
      await this.database.transaction(async (tx) => {
        await run(tx, sql`insert into platform_selections (id, scope, ca_name, note, created_at, created_by) values (${s.id}, ${s.scope}, ${s.ca}, ${s.note}, ${s.createdAt}, ${s.createdBy})`);
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.selection.add', target: `platform:ca:${caName}`, details: { scope } }, this.clock());
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('platform.selection.exists', `CA "${caName}" is already selected for ${scope}`);
      throw e;
    }
    return s;
  }

  /** The connected CAs selected for a scope ("national" or a province): what units of that scope may use. */
  async selections(scope: string): Promise<Array<Selection & { status: string; displayName: string }>> {
    if (scope !== 'national') checkProvince(scope);
    type R = { id: string; scope: string; ca_name: string; note: string; created_at: string; created_by: string; status: string; display_name: string };
    const rows = await all<R>(
      this.database.db,
      sql`select s.*, c.status, c.display_name from platform_selections s join platform_cas c on c.name = s.ca_name where s.scope = ${scope} and c.status = ${'connected'} order by s.created_at`,
    );
    return rows.map((r) => ({ id: r.id, scope: r.scope, ca: r.ca_name, note: r.note, createdAt: r.created_at, createdBy: r.created_by, status: r.status, displayName: r.display_name }));
  }

  /** Plans an inspection of a CA (national: any; province: CAs serving it). */
  async planInspection(actor: PlatformPrincipal, caName: string, plannedFor: unknown): Promise<Inspection> {
    await this.visible(actor, caName, 'platform.inspection.plan', ['national', 'provincial']);
    const d = typeof plannedFor === 'string' ? new Date(plannedFor) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new InvalidRequestError('platform.inspection.date', 'plannedFor must be an ISO-8601 date');
    const i: Inspection = { id: randomUUID(), ca: caName, scope: actor.role === 'national' ? 'national' : actor.province!, plannedFor: d.toISOString(), status: 'planned', findings: [], createdAt: nowIso(this.clock()), createdBy: auditActor(actor).id };
    await this.database.transaction(async (tx) => {
      await run(
        tx,
        sql`insert into platform_inspections (id, ca_name, scope, planned_for, status, findings, created_at, created_by, recorded_at) values (${i.id}, ${i.ca}, ${i.scope}, ${i.plannedFor}, ${'planned'}, ${'[]'}, ${i.createdAt}, ${i.createdBy}, ${null})`,
      );
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.inspection.plan', target: `platform:ca:${caName}`, details: { id: i.id, plannedFor: i.plannedFor } }, this.clock());
    });
    return i;
  }

  /** Records an inspection's findings; only the office that planned it. */
  async recordInspection(actor: PlatformPrincipal, id: string, findings: unknown): Promise<Inspection> {
    const list = findingsOf(findings);
    const current = (await this.inspections(actor)).find((i) => i.id === id);
    if (!current) throw new NotFoundError('platform.inspection.unknown', `no inspection ${id}`);
    await requireRole(this.database, this.clock, actor, ['national', 'provincial'], 'platform.inspection.record', `platform:inspection:${id}`);
    const scope = actor.role === 'national' ? 'national' : actor.province!;
    if (scope !== current.scope) throw await refuse(this.database, this.clock, actor, 'platform.inspection.record', `platform:inspection:${id}`, 'platform.scope.province', `only the office that planned the inspection (${current.scope}) records it`);
    if (current.status !== 'planned') throw new ConflictError('platform.inspection.done', `inspection ${id} is already recorded`);
    const at = nowIso(this.clock());
    await this.database.transaction(async (tx) => {
      await run(tx, sql`update platform_inspections set status = ${'done'}, findings = ${JSON.stringify(list)}, recorded_at = ${at} where id = ${id}`);
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.inspection.record', target: `platform:ca:${current.ca}`, details: { id, findings: list.length } }, this.clock());
    });
    return { ...current, status: 'done', findings: list, recordedAt: at };
  }

  /** The inspections of the CAs the principal may see. */
  async inspections(actor: PlatformPrincipal): Promise<Inspection[]> {
    type R = { id: string; ca_name: string; scope: string; planned_for: string; status: 'planned' | 'done'; findings: string; created_at: string; created_by: string; recorded_at: string | null };
    const visible = new Set((await this.registry.listFor(actor)).map((c) => c.name));
    const rows = await all<R>(this.database.db, sql`select * from platform_inspections order by planned_for`);
    return rows
      .filter((r) => visible.has(r.ca_name))
      .map((r) => ({ id: r.id, ca: r.ca_name, scope: r.scope, plannedFor: r.planned_for, status: r.status, findings: JSON.parse(r.findings) as string[], createdAt: r.created_at, createdBy: r.created_by, ...(r.recorded_at ? { recordedAt: r.recorded_at } : {}) }));
  }

  /**
   * A province evaluates a connected or suspended CA serving it. Failing opens a rectification
   * order (deadline one year) unless one is open; passing closes the open order.
   */
  async evaluate(actor: PlatformPrincipal, caName: string, body: { passed?: unknown; findings?: unknown }): Promise<Evaluation> {
    const ca = await this.visible(actor, caName, 'platform.evaluation.add', ['provincial']);
    if (typeof body.passed !== 'boolean') throw new InvalidRequestError('platform.evaluation.passed', 'passed must be true or false');
    const findings = findingsOf(body.findings);
    if (!body.passed && findings.length === 0) throw new InvalidRequestError('platform.evaluation.findings', 'a failed evaluation names its findings');
    if (ca.status !== 'connected' && ca.status !== 'suspended') throw new ConflictError('platform.ca.status', `CA "${caName}" is ${ca.status}; only connected or suspended CAs are evaluated`);
    const now = this.clock();
    const e: Evaluation = { id: randomUUID(), ca: caName, province: actor.province!, passed: body.passed, findings, at: nowIso(now), createdBy: auditActor(actor).id };
    await this.database.transaction(async (tx) => {
      await run(tx, sql`insert into platform_evaluations (id, ca_name, province, passed, findings, at, created_by) values (${e.id}, ${caName}, ${e.province}, ${e.passed ? 1 : 0}, ${JSON.stringify(findings)}, ${e.at}, ${e.createdBy})`);
      const open = await first<RectRow>(tx, sql`select * from platform_rectifications where ca_name = ${caName} and status = ${'open'}`);
      if (!e.passed && !open) {
        const r: Rectification = { id: randomUUID(), ca: caName, evaluationId: e.id, deadline: nowIso(addDays(now, RECT_DAYS)), status: 'open', openedAt: e.at };
        await run(tx, sql`insert into platform_rectifications (id, ca_name, evaluation_id, deadline, status, opened_at, closed_at, closed_by) values (${r.id}, ${caName}, ${e.id}, ${r.deadline}, ${'open'}, ${r.openedAt}, ${null}, ${null})`);
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.rectification.open', target: `platform:ca:${caName}`, details: { id: r.id, deadline: r.deadline, findings } }, now);
        e.rectification = r;
      } else if (e.passed && open) {
        await run(tx, sql`update platform_rectifications set status = ${'passed'}, closed_at = ${e.at}, closed_by = ${e.createdBy} where id = ${open.id}`);
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.rectification.passed', target: `platform:ca:${caName}`, details: { id: open.id, evaluation: e.id } }, now);
        e.rectification = { ...rectView(open), status: 'passed', closedAt: e.at };
      } else if (open) {
        e.rectification = rectView(open);
      }
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.evaluation.add', target: `platform:ca:${caName}`, details: { id: e.id, passed: e.passed, findings: findings.length } }, now);
    });
    return e;
  }

  /** The rectification orders of the CAs the principal may see. */
  async rectifications(actor: PlatformPrincipal): Promise<Rectification[]> {
    const visible = new Set((await this.registry.listFor(actor)).map((c) => c.name));
    return (await all<RectRow>(this.database.db, sql`select * from platform_rectifications order by opened_at`)).filter((r) => visible.has(r.ca_name)).map(rectView);
  }

  /** The evaluations of the CAs the principal may see. */
  async evaluations(actor: PlatformPrincipal): Promise<Evaluation[]> {
    type R = { id: string; ca_name: string; province: string; passed: number; findings: string; at: string; created_by: string };
    const visible = new Set((await this.registry.listFor(actor)).map((c) => c.name));
    const rows = await all<R>(this.database.db, sql`select * from platform_evaluations order by at`);
    return rows.filter((r) => visible.has(r.ca_name)).map((r) => ({ id: r.id, ca: r.ca_name, province: r.province, passed: r.passed === 1, findings: JSON.parse(r.findings) as string[], at: r.at, createdBy: r.created_by }));
  }

  /**
   * Ends every open order past its deadline: the order expires and its CA is terminated (in one
   * transaction), then the status listeners run. Returns the CAs terminated.
   */
  async sweep(): Promise<string[]> {
    const now = nowIso(this.clock());
    const due = await all<RectRow>(this.database.db, sql`select * from platform_rectifications where status = ${'open'} and deadline < ${now}`);
    const terminated: string[] = [];
    for (const order of due) {
      const ca = await this.registry.get(order.ca_name);
      if (!ca) continue;
      const ends = ca.status === 'connected' || ca.status === 'suspended';
      await this.database.transaction(async (tx) => {
        const changed = await run(tx, sql`update platform_rectifications set status = ${'expired'}, closed_at = ${now}, closed_by = ${'system'} where id = ${order.id} and status = ${'open'}`);
        if (changed !== 1) return;
        await appendAudit(tx, { actor: SYSTEM_PRINCIPAL, action: 'platform.rectification.expired', target: `platform:ca:${ca.name}`, details: { id: order.id, deadline: order.deadline } }, this.clock());
        if (ends) await this.registry.transition(DEADLINE_ACTOR, ca, ['connected', 'suspended'], 'terminated', `rectification order ${order.id} passed its deadline ${order.deadline}`, tx);
      });
      if (ends) {
        terminated.push(ca.name);
        await this.registry.notify(ca.name, 'terminated', `rectification deadline ${order.deadline} passed`);
      }
    }
    return terminated;
  }

  private async visible(actor: PlatformPrincipal, caName: string, action: string, roles: PlatformPrincipal['role'][]): Promise<CaRecord> {
    await requireRole(this.database, this.clock, actor, roles, action, `platform:ca:${caName}`);
    const ca = await this.registry.get(caName);
    if (!ca) throw new NotFoundError('platform.ca.unknown', `no CA "${caName}"`);
    if (!canSee(actor, ca)) throw await refuse(this.database, this.clock, actor, action, `platform:ca:${caName}`, 'platform.scope.province', `the office of ${actor.province} cannot act on a CA that does not serve it`);
    return ca;
  }
}

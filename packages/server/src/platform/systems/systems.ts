/**
 * The registry of health information systems that rely on certificates (Art. 15–17): each system
 * with its Art. 15 category, operator (the using unit) and builder, whether it serves the public,
 * the connected CAs whose certificates it accepts and the user groups (certificate classes) it
 * covers; and the record of which holders' certificates are registered in which system, which the
 * fee statements (Art. 19–20) are computed from. A system is registered by its operator through
 * its provincial office (scope = that province) or the national office (scope "national").
 */
import { sql } from 'kysely';
import type { Database, Executor } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { ConflictError, InvalidRequestError, NotFoundError, RuleError } from '../../errors.js';
import { auditActor, checkProvince, type PlatformPrincipal } from '../registry/roles.js';
import { refuse, requireRole } from '../registry/access.js';
import type { CaDirectory } from '../registry/types.js';
import { normaliseHolder, normaliseOrganisation, type HolderIdentity, type HolderKind } from './identity.js';

/** Art. 15 (1)–(5): public health, medical care, online administrative approval, online tendering and procurement, other. */
export const SYSTEM_CATEGORIES = ['public-health', 'medical-care', 'administrative-approval', 'tendering-procurement', 'other'] as const;
/** An Art. 15 category. */
export type SystemCategory = (typeof SYSTEM_CATEGORIES)[number];

/** The user groups a system can cover: the end-entity certificate classes of people and organisations, with the identity that keys their holders. */
export const USER_GROUPS: Readonly<Record<string, HolderKind>> = {
  'internal-staff': 'resident-id',
  'internal-organization': 'organisation',
  'external-person': 'resident-id',
  'external-organization': 'organisation',
};

/** A unit (organisation) named by its normalised organisation code. */
export interface Unit {
  code: string;
  name: string;
}

/** A registered information system. */
export interface InformationSystem {
  id: string;
  displayName: string;
  category: SystemCategory;
  /** "national" (Ministry and its direct units) or the province code of the office it registered through. */
  scope: string;
  /** The using unit: pays the annual service fee (Art. 19). */
  operator: Unit;
  /** The building unit: buys first issuance (Art. 19). */
  builder: Unit;
  /** Serves the public: the applicant pays (Art. 19). */
  publicFacing: boolean;
  acceptedCas: string[];
  userGroups: string[];
  description: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

/** One holder's certificate registered in one system. */
export interface Usage {
  system: string;
  holder: HolderIdentity;
  ca: string;
  class: string;
  /** The holder's using unit, if not the system's operator (pays the annual fee). */
  unit?: string;
  firstUsedAt: string;
  endedAt?: string;
}

/** The most usage records one request may carry. */
export const MAX_USAGE_BATCH = 1000;
/** Usage before the regulation came into force (2010-01-01) is refused as a typo. */
const EARLIEST = '2010-01-01T00:00:00.000Z';
const SYSTEM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

type SystemRow = {
  id: string;
  display_name: string;
  category: SystemCategory;
  scope: string;
  operator_code: string;
  operator_name: string;
  builder_code: string;
  builder_name: string;
  public_facing: number;
  accepted_cas: string;
  user_groups: string;
  description: string;
  created_at: string;
  created_by: string;
  updated_at: string;
};
type UsageRow = { system_id: string; holder_kind: HolderKind; holder_value: string; ca: string; class: string; unit_code: string | null; first_used_at: string; ended_at: string | null };

function text(v: unknown, field: string, max = 200): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw new InvalidRequestError('platform.system.field', `${field} must be a non-empty text of at most ${max} characters`);
  return v.trim();
}

function unitOf(v: unknown, field: string): Unit {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return { code: normaliseOrganisation(o.code, `${field}.code`), name: text(o.name, `${field}.name`) };
}

function list(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > max) throw new InvalidRequestError('platform.system.list', `${field} must list 1-${max} entries`);
  return v;
}

/** Checks a system id (the key the platform and the statements use). */
export function checkSystemId(v: unknown): string {
  if (typeof v !== 'string' || !SYSTEM_ID.test(v)) throw new InvalidRequestError('platform.system.id', 'a system id is 1-63 lower-case letters, digits or "-"');
  return v;
}

function instant(v: unknown, field: string, now: Date): string {
  if (v === undefined) return nowIso(now);
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new InvalidRequestError('platform.usage.date', `${field} must be an ISO-8601 date or date-time`);
  const iso = new Date(t).toISOString();
  if (iso < EARLIEST || t > now.getTime()) throw new InvalidRequestError('platform.usage.date', `${field} must lie between 2010-01-01 and now`);
  return iso;
}

function systemView(r: SystemRow): InformationSystem {
  return {
    id: r.id,
    displayName: r.display_name,
    category: r.category,
    scope: r.scope,
    operator: { code: r.operator_code, name: r.operator_name },
    builder: { code: r.builder_code, name: r.builder_name },
    publicFacing: r.public_facing === 1,
    acceptedCas: JSON.parse(r.accepted_cas) as string[],
    userGroups: JSON.parse(r.user_groups) as string[],
    description: r.description,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
  };
}

/** A usage row as the API and the fee computation see it. */
export function usageView(r: UsageRow): Usage {
  return {
    system: r.system_id,
    holder: { kind: r.holder_kind, value: r.holder_value },
    ca: r.ca,
    class: r.class,
    ...(r.unit_code ? { unit: r.unit_code } : {}),
    firstUsedAt: r.first_used_at,
    ...(r.ended_at ? { endedAt: r.ended_at } : {}),
  };
}

/** Whether the principal may see a system: national and auditor all, a province its own, a CA those that accept it. */
export function canSeeSystem(p: PlatformPrincipal, s: InformationSystem): boolean {
  if (p.role === 'national' || p.role === 'auditor') return true;
  if (p.role === 'provincial') return s.scope === p.province;
  return s.acceptedCas.includes(p.ca ?? '');
}

/** The information systems of one platform and their holders. */
export class InformationSystems {
  constructor(private readonly database: Database, private readonly cas: CaDirectory, private readonly clock: () => Date = () => new Date()) {}

  /** An office registers a system for its scope (a province only for itself). */
  async register(actor: PlatformPrincipal, body: unknown): Promise<InformationSystem> {
    if (typeof body !== 'object' || body === null) throw new InvalidRequestError('platform.system', 'the registration must be a JSON object');
    const b = body as Record<string, unknown>;
    const id = checkSystemId(b.id);
    const target = `platform:system:${id}`;
    await requireRole(this.database, this.clock, actor, ['national', 'provincial'], 'platform.system.register', target);
    const scope = b.scope === undefined ? (actor.role === 'national' ? 'national' : actor.province!) : b.scope === 'national' ? 'national' : checkProvince(b.scope);
    if (actor.role === 'provincial' && scope !== actor.province) {
      throw await refuse(this.database, this.clock, actor, 'platform.system.register', target, 'platform.scope.province', `the office of ${actor.province} registers systems only for its own province, not ${scope}`);
    }
    if (!SYSTEM_CATEGORIES.includes(b.category as SystemCategory)) throw new InvalidRequestError('platform.system.category', `category must be one of ${SYSTEM_CATEGORIES.join(', ')} (Art. 15)`);
    if (typeof b.publicFacing !== 'boolean') throw new InvalidRequestError('platform.system.public-facing', 'publicFacing must be true or false');
    const operator = unitOf(b.operator, 'operator');
    const builder = b.builder === undefined ? operator : unitOf(b.builder, 'builder');
    const userGroups = [...new Set(list(b.userGroups, 'userGroups', 10).map((g) => {
      if (typeof g !== 'string' || !(g in USER_GROUPS)) throw new InvalidRequestError('platform.system.user-group', `user groups are ${Object.keys(USER_GROUPS).join(', ')}`);
      return g;
    }))];
    const acceptedCas = await this.connectedCas(list(b.acceptedCas, 'acceptedCas', 50));
    const now = nowIso(this.clock());
    const s: InformationSystem = {
      id,
      displayName: text(b.displayName, 'displayName'),
      category: b.category as SystemCategory,
      scope,
      operator,
      builder,
      publicFacing: b.publicFacing,
      acceptedCas,
      userGroups,
      description: b.description === undefined || b.description === '' ? '' : text(b.description, 'description', 4000),
      createdAt: now,
      createdBy: auditActor(actor).id,
      updatedAt: now,
    };
    try {
      await this.database.transaction(async (tx) => {
        await run(
          tx,
          sql`insert into platform_systems (id, display_name, category, scope, operator_code, operator_name, builder_code, builder_name, public_facing, accepted_cas, user_groups, description, created_at, created_by, updated_at)
              values (${s.id}, ${s.displayName}, ${s.category}, ${s.scope}, ${operator.code}, ${operator.name}, ${builder.code}, ${builder.name}, ${s.publicFacing ? 1 : 0}, ${JSON.stringify(acceptedCas)}, ${JSON.stringify(userGroups)}, ${s.description}, ${now}, ${s.createdBy}, ${now})`,
        );
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.system.register', target, details: { scope, category: s.category, publicFacing: s.publicFacing, acceptedCas } }, this.clock());
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('platform.system.exists', `a system "${id}" is already registered`);
      throw e;
    }
    return s;
  }

  /** Replaces the accepted CAs of a system (each added one must be connected now). */
  async setAcceptedCas(actor: PlatformPrincipal, id: string, cas: unknown): Promise<InformationSystem> {
    const s = await this.scoped(actor, id, 'platform.system.accepted-cas');
    const acceptedCas = await this.connectedCas(list(cas, 'acceptedCas', 50), s.acceptedCas);
    const now = nowIso(this.clock());
    await this.database.transaction(async (tx) => {
      await run(tx, sql`update platform_systems set accepted_cas = ${JSON.stringify(acceptedCas)}, updated_at = ${now} where id = ${id}`);
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.system.accepted-cas', target: `platform:system:${id}`, details: { from: s.acceptedCas, to: acceptedCas } }, this.clock());
    });
    return { ...s, acceptedCas, updatedAt: now };
  }

  /** The system of that id, whoever asks. */
  async get(id: string, ex: Executor = this.database.db): Promise<InformationSystem | undefined> {
    const r = await first<SystemRow>(ex, sql`select * from platform_systems where id = ${id}`);
    return r && systemView(r);
  }

  /** The systems with these ids (for the fee computation). */
  async getMany(ids: readonly string[]): Promise<InformationSystem[]> {
    if (ids.length === 0) return [];
    return (await all<SystemRow>(this.database.db, sql`select * from platform_systems where id in (${sql.join([...ids])})`)).map(systemView);
  }

  /** The systems the principal may see. */
  async listFor(actor: PlatformPrincipal): Promise<InformationSystem[]> {
    const rows = actor.role === 'provincial'
      ? await all<SystemRow>(this.database.db, sql`select * from platform_systems where scope = ${actor.province ?? ''} order by id`)
      : await all<SystemRow>(this.database.db, sql`select * from platform_systems order by id`);
    return rows.map(systemView).filter((s) => canSeeSystem(actor, s));
  }

  /** One system, if the principal may see it (404 otherwise, so ids do not leak). */
  async getFor(actor: PlatformPrincipal, id: string): Promise<InformationSystem> {
    const s = await this.get(id);
    if (!s || !canSeeSystem(actor, s)) throw new NotFoundError('platform.system.unknown', `no system "${id}"`);
    return s;
  }

  /**
   * Records that holders' certificates are registered in a system (idempotent per holder, CA and
   * class: a repeated record keeps the first date). Each CA must be accepted by the system and
   * connected now; each class one of its user groups.
   */
  async recordUsage(actor: PlatformPrincipal, id: string, body: unknown): Promise<{ recorded: number; already: number }> {
    const s = await this.scoped(actor, id, 'platform.usage.record');
    const now = this.clock();
    const records = this.batch(body).map((r, i) => {
      const o = r as Record<string, unknown>;
      const cls = this.groupOf(s, o.class, i);
      const holder = normaliseHolder(o.holder, `records[${i}].holder`);
      if (USER_GROUPS[cls] !== holder.kind) throw new InvalidRequestError('platform.usage.holder-kind', `records[${i}]: holders of ${cls} certificates are identified by ${USER_GROUPS[cls]}`);
      if (typeof o.ca !== 'string' || !s.acceptedCas.includes(o.ca)) throw new RuleError('platform.usage.ca-not-accepted', `records[${i}]: system "${id}" does not accept certificates of CA "${String(o.ca)}"`);
      const unit = o.unit === undefined ? null : normaliseOrganisation(o.unit, `records[${i}].unit`);
      return { holder, ca: o.ca, cls, unit, at: instant(o.at, `records[${i}].at`, now) };
    });
    for (const ca of new Set(records.map((r) => r.ca))) {
      const status = (await this.cas.get(ca))?.status;
      if (status !== 'connected') throw new RuleError('platform.usage.ca-not-connected', `CA "${ca}" is ${status ?? 'unknown'}; only certificates of connected CAs are registered`);
    }
    let recorded = 0;
    const by = auditActor(actor).id;
    await this.database.transaction(async (tx) => {
      for (const r of records) {
        recorded += await run(
          tx,
          sql`insert into platform_system_usage (system_id, holder_kind, holder_value, ca, class, unit_code, first_used_at, ended_at, recorded_at, recorded_by)
              values (${id}, ${r.holder.kind}, ${r.holder.value}, ${r.ca}, ${r.cls}, ${r.unit}, ${r.at}, ${null}, ${nowIso(now)}, ${by})
              on conflict do nothing`,
        );
      }
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.usage.record', target: `platform:system:${id}`, details: { records: records.length, recorded } }, now);
    });
    return { recorded, already: records.length - recorded };
  }

  /** Records that holders stopped using a system (no annual fee falls due for it afterwards). */
  async endUsage(actor: PlatformPrincipal, id: string, body: unknown): Promise<{ ended: number; unknown: number }> {
    const s = await this.scoped(actor, id, 'platform.usage.end');
    const now = this.clock();
    const records = this.batch(body).map((r, i) => {
      const o = r as Record<string, unknown>;
      return { holder: normaliseHolder(o.holder, `records[${i}].holder`), ca: String(o.ca ?? ''), cls: this.groupOf(s, o.class, i), at: instant(o.at, `records[${i}].at`, now) };
    });
    let ended = 0;
    let unknown = 0;
    await this.database.transaction(async (tx) => {
      for (const r of records) {
        const row = await first<UsageRow>(tx, sql`select * from platform_system_usage where system_id = ${id} and holder_kind = ${r.holder.kind} and holder_value = ${r.holder.value} and ca = ${r.ca} and class = ${r.cls}`);
        if (!row || row.ended_at) {
          unknown++;
          continue;
        }
        if (r.at < row.first_used_at) throw new RuleError('platform.usage.end-before-start', `a usage cannot end (${r.at}) before it began (${row.first_used_at})`);
        ended += await run(tx, sql`update platform_system_usage set ended_at = ${r.at} where system_id = ${id} and holder_kind = ${r.holder.kind} and holder_value = ${r.holder.value} and ca = ${r.ca} and class = ${r.cls} and ended_at is null`);
      }
      await appendAudit(tx, { actor: auditActor(actor), action: 'platform.usage.end', target: `platform:system:${id}`, details: { records: records.length, ended } }, now);
    });
    return { ended, unknown };
  }

  /** A page of a system's usage records (offices and auditors). */
  async usage(actor: PlatformPrincipal, id: string, page: { limit?: unknown; offset?: unknown }): Promise<{ usage: Usage[]; total: number }> {
    await this.scoped(actor, id, 'platform.usage.read', ['national', 'provincial', 'auditor']);
    const num = (v: unknown, dflt: number, max: number, name: string) => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidRequestError('platform.usage.page', `${name} must be an integer from 0 to ${max}`);
      return n;
    };
    const limit = num(page.limit, 100, 1000, 'limit');
    const offset = num(page.offset, 0, 10_000_000, 'offset');
    const rows = await all<UsageRow>(this.database.db, sql`select * from platform_system_usage where system_id = ${id} order by first_used_at, holder_kind, holder_value, ca, class limit ${limit} offset ${offset}`);
    const total = await first<{ n: number | string }>(this.database.db, sql`select count(*) as n from platform_system_usage where system_id = ${id}`);
    return { usage: rows.map(usageView), total: Number(total?.n ?? 0) };
  }

  /** Every usage row of every certificate that one of the given systems, or one of the given units, is involved with — what sharing needs. */
  async usageOfCertificates(filter: { systems: readonly string[]; units: readonly string[] }): Promise<Usage[]> {
    const conds = [];
    if (filter.systems.length) conds.push(sql`m.system_id in (${sql.join([...filter.systems])})`);
    if (filter.units.length) {
      conds.push(sql`m.unit_code in (${sql.join([...filter.units])})`);
      conds.push(sql`(m.holder_kind = ${'organisation'} and m.holder_value in (${sql.join([...filter.units])}))`);
    }
    if (conds.length === 0) return [];
    const rows = await all<UsageRow>(
      this.database.db,
      sql`select u.* from platform_system_usage u where exists (
            select 1 from platform_system_usage m
            where m.holder_kind = u.holder_kind and m.holder_value = u.holder_value and m.ca = u.ca and m.class = u.class and (${sql.join(conds, sql` or `)}))
          order by u.holder_kind, u.holder_value, u.ca, u.class, u.first_used_at, u.system_id`,
    );
    return rows.map(usageView);
  }

  /** The ids of the systems a unit builds or operates. */
  async systemsOfUnit(code: string): Promise<string[]> {
    return (await all<{ id: string }>(this.database.db, sql`select id from platform_systems where operator_code = ${code} or builder_code = ${code} order by id`)).map((r) => r.id);
  }

  private batch(body: unknown): unknown[] {
    const records = (body as Record<string, unknown> | undefined)?.records;
    if (!Array.isArray(records) || records.length === 0 || records.length > MAX_USAGE_BATCH) throw new InvalidRequestError('platform.usage.records', `records must list 1-${MAX_USAGE_BATCH} usage records`);
    return records;
  }

  private groupOf(s: InformationSystem, cls: unknown, i: number): string {
    if (typeof cls !== 'string' || !s.userGroups.includes(cls)) throw new RuleError('platform.usage.class', `records[${i}]: system "${s.id}" covers ${s.userGroups.join(', ')}, not ${String(cls)}`);
    return cls;
  }

  private async connectedCas(names: unknown[], keep: readonly string[] = []): Promise<string[]> {
    const out: string[] = [];
    for (const [i, n] of names.entries()) {
      if (typeof n !== 'string') throw new InvalidRequestError('platform.system.ca', `acceptedCas[${i}] must be a CA name`);
      if (out.includes(n)) continue;
      // A CA already accepted stays even if suspended meanwhile (its certificates stay registered); a new one must be connected.
      if (!keep.includes(n)) {
        const ca = await this.cas.get(n);
        if (ca?.status !== 'connected') throw new RuleError('platform.system.ca-not-connected', `CA "${n}" is ${ca?.status ?? 'not registered'}; a system accepts only CAs connected to the platform (on the trust list)`);
      }
      out.push(n);
    }
    return out;
  }

  /** A system the principal may act on with one of the roles: a province only its own (refusals audited). */
  private async scoped(actor: PlatformPrincipal, id: string, action: string, roles: PlatformPrincipal['role'][] = ['national', 'provincial']): Promise<InformationSystem> {
    checkSystemId(id);
    const target = `platform:system:${id}`;
    await requireRole(this.database, this.clock, actor, roles, action, target);
    const s = await this.get(id);
    if (!s) throw new NotFoundError('platform.system.unknown', `no system "${id}"`);
    if (actor.role === 'provincial' && s.scope !== actor.province) {
      throw await refuse(this.database, this.clock, actor, action, target, 'platform.scope.province', `the office of ${actor.province} cannot act on a system of ${s.scope}`);
    }
    return s;
  }
}

/**
 * Fee schedules (Art. 19): the price of a certificate's first issuance and of a year of service,
 * per certificate class, in fen (integers, never floating point), set by the national office and
 * versioned by the date they take effect. A schedule applies from its date until the next one; a
 * charge is priced by the schedule in force on the charge's date. Schedules cannot be back-dated
 * or replaced, so a statement for a past period never changes because of a price edit.
 */
import { sql } from 'kysely';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { ConflictError, InvalidRequestError } from '../../errors.js';
import { auditActor, type PlatformPrincipal } from '../registry/roles.js';
import { requireRole } from '../registry/access.js';
import { USER_GROUPS } from '../systems/systems.js';

/** The prices of one certificate class, in fen. */
export interface ClassPrices {
  firstIssuance: number;
  annualService: number;
}

/** A fee schedule. */
export interface FeeSchedule {
  /** YYYY-MM-DD (UTC): in force from 00:00 of that day until the next schedule. */
  effectiveFrom: string;
  prices: Record<string, ClassPrices>;
  note: string;
  createdAt: string;
  createdBy: string;
}

/** The highest price accepted: 100 000 yuan. */
export const MAX_PRICE_FEN = 10_000_000;

function fen(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_PRICE_FEN) {
    throw new InvalidRequestError('platform.fees.price', `${field} must be a whole number of fen from 0 to ${MAX_PRICE_FEN}`);
  }
  return v;
}

/** Checks a schedule body: every class of USER_GROUPS priced, nothing else. */
export function checkPrices(v: unknown): Record<string, ClassPrices> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidRequestError('platform.fees.prices', 'prices must be an object of { firstIssuance, annualService } per certificate class');
  const classes = Object.keys(USER_GROUPS);
  const extra = Object.keys(v).filter((k) => !classes.includes(k));
  if (extra.length) throw new InvalidRequestError('platform.fees.class', `no such certificate class: ${extra.join(', ')}; price ${classes.join(', ')}`);
  const out: Record<string, ClassPrices> = {};
  for (const c of classes) {
    const p = (v as Record<string, unknown>)[c] as Record<string, unknown> | undefined;
    if (typeof p !== 'object' || p === null) throw new InvalidRequestError('platform.fees.class', `a schedule prices every class; ${c} is missing`);
    out[c] = { firstIssuance: fen(p.firstIssuance, `prices.${c}.firstIssuance`), annualService: fen(p.annualService, `prices.${c}.annualService`) };
  }
  return out;
}

/** The schedule in force at an instant (schedules sorted by date), or undefined. */
export function scheduleAt(schedules: readonly FeeSchedule[], at: string): FeeSchedule | undefined {
  let found: FeeSchedule | undefined;
  for (const s of schedules) if (`${s.effectiveFrom}T00:00:00.000Z` <= at) found = s;
  return found;
}

type Row = { effective_from: string; prices: string; note: string; created_at: string; created_by: string };

/** The platform's fee schedules. */
export class FeeSchedules {
  constructor(private readonly database: Database, private readonly clock: () => Date = () => new Date()) {}

  /** The national office sets a schedule taking effect today or later (audited). */
  async create(actor: PlatformPrincipal, body: unknown): Promise<FeeSchedule> {
    await requireRole(this.database, this.clock, actor, ['national'], 'platform.fees.schedule', 'platform:fees');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const from = b.effectiveFrom;
    if (typeof from !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(Date.parse(from)) || new Date(from).toISOString().slice(0, 10) !== from) {
      throw new InvalidRequestError('platform.fees.date', 'effectiveFrom must be a date YYYY-MM-DD');
    }
    const today = nowIso(this.clock()).slice(0, 10);
    if (from < today) throw new InvalidRequestError('platform.fees.backdated', `a schedule takes effect today (${today}) or later; past statements are not repriced`);
    if (b.note !== undefined && (typeof b.note !== 'string' || b.note.length > 2000)) throw new InvalidRequestError('platform.fees.note', 'note must be a text of at most 2000 characters');
    const s: FeeSchedule = { effectiveFrom: from, prices: checkPrices(b.prices), note: (b.note as string | undefined) ?? '', createdAt: nowIso(this.clock()), createdBy: auditActor(actor).id };
    try {
      await this.database.transaction(async (tx) => {
        await run(tx, sql`insert into platform_fee_schedules (effective_from, prices, note, created_at, created_by) values (${s.effectiveFrom}, ${JSON.stringify(s.prices)}, ${s.note}, ${s.createdAt}, ${s.createdBy})`);
        await appendAudit(tx, { actor: auditActor(actor), action: 'platform.fees.schedule', target: 'platform:fees', details: { effectiveFrom: from, prices: s.prices } }, this.clock());
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('platform.fees.exists', `a schedule taking effect on ${from} exists; schedules are not replaced, add one for a later date`);
      throw e;
    }
    return s;
  }

  /** Every schedule, oldest first. */
  async list(): Promise<FeeSchedule[]> {
    const rows = await all<Row>(this.database.db, sql`select * from platform_fee_schedules order by effective_from`);
    return rows.map((r) => ({ effectiveFrom: r.effective_from, prices: JSON.parse(r.prices) as Record<string, ClassPrices>, note: r.note, createdAt: r.created_at, createdBy: r.created_by }));
  }
}

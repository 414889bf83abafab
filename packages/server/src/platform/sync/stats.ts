/**
 * The national picture from the synced messages: per CA, province, certificate class (and
 * profile) the certificates issued, renewed and revoked within a period, and those active at its
 * end (issued before it ended, not revoked by then, not expired). CSV export for the dashboards.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../store/database.js';
import { all } from '../../store/sql.js';
import { InvalidRequestError } from '../../errors.js';

/** The dimensions statistics can be grouped by. */
export type StatsDimension = 'ca' | 'province' | 'class' | 'profile';

/** The dimensions, in output order. */
export const STATS_DIMENSIONS: readonly StatsDimension[] = ['ca', 'province', 'class', 'profile'];

/** What to count. */
export interface StatsQuery {
  /** Start of the period (inclusive, ISO); default: the beginning. */
  from?: string;
  /** End of the period (exclusive, ISO); default: now. */
  to?: string;
  /** Default: ca, province, class. */
  groupBy?: StatsDimension[];
  /** Restrictions (a provincial office sees its province, a CA itself). */
  ca?: string;
  province?: string;
  class?: string;
}

/** One row of statistics: the dimension values grouped by, and the counts. */
export interface StatsRow {
  ca?: string;
  province?: string;
  class?: string;
  profile?: string;
  issued: number;
  renewed: number;
  revoked: number;
  active: number;
}

const EPOCH = '0000-01-01T00:00:00.000Z';

/** Reads the statistics of the platform's sync tables. */
export class SyncStatistics {
  constructor(
    private readonly database: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Counts per group, sorted by the group's values. */
  async query(q: StatsQuery = {}): Promise<StatsRow[]> {
    const from = isoOr(q.from, EPOCH, 'from');
    const to = isoOr(q.to, this.clock().toISOString(), 'to');
    if (from > to) throw new InvalidRequestError('platform.stats.period', '"from" is after "to"');
    const dims = q.groupBy?.length ? STATS_DIMENSIONS.filter((d) => q.groupBy!.includes(d)) : (['ca', 'province', 'class'] as StatsDimension[]);
    const groupBy = dims.length ? sql`group by ${sql.raw(dims.join(', '))}` : sql``;
    const selectCols = sql.raw(dims.map((d) => `${d}, `).join(''));
    const where = (extra: RawBuilder<unknown>) => {
      const parts: RawBuilder<unknown>[] = [extra];
      if (q.ca !== undefined) parts.push(sql`ca = ${q.ca}`);
      if (q.province !== undefined) parts.push(sql`province = ${q.province}`);
      if (q.class !== undefined) parts.push(sql`class = ${q.class}`);
      return sql.join(parts, sql` and `);
    };
    type Counted = Record<string, string | number | null>;
    const events = await all<Counted>(
      this.database.db,
      sql`select ${selectCols}
            sum(case when kind = 'issued' then 1 else 0 end) as issued,
            sum(case when kind = 'renewed' then 1 else 0 end) as renewed,
            sum(case when kind = 'revoked' then 1 else 0 end) as revoked
          from platform_sync_messages where ${where(sql`at >= ${from} and at < ${to}`)} ${groupBy}`,
    );
    const active = await all<Counted>(
      this.database.db,
      sql`select ${selectCols} count(*) as active from platform_certificates
          where ${where(sql`issued_at is not null and issued_at < ${to} and (revoked_at is null or revoked_at >= ${to}) and (not_after is null or not_after >= ${to})`)}
          ${groupBy}`,
    );
    const rows = new Map<string, StatsRow>();
    const row = (r: Counted): StatsRow => {
      const key = JSON.stringify(dims.map((d) => r[d] ?? ''));
      let out = rows.get(key);
      if (!out) {
        out = { issued: 0, renewed: 0, revoked: 0, active: 0 };
        for (const d of dims) out[d] = String(r[d] ?? '');
        rows.set(key, out);
      }
      return out;
    };
    for (const r of events) Object.assign(row(r), { issued: Number(r.issued), renewed: Number(r.renewed), revoked: Number(r.revoked) });
    for (const r of active) row(r).active = Number(r.active);
    return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }
}

/** Statistics as CSV (RFC 4180): a header line, then one line per row. */
export function statsCsv(rows: StatsRow[], groupBy: readonly StatsDimension[]): string {
  const dims = STATS_DIMENSIONS.filter((d) => groupBy.includes(d));
  const header = [...dims, 'issued', 'renewed', 'revoked', 'active'];
  const lines = [header.join(',')];
  for (const r of rows) lines.push([...dims.map((d) => csvField(r[d] ?? '')), r.issued, r.renewed, r.revoked, r.active].join(','));
  return lines.join('\r\n') + '\r\n';
}

function csvField(v: string): string {
  // A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function isoOr(v: string | undefined, dflt: string, name: string): string {
  if (v === undefined || v === '') return dflt;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new InvalidRequestError('platform.stats.period', `"${name}" must be an ISO-8601 date or date-time`);
  return new Date(t).toISOString();
}

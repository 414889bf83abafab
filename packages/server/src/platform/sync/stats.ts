/**
 * The national picture from the synced messages: per CA, province, certificate class (and
 * profile) the certificates issued, renewed and revoked within a period, and those active at its
 * end (issued before it ended, not revoked by then, not expired); and the same events as a
 * timeseries in day, month or year buckets for the dashboard's charts. CSV export of both.
 * Times are stored as ISO-8601 UTC text, so a bucket is a prefix of `at` (portable SQL, and the
 * (dimension, at) indexes of migration 0002 serve the range).
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

  /** Events per day, month or year bucket (see statsTimeseries). */
  timeseries(q: TimeseriesQuery = {}): Promise<TimeseriesPoint[]> {
    return statsTimeseries(this.database, q, this.clock);
  }
}

/** Bucket sizes of a timeseries. */
export type StatsBucket = 'day' | 'month' | 'year';

/** The buckets, with the length of the ISO prefix that names one ("2026-03-07", "2026-03", "2026"). */
export const STATS_BUCKETS: Readonly<Record<StatsBucket, number>> = { day: 10, month: 7, year: 4 };

/** What a timeseries counts: events per bucket, optionally split by one dimension. */
export interface TimeseriesQuery {
  from?: string;
  to?: string;
  bucket?: StatsBucket;
  /** Split each bucket by this dimension (one series per value); default: one series. */
  by?: StatsDimension;
  ca?: string;
  province?: string;
  class?: string;
}

/** One point of a timeseries. */
export interface TimeseriesPoint {
  /** The bucket: "2026", "2026-03" or "2026-03-07". */
  period: string;
  /** The value of the `by` dimension ("" when the events carry none). */
  series?: string;
  issued: number;
  renewed: number;
  revoked: number;
}

/** Events per period (and series), oldest first; only buckets with events appear. */
export async function statsTimeseries(database: Database, q: TimeseriesQuery, clock: () => Date = () => new Date()): Promise<TimeseriesPoint[]> {
  const from = isoOr(q.from, EPOCH, 'from');
  const to = isoOr(q.to, clock().toISOString(), 'to');
  if (from > to) throw new InvalidRequestError('platform.stats.period', '"from" is after "to"');
  const bucket = q.bucket ?? 'month';
  const len = STATS_BUCKETS[bucket];
  if (len === undefined) throw new InvalidRequestError('platform.stats.bucket', `bucket must be one of ${Object.keys(STATS_BUCKETS).join(', ')}`);
  if (q.by !== undefined && !STATS_DIMENSIONS.includes(q.by)) throw new InvalidRequestError('platform.stats.group', `cannot split by ${String(q.by)}; use ${STATS_DIMENSIONS.join(', ')}`);
  const parts: RawBuilder<unknown>[] = [sql`at >= ${from} and at < ${to}`];
  if (q.ca !== undefined) parts.push(sql`ca = ${q.ca}`);
  if (q.province !== undefined) parts.push(sql`province = ${q.province}`);
  if (q.class !== undefined) parts.push(sql`class = ${q.class}`);
  const period = sql.raw(`substr(at, 1, ${len})`);
  const series = q.by ? sql.raw(`, ${q.by}`) : sql``;
  type Counted = Record<string, string | number | null>;
  const rows = await all<Counted>(
    database.db,
    sql`select ${period} as period ${series},
          sum(case when kind = 'issued' then 1 else 0 end) as issued,
          sum(case when kind = 'renewed' then 1 else 0 end) as renewed,
          sum(case when kind = 'revoked' then 1 else 0 end) as revoked
        from platform_sync_messages where ${sql.join(parts, sql` and `)} group by ${period} ${series}`,
  );
  const points = rows.map((r): TimeseriesPoint => {
    const p: TimeseriesPoint = { period: String(r.period), issued: Number(r.issued), renewed: Number(r.renewed), revoked: Number(r.revoked) };
    if (q.by) p.series = String(r[q.by] ?? '');
    return p;
  });
  return points.sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : (a.series ?? '') < (b.series ?? '') ? -1 : (a.series ?? '') > (b.series ?? '') ? 1 : 0));
}

/** A timeseries as CSV: period, the series column if split, then the counts. */
export function timeseriesCsv(points: TimeseriesPoint[], by?: StatsDimension): string {
  const lines = [[ 'period', ...(by ? [by] : []), 'issued', 'renewed', 'revoked'].join(',')];
  for (const p of points) lines.push([p.period, ...(by ? [csvField(p.series ?? '')] : []), p.issued, p.renewed, p.revoked].join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Statistics as CSV (RFC 4180): a header line, then one line per row. */
export function statsCsv(rows: StatsRow[], groupBy: readonly StatsDimension[]): string {
  const dims = STATS_DIMENSIONS.filter((d) => groupBy.includes(d));
  const header = [...dims, 'issued', 'renewed', 'revoked', 'active'];
  const lines = [header.join(',')];
  for (const r of rows) lines.push([...dims.map((d) => csvField(r[d] ?? '')), r.issued, r.renewed, r.revoked, r.active].join(','));
  return lines.join('\r\n') + '\r\n';
}

/** One CSV field, quoted if it must be and defused if a spreadsheet would run it as a formula. */
export function csvField(v: string): string {
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

/**
 * The platform's watch on each CA's blacklist services (Art. 11): on a schedule (default every
 * 5 minutes) it probes the OCSP responders and CRL distribution points of every connected or
 * suspended CA (probe/targets.ts, probe/check.ts), records each result, and answers uptime and
 * latency percentiles per CA, kind and period for the dashboard. Percentiles are exact (the
 * latencies of the period are read and sorted): at one probe per URL every 5 minutes a month is
 * under 10,000 rows per URL.
 */
import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { all, run } from '../../store/sql.js';
import { InvalidRequestError } from '../../errors.js';
import type { CaStatus } from '../registry/types.js';
import type { PlatformPrincipal } from '../registry/roles.js';
import { canSee, type ScopedCa } from '../registry/access.js';
import { probe, type ProbeOptions, type ProbeOutcome } from './check.js';
import { probeTargets, type ProbedCa } from './targets.js';

/** Which CAs are probed: those relying parties may be using. */
const PROBED: readonly CaStatus[] = ['connected', 'suspended'];

/** Where the monitor reads its CAs (the registry). */
export interface ProbeDirectory {
  list(): Promise<Array<ProbedCa & ScopedCa>>;
}

/** Options of the monitor. */
export interface ProbeMonitorOptions extends ProbeOptions {
  database: Database;
  directory: ProbeDirectory;
  /** Probes in flight at once (default 8). */
  concurrency?: number;
}

/** One recorded probe. */
export interface ProbeRecord extends ProbeOutcome {
  ca: string;
  kind: 'ocsp' | 'crl';
  url: string;
  at: string;
}

/** Uptime and latency of one CA's OCSP or CRL service in one period. */
export interface ProbeSummary {
  ca: string;
  kind: 'ocsp' | 'crl';
  /** The bucket ("2026-03-07T10", "2026-03-07", "2026-03"), absent without one. */
  period?: string;
  probes: number;
  up: number;
  /** Percentage of probes that succeeded, 2 decimals. */
  uptime: number;
  /** Latency percentiles of the successful probes, ms (null when none succeeded). */
  p50: number | null;
  p95: number | null;
  lastAt: string;
  lastOk: boolean;
  lastError: string | null;
}

/** Summary buckets and the length of the ISO prefix naming one. */
export const PROBE_BUCKETS = { hour: 13, day: 10, month: 7 } as const;
export type ProbeBucket = keyof typeof PROBE_BUCKETS;

/** The q-quantile of sorted values (nearest rank). */
export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function isoOr(v: unknown, dflt: string, name: string): string {
  if (v === undefined || v === '') return dflt;
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new InvalidRequestError('platform.probe.period', `"${name}" must be an ISO-8601 date or date-time`);
  return new Date(t).toISOString();
}

/** Probes the CAs' OCSP and CRL services and reports on them. */
export class ProbeMonitor {
  private readonly database: Database;
  private readonly directory: ProbeDirectory;
  private readonly opts: ProbeOptions;
  private readonly concurrency: number;
  private readonly clock: () => Date;
  private running?: Promise<ProbeRecord[]>;

  constructor(o: ProbeMonitorOptions) {
    this.database = o.database;
    this.directory = o.directory;
    this.clock = o.clock ?? (() => new Date());
    this.opts = { timeoutMs: o.timeoutMs, maxBytes: o.maxBytes, clock: this.clock };
    this.concurrency = Math.max(1, o.concurrency ?? 8);
  }

  /** Probes every target of every probed CA once and records the results; a round already running is joined, not doubled. */
  runOnce(signal?: AbortSignal): Promise<ProbeRecord[]> {
    this.running ??= this.round(signal).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(signal?: AbortSignal): Promise<ProbeRecord[]> {
    const jobs = (await this.directory.list()).filter((ca) => PROBED.includes(ca.status)).flatMap((ca) => probeTargets(ca).map((t) => ({ ca: ca.name, t })));
    const records: ProbeRecord[] = [];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const { ca, t } = jobs[next++]!;
        const at = nowIso(this.clock());
        records.push({ ca, kind: t.kind, url: t.url, at, ...(await probe(t, { ...this.opts, signal })) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, jobs.length) }, worker));
    if (records.length && !signal?.aborted) {
      await this.database.transaction(async (tx) => {
        for (const r of records) {
          await run(tx, sql`insert into platform_probe_results (id, ca, kind, url, at, ok, latency_ms, http_status, error) values (${randomUUID()}, ${r.ca}, ${r.kind}, ${r.url}, ${r.at}, ${r.ok ? 1 : 0}, ${r.latencyMs}, ${r.httpStatus ?? null}, ${r.error ?? null})`);
        }
      });
    }
    return records;
  }

  /** Starts probing every `intervalMs` (first round at once); returns the stop function. Errors go to `onError`. */
  schedule(intervalMs: number, onError: (e: unknown) => void = () => undefined): () => void {
    const stop = new AbortController();
    const tick = () => void this.runOnce(stop.signal).catch((e: unknown) => stop.signal.aborted || onError(e));
    tick();
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      // Probes in flight end now: a stopping platform neither waits for them nor writes their results.
      stop.abort();
    };
  }

  /** The CA names the caller may see (undefined: all). */
  private async visible(actor: PlatformPrincipal): Promise<Set<string> | undefined> {
    if (actor.role === 'national' || actor.role === 'auditor') return undefined;
    if (actor.role === 'ca') return new Set(actor.ca ? [actor.ca] : []);
    return new Set((await this.directory.list()).filter((ca) => canSee(actor, ca)).map((ca) => ca.name));
  }

  /** Uptime and p50/p95 latency per CA and kind over [from, to), optionally per bucket; scoped to what the caller may see. */
  async summary(actor: PlatformPrincipal, q: { from?: string; to?: string; ca?: string; bucket?: string } = {}): Promise<ProbeSummary[]> {
    const to = isoOr(q.to, nowIso(this.clock()), 'to');
    const from = isoOr(q.from, new Date(Date.parse(to) - 86_400_000).toISOString(), 'from');
    if (from > to) throw new InvalidRequestError('platform.probe.period', '"from" is after "to"');
    if (q.bucket !== undefined && !Object.hasOwn(PROBE_BUCKETS, q.bucket)) throw new InvalidRequestError('platform.probe.bucket', `bucket must be one of ${Object.keys(PROBE_BUCKETS).join(', ')}`);
    const len = q.bucket ? PROBE_BUCKETS[q.bucket as ProbeBucket] : 0;
    const visible = await this.visible(actor);
    if (visible?.size === 0) return [];
    const parts: RawBuilder<unknown>[] = [sql`at >= ${from} and at < ${to}`];
    if (q.ca !== undefined) parts.push(sql`ca = ${q.ca}`);
    if (visible) parts.push(sql`ca in (${sql.join([...visible])})`);
    const rows = await all<{ ca: string; kind: 'ocsp' | 'crl'; at: string; ok: number | boolean; latency_ms: number | string; error: string | null }>(
      this.database.db,
      sql`select ca, kind, at, ok, latency_ms, error from platform_probe_results where ${sql.join(parts, sql` and `)} order by at, id`,
    );
    const groups = new Map<string, { ca: string; kind: 'ocsp' | 'crl'; period?: string; lat: number[]; probes: number; last: (typeof rows)[number] }>();
    for (const r of rows) {
      const period = len ? r.at.slice(0, len) : undefined;
      const key = `${r.ca}\u0000${r.kind}\u0000${period ?? ''}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { ca: r.ca, kind: r.kind, ...(period ? { period } : {}), lat: [], probes: 0, last: r }));
      g.probes++;
      if (Number(r.ok) === 1) g.lat.push(Number(r.latency_ms));
      g.last = r;
    }
    return [...groups.values()]
      .map((g): ProbeSummary => {
        const sorted = g.lat.sort((a, b) => a - b);
        return {
          ca: g.ca,
          kind: g.kind,
          ...(g.period ? { period: g.period } : {}),
          probes: g.probes,
          up: sorted.length,
          uptime: Math.round((10_000 * sorted.length) / g.probes) / 100,
          p50: percentile(sorted, 0.5),
          p95: percentile(sorted, 0.95),
          lastAt: g.last.at,
          lastOk: Number(g.last.ok) === 1,
          lastError: g.last.error,
        };
      })
      .sort((a, b) => (a.ca + a.kind + (a.period ?? '') < b.ca + b.kind + (b.period ?? '') ? -1 : 1));
  }

  /** The latest probes (newest first, at most `limit`), scoped; with the failure reasons. */
  async recent(actor: PlatformPrincipal, q: { ca?: string; limit?: number } = {}): Promise<ProbeRecord[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 50), 500);
    const visible = await this.visible(actor);
    if (visible?.size === 0) return [];
    const parts: RawBuilder<unknown>[] = [sql`1 = 1`];
    if (q.ca !== undefined) parts.push(sql`ca = ${q.ca}`);
    if (visible) parts.push(sql`ca in (${sql.join([...visible])})`);
    const rows = await all<{ ca: string; kind: 'ocsp' | 'crl'; url: string; at: string; ok: number | boolean; latency_ms: number | string; http_status: number | null; error: string | null }>(
      this.database.db,
      sql`select ca, kind, url, at, ok, latency_ms, http_status, error from platform_probe_results where ${sql.join(parts, sql` and `)} order by at desc, id limit ${limit}`,
    );
    return rows.map((r) => ({ ca: r.ca, kind: r.kind, url: r.url, at: r.at, ok: Number(r.ok) === 1, latencyMs: Number(r.latency_ms), ...(r.http_status ? { httpStatus: r.http_status } : {}), ...(r.error ? { error: r.error } : {}) }));
  }
}

/** Probe summaries as CSV. */
export function probeCsv(rows: ProbeSummary[]): string {
  const lines = ['ca,kind,period,probes,up,uptime,p50_ms,p95_ms,last_at,last_ok'];
  for (const r of rows) lines.push([r.ca, r.kind, r.period ?? '', r.probes, r.up, r.uptime, r.p50 ?? '', r.p95 ?? '', r.lastAt, r.lastOk].join(','));
  return lines.join('\r\n') + '\r\n';
}

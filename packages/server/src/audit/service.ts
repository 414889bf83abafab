/**
 * What auditors do with the log: read it with filters, export it (CSV or JSON lines), verify it,
 * and take a checkpoint. Only auditors and administrators may; every read, export and
 * verification is itself an audit entry, written before the answer leaves.
 */
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import { grantsOf, type Principal } from '../auth/principal.js';
import { ROLE_PERMISSIONS } from '../auth/permissions.js';
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import { appendAudit, type AuditTables } from './log.js';
import type { ChainedFields } from './chain.js';
import { verifyAuditLog, type AuditVerifyReport, type VerifyOptions } from './verify.js';
import type { AuditCheckpointer, Checkpoint } from './checkpoints.js';

/** Filters of a read or an export; `action` and `target` ending in "*" match by prefix. */
export interface AuditQuery {
  /** Entries at or after this time (ISO-8601). */
  from?: string;
  /** Entries before this time (ISO-8601). */
  to?: string;
  actor?: string;
  action?: string;
  target?: string;
  /** The last seq of the previous page. */
  after?: number;
  limit?: number;
}

/** One entry as auditors see it: the chained fields, details parsed. */
export type AuditEntryView = Omit<ChainedFields, 'details'> & { details: unknown; hash: string };

/** Export formats. */
export type AuditExportFormat = 'csv' | 'jsonl';

const EXPORT_PAGE = 1000;
const CSV_COLUMNS = ['seq', 'id', 'at', 'actor', 'action', 'target', 'details', 'prev_hash', 'hash'] as const;

function tables(ex: Executor): Kysely<AuditTables> {
  return ex as unknown as Kysely<AuditTables>;
}

/** The auditors' view of the log. */
export class AuditService {
  constructor(
    private readonly database: Database,
    private readonly checkpointer: AuditCheckpointer,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** A page of entries matching `q`, in seq order; `next` is the `after` of the following page. */
  async read(actor: Principal, q: AuditQuery): Promise<{ entries: AuditEntryView[]; next: number | null }> {
    requireAuditor(actor);
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const entries = await this.page(q, limit);
    await this.record(actor, 'audit.read', { ...filtersOf(q), returned: entries.length });
    return { entries, next: entries.length === limit ? entries[entries.length - 1]!.seq : null };
  }

  /** Every entry matching `q` as CSV or JSON lines, page by page (the export is audited before the first line). */
  async export(actor: Principal, q: AuditQuery, format: AuditExportFormat): Promise<AsyncIterable<string>> {
    requireAuditor(actor);
    checkQuery(q);
    await this.record(actor, 'audit.export', { ...filtersOf(q), format });
    const self = this;
    return (async function* () {
      if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
      let after = q.after;
      for (;;) {
        const page = await self.page({ ...q, after }, EXPORT_PAGE);
        for (const e of page) yield format === 'csv' ? csvLine(e) : JSON.stringify(e) + '\n';
        if (page.length < EXPORT_PAGE) return;
        after = page[page.length - 1]!.seq;
      }
    })();
  }

  /** Verifies the whole log (see verify.ts); the verification is audited. */
  async verify(actor: Principal, opts: VerifyOptions = {}): Promise<AuditVerifyReport> {
    requireAuditor(actor);
    const report = await verifyAuditLog(this.database.db, opts);
    await this.record(actor, 'audit.verify', { ok: report.ok, entries: report.entries, faults: report.faults.length });
    return report;
  }

  /** Signs a checkpoint of the head now (also done periodically and at shutdown). */
  async checkpoint(actor: Principal): Promise<Checkpoint | undefined> {
    requireAuditor(actor);
    return this.checkpointer.checkpoint();
  }

  private async record(actor: Principal, action: string, details: Record<string, unknown>): Promise<void> {
    await this.database.transaction((tx) => appendAudit(tx, { actor, action, target: 'audit:log', details }, this.clock()));
  }

  private async page(q: AuditQuery, limit: number): Promise<AuditEntryView[]> {
    checkQuery(q);
    let query = tables(this.database.db).selectFrom('audit_log').selectAll();
    if (q.after !== undefined) query = query.where('seq', '>', q.after);
    if (q.from) query = query.where('at', '>=', new Date(q.from).toISOString());
    if (q.to) query = query.where('at', '<', new Date(q.to).toISOString());
    if (q.actor) query = query.where('actor', '=', q.actor);
    for (const [column, value] of [['action', q.action], ['target', q.target]] as const) {
      if (!value) continue;
      if (value.endsWith('*')) {
        const prefix = value.slice(0, -1);
        query = query.where((eb) => eb(eb.fn('substr', [eb.ref(column), eb.lit(1), eb.lit(prefix.length)]), '=', prefix));
      } else {
        query = query.where(column, '=', value);
      }
    }
    const rows = await query.orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      details: parseDetails(r.details),
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }
}

/** Refuses anyone but an auditor or an administrator (403). */
export function requireAuditor(actor: Principal): void {
  if (!grantsOf(actor).some((g) => ROLE_PERMISSIONS[g.role].includes('audit.read'))) throw new ForbiddenError('audit.auditor', 'only an auditor or an administrator may read the audit log');
}

function checkQuery(q: AuditQuery): void {
  for (const [name, value] of [['from', q.from], ['to', q.to]] as const) {
    if (value !== undefined && Number.isNaN(new Date(value).getTime())) throw new InvalidRequestError('audit.time', `"${name}" must be an ISO-8601 time, not "${value.slice(0, 40)}"`);
  }
}

function filtersOf(q: AuditQuery): Record<string, unknown> {
  const { from, to, actor, action, target, after } = q;
  return Object.fromEntries(Object.entries({ from, to, actor, action, target, after }).filter(([, v]) => v !== undefined));
}

function parseDetails(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A row changed outside the product may hold anything: show it as it is.
    return text;
  }
}

function csvLine(e: AuditEntryView): string {
  const cells = [e.seq, e.id, e.at, e.actor, e.action, e.target, JSON.stringify(e.details), e.prevHash, e.hash];
  return cells.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(',') + '\r\n';
}

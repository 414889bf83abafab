/**
 * Prometheus metrics (prom-client), one registry per HTTP app so several apps in one process
 * (tests) do not collide: the process defaults, request counts and latencies per route, and
 * the business events operators watch (issuances, status changes, applications).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { GroupCommitStats } from '../store/group-commit.js';

/** The metrics of one app. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'hpki_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'hpki_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly issued = new Counter({ name: 'hpki_certificates_issued_total', help: 'Certificates issued', labelNames: ['ca', 'profile'] as const, registers: [this.registry] });
  readonly statusChanges = new Counter({ name: 'hpki_certificate_status_changes_total', help: 'Revocations, holds and releases', labelNames: ['ca', 'action', 'reason'] as const, registers: [this.registry] });
  readonly applications = new Counter({ name: 'hpki_applications_total', help: 'Applications by outcome', labelNames: ['ca', 'outcome'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exposes the store's group-commit counters (SQLite): commits (fsyncs) and the operations they
   * carried, so operators see how many operations share a commit under their load.
   */
  watchGroupCommit(stats: () => GroupCommitStats | undefined): void {
    if (stats() === undefined) return;
    const seen = { batches: 0, committed: 0, failed: 0 };
    const follow = (name: string, help: string, field: keyof typeof seen) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const now = stats()?.[field] ?? seen[field];
          if (now > seen[field]) this.inc(now - seen[field]);
          seen[field] = now;
        },
      });
    follow('hpki_db_commits_total', 'Database commits (one fsync each) of the group committer', 'batches');
    follow('hpki_db_committed_operations_total', 'Transactions committed; divided by hpki_db_commits_total, the operations per commit', 'committed');
    follow('hpki_db_rolled_back_operations_total', 'Transactions rolled back to their savepoint inside a group commit (the caller got the error)', 'failed');
  }

  /** Exposes the notices to the KMC not yet delivered (kmc/outbox.ts): above 0 for long, the KMC is unreachable. */
  watchKmcOutbox(pending: () => Promise<number>): void {
    new Gauge({
      name: 'hpki_kmc_outbox_pending',
      help: 'Notices to the key management centre (retired keys) not yet delivered',
      registers: [this.registry],
      async collect() {
        // A database failing must not take /metrics down with it: the gauge keeps its last value.
        await pending().then((n) => this.set(n), () => undefined);
      },
    });
  }

  /** Counts every answered request under its route pattern (not its URL, which would explode the label set). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      this.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }
}

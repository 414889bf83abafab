/**
 * Prometheus metrics (prom-client), one registry per HTTP app so several apps in one process
 * (tests) do not collide: the process defaults, request counts and latencies per route, and
 * the business events operators watch (issuances, status changes, applications).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';

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

  /** Counts every answered request under its route pattern (not its URL, which would explode the label set). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      this.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
  }
}

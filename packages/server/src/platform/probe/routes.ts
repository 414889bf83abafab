/**
 * Probe results over HTTP (every role, scoped: a province sees the CAs serving it, a CA itself):
 *   GET  /platform/probes          uptime %, p50/p95 latency per CA and kind; ?from&to (default: the last 24 h)&ca&bucket=hour|day|month
 *   GET  /platform/probes.csv      the same as CSV
 *   GET  /platform/probes/recent   the latest probes with their failure reasons; ?ca&limit (≤ 500)
 *   POST /platform/probes/run      national: probe every CA now, answer the results
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import { ANY_ROLE, principalOf } from '../http/access.js';
import { probeCsv, type ProbeMonitor } from './monitor.js';

type SummaryQs = { Querystring: { from?: string; to?: string; ca?: string; bucket?: string } };

/** Adds the probe routes to the platform's app. */
export function registerProbeRoutes(app: FastifyInstance, monitor: ProbeMonitor): void {
  const any = { platformAccess: ANY_ROLE };
  const one = (v: unknown, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > 64) throw new InvalidRequestError('platform.probe.query', `"${name}" must be one short value`);
    return v;
  };
  const summaryOf = async (req: { query: SummaryQs['Querystring'] } & Parameters<typeof principalOf>[0]) =>
    monitor.summary(await principalOf(req), { from: one(req.query.from, 'from'), to: one(req.query.to, 'to'), ca: one(req.query.ca, 'ca'), bucket: one(req.query.bucket, 'bucket') });
  app.get<SummaryQs>('/platform/probes', { config: any }, async (req) => ({ rows: await summaryOf(req) }));
  app.get<SummaryQs>('/platform/probes.csv', { config: any }, async (req, reply) =>
    reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="platform-probes.csv"').send(probeCsv(await summaryOf(req))),
  );
  app.get<{ Querystring: { ca?: string; limit?: string } }>('/platform/probes/recent', { config: any }, async (req) => {
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) throw new InvalidRequestError('platform.probe.query', 'limit must be an integer from 1 to 500');
    return { probes: await monitor.recent(await principalOf(req), { ca: one(req.query.ca, 'ca'), limit }) };
  });
  app.post('/platform/probes/run', { config: { platformAccess: { roles: ['national'] } } }, async () => ({ probes: await monitor.runOnce() }));
}

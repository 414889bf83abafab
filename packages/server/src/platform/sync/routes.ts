/**
 * Sync and statistics over HTTP:
 *   POST /platform/sync/messages   body: a signed batch (CMS SignedData DER, application/cms or
 *                                  application/pkcs7-mime) → per-message status; authenticated by
 *                                  its signature, like the KMC's endpoint
 *   GET  /platform/stats           JSON rows; ?from&to&groupBy=ca,province,class,profile&ca&province&class
 *   GET  /platform/stats.csv       the same as CSV
 *   GET  /platform/stats/timeseries      events per bucket for the charts; ?bucket=day|month|year&by=ca|province|class|profile&from&to&ca&province&class
 *   GET  /platform/stats/timeseries.csv  the same as CSV
 * A provincial office sees only its province, a CA only itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, InvalidRequestError } from '../../errors.js';
import type { PlatformPrincipal } from '../registry/roles.js';
import { ANY_ROLE, principalOf } from '../http/access.js';
import type { SyncApplier } from './applier.js';
import { MAX_BATCH } from './message.js';
import { STATS_BUCKETS, STATS_DIMENSIONS, statsCsv, timeseriesCsv, type StatsBucket, type StatsDimension, type StatsQuery, type SyncStatistics, type TimeseriesQuery } from './stats.js';

/** What the routes need; `principal` (default: the platform's access hook's principal) says who asks for statistics. */
export interface SyncRouteDeps {
  applier: SyncApplier;
  statistics: SyncStatistics;
  principal?(req: FastifyRequest): Promise<PlatformPrincipal>;
}

/** Media types a signed batch is accepted with. */
export const SYNC_BATCH_TYPES = ['application/cms', 'application/pkcs7-mime'];

/** A batch of MAX_BATCH messages of a few hundred bytes, plus the signature. */
const BATCH_LIMIT = MAX_BATCH * 1024 + 64 * 1024;

interface StatsQs {
  from?: string;
  to?: string;
  groupBy?: string;
  ca?: string;
  province?: string;
  class?: string;
  bucket?: string;
  by?: string;
}

/** Adds the sync and statistics routes to the platform's app. */
export async function registerSyncRoutes(app: FastifyInstance, deps: SyncRouteDeps): Promise<void> {
  // Encapsulated, so that the binary body parsers stay with these routes.
  await app.register(async (scope) => {
    for (const type of SYNC_BATCH_TYPES) {
      if (!scope.hasContentTypeParser(type)) scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: BATCH_LIMIT }, (_req, body, done) => done(null, body));
    }
    scope.post('/platform/sync/messages', { config: { platformAccess: 'signature' }, bodyLimit: BATCH_LIMIT }, async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new InvalidRequestError('platform.sync.malformed', `send a signed batch as ${SYNC_BATCH_TYPES.join(' or ')}`);
      return reply.header('cache-control', 'no-store').send(await deps.applier.receive(body));
    });
    const statsConfig = { config: { platformAccess: ANY_ROLE } };
    const principal = deps.principal ?? principalOf;
    scope.get<{ Querystring: StatsQs }>('/platform/stats', statsConfig, async (req) => {
      const q = scoped(await principal(req), req.query);
      return { groupBy: q.groupBy, from: q.from ?? null, to: q.to ?? null, rows: await deps.statistics.query(q) };
    });
    scope.get<{ Querystring: StatsQs }>('/platform/stats.csv', statsConfig, async (req, reply) => {
      const q = scoped(await principal(req), req.query);
      const rows = await deps.statistics.query(q);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="platform-stats.csv"').send(statsCsv(rows, q.groupBy!));
    });
    scope.get<{ Querystring: StatsQs }>('/platform/stats/timeseries', statsConfig, async (req) => {
      const q = timeseriesQuery(scoped(await principal(req), { ...req.query, groupBy: undefined }), req.query);
      return { bucket: q.bucket, by: q.by ?? null, from: q.from ?? null, to: q.to ?? null, points: await deps.statistics.timeseries(q) };
    });
    scope.get<{ Querystring: StatsQs }>('/platform/stats/timeseries.csv', statsConfig, async (req, reply) => {
      const q = timeseriesQuery(scoped(await principal(req), { ...req.query, groupBy: undefined }), req.query);
      const points = await deps.statistics.timeseries(q);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="platform-timeseries.csv"').send(timeseriesCsv(points, q.by));
    });
  });
}

/** The query as asked, narrowed to what the principal may see. */
function scoped(p: PlatformPrincipal, qs: StatsQs): StatsQuery {
  const text = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > 64) throw new InvalidRequestError('platform.stats.query', `"${name}" must be one short value`);
    return v;
  };
  let groupBy: StatsDimension[] = ['ca', 'province', 'class'];
  const rawGroup = text(qs.groupBy, 'groupBy');
  if (rawGroup !== undefined) {
    const parts = rawGroup.split(',').filter(Boolean);
    const unknown = parts.filter((d) => !STATS_DIMENSIONS.includes(d as StatsDimension));
    if (unknown.length) throw new InvalidRequestError('platform.stats.group', `cannot group by ${unknown.join(', ')}; use ${STATS_DIMENSIONS.join(', ')}`);
    groupBy = parts as StatsDimension[];
  }
  const q: StatsQuery = { from: text(qs.from, 'from'), to: text(qs.to, 'to'), groupBy, ca: text(qs.ca, 'ca'), province: text(qs.province, 'province'), class: text(qs.class, 'class') };
  // A province asking for everything gets its own part of it; asking for another's is refused.
  if (p.role === 'provincial') {
    if (q.province !== undefined && q.province !== p.province) throw new ForbiddenError('platform.scope.province', `a provincial office sees only its own province (${p.province})`);
    q.province = p.province ?? '\u0000';
  }
  if (p.role === 'ca') {
    if (q.ca !== undefined && q.ca !== p.ca) throw new ForbiddenError('platform.scope.ca', `a CA sees only its own statistics (${p.ca})`);
    q.ca = p.ca ?? '\u0000';
  }
  return q;
}

/** A timeseries query: the scoped filters plus the bucket and the dimension to split by. */
function timeseriesQuery(q: StatsQuery, qs: StatsQs): TimeseriesQuery & { bucket: StatsBucket } {
  const bucket = qs.bucket ?? 'month';
  if (typeof bucket !== 'string' || !Object.hasOwn(STATS_BUCKETS, bucket)) throw new InvalidRequestError('platform.stats.bucket', `bucket must be one of ${Object.keys(STATS_BUCKETS).join(', ')}`);
  const by = qs.by === undefined || qs.by === '' ? undefined : qs.by;
  if (by !== undefined && (typeof by !== 'string' || !STATS_DIMENSIONS.includes(by as StatsDimension))) throw new InvalidRequestError('platform.stats.group', `cannot split by ${String(by)}; use ${STATS_DIMENSIONS.join(', ')}`);
  return { from: q.from, to: q.to, ca: q.ca, province: q.province, class: q.class, bucket: bucket as StatsBucket, by: by as StatsDimension | undefined };
}

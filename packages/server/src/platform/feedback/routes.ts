/**
 * Complaints over HTTP:
 *   POST /platform/complaints                   public: file one (rate-limited per address, 16 KiB at most) → { id, receipt }
 *   GET  /platform/complaints/:id/status        public with ?receipt=: where the complaint stands
 *   GET  /platform/complaints                   any role, scoped: ?ca&status
 *   GET  /platform/complaints/:id               any role, scoped
 *   POST /platform/complaints/:id/take          { note? }              handling office (home province) or national
 *   POST /platform/complaints/:id/resolve       { outcome, note? }     handling office or national
 *   POST /platform/complaints/:id/reject        { outcome, note? }     handling office or national
 *   POST /platform/complaints/:id/notes         { note }               handling office, national, or the CA itself (its response)
 *   GET  /platform/complaints/stats[.csv]       any role, scoped: counts per CA, ?from&to
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import { ANY_ROLE, principalOf, type PlatformAccess } from '../http/access.js';
import { csvField } from '../sync/stats.js';
import type { Complaints } from './complaints.js';
import { SubmissionLimiter, SubmissionRateError } from './limiter.js';

/** What the routes need. */
export interface FeedbackRouteDeps {
  complaints: Complaints;
  /** Default: 5 submissions per address per 10 minutes. */
  limiter?: SubmissionLimiter;
}

/** A complaint is a few kilobytes of text; anything larger is refused before it is parsed. */
export const COMPLAINT_BODY_LIMIT = 16 * 1024;

type IdParams = { Params: { id: string } };
type Body = Record<string, unknown> | undefined;

const roles = (...r: Array<'national' | 'provincial' | 'ca'>): { platformAccess: PlatformAccess } => ({ platformAccess: { roles: r } });

/** Adds the complaint routes to the platform's app. */
export function registerFeedbackRoutes(app: FastifyInstance, deps: FeedbackRouteDeps): void {
  const { complaints } = deps;
  const limiter = deps.limiter ?? new SubmissionLimiter();
  const any = { platformAccess: ANY_ROLE };
  const body = (b: unknown): Record<string, unknown> => {
    if (b !== undefined && (typeof b !== 'object' || b === null || Array.isArray(b))) throw new InvalidRequestError('platform.complaint.body', 'the body must be a JSON object');
    return (b ?? {}) as Record<string, unknown>;
  };

  app.post('/platform/complaints', { config: { platformAccess: 'public' }, bodyLimit: COMPLAINT_BODY_LIMIT }, async (req, reply) => {
    try {
      limiter.take(req.ip);
    } catch (e) {
      if (e instanceof SubmissionRateError) reply.header('retry-after', String(e.retryAfter));
      throw e;
    }
    return reply.code(201).header('cache-control', 'no-store').send(await complaints.submit(req.body));
  });
  app.get<IdParams & { Querystring: { receipt?: string } }>('/platform/complaints/:id/status', { config: { platformAccess: 'public' } }, async (req, reply) =>
    reply.header('cache-control', 'no-store').send(await complaints.publicStatus(req.params.id, String(req.query.receipt ?? ''))),
  );
  app.get<{ Querystring: { from?: string; to?: string } }>('/platform/complaints/stats', { config: any }, async (req) => ({
    rows: await complaints.counts(await principalOf(req), { from: req.query.from, to: req.query.to }),
  }));
  app.get<{ Querystring: { from?: string; to?: string } }>('/platform/complaints/stats.csv', { config: any }, async (req, reply) => {
    const rows = await complaints.counts(await principalOf(req), { from: req.query.from, to: req.query.to });
    const lines = ['ca,total,received,handling,resolved,rejected', ...rows.map((r) => [csvField(r.ca), r.total, r.received, r.handling, r.resolved, r.rejected].join(','))];
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="platform-complaints.csv"').send(lines.join('\r\n') + '\r\n');
  });
  app.get<{ Querystring: { ca?: string; status?: string } }>('/platform/complaints', { config: any }, async (req) => ({
    complaints: await complaints.list(await principalOf(req), { ca: req.query.ca, status: req.query.status }),
  }));
  app.get<IdParams>('/platform/complaints/:id', { config: any }, async (req) => complaints.get(await principalOf(req), req.params.id));
  app.post<IdParams>('/platform/complaints/:id/take', { config: roles('national', 'provincial') }, async (req) => complaints.take(await principalOf(req), req.params.id, body(req.body).note));
  app.post<IdParams>('/platform/complaints/:id/resolve', { config: roles('national', 'provincial') }, async (req) => {
    const b = body(req.body);
    return complaints.resolve(await principalOf(req), req.params.id, b.outcome, b.note);
  });
  app.post<IdParams>('/platform/complaints/:id/reject', { config: roles('national', 'provincial') }, async (req) => {
    const b = body(req.body);
    return complaints.reject(await principalOf(req), req.params.id, b.outcome, b.note);
  });
  app.post<IdParams>('/platform/complaints/:id/notes', { config: roles('national', 'provincial', 'ca') }, async (req) => complaints.comment(await principalOf(req), req.params.id, body(req.body as Body).note));
}

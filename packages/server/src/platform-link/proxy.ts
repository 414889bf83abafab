/**
 * `/platform/*` on the CA service, passed through to the platform this service runs embedded, so
 * that the web UI reaches the platform from the same origin. Method, path, query, body and the
 * headers that matter (authorization, content-type, accept) go to the platform; its status, body
 * and content headers come back. The platform does its own authentication (its bearer tokens and
 * signatures), so the route is public here. Bodies are limited to what the platform accepts.
 *
 * The visitor's address goes along as X-Forwarded-For (the embedded platform trusts it from
 * loopback only), so the platform's per-address limits key on the visitor. It is this service's
 * `req.ip` alone, not appended to the visitor's own header: that header is the visitor's word,
 * and a visitor on a trusted address could otherwise pick the address the platform counts.
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ServiceError } from '../errors.js';

/** The platform's own limit (platform/server.ts): larger bodies are refused here already. */
export const PROXY_BODY_LIMIT = 2 * 1024 * 1024;
const FORWARDED_REQUEST = ['authorization', 'content-type', 'accept', 'accept-language'];
const FORWARDED_RESPONSE = ['content-type', 'content-disposition', 'cache-control', 'etag', 'last-modified'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Adds the pass-through of /platform/* to `platformUrl` (the embedded platform's loopback URL). */
export async function registerPlatformProxy(app: FastifyInstance, platformUrl: () => string | undefined, opts: { timeoutMs?: number } = {}): Promise<void> {
  await app.register(async (scope) => {
    // Raw bytes whatever the type: the platform parses and checks them.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PROXY_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.route({
      method: [...METHODS],
      url: '/platform/*',
      bodyLimit: PROXY_BODY_LIMIT,
      config: { access: 'public' },
      schema: { hide: true },
      handler: async (req, reply) => {
        const base = platformUrl();
        if (!base) throw new NotFoundError('platform.none', 'this CA service runs no embedded platform (hpki start --platform embedded); ask the platform at its own address');
        const headers: Record<string, string> = {};
        for (const h of FORWARDED_REQUEST) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        headers['x-forwarded-for'] = req.ip;
        const body = Buffer.isBuffer(req.body) && req.method !== 'GET' && req.method !== 'HEAD' ? req.body : undefined;
        let res: Response;
        try {
          res = await fetch(base.replace(/\/+$/, '') + req.url, { method: req.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
        } catch (e) {
          throw new ServiceError(502, 'platform.unreachable', `the platform did not answer: ${e instanceof Error ? e.message : String(e)}`);
        }
        const out = Buffer.from(await res.arrayBuffer());
        reply.code(res.status);
        for (const h of FORWARDED_RESPONSE) {
          const v = res.headers.get(h);
          if (v !== null) reply.header(h, v);
        }
        return reply.send(out);
      },
    });
  });
}

/**
 * The web interface (packages/web): its bundle served at `/assets/*`, and `index.html` for the
 * root URL and every client-side route under `/app/`. The app's routes live under their own
 * prefix so that the fallback can never shadow an API route or answer HTML for `/api/*`: unknown
 * API URLs still reach the JSON 404 handler. Without a built bundle both answer a 503 page that
 * says how to build it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build -w @health-pki/web` writes the bundle (from dist/src/http/routes/ of the server). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../../../web/dist/app/', import.meta.url));

const MISSING = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>界面未构建 / Web interface not built</title></head>
<body><h1>网页界面尚未构建</h1><p>请在仓库根目录运行 <code>npm run build</code>，然后重启服务。</p>
<h1 lang="en">The web interface is not built</h1><p lang="en">Run <code>npm run build</code> in the repository root, then restart the service.</p></body></html>
`;

// The bundle loads only its own scripts and styles and talks only to this origin; blob: is for downloads
// made with the bearer token, data: for small inline images. No framing (clickjacking of approve buttons).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** Registers the web interface's routes; `root` is the bundle's directory (HPKI_WEB_ROOT overrides the default). */
export async function webRoutes(app: FastifyInstance, root = process.env.HPKI_WEB_ROOT ?? DEFAULT_WEB_ROOT): Promise<void> {
  const built = existsSync(`${root}/index.html`);
  await app.register(async (scope) => {
    // The bundle is public like the login page: what it may do is decided by the API's own checks.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), access: 'public' };
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    if (built) {
      // Hashed file names: the assets never change under a name, so they may be cached for long.
      await scope.register(fastifyStatic, { root: `${root}/assets`, prefix: '/assets/', index: false, maxAge: '365d', immutable: true });
    }
    const page = async (_req: unknown, reply: FastifyReply) => {
      if (!built) return reply.code(503).type('text/html; charset=utf-8').header('retry-after', '60').send(MISSING);
      // index.html names the current hashed assets: never cache it, or an upgrade serves stale code.
      return reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('content-security-policy', CSP).sendFile('index.html', root);
    };
    scope.get('/', page);
    scope.get('/app', page);
    scope.get('/app/*', page);
  });
}

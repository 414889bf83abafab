/**
 * Every route of the platform app declares its access, and the declaration holds: each route ×
 * each caller (no token, unknown token, national, provincial, CA, auditor) — a caller outside the
 * declared roles gets 401/403, one inside never gets a role refusal, nobody ever gets a 5xx.
 * Routes added later (sync, trust list, …) are picked up from the app itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { declaredRoutes } from '../src/platform/http/access.js';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { application } from './helpers/platform.js';

const CALLERS = ['none', 'unknown', 'national', 'provincial', 'ca', 'auditor'] as const;

describe('platform access walk', () => {
  let backend: TestBackend;
  let services: PlatformServices;
  let app: FastifyInstance;
  const tok: Record<string, string> = {};

  before(async () => {
    backend = await createBackend('sqlite');
    services = await openPlatformServices({ dataDir: backend.dataDir, identityAlgorithm: 'p256' });
    app = await buildPlatformApp(services, { logger: false });
    tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
    tok.unknown = 'x'.repeat(43);
    const mint = async (spec: Record<string, string>) => (await app.inject({ method: 'POST', url: '/platform/tokens', headers: { authorization: `Bearer ${tok.national}` }, payload: spec })).json().token as string;
    tok.provincial = await mint({ id: 'p', role: 'provincial', province: 'GD' });
    tok.ca = await mint({ id: 'c', role: 'ca', ca: 'walk-ca' });
    tok.auditor = await mint({ id: 'a', role: 'auditor' });
    const r = await app.inject({ method: 'POST', url: '/platform/cas', headers: { authorization: `Bearer ${tok.ca}` }, payload: application('walk-ca', 'GD') });
    assert.equal(r.statusCode, 201, r.body);
  });
  after(async () => {
    await app?.close();
    await services?.close();
    await backend?.cleanup();
  });

  test('every route declares access and keeps to it', async () => {
    const routes = declaredRoutes(app);
    assert.ok(routes.length >= 25, `only ${routes.length} routes found`);
    assert.ok(routes.some((r) => r.url === '/platform/trust-list') && routes.some((r) => r.url === '/platform/sync/messages'), 'the sync and trust-list routes are wired');
    let checked = 0;
    for (const route of routes) {
      const url = route.url.replace(':name', 'walk-ca').replace(':id', '00000000-0000-0000-0000-000000000000').replace(':version', '1');
      for (const caller of CALLERS) {
        const headers: Record<string, string> = caller === 'none' ? {} : { authorization: `Bearer ${tok[caller]}` };
        const r = await app.inject({ method: route.method as 'GET' | 'POST', url, headers, ...(route.method === 'POST' ? { payload: {} } : {}) });
        const what = `${route.method} ${route.url} as ${caller} → ${r.statusCode} ${r.body.slice(0, 160)}`;
        assert.ok(r.statusCode < 500, what);
        const error = r.headers['content-type']?.toString().includes('json') ? (r.json() as { error?: string }).error : undefined;
        if (typeof route.access === 'object') {
          const allowed = caller !== 'none' && caller !== 'unknown' && route.access.roles.includes(caller);
          if (allowed) assert.ok(r.statusCode !== 401 && error !== 'platform.role', what);
          else assert.ok(r.statusCode === 401 || (r.statusCode === 403 && error === 'platform.role'), what);
        } else {
          assert.ok(r.statusCode !== 401 && error !== 'platform.role', what);
        }
        checked++;
      }
    }
    assert.equal(checked, routes.length * CALLERS.length);
  });
});

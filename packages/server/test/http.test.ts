/**
 * The HTTP front's contract: the OpenAPI 3 document lists every route with the access it needs
 * (and the enforcement agrees with it), the browsable reference, /healthz, Prometheus /metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

describe('HTTP API contract', () => {
  let backend: TestBackend;
  let services: Services;
  let app: FastifyInstance;
  let api: Api;
  let admin: string;
  let officer: string;

  before(async () => {
    backend = await createBackend('sqlite');
    services = await openServices({ dataDir: backend.dataDir, baseUrl: 'http://pki.test' });
    const boot = await bootstrap(services, backend.dataDir);
    app = await buildHttpApp(services, { logger: false });
    api = injectApi(app);
    admin = readFileSync(boot.tokenFile, 'utf8').trim();
    officer = (await api('POST', '/api/v1/officers', { id: 'officer-1' }, admin)).json.token;
  });

  after(async () => {
    await app?.close();
    await services?.close();
    await backend?.cleanup();
  });

  test('/openapi.json is OpenAPI 3 and every operation declares its access; the service enforces exactly that', async () => {
    const r = await api('GET', '/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json;
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.components.securitySchemes.bearer);
    const ops: Array<{ method: string; path: string; access: string; roles: string[]; security?: unknown }> = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) ops.push({ method: method.toUpperCase(), path, access: op['x-hpki-access'], roles: op['x-hpki-roles'], security: op.security });
    }
    assert.ok(ops.length >= 15, `${ops.length} operations documented`);
    for (const op of ops) {
      assert.ok(typeof op.access === 'string' && Array.isArray(op.roles), `${op.method} ${op.path} declares its access`);
      assert.equal(op.security !== undefined, op.access !== 'public', `${op.method} ${op.path}: security matches access`);
      // Without credentials, a protected operation is refused before anything else happens.
      const url = op.path.replace('{ca}', 'demo-p256').replace('{id}', '00000000-0000-0000-0000-000000000000').replace('{serial}', '0a').replace('{material}', 'x').replace('{file}', 'root.crt');
      const anon = await api(op.method, url, op.method === 'POST' ? {} : undefined);
      if (op.access === 'public') assert.notEqual(anon.status, 401, `${op.method} ${op.path} is public`);
      else assert.equal(anon.status, 401, `${op.method} ${op.path} needs credentials`);
      if (op.roles.length === 1 && op.roles[0] === 'admin') {
        const asOfficer = await api(op.method, url, op.method === 'POST' ? {} : undefined, officer);
        assert.equal(asOfficer.status, 403, `${op.method} ${op.path} needs an administrator`);
      }
      assert.ok(anon.status < 500, `${op.method} ${op.path}: ${anon.status}`);
    }
    for (const must of ['/api/v1/cas', '/api/v1/cas/{ca}/applications', '/api/v1/cas/{ca}/applications/{id}/approve', '/api/v1/cas/{ca}/certificates/{serial}/revoke', '/healthz', '/metrics']) {
      assert.ok(doc.paths[must], `${must} is documented`);
    }
  });

  test('/docs serves the browsable reference', async () => {
    const r = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/html/);
    assert.match(r.body, /swagger/i);
  });

  test('/healthz reports the database', async () => {
    const r = await api('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok', database: 'sqlite' });
  });

  test('/metrics counts requests per route and the business events', async () => {
    const applied = await api('POST', '/api/v1/cas/demo-p256/applications', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } }, admin);
    await api('POST', `/api/v1/cas/demo-p256/applications/${applied.json.id}/approve`, {}, admin);
    await api('GET', '/api/v1/cas/no-such-ca');
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/plain/);
    assert.match(r.body, /hpki_certificates_issued_total\{ca="demo-p256",profile="staff-sign"\} 1/);
    assert.match(r.body, /hpki_http_requests_total\{method="GET",route="\/api\/v1\/cas\/:ca",status="404"\} 1/);
    assert.match(r.body, /hpki_http_request_duration_seconds_bucket/);
    assert.match(r.body, /process_cpu_user_seconds_total/);
  });
});

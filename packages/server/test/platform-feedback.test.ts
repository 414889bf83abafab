/**
 * Complaints about CAs' service quality (Art. 11) through the platform's real app, on SQLite and
 * PostgreSQL: public submission (checked, size-limited, rate-limited per address) with a receipt
 * to follow it; the CA's home province (or the national office) handles it
 * received → handling → resolved | rejected with notes, outcome and history; the CA sees and
 * answers complaints about itself without the complainant's contact; scopes and refusals
 * (audited); counts per CA as JSON and CSV; every complaint route × every role.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { declaredRoutes } from '../src/platform/http/access.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { application } from './helpers/platform.js';

const RATE = 12;

/** A valid submission against `ca`; override fields per test. */
function complaint(ca: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ca,
    category: 'pin-unlock',
    complainantKind: 'holder',
    contact: { name: '李四', phone: '+86 20 1234 5678' },
    subject: 'PIN unblock took three weeks',
    description: 'My USB key locked on 3 March; the CA answered the unblock request only on 24 March.',
    ...extra,
  };
}

for (const backendName of BACKENDS) {
  describe(`platform complaints on ${backendName}`, () => {
    let backend: TestBackend;
    let services: PlatformServices;
    let app: FastifyInstance;
    const tok: Record<string, string> = {};

    const call = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
      return { status: r.statusCode, headers: r.headers, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.body };
    };
    const ok = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await call(who, method, url, payload);
      assert.ok(r.status < 300, `${method} ${url} as ${who}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as any;
    };
    const fails = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload: unknown, status: number, error?: string) => {
      const r = await call(who, method, url, payload);
      assert.equal(r.status, status, `${method} ${url} as ${who}: ${JSON.stringify(r.body)}`);
      if (error) assert.equal((r.body as any).error, error, JSON.stringify(r.body));
      return r.body as any;
    };
    const admit = async (name: string, province: string, provinces: string[] = [province]) => {
      await ok(name, 'POST', '/platform/cas', { ...application(name, province), provinces });
      await ok(`prov-${province}`, 'POST', `/platform/cas/${name}/province-review`, { approve: true });
      await ok('national', 'POST', `/platform/cas/${name}/conformance`, { passed: true });
      await ok('national', 'POST', `/platform/cas/${name}/approve`, {});
    };
    const audited = async (action: string) => Number((await sql<{ n: number }>`select count(*) as n from audit_log where action = ${action}`.execute(services.database.db)).rows[0]!.n);

    before(async () => {
      backend = await createBackend(backendName);
      services = await openPlatformServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, identityAlgorithm: 'p256', complaintRate: { max: RATE, windowMs: 60_000 }, probeIntervalMs: 0 });
      app = await buildPlatformApp(services, { logger: false });
      tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
      const mint = async (id: string, spec: Record<string, string>) => (tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token);
      await mint('prov-GD', { role: 'provincial', province: 'GD' });
      await mint('prov-BJ', { role: 'provincial', province: 'BJ' });
      await mint('prov-SH', { role: 'provincial', province: 'SH' });
      await mint('auditor', { role: 'auditor' });
      for (const ca of ['gd-ca', 'bj-ca', 'new-ca']) await mint(ca, { role: 'ca', ca });
      await admit('gd-ca', 'GD');
      // bj-ca is based in Beijing and also serves Guangdong: GD sees its complaints but does not handle them.
      await admit('bj-ca', 'BJ', ['BJ', 'GD']);
      await ok('new-ca', 'POST', '/platform/cas', application('new-ca', 'GD'));
    });

    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('a holder files a complaint; the home province handles it to resolution; the CA answers; the complainant follows it with the receipt', async () => {
      const filed = await ok(undefined, 'POST', '/platform/complaints', complaint('gd-ca', { serial: '1a2b3c' }));
      assert.equal(filed.status, 'received');
      assert.equal(filed.handler, 'GD');
      assert.match(filed.receipt, /^[0-9a-f]{32}$/);
      const url = `/platform/complaints/${filed.id}`;

      const seen = await ok('prov-GD', 'GET', url);
      assert.deepEqual(seen.contact, { name: '李四', phone: '+86 20 1234 5678' });
      assert.equal(seen.serial, '1a2b3c');
      // The CA sees the complaint about itself, not who filed it.
      const asCa = await ok('gd-ca', 'GET', url);
      assert.equal(asCa.contact, undefined);
      assert.equal(asCa.description, seen.description);

      const taken = await ok('prov-GD', 'POST', `${url}/take`, { note: 'asked the CA for its unblock log' });
      assert.equal(taken.status, 'handling');
      const answered = await ok('gd-ca', 'POST', `${url}/notes`, { note: 'The request lacked the unit’s authorisation; unblocked on receipt.' });
      assert.equal(answered.history.at(-1).action, 'response');
      assert.match(answered.history.at(-1).by, /gd-ca/);
      await fails('prov-GD', 'POST', `${url}/resolve`, { note: 'no outcome' }, 400, 'platform.complaint.field');
      const done = await ok('prov-GD', 'POST', `${url}/resolve`, { outcome: 'CA to answer unblock requests within 2 working days; holder informed.' });
      assert.equal(done.status, 'resolved');
      assert.ok(done.closedAt);
      assert.deepEqual(
        done.history.map((s: any) => s.action),
        ['received', 'handling', 'response', 'resolved'],
      );
      // Closed: no more notes, no second resolution.
      await fails('gd-ca', 'POST', `${url}/notes`, { note: 'late' }, 409, 'platform.complaint.closed');
      await fails('prov-GD', 'POST', `${url}/take`, {}, 409, 'platform.complaint.state');

      const status = await ok(undefined, 'GET', `${url}/status?receipt=${filed.receipt}`);
      assert.equal(status.status, 'resolved');
      assert.match(status.outcome, /2 working days/);
      assert.equal(status.history, undefined);
      await fails(undefined, 'GET', `${url}/status?receipt=${'0'.repeat(32)}`, undefined, 404, 'platform.complaint.unknown');
      await fails(undefined, 'GET', `/platform/complaints/00000000-0000-0000-0000-000000000000/status?receipt=${filed.receipt}`, undefined, 404);
      assert.ok((await audited('platform.complaint.resolved')) >= 1);
      assert.ok((await audited('platform.complaint.submit')) >= 1);
    });

    test('scopes: who sees which complaint, who may handle it; refusals are audited', async () => {
      const gd = await ok(undefined, 'POST', '/platform/complaints', complaint('gd-ca', { category: 'availability', complainantKind: 'unit', contact: { name: '王五', organisation: '省人民医院', email: 'it@hospital.example.cn' } }));
      const bj = await ok(undefined, 'POST', '/platform/complaints', complaint('bj-ca', { category: 'fees' }));
      const ids = (list: any) => list.complaints.map((c: any) => c.id);
      assert.ok(ids(await ok('national', 'GET', '/platform/complaints')).includes(bj.id));
      assert.ok(ids(await ok('auditor', 'GET', '/platform/complaints')).includes(gd.id));
      // GD sees both (bj-ca serves GD), BJ only bj-ca's, SH nothing, each CA its own.
      assert.deepEqual(new Set(ids(await ok('prov-GD', 'GET', '/platform/complaints')).filter((i: string) => i === gd.id || i === bj.id)), new Set([gd.id, bj.id]));
      assert.ok(!ids(await ok('prov-BJ', 'GET', '/platform/complaints')).includes(gd.id));
      assert.deepEqual(ids(await ok('prov-SH', 'GET', '/platform/complaints')), []);
      assert.ok(!ids(await ok('bj-ca', 'GET', '/platform/complaints')).includes(gd.id));
      assert.ok((await ok('gd-ca', 'GET', '/platform/complaints?status=received')).complaints.every((c: any) => c.ca === 'gd-ca' && c.status === 'received' && c.contact === undefined));
      await fails('prov-BJ', 'GET', `/platform/complaints/${gd.id}`, undefined, 404);
      await fails('bj-ca', 'GET', `/platform/complaints/${gd.id}`, undefined, 404);

      // GD may see bj-ca's complaint but BJ handles it: refused and audited.
      const before = await audited('platform.refused');
      await fails('prov-GD', 'POST', `/platform/complaints/${bj.id}/take`, {}, 403, 'platform.scope.complaint');
      assert.equal(await audited('platform.refused'), before + 1);
      await fails('prov-SH', 'POST', `/platform/complaints/${bj.id}/take`, {}, 404);
      await fails('bj-ca', 'POST', `/platform/complaints/${bj.id}/take`, {}, 403, 'platform.role');
      await fails('auditor', 'POST', `/platform/complaints/${bj.id}/reject`, { outcome: 'x' }, 403, 'platform.role');
      await fails('gd-ca', 'POST', `/platform/complaints/${bj.id}/notes`, { note: 'not mine' }, 404);
      // The national office may always step in; a rejection needs its reason.
      await fails('national', 'POST', `/platform/complaints/${bj.id}/reject`, {}, 400, 'platform.complaint.field');
      const rejected = await ok('national', 'POST', `/platform/complaints/${bj.id}/reject`, { outcome: 'Fees are set by the using unit (Art. 19), not the CA.' });
      assert.equal(rejected.status, 'rejected');
      await fails('prov-BJ', 'POST', `/platform/complaints/${bj.id}/resolve`, { outcome: 'x' }, 409, 'platform.complaint.state');
    });

    test('bad submissions are 4xx naming the fault; oversized bodies 413; floods from one address 429', async () => {
      // Each from its own address, so that the rate limit below starts from zero.
      let n = 0;
      const bad = async (body: unknown, error: string) => {
        const r = await app.inject({ method: 'POST', url: '/platform/complaints', remoteAddress: `10.1.0.${++n}`, payload: body as object });
        assert.equal(r.statusCode, 400, r.body);
        assert.equal(r.json().error, error, r.body);
      };
      await bad(complaint('gd-ca', { category: 'weather' }), 'platform.complaint.field');
      await bad(complaint('gd-ca', { complainantKind: 'robot' }), 'platform.complaint.field');
      await bad(complaint('gd-ca', { contact: { name: '李四' } }), 'platform.complaint.contact');
      await bad(complaint('gd-ca', { contact: { name: '李四', email: 'not-an-address' } }), 'platform.complaint.contact');
      await bad(complaint('gd-ca', { complainantKind: 'unit' }), 'platform.complaint.contact');
      await bad(complaint('gd-ca', { contact: 'me' }), 'platform.complaint.contact');
      await bad(complaint('gd-ca', { subject: '' }), 'platform.complaint.field');
      await bad(complaint('gd-ca', { description: 'x'.repeat(4001) }), 'platform.complaint.field');
      await bad(complaint('gd-ca', { serial: 'XYZ' }), 'platform.complaint.serial');
      await bad(complaint('nobody'), 'platform.complaint.ca');
      await bad(complaint('new-ca'), 'platform.complaint.ca');
      await bad([1, 2], 'platform.complaint.body');
      const huge = await app.inject({ method: 'POST', url: '/platform/complaints', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(complaint('gd-ca', { description: 'x'.repeat(20_000) })) });
      assert.equal(huge.statusCode, 413, huge.body);
      await fails('national', 'GET', '/platform/complaints?status=lost', undefined, 400);
      await fails('national', 'GET', '/platform/complaints/not-an-id', undefined, 404);
      await fails('national', 'POST', '/platform/complaints/00000000-0000-0000-0000-000000000000/take', {}, 404);
      await fails('national', 'GET', '/platform/complaints/stats?from=yesterday', undefined, 400);

      // Every submission counts against the address, refused ones too; the window then closes.
      let status = 201;
      let tries = 0;
      while (status !== 429 && tries++ < RATE + 1) status = (await call(undefined, 'POST', '/platform/complaints', complaint('gd-ca'))).status;
      const limited = await call(undefined, 'POST', '/platform/complaints', complaint('gd-ca'));
      assert.equal(limited.status, 429);
      assert.equal((limited.body as any).error, 'platform.complaint.rate-limited');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      // Another address is not affected.
      const other = await app.inject({ method: 'POST', url: '/platform/complaints', remoteAddress: '10.9.8.7', payload: complaint('gd-ca') });
      assert.equal(other.statusCode, 201, other.body);
    });

    test('counts per CA by state, scoped, as JSON and CSV', async () => {
      const rows = (await ok('national', 'GET', '/platform/complaints/stats')).rows as any[];
      const byCa = Object.fromEntries(rows.map((r) => [r.ca, r]));
      const actual = async (ca: string) => Number((await sql<{ n: number }>`select count(*) as n from platform_complaints where ca = ${ca}`.execute(services.database.db)).rows[0]!.n);
      assert.equal(byCa['gd-ca'].total, await actual('gd-ca'));
      assert.equal(byCa['gd-ca'].resolved, 1);
      assert.equal(byCa['bj-ca'].rejected, 1);
      assert.equal(byCa['bj-ca'].total, 1);
      assert.equal(byCa['gd-ca'].received + byCa['gd-ca'].handling + byCa['gd-ca'].resolved + byCa['gd-ca'].rejected, byCa['gd-ca'].total);
      assert.deepEqual((await ok('bj-ca', 'GET', '/platform/complaints/stats')).rows.map((r: any) => r.ca), ['bj-ca']);
      assert.deepEqual((await ok('prov-BJ', 'GET', '/platform/complaints/stats')).rows.map((r: any) => r.ca), ['bj-ca']);
      assert.deepEqual((await ok('national', 'GET', '/platform/complaints/stats?to=2000-01-01')).rows, []);
      const csv = await call('national', 'GET', '/platform/complaints/stats.csv');
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const lines = String(csv.body).trim().split('\r\n');
      assert.equal(lines[0], 'ca,total,received,handling,resolved,rejected');
      assert.deepEqual(lines[1]!.split(','), ['bj-ca', '1', '0', '0', '0', '1']);
    });

    test('every complaint route × every role', async () => {
      const routes = declaredRoutes(app).filter((r) => r.url.startsWith('/platform/complaints'));
      assert.equal(routes.length, 10);
      const id = (await ok('national', 'GET', '/platform/complaints?ca=gd-ca')).complaints[0].id as string;
      for (const r of routes) {
        const url = r.url.replace(':id', id);
        for (const who of [undefined, 'national', 'prov-GD', 'prov-SH', 'gd-ca', 'auditor', 'not-a-token']) {
          const res = await call(who, r.method as 'GET' | 'POST', url, r.method === 'POST' ? {} : undefined);
          const declared = r.access;
          if (declared === 'public') {
            assert.ok(res.status !== 401 && res.status !== 403 && res.status < 500, `${r.method} ${url} as ${who}: ${res.status}`);
          } else if (typeof declared === 'object') {
            const role = who === undefined || who === 'not-a-token' ? undefined : who === 'national' ? 'national' : who.startsWith('prov') ? 'provincial' : who === 'auditor' ? 'auditor' : 'ca';
            if (!role) assert.equal(res.status, 401, `${r.method} ${url} as ${who}`);
            else if (!declared.roles.includes(role)) assert.equal(res.status, 403, `${r.method} ${url} as ${who}`);
            else assert.ok(res.status < 500 && res.status !== 401, `${r.method} ${url} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        }
      }
    });
  });
}

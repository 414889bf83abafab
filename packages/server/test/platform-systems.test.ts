/**
 * The registry of health information systems (Art. 15–17) over HTTP, on SQLite and PostgreSQL:
 * an office registers a system for its scope (a province only for itself, refusals audited);
 * only connected CAs can be accepted; who sees which system; usage records (normalised holder
 * identities, idempotent, only accepted and connected CAs, only the system's user groups) and
 * their end; every system and fee route × every role; bad input answered 4xx.
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
import { organisationCode, residentId, socialCreditCode } from './helpers/holders.js';

const HOSPITAL = socialCreditCode('45678901');
const BUREAU = organisationCode('12345678');

/** A registration body; override fields per test. */
function system(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    displayName: `${id} 信息系统`,
    category: 'medical-care',
    operator: { code: HOSPITAL, name: 'Provincial People’s Hospital' },
    builder: { code: BUREAU, name: 'Provincial Health Commission' },
    publicFacing: false,
    acceptedCas: ['gd-ca'],
    userGroups: ['internal-staff', 'internal-organization'],
    ...extra,
  };
}

for (const backendName of BACKENDS) {
  describe(`platform information systems on ${backendName}`, () => {
    let backend: TestBackend;
    let services: PlatformServices;
    let app: FastifyInstance;
    const tok: Record<string, string> = {};

    const call = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
      return { status: r.statusCode, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.body };
    };
    const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
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
    const admit = async (name: string, province: string) => {
      await ok(name, 'POST', '/platform/cas', application(name, province));
      await ok(`prov-${province}`, 'POST', `/platform/cas/${name}/province-review`, { approve: true });
      await ok('national', 'POST', `/platform/cas/${name}/conformance`, { passed: true });
      await ok('national', 'POST', `/platform/cas/${name}/approve`, {});
    };
    const refusals = async (target: string) =>
      Number((await sql<{ n: number }>`select count(*) as n from audit_log where action = ${'platform.refused'} and target = ${target}`.execute(services.database.db)).rows[0]!.n);

    before(async () => {
      backend = await createBackend(backendName);
      services = await openPlatformServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, identityAlgorithm: 'p256' });
      app = await buildPlatformApp(services, { logger: false });
      tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
      const mint = async (id: string, spec: Record<string, string>) => (tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token);
      await mint('prov-GD', { role: 'provincial', province: 'GD' });
      await mint('prov-BJ', { role: 'provincial', province: 'BJ' });
      await mint('auditor', { role: 'auditor' });
      for (const ca of ['gd-ca', 'bj-ca', 'new-ca']) await mint(ca, { role: 'ca', ca });
      await admit('gd-ca', 'GD');
      await admit('bj-ca', 'BJ');
      await ok('new-ca', 'POST', '/platform/cas', application('new-ca', 'GD')); // applied, not connected
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('registration: a province for itself, the national office for the Ministry; only connected CAs', async () => {
      const emr = await ok('prov-GD', 'POST', '/platform/systems', system('gd-emr', { description: 'electronic medical records' }));
      assert.equal(emr.scope, 'GD');
      assert.deepEqual(emr.operator, { code: HOSPITAL.slice(8, 17), name: 'Provincial People’s Hospital' }, 'a social credit code is kept as the organisation code it embeds');
      assert.equal(emr.builder.code, BUREAU);
      const nat = await ok('national', 'POST', '/platform/systems', system('moh-tender', { category: 'tendering-procurement', acceptedCas: ['gd-ca', 'bj-ca'], builder: undefined }));
      assert.equal(nat.scope, 'national');
      assert.deepEqual(nat.builder, nat.operator, 'without a builder the operator built it');
      await ok('national', 'POST', '/platform/systems', system('bj-portal', { scope: 'BJ', category: 'administrative-approval', publicFacing: true, acceptedCas: ['bj-ca'], userGroups: ['external-person', 'external-organization'] }));

      assert.equal(await refusals('platform:system:gd-other'), 0);
      await fails('prov-GD', 'POST', '/platform/systems', system('gd-other', { scope: 'BJ' }), 403, 'platform.scope.province');
      assert.equal(await refusals('platform:system:gd-other'), 1, 'the refusal is audited');
      await fails('gd-ca', 'POST', '/platform/systems', system('by-ca'), 403, 'platform.role');
      await fails('auditor', 'POST', '/platform/systems', system('by-auditor'), 403, 'platform.role');
      await fails(undefined, 'POST', '/platform/systems', system('anon'), 401);
      await fails('prov-GD', 'POST', '/platform/systems', system('gd-emr'), 409, 'platform.system.exists');
      await fails('prov-GD', 'POST', '/platform/systems', system('gd-x', { acceptedCas: ['new-ca'] }), 422, 'platform.system.ca-not-connected');
      await fails('prov-GD', 'POST', '/platform/systems', system('gd-x', { acceptedCas: ['nobody'] }), 422, 'platform.system.ca-not-connected');
      const audit = await sql<{ n: number }>`select count(*) as n from audit_log where action = ${'platform.system.register'}`.execute(services.database.db);
      assert.equal(Number(audit.rows[0]!.n), 3);
    });

    test('bad registrations are 400 with a clear code', async () => {
      const bad: Array<[Record<string, unknown>, string]> = [
        [system('Bad_Id'), 'platform.system.id'],
        [system('gd-x', { category: 'hospital' }), 'platform.system.category'],
        [system('gd-x', { publicFacing: 'yes' }), 'platform.system.public-facing'],
        [system('gd-x', { operator: { code: '123456789', name: 'x' } }), 'platform.identity.organisation'],
        [system('gd-x', { operator: { code: HOSPITAL.slice(0, 17) + (HOSPITAL[17] === '0' ? '1' : '0'), name: 'x' } }), 'platform.identity.organisation'],
        [system('gd-x', { operator: { code: HOSPITAL } }), 'platform.system.field'],
        [system('gd-x', { userGroups: ['internal-device'] }), 'platform.system.user-group'],
        [system('gd-x', { userGroups: [] }), 'platform.system.list'],
        [system('gd-x', { acceptedCas: 'gd-ca' }), 'platform.system.list'],
        [system('gd-x', { acceptedCas: [7] }), 'platform.system.ca'],
        [system('gd-x', { displayName: 'x'.repeat(201) }), 'platform.system.field'],
        [system('gd-x', { scope: 'guangdong' }), 'platform.province'],
      ];
      for (const [body, code] of bad) await fails('prov-GD', 'POST', '/platform/systems', body, 400, code);
      await fails('national', 'POST', '/platform/systems', [1, 2], 400);
      const r = await app.inject({ method: 'POST', url: '/platform/systems', headers: { authorization: `Bearer ${tok['prov-GD']}`, 'content-type': 'application/json' }, payload: '{"id":' });
      assert.equal(r.statusCode, 400);
    });

    test('who sees which system', async () => {
      const ids = async (who: string) => (await ok(who, 'GET', '/platform/systems')).systems.map((s: any) => s.id);
      assert.deepEqual(await ids('national'), ['bj-portal', 'gd-emr', 'moh-tender']);
      assert.deepEqual(await ids('auditor'), ['bj-portal', 'gd-emr', 'moh-tender']);
      assert.deepEqual(await ids('prov-GD'), ['gd-emr']);
      assert.deepEqual(await ids('prov-BJ'), ['bj-portal']);
      assert.deepEqual(await ids('bj-ca'), ['bj-portal', 'moh-tender'], 'a CA sees the systems that accept it');
      assert.equal((await ok('gd-ca', 'GET', '/platform/systems/gd-emr')).category, 'medical-care');
      await fails('bj-ca', 'GET', '/platform/systems/gd-emr', undefined, 404, 'platform.system.unknown');
      await fails('prov-BJ', 'GET', '/platform/systems/gd-emr', undefined, 404);
      await fails('national', 'GET', '/platform/systems/nothing-here', undefined, 404);
      await fails(undefined, 'GET', '/platform/systems', undefined, 401);
    });

    test('usage: normalised holders, idempotent, only accepted connected CAs and covered groups', async () => {
      const doctor = residentId('19800101', 17);
      const hospital = socialCreditCode('45678901');
      const records = [
        { holder: { kind: 'resident-id', value: doctor.toLowerCase() }, ca: 'gd-ca', class: 'internal-staff', at: '2026-03-01' },
        { holder: { kind: 'organisation', value: hospital }, ca: 'gd-ca', class: 'internal-organization', at: '2026-03-02T08:00:00+08:00', unit: HOSPITAL },
      ];
      assert.deepEqual(await ok('prov-GD', 'POST', '/platform/systems/gd-emr/usage', { records }), { recorded: 2, already: 0 });
      // The same holders in another form: one key, nothing new.
      const again = [{ ...records[0], holder: { kind: 'resident-id', value: doctor }, at: '2026-04-01' }, { ...records[1], holder: { kind: 'organisation', value: organisationCode('45678901') } }];
      assert.deepEqual(await ok('national', 'POST', '/platform/systems/gd-emr/usage', { records: again }), { recorded: 0, already: 2 });
      const page = await ok('auditor', 'GET', '/platform/systems/gd-emr/usage');
      assert.equal(page.total, 2);
      assert.deepEqual(page.usage.map((u: any) => [u.holder.value, u.firstUsedAt]), [
        [doctor.toUpperCase(), '2026-03-01T00:00:00.000Z'],
        [organisationCode('45678901'), '2026-03-02T00:00:00.000Z'],
      ]);
      assert.equal(page.usage[1].unit, HOSPITAL.slice(8, 17));
      assert.equal((await ok('national', 'GET', '/platform/systems/gd-emr/usage?limit=1&offset=1')).usage.length, 1);

      const one = (r: Record<string, unknown>) => ({ records: [{ holder: { kind: 'resident-id', value: doctor }, ca: 'gd-ca', class: 'internal-staff', ...r }] });
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ class: 'external-person' }), 422, 'platform.usage.class');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ ca: 'bj-ca' }), 422, 'platform.usage.ca-not-accepted');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ class: 'internal-organization' }), 400, 'platform.usage.holder-kind');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ holder: { kind: 'resident-id', value: doctor.slice(0, 17) + (doctor[17] === '1' ? '2' : '1') } }), 400, 'platform.identity.resident-id');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ holder: { kind: 'passport', value: 'E1234' } }), 400, 'platform.identity.kind');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ at: '2999-01-01' }), 400, 'platform.usage.date');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ at: '2009-12-31' }), 400, 'platform.usage.date');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ at: 'yesterday' }), 400, 'platform.usage.date');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', one({ unit: 'nope' }), 400, 'platform.identity.organisation');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', { records: [] }, 400, 'platform.usage.records');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', { records: Array.from({ length: 1001 }, () => one({}).records[0]) }, 400, 'platform.usage.records');
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', undefined, 400, 'platform.usage.records');
      await fails('prov-GD', 'POST', '/platform/systems/BAD/usage', one({}), 400, 'platform.system.id');
      await fails('prov-GD', 'POST', '/platform/systems/nothing-here/usage', one({}), 404, 'platform.system.unknown');
      await fails('prov-BJ', 'POST', '/platform/systems/gd-emr/usage', one({}), 403, 'platform.scope.province');
      assert.ok((await refusals('platform:system:gd-emr')) >= 1, 'the refusal is audited');
      await fails('prov-GD', 'GET', '/platform/systems/gd-emr/usage?limit=5000', undefined, 400, 'platform.usage.page');
      await fails('gd-ca', 'GET', '/platform/systems/gd-emr/usage', undefined, 403, 'platform.role');
      await fails('prov-BJ', 'GET', '/platform/systems/gd-emr/usage', undefined, 403, 'platform.scope.province');
      assert.equal((await ok('auditor', 'GET', '/platform/systems/gd-emr/usage')).total, 2, 'nothing refused was recorded');
    });

    test('a suspended CA: new usage refused, its acceptance kept; adding a CA needs it connected', async () => {
      await ok('prov-GD', 'POST', '/platform/systems/gd-emr/accepted-cas', { acceptedCas: ['gd-ca', 'bj-ca'] });
      await ok('national', 'POST', '/platform/cas/bj-ca/suspend', { note: 'inspection' });
      try {
        const rec = { records: [{ holder: { kind: 'resident-id', value: residentId('19900101', 3) }, ca: 'bj-ca', class: 'internal-staff' }] };
        await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage', rec, 422, 'platform.usage.ca-not-connected');
        assert.deepEqual((await ok('prov-GD', 'POST', '/platform/systems/gd-emr/accepted-cas', { acceptedCas: ['bj-ca', 'gd-ca'] })).acceptedCas, ['bj-ca', 'gd-ca']);
        await fails('prov-GD', 'POST', '/platform/systems/gd-emr/accepted-cas', { acceptedCas: ['gd-ca', 'new-ca'] }, 422, 'platform.system.ca-not-connected');
        await fails('prov-GD', 'POST', '/platform/systems/gd-emr/accepted-cas', {}, 400, 'platform.system.list');
        await fails('prov-BJ', 'POST', '/platform/systems/gd-emr/accepted-cas', { acceptedCas: ['gd-ca'] }, 403, 'platform.scope.province');
      } finally {
        await ok('national', 'POST', '/platform/cas/bj-ca/resume', {});
      }
      assert.deepEqual((await ok('prov-GD', 'POST', '/platform/systems/gd-emr/accepted-cas', { acceptedCas: ['gd-ca'] })).acceptedCas, ['gd-ca']);
    });

    test('ending usage', async () => {
      const doctor = residentId('19800101', 17);
      const end = (at: string, value = doctor) => ({ records: [{ holder: { kind: 'resident-id', value }, ca: 'gd-ca', class: 'internal-staff', at }] });
      await fails('prov-GD', 'POST', '/platform/systems/gd-emr/usage/end', end('2026-02-01'), 422, 'platform.usage.end-before-start');
      assert.deepEqual(await ok('prov-GD', 'POST', '/platform/systems/gd-emr/usage/end', end('2026-06-01')), { ended: 1, unknown: 0 });
      assert.deepEqual(await ok('prov-GD', 'POST', '/platform/systems/gd-emr/usage/end', end('2026-07-01')), { ended: 0, unknown: 1 }, 'already ended');
      assert.deepEqual(await ok('prov-GD', 'POST', '/platform/systems/gd-emr/usage/end', end('2026-07-01', residentId('19700101', 5))), { ended: 0, unknown: 1 });
      const u = (await ok('national', 'GET', '/platform/systems/gd-emr/usage')).usage.find((x: any) => x.holder.value === doctor);
      assert.equal(u.endedAt, '2026-06-01T00:00:00.000Z');
      await fails('gd-ca', 'POST', '/platform/systems/gd-emr/usage/end', end('2026-07-01'), 403, 'platform.role');
    });

    test('every system and fee route × every role: the declaration holds, nobody gets a 5xx', async () => {
      const routes = declaredRoutes(app).filter((r) => r.url.startsWith('/platform/systems') || r.url.startsWith('/platform/fees'));
      assert.equal(routes.length, 11);
      const callers = ['none', 'unknown', 'national', 'prov-GD', 'gd-ca', 'auditor'];
      const roleOf: Record<string, string> = { national: 'national', 'prov-GD': 'provincial', 'gd-ca': 'ca', auditor: 'auditor' };
      for (const route of routes) {
        const url = route.url.replace(':id', 'gd-emr').replace(':code', BUREAU);
        for (const caller of callers) {
          const headers: Record<string, string> = caller === 'none' ? {} : { authorization: `Bearer ${caller === 'unknown' ? 'y'.repeat(43) : tok[caller]}` };
          const r = await app.inject({ method: route.method as 'GET' | 'POST', url, headers, ...(route.method === 'POST' ? { payload: {} } : {}) });
          const what = `${route.method} ${url} as ${caller} → ${r.statusCode} ${r.body.slice(0, 160)}`;
          assert.ok(r.statusCode < 500, what);
          assert.ok(typeof route.access === 'object', 'no system or fee route is public');
          const error = r.headers['content-type']?.toString().includes('json') ? (r.json() as { error?: string }).error : undefined;
          const role = roleOf[caller];
          if (role && route.access.roles.includes(role as never)) {
            assert.ok(r.statusCode !== 401 && error !== 'platform.role', what);
            // An allowed GET answers 200; an allowed POST with an empty body is a 400 (bad input), never a refusal.
            if (route.method === 'GET') assert.equal(r.statusCode, 200, what);
            else assert.equal(r.statusCode, 400, what);
          } else {
            assert.ok(r.statusCode === 401 || (r.statusCode === 403 && error === 'platform.role'), what);
          }
        }
      }
    });
  });
}

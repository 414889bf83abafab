/**
 * The platform registry over HTTP, on SQLite and PostgreSQL: a CA's admission (apply → provincial
 * review → conformance report → national approval → connected and on the signed trust list),
 * selection, inspections, evaluation and rectification (a passing re-evaluation ends the order;
 * an order past its one-year deadline, with an injected clock, terminates the CA and it leaves the
 * trust list), licence expiry flagged, a province acting on another province refused and audited,
 * bad input answered 4xx.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { addDays } from '@health-pki/pki';
import type { FastifyInstance } from 'fastify';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { verifyTrustList } from '../src/platform/trust-list/verify.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { application, caCertificate } from './helpers/platform.js';

for (const backendName of BACKENDS) {
  describe(`platform registry on ${backendName}`, () => {
    let backend: TestBackend;
    let services: PlatformServices;
    let app: FastifyInstance;
    let now = new Date();
    const tok: Record<string, string> = {};

    const call = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
      return { status: r.statusCode, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.rawPayload };
    };
    const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const r = await call(who, method, url, payload);
      assert.ok(r.status < 300, `${method} ${url} as ${who}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as any;
    };
    const trustListNames = async () => {
      const r = await app.inject({ method: 'GET', url: '/platform/trust-list' });
      assert.equal(r.statusCode, 200);
      const verdict = verifyTrustList(r.rawPayload, await services.trustList.certificate());
      assert.ok(verdict.valid, verdict.reason);
      return verdict.document!.cas.map((c) => c.name);
    };
    const admit = async (name: string, province: string, body = application(name, province)) => {
      await ok(name, 'POST', '/platform/cas', body);
      await ok(`prov-${province}`, 'POST', `/platform/cas/${name}/province-review`, { approve: true });
      await ok('national', 'POST', `/platform/cas/${name}/conformance`, { passed: true, document: { cases: 12 } });
      return ok('national', 'POST', `/platform/cas/${name}/approve`, { note: 'meets Art. 6' });
    };

    before(async () => {
      backend = await createBackend(backendName);
      services = await openPlatformServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, clock: () => now, identityAlgorithm: 'p256' });
      app = await buildPlatformApp(services, { logger: false });
      tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
      const mint = async (id: string, spec: Record<string, string>) => (tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token);
      await mint('prov-GD', { role: 'provincial', province: 'GD' });
      await mint('prov-BJ', { role: 'provincial', province: 'BJ' });
      await mint('auditor', { role: 'auditor' });
      for (const ca of ['gd-ca', 'gd-ca2', 'bj-ca', 'old-ca']) await mint(ca, { role: 'ca', ca });
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('admission: apply → province review → conformance report → approval → connected and on the trust list', async () => {
      const applied = await ok('gd-ca', 'POST', '/platform/cas', application('gd-ca', 'GD'));
      assert.equal(applied.status, 'applied');
      // Not the national office's turn yet, and not another province's review.
      assert.equal((await call('national', 'POST', '/platform/cas/gd-ca/approve', {})).status, 409);
      const foreign = await call('prov-BJ', 'POST', '/platform/cas/gd-ca/province-review', { approve: true });
      assert.equal(foreign.status, 403);
      assert.equal((foreign.body as any).error, 'platform.scope.province');
      const refused = await sql<{ n: number }>`select count(*) as n from audit_log where action = ${'platform.refused'} and target = ${'platform:ca:gd-ca'}`.execute(services.database.db);
      assert.ok(Number(refused.rows[0].n) >= 1, 'the refusal is audited');
      assert.equal((await ok('prov-GD', 'POST', '/platform/cas/gd-ca/province-review', { approve: true })).status, 'province-reviewed');
      const failed = await ok('national', 'POST', '/platform/cas/gd-ca/conformance', { passed: false, faults: ['CRL not signed by the CA', 'OCSP says good for a revoked certificate'] });
      assert.equal(failed.status, 'province-reviewed');
      assert.deepEqual(failed.conformanceReport.faults, ['CRL not signed by the CA', 'OCSP says good for a revoked certificate']);
      assert.equal((await call('national', 'POST', '/platform/cas/gd-ca/approve', {})).status, 409);
      assert.equal((await ok('national', 'POST', '/platform/cas/gd-ca/conformance', { passed: true })).status, 'tested');
      assert.deepEqual(await trustListNames(), []);
      const connected = await ok('national', 'POST', '/platform/cas/gd-ca/approve', {});
      assert.equal(connected.status, 'connected');
      assert.deepEqual(connected.history.map((h: any) => h.to), ['applied', 'province-reviewed', 'tested', 'connected']);
      assert.deepEqual(await trustListNames(), ['gd-ca']);
      // The directory the sync module reads.
      const dir = await services.registry.get('gd-ca');
      assert.equal(dir?.platformAccessCertificate?.subjectText.includes('gd-ca platform access'), true);
    });

    test('who sees what: a CA only itself, a province only its CAs, auditor all but changes nothing', async () => {
      await admit('bj-ca', 'BJ');
      assert.deepEqual((await ok('gd-ca', 'GET', '/platform/cas')).cas.map((c: any) => c.name), ['gd-ca']);
      assert.equal((await call('gd-ca', 'GET', '/platform/cas/bj-ca')).status, 404);
      assert.deepEqual((await ok('prov-BJ', 'GET', '/platform/cas')).cas.map((c: any) => c.name), ['bj-ca']);
      assert.deepEqual((await ok('auditor', 'GET', '/platform/cas')).cas.map((c: any) => c.name), ['bj-ca', 'gd-ca']);
      assert.equal((await call('auditor', 'POST', '/platform/cas/bj-ca/suspend', {})).status, 403);
      assert.equal((await call('gd-ca', 'POST', '/platform/cas', application('bj-ca2', 'BJ'))).status, 403);
      assert.equal((await call('prov-BJ', 'POST', '/platform/cas/gd-ca/evaluations', { passed: false, findings: ['x'] })).status, 403);
      assert.equal((await call(undefined, 'GET', '/platform/cas')).status, 401);
      assert.equal((await call('not-a-token-at-all', 'GET', '/platform/cas')).status, 401);
    });

    test('selection: national for ministry units, a province for itself; units read it publicly', async () => {
      await ok('national', 'POST', '/platform/cas/bj-ca/selection', {});
      await ok('prov-GD', 'POST', '/platform/cas/gd-ca/selection', { note: 'GD health commission' });
      assert.equal((await call('prov-GD', 'POST', '/platform/cas/bj-ca/selection', {})).status, 403);
      assert.equal((await call('prov-GD', 'POST', '/platform/cas/gd-ca/selection', {})).status, 409);
      assert.deepEqual((await ok('x', 'GET', '/platform/selections?scope=national')).selections.map((s: any) => s.ca), ['bj-ca']);
      const gd = await call(undefined, 'GET', '/platform/selections?scope=GD');
      assert.deepEqual((gd.body as any).selections.map((s: any) => s.ca), ['gd-ca']);
      assert.equal((await call(undefined, 'GET', '/platform/selections?scope=guangdong')).status, 400);
    });

    test('inspections: planned and recorded by the planning office', async () => {
      const plan = await ok('prov-GD', 'POST', '/platform/cas/gd-ca/inspections', { plannedFor: '2027-03-01' });
      assert.equal((await call('national', 'POST', `/platform/inspections/${plan.id}/record`, { findings: [] })).status, 403);
      const done = await ok('prov-GD', 'POST', `/platform/inspections/${plan.id}/record`, { findings: ['key ceremony records incomplete'] });
      assert.equal(done.status, 'done');
      assert.equal((await call('prov-GD', 'POST', `/platform/inspections/${plan.id}/record`, { findings: [] })).status, 409);
      assert.equal((await ok('auditor', 'GET', '/platform/inspections')).inspections.length, 1);
      assert.equal((await ok('bj-ca', 'GET', '/platform/inspections')).inspections.length, 0);
    });

    test('rectification: a passing re-evaluation ends the order', async () => {
      await admit('gd-ca2', 'GD');
      const fail = await ok('prov-GD', 'POST', '/platform/cas/gd-ca2/evaluations', { passed: false, findings: ['no disaster recovery site'] });
      assert.equal(fail.rectification.status, 'open');
      assert.equal(new Date(fail.rectification.deadline).getTime() - now.getTime(), 365 * 86_400_000);
      const pass = await ok('prov-GD', 'POST', '/platform/cas/gd-ca2/evaluations', { passed: true });
      assert.equal(pass.rectification.status, 'passed');
      now = addDays(now, 400);
      try {
        assert.deepEqual((await ok('national', 'POST', '/platform/rectifications/sweep')).terminated, []);
      } finally {
        now = addDays(now, -400);
      }
      assert.equal((await services.registry.get('gd-ca2'))!.status, 'connected');
    });

    test('an order past its deadline terminates the CA, which leaves the trust list', async () => {
      const fail = await ok('prov-GD', 'POST', '/platform/cas/gd-ca/evaluations', { passed: false, findings: ['CPS not published'] });
      assert.equal(fail.rectification.status, 'open');
      // A second failure keeps the same order (and deadline).
      const again = await ok('prov-GD', 'POST', '/platform/cas/gd-ca/evaluations', { passed: false, findings: ['still not published'] });
      assert.equal(again.rectification.id, fail.rectification.id);
      now = addDays(now, 364);
      assert.deepEqual(await services.supervision.sweep(), []);
      assert.ok((await trustListNames()).includes('gd-ca'));
      now = addDays(now, 2);
      assert.deepEqual(await services.supervision.sweep(), ['gd-ca']);
      const ca = await ok('auditor', 'GET', '/platform/cas/gd-ca');
      assert.equal(ca.status, 'terminated');
      assert.match(ca.history.at(-1).note, /deadline/);
      assert.ok(!(await trustListNames()).includes('gd-ca'));
      assert.equal((await ok('national', 'GET', '/platform/rectifications')).rectifications.find((r: any) => r.ca === 'gd-ca').status, 'expired');
      // Gone from the public selection too.
      assert.deepEqual((await call(undefined, 'GET', '/platform/selections?scope=GD')).body, { selections: [] });
    });

    test('suspension and resumption follow the trust list; licence expiry is flagged and blocks approval', async () => {
      await ok('national', 'POST', '/platform/cas/bj-ca/suspend', { note: 'OCSP outage' });
      assert.ok(!(await trustListNames()).includes('bj-ca'));
      await ok('national', 'POST', '/platform/cas/bj-ca/resume', {});
      assert.ok((await trustListNames()).includes('bj-ca'));
      const soon = addDays(now, 10).toISOString();
      await ok('old-ca', 'POST', '/platform/cas', application('old-ca', 'GD', soon));
      await ok('prov-GD', 'POST', '/platform/cas/old-ca/province-review', { approve: true });
      await ok('national', 'POST', '/platform/cas/old-ca/conformance', { passed: true });
      now = addDays(now, 11);
      const flagged = await ok('national', 'GET', '/platform/cas/old-ca');
      assert.equal(flagged.licenceExpired, true);
      const refused = await call('national', 'POST', '/platform/cas/old-ca/approve', {});
      assert.equal(refused.status, 422);
      assert.equal((refused.body as any).error, 'platform.licence.expired');
    });

    test('bad input is a 4xx with a code, never a 500', async () => {
      const bad: Array<[string, unknown]> = [
        ['/platform/cas', {}],
        ['/platform/cas', 'not json object'],
        ['/platform/cas', { ...application('zz-ca', 'GD'), name: 'Bad Name' }],
        ['/platform/cas', { ...application('zz-ca', 'GD'), certificates: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] }],
        ['/platform/cas', { ...application('zz-ca', 'GD'), certificates: [caCertificate('leaf', false).toPem()] }],
        ['/platform/cas', { ...application('zz-ca', 'GD'), licence: { number: 'x', notBefore: 'yesterday', notAfter: 'tomorrow' } }],
        ['/platform/cas', application('bj-ca', 'BJ')],
        ['/platform/cas/nope/approve', {}],
        ['/platform/cas/bj-ca/conformance', { passed: 'yes' }],
        ['/platform/cas/bj-ca/conformance', { passed: false }],
        ['/platform/cas/bj-ca/inspections', { plannedFor: 'soon' }],
        ['/platform/tokens', { id: 'x', role: 'emperor' }],
        ['/platform/tokens', { id: 'x', role: 'provincial', province: 'Guangdong' }],
      ];
      for (const [url, payload] of bad) {
        const r = await call('national', 'POST', url, payload);
        assert.ok(r.status >= 400 && r.status < 500, `${url} ${JSON.stringify(payload).slice(0, 80)} → ${r.status}`);
        assert.match((r.body as any).error, /^[a-z-]+(\.[a-z-]+)*$/);
      }
      assert.equal((await call('prov-GD', 'POST', '/platform/cas/bj-ca/evaluations', { passed: 'no' })).status, 403);
    });

    test('conformance-test inputs (endpoints, samples) are stored, replaced before admission and fixed after it', async () => {
      const good = caCertificate('sample good', false).toPem();
      const revoked = caCertificate('sample revoked', false).toPem();
      tok['gd-ca3'] = (await ok('national', 'POST', '/platform/tokens', { id: 'gd-ca3', role: 'ca', ca: 'gd-ca3' })).token;
      const filed = await ok('gd-ca3', 'POST', '/platform/cas', { ...application('gd-ca3', 'GD'), endpoints: { query: 'https://gd-ca3.example/api/v1/platform-access/gd-ca3/query' }, samples: { good: [good], revoked: [revoked] } });
      assert.equal(filed.endpoints.query, 'https://gd-ca3.example/api/v1/platform-access/gd-ca3/query');
      assert.deepEqual(filed.samples, { good: [good], revoked: [revoked] });
      const replaced = await ok('gd-ca3', 'POST', '/platform/cas/gd-ca3/conformance-inputs', { samples: { good: [revoked], revoked: [good] } });
      assert.deepEqual([replaced.samples.good, replaced.endpoints.query], [[revoked], filed.endpoints.query]);
      assert.deepEqual((await ok('auditor', 'GET', '/platform/cas/gd-ca3')).samples, { good: [revoked], revoked: [good] });
      assert.equal((await call('gd-ca3', 'POST', '/platform/cas/gd-ca3/conformance-inputs', { samples: { good: [good, good] } })).status, 400);
      assert.equal((await call('auditor', 'POST', '/platform/cas/gd-ca3/conformance-inputs', {})).status, 403);
      await ok('prov-GD', 'POST', '/platform/cas/gd-ca3/province-review', { approve: true });
      await ok('national', 'POST', '/platform/cas/gd-ca3/conformance', { passed: true });
      assert.equal((await ok('national', 'GET', '/platform/cas/gd-ca3')).conformanceReport.source, 'offline');
      await ok('national', 'POST', '/platform/cas/gd-ca3/approve', {});
      assert.equal((await call('gd-ca3', 'POST', '/platform/cas/gd-ca3/conformance-inputs', { samples: { good: [good] } })).status, 409);
    });
  });
}

/**
 * The platform's OCSP/CRL probes (Art. 11), on SQLite and PostgreSQL: a real CA service started
 * in-process (its demo CAs, listening where their certificates say) is probed through the URLs
 * in the certificates the CA registered — OCSP answers parsed and checked against the issuer,
 * CRLs parsed with signature and nextUpdate checked — and found up; a dead port, an endpoint that
 * never answers (time-out) and one that answers garbage are found down with the reason. Uptime
 * and p50/p95 per CA, kind and bucket; CSV; scopes; the schedule; bad queries; route × role.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import {
  Certificate,
  addDays,
  authorityInfoAccessExt,
  basicConstraintsExt,
  buildCertificate,
  buildOcspRequest,
  certId,
  crlDistributionPointsExt,
  generateKey,
  keyUsageExt,
  parseName,
  randomSerial,
} from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { declaredRoutes } from '../src/platform/http/access.js';
import { ProbeMonitor, percentile, probeTargets } from '../src/platform/probe/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { application } from './helpers/platform.js';
import { injectApi } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

/** The probes' time limit: generous for a loaded test machine, short enough for the slow endpoint's cases. */
const TIMEOUT_MS = 1000;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A root and an issuing CA certificate whose extensions point at `base` for OCSP and the CRL (test data for broken endpoints). */
function brokenCa(name: string, base: string): string[] {
  const now = new Date();
  const exts = [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign'])];
  const rootKey = generateKey('p256');
  const root = buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=${name},CN=${name} Root`), notBefore: now, notAfter: addDays(now, 3650), publicKey: rootKey.publicKey, extensions: exts }, rootKey);
  const key = generateKey('p256');
  const issuing = buildCertificate(
    {
      serialNumber: randomSerial(),
      subject: parseName(`C=CN,O=${name},CN=${name} Issuing`),
      issuer: root.subjectDer,
      notBefore: now,
      notAfter: addDays(now, 1825),
      publicKey: key.publicKey,
      extensions: [...exts, crlDistributionPointsExt([`${base}/root.crl`]), authorityInfoAccessExt([`${base}/ocsp`], [])],
    },
    rootKey,
  );
  return [root.toPem(), issuing.toPem()];
}

describe('platform OCSP/CRL probes', () => {
  let caBackend: TestBackend;
  let caServices: Services;
  let caApp: FastifyInstance;
  let caUrl: string;
  const demo: Record<string, string[]> = {};
  let sample: Certificate;
  let slow: http.Server;
  let garbage: http.Server;
  const held: http.ServerResponse[] = [];
  let deadBase: string;
  let slowBase: string;
  let garbageBase: string;

  before(async () => {
    // The CA service listens at the address its certificates name, so the URLs in them work.
    caBackend = await createBackend('sqlite');
    const port = await freePort();
    caUrl = `http://127.0.0.1:${port}`;
    caServices = await openServices({ dataDir: caBackend.dataDir, baseUrl: caUrl, pkiThreads: 0 });
    const boot = await bootstrap(caServices, caBackend.dataDir);
    caApp = await buildHttpApp(caServices, { logger: false });
    await caApp.listen({ port, host: '127.0.0.1' });
    const api = injectApi(caApp);
    for (const name of ['demo-sm2', 'demo-p256']) demo[name] = (await api('GET', `/api/v1/cas/${name}`)).json.issuers.map((i: { pem: string }) => i.pem);
    const admin = readFileSync(boot!.tokenFile, 'utf8').trim();
    const r = await api('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '张三' } }, admin);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    sample = Certificate.parse(r.json.certificate.pem);
    // The first OCSP answer of each CA makes its delegated responder certificate: not what the probes measure.
    for (const name of ['demo-sm2', 'demo-p256']) {
      const [root, issuing] = demo[name]!.map((p) => Certificate.parse(p));
      const res = await fetch(`${caUrl}/ocsp/${name}`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: buildOcspRequest({ certIds: [certId(issuing!, root!)], nonce: false }).der });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }

    deadBase = `http://127.0.0.1:${await freePort()}`;
    slow = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowBase = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    garbage = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('this is not DER'));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    garbageBase = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const res of held) res.destroy();
    slow?.closeAllConnections();
    await new Promise((r) => slow?.close(r));
    await new Promise((r) => garbage?.close(r));
    await caApp?.close();
    await caServices?.close();
    await caBackend?.cleanup();
  });

  test('targets: the samples first, then the CA certificates; one per URL, each with the issuer that must sign', () => {
    const certs = demo['demo-sm2']!.map((p) => Certificate.parse(p));
    const targets = probeTargets({ name: 'x', status: 'connected', certificates: certs, samples: { good: [sample.toPem()], revoked: [] } });
    const ocsp = targets.filter((t) => t.kind === 'ocsp');
    const crls = targets.filter((t) => t.kind === 'crl');
    assert.deepEqual(ocsp.map((t) => t.url), [`${caUrl}/ocsp/demo-sm2`]);
    assert.equal(ocsp[0]!.kind === 'ocsp' && ocsp[0]!.subject.serialHex, sample.serialHex);
    assert.ok(ocsp[0]!.issuer.der.equals(certs[1]!.der));
    // The sample names the issuing CA's CRL, the issuing CA's certificate the root's.
    assert.deepEqual(new Set(crls.map((t) => t.url)), new Set([`${caUrl}/ca/demo-sm2/issuing-1.crl`, `${caUrl}/ca/demo-sm2/root.crl`].filter((u) => sample.crlUrls.concat(certs[1]!.crlUrls).includes(u))));
    assert.equal(crls.length, new Set([...sample.crlUrls, ...certs[1]!.crlUrls]).size);
    // Without samples: the issuing CA's certificate still names both services; a lone root names none.
    assert.equal(probeTargets({ name: 'x', status: 'connected', certificates: certs }).length, 2);
    assert.deepEqual(probeTargets({ name: 'x', status: 'connected', certificates: [certs[0]!] }), []);
    assert.equal(percentile([], 0.5), null);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95), 95);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.5), 50);
    assert.equal(percentile([7], 0.95), 7);
  });

  for (const backendName of BACKENDS) {
    describe(`on ${backendName}`, () => {
      let backend: TestBackend;
      let services: PlatformServices;
      let app: FastifyInstance;
      const tok: Record<string, string> = {};
      const call = async (who: string | undefined, method: 'GET' | 'POST', url: string) => {
        const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {} });
        return { status: r.statusCode, headers: r.headers, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.body };
      };
      const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
        const r = await app.inject({ method, url, headers: { authorization: `Bearer ${tok[who] ?? who}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
        assert.ok(r.statusCode < 300, `${method} ${url} as ${who}: ${r.statusCode} ${r.body}`);
        return r.json();
      };
      const admit = async (name: string, province: string, certificates: string[], extra: Record<string, unknown> = {}) => {
        await ok(name, 'POST', '/platform/cas', { ...application(name, province), certificates, ...extra });
        await ok(`prov-${province}`, 'POST', `/platform/cas/${name}/province-review`, { approve: true });
        await ok('national', 'POST', `/platform/cas/${name}/conformance`, { passed: true });
        await ok('national', 'POST', `/platform/cas/${name}/approve`, {});
      };

      before(async () => {
        backend = await createBackend(backendName);
        services = await openPlatformServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, identityAlgorithm: 'p256', probeIntervalMs: 0, probeTimeoutMs: TIMEOUT_MS });
        app = await buildPlatformApp(services, { logger: false });
        tok.national = readFileSync(services.adminTokenFile, 'utf8').trim();
        const mint = async (id: string, spec: Record<string, string>) => (tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token);
        await mint('prov-GD', { role: 'provincial', province: 'GD' });
        await mint('prov-BJ', { role: 'provincial', province: 'BJ' });
        await mint('prov-SH', { role: 'provincial', province: 'SH' });
        await mint('auditor', { role: 'auditor' });
        for (const ca of ['sm2-ca', 'p256-ca', 'dead-ca', 'slow-ca', 'garbage-ca', 'idle-ca']) await mint(ca, { role: 'ca', ca });
        await admit('sm2-ca', 'GD', demo['demo-sm2']!, { samples: { good: [sample.toPem()], revoked: [] } });
        await admit('p256-ca', 'BJ', demo['demo-p256']!);
        await admit('dead-ca', 'GD', brokenCa('dead', deadBase));
        await admit('slow-ca', 'GD', brokenCa('slow', slowBase));
        await admit('garbage-ca', 'GD', brokenCa('garbage', garbageBase));
        // Applied, not connected: not probed.
        await ok('idle-ca', 'POST', '/platform/cas', { ...application('idle-ca', 'GD'), certificates: demo['demo-p256']! });
      });

      after(async () => {
        await app?.close();
        await services?.close();
        await backend?.cleanup();
      });

      test('a round probes every connected CA: the real CA service up, the broken endpoints down with the reason', async () => {
        const t0 = performance.now();
        const { probes } = await ok('national', 'POST', '/platform/probes/run');
        // The time-outs run concurrently with the rest: one round is bounded by the time limit, not by their number.
        assert.ok(performance.now() - t0 < TIMEOUT_MS * 3, `round took ${performance.now() - t0} ms`);
        const of = (ca: string, kind: string) => (probes as any[]).filter((p) => p.ca === ca && p.kind === kind);
        for (const ca of ['sm2-ca', 'p256-ca']) {
          for (const kind of ['ocsp', 'crl']) {
            assert.ok(of(ca, kind).length >= 1, `${ca} ${kind}`);
            for (const p of of(ca, kind)) {
              assert.equal(p.ok, true, `${ca} ${kind} ${p.url}: ${p.error}`);
              assert.ok(p.latencyMs > 0 && p.latencyMs < TIMEOUT_MS);
              assert.ok(p.url.startsWith(caUrl));
            }
          }
        }
        for (const p of [...of('dead-ca', 'ocsp'), ...of('dead-ca', 'crl')]) assert.match(p.error, /cannot connect: ECONNREFUSED/);
        for (const p of [...of('slow-ca', 'ocsp'), ...of('slow-ca', 'crl')]) {
          assert.equal(p.ok, false);
          assert.match(p.error, new RegExp(`no answer within ${TIMEOUT_MS} ms`));
          assert.ok(p.latencyMs >= TIMEOUT_MS * 0.9 && p.latencyMs < TIMEOUT_MS * 2, String(p.latencyMs));
        }
        assert.match(of('garbage-ca', 'ocsp')[0].error, /not an OCSP response/);
        assert.match(of('garbage-ca', 'crl')[0].error, /not a CRL/);
        assert.equal(of('idle-ca', 'ocsp').length, 0);
        const stored = Number((await sql<{ n: number }>`select count(*) as n from platform_probe_results`.execute(services.database.db)).rows[0]!.n);
        assert.equal(stored, probes.length);
      });

      test('uptime and p50/p95 per CA and kind, per bucket, CSV, recent probes', async () => {
        await ok('national', 'POST', '/platform/probes/run');
        await ok('national', 'POST', '/platform/probes/run');
        const rows = (await ok('national', 'GET', '/platform/probes')).rows as any[];
        const row = (ca: string, kind: string) => rows.find((r) => r.ca === ca && r.kind === kind);
        for (const ca of ['sm2-ca', 'p256-ca']) {
          for (const kind of ['ocsp', 'crl']) {
            const r = row(ca, kind);
            assert.equal(r.uptime, 100, JSON.stringify(r));
            assert.equal(r.probes, r.up);
            assert.ok(r.probes >= 3);
            assert.ok(r.p50 > 0 && r.p95 >= r.p50, JSON.stringify(r));
            assert.equal(r.lastOk, true);
          }
        }
        for (const ca of ['dead-ca', 'slow-ca', 'garbage-ca']) {
          const r = row(ca, 'ocsp');
          assert.deepEqual([r.uptime, r.up, r.p50, r.p95, r.lastOk], [0, 0, null, null, false]);
          assert.ok(r.lastError);
        }
        // p50/p95 are those of the stored latencies.
        const lat = (await sql<{ l: number }>`select latency_ms as l from platform_probe_results where ca = 'p256-ca' and kind = 'ocsp' and ok = 1`.execute(services.database.db)).rows.map((x) => Number(x.l)).sort((a, b) => a - b);
        assert.equal(row('p256-ca', 'ocsp').p50, percentile(lat, 0.5));
        assert.equal(row('p256-ca', 'ocsp').p95, percentile(lat, 0.95));

        const hour = (await ok('national', 'GET', `/platform/probes?bucket=hour&ca=p256-ca`)).rows as any[];
        assert.ok(hour.length >= 2 && hour.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(r.period)));

        const csv = await call('national', 'GET', '/platform/probes.csv');
        assert.match(String(csv.headers['content-type']), /^text\/csv/);
        const lines = String(csv.body).trim().split('\r\n');
        assert.equal(lines[0], 'ca,kind,period,probes,up,uptime,p50_ms,p95_ms,last_at,last_ok');
        assert.equal(lines.length, rows.length + 1);
        assert.ok(lines.some((l) => l.startsWith('dead-ca,crl,,') && l.includes(',0,0,,,')));
        // A period before any probe is empty.
        assert.deepEqual((await ok('national', 'GET', '/platform/probes?from=2000-01-01&to=2000-02-01')).rows, []);
        const recent = (await ok('national', 'GET', '/platform/probes/recent?ca=slow-ca&limit=3')).probes as any[];
        assert.equal(recent.length, 3);
        assert.ok(recent.every((p) => p.ca === 'slow-ca' && !p.ok && p.error));
      });

      test('scopes: a province sees the CAs serving it, a CA itself', async () => {
        const cas = async (who: string) => new Set(((await ok(who, 'GET', '/platform/probes')).rows as any[]).map((r) => r.ca));
        assert.deepEqual(await cas('prov-BJ'), new Set(['p256-ca']));
        assert.deepEqual(await cas('prov-GD'), new Set(['sm2-ca', 'dead-ca', 'slow-ca', 'garbage-ca']));
        assert.deepEqual(await cas('prov-SH'), new Set());
        assert.deepEqual(await cas('sm2-ca'), new Set(['sm2-ca']));
        assert.equal((await cas('auditor')).size, 5);
        assert.ok(((await ok('p256-ca', 'GET', '/platform/probes/recent')).probes as any[]).every((p) => p.ca === 'p256-ca'));
        assert.deepEqual((await ok('p256-ca', 'GET', '/platform/probes/recent?ca=sm2-ca')).probes, []);
      });

      test('bad queries are 400; every probe route × every role', async () => {
        for (const q of ['bucket=week', 'from=yesterday', 'from=2026-02-01&to=2026-01-01', `ca=${'x'.repeat(70)}`]) {
          const r = await call('national', 'GET', `/platform/probes?${q}`);
          assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
        }
        for (const q of ['limit=0', 'limit=501', 'limit=abc']) assert.equal((await call('national', 'GET', `/platform/probes/recent?${q}`)).status, 400, q);
        const routes = declaredRoutes(app).filter((r) => r.url.startsWith('/platform/probes'));
        assert.equal(routes.length, 4);
        for (const r of routes) {
          for (const who of [undefined, 'national', 'prov-GD', 'sm2-ca', 'auditor', 'not-a-token']) {
            const res = await call(who, r.method as 'GET' | 'POST', r.url);
            const role = who === undefined || who === 'not-a-token' ? undefined : who === 'national' ? 'national' : who.startsWith('prov') ? 'provincial' : who === 'auditor' ? 'auditor' : 'ca';
            const declared = r.access as { roles: string[] };
            if (!role) assert.equal(res.status, 401, `${r.method} ${r.url} as ${who}`);
            else if (!declared.roles.includes(role)) assert.equal(res.status, 403, `${r.method} ${r.url} as ${who}`);
            else assert.equal(res.status, 200, `${r.method} ${r.url} as ${who}: ${JSON.stringify(res.body)}`);
          }
        }
      });

      test('the schedule probes again and again, and stops', async () => {
        const count = async () => Number((await sql<{ n: number }>`select count(*) as n from platform_probe_results where ca = 'p256-ca'`.execute(services.database.db)).rows[0]!.n);
        // A monitor of the one healthy CA, so that rounds do not wait for the slow endpoint's time-out.
        const monitor = new ProbeMonitor({ database: services.database, directory: { list: async () => (await services.registry.list()).filter((c) => c.name === 'p256-ca') }, timeoutMs: TIMEOUT_MS });
        const before = await count();
        const stop = monitor.schedule(100);
        const deadline = Date.now() + 5000;
        while ((await count()) < before + 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        stop();
        const reached = await count();
        assert.ok(reached >= before + 4, `${reached} after ${before}`);
        await new Promise((r) => setTimeout(r, 200));
        const settled = await count();
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await count(), settled);
      });
    });
  }
});

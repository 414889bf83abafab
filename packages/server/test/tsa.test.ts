/**
 * The time-stamp authority over HTTP, on SQLite and PostgreSQL: the demo units answer at
 * POST /tsa (ECDSA P-256) and POST /tsa/sm2; `openssl ts` makes the request and verifies the
 * P-256 token against the deployment's root, BouncyCastle verifies the SM2 token, our verifier
 * both; every granted token is in the journal with a unique serial; bad input is answered as
 * RFC 3161 wants (a rejection) or with a 4xx, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { TimeStampResponse, buildTimeStampRequest, verifyTimeStampToken, type Certificate } from '@health-pki/pki';
import type { FastifyInstance } from 'fastify';
import { SYSTEM_PRINCIPAL, bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { outside } from './helpers/outside.js';

const BASE = 'http://pki.test:8080';
const DATA = Buffer.from('病历 2026-11-28: 诊断与处方（签名后加盖时间戳）');

for (const backendName of BACKENDS) {
  describe(`time-stamp authority on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;

    const stamp = async (path: string, body: Uint8Array, type = 'application/timestamp-query') =>
      app.inject({ method: 'POST', url: path, headers: { 'content-type': type }, payload: Buffer.from(body) });
    const rootOf = async (ca: string): Promise<Certificate> => (await services.ca.signingIssuers(ca)).find((i) => i.role === 'root')!.cert;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkiThreads: 0 });
      await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('the demo units exist: p256 is the default, sm2 is named; each certificate is of the tsa profile', async () => {
      const r = await app.inject({ method: 'GET', url: '/api/v1/tsa/units' });
      assert.equal(r.statusCode, 200);
      const units = r.json().units as Array<{ name: string; isDefault: boolean; authority: string }>;
      assert.deepEqual(units.map((u) => [u.name, u.isDefault, u.authority]), [['p256', true, 'demo-p256'], ['sm2', false, 'demo-sm2']]);
      const audit = await sql<{ n: number }>`select count(*) as n from audit_log where action = 'tsa.unit.create'`.execute(services.database.db);
      assert.equal(Number(audit.rows[0]!.n), 2);
      // Bootstrapping again (a restart) creates nothing more.
      await bootstrap(services, backend.dataDir);
      assert.equal((await services.tsa.listUnits()).length, 2);
    });

    test('POST /tsa: a request made by `openssl ts -query` gets a token that `openssl ts -verify` accepts', async () => {
      const o = await outside();
      const q = await o.openssl(['ts', '-query', '-data', 'data.bin', '-sha256', '-cert', '-out', 'req.tsq'], { files: { 'data.bin': DATA }, outputs: ['req.tsq'] });
      assert.equal(q.code, 0, q.stderr);
      const r = await stamp('/tsa', q.outputs['req.tsq']!);
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], 'application/timestamp-reply');
      const root = await rootOf('demo-p256');
      const v = await o.openssl(['ts', '-verify', '-data', 'data.bin', '-in', 'resp.tsr', '-CAfile', 'root.pem'], { files: { 'data.bin': DATA, 'resp.tsr': r.rawPayload, 'root.pem': root.toPem() } });
      assert.equal(v.code, 0, `${v.stdout}${v.stderr}`);
      assert.match(v.stdout, /Verification: OK/);
      // Other data does not verify against the same token.
      const bad = await o.openssl(['ts', '-verify', '-data', 'data.bin', '-in', 'resp.tsr', '-CAfile', 'root.pem'], { files: { 'data.bin': Buffer.from('something else'), 'resp.tsr': r.rawPayload, 'root.pem': root.toPem() } });
      assert.notEqual(bad.code, 0);
      const ours = verifyTimeStampToken(r.rawPayload, { data: DATA, trusted: [root] });
      assert.ok(ours.valid, ours.valid ? '' : ours.message);
    });

    test('POST /tsa/sm2: an SM3 request with a nonce gets an SM2 token that BouncyCastle and our verifier accept', async () => {
      const req = buildTimeStampRequest({ data: DATA, hash: 'sm3', nonce: true, certReq: true });
      const before = Date.now();
      const r = await stamp('/tsa/sm2', req.der);
      assert.equal(r.statusCode, 200);
      const resp = TimeStampResponse.parse(r.rawPayload);
      assert.equal(resp.status, 'granted', resp.statusText.join(' '));
      const info = resp.token!.tstInfo;
      assert.equal(info.nonce, req.nonce);
      assert.ok(Math.abs(info.genTime.getTime() - before) < 5_000, 'genTime is now');
      assert.deepEqual(info.accuracy, { seconds: 1 });
      const v = verifyTimeStampToken(r.rawPayload, { data: DATA, nonce: req.nonce, trusted: [await rootOf('demo-sm2')] });
      assert.ok(v.valid, v.valid ? '' : v.message);
      const [bc] = await (await outside()).bcCheck([{ kind: 'tsp', token: r.rawPayload, data: DATA }]);
      assert.ok(bc!.ok, bc!.output);
    });

    test('every granted token is journalled with a serial never used before', async () => {
      const beforeCount = await services.tsa.journalSize('p256');
      const serials = new Set<bigint>();
      const answers = await Promise.all(Array.from({ length: 40 }, () => stamp('/tsa/p256', buildTimeStampRequest({ data: randomBytes(32), hash: 'sha256' }).der)));
      for (const a of answers) {
        const resp = TimeStampResponse.parse(a.rawPayload);
        assert.equal(resp.status, 'granted');
        serials.add(resp.token!.tstInfo.serialNumber);
      }
      assert.equal(serials.size, 40);
      assert.equal(await services.tsa.journalSize('p256'), beforeCount + 40);
    });

    test('bad input: garbage is a rejection (badDataFormat), SHA-1 is badAlg; wrong type, oversized and unknown unit are 4xx', async () => {
      for (const body of [Buffer.alloc(0), Buffer.from('not DER at all'), randomBytes(300), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])]) {
        const r = await stamp('/tsa', body);
        assert.equal(r.statusCode, 200);
        const resp = TimeStampResponse.parse(r.rawPayload);
        assert.equal(resp.status, 'rejection');
        assert.deepEqual(resp.failInfo, ['badDataFormat']);
      }
      const sha1 = await stamp('/tsa', buildTimeStampRequest({ data: DATA, hash: 'sha1' }).der);
      assert.deepEqual(TimeStampResponse.parse(sha1.rawPayload).failInfo, ['badAlg']);
      const wrongType = await stamp('/tsa', buildTimeStampRequest({ data: DATA, hash: 'sha256' }).der, 'application/json');
      assert.ok(wrongType.statusCode === 400 || wrongType.statusCode === 415, `status ${wrongType.statusCode}`);
      const json = await app.inject({ method: 'POST', url: '/tsa', headers: { 'content-type': 'application/json' }, payload: '{"hash":"abc"}' });
      assert.equal(json.statusCode, 415);
      const huge = await stamp('/tsa', Buffer.alloc(64 * 1024, 0x30));
      assert.equal(huge.statusCode, 413);
      const unknown = await stamp('/tsa/nope', buildTimeStampRequest({ data: DATA, hash: 'sha256' }).der);
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.json().message, /no time-stamp unit named "nope"/);
    });

    test('creating a unit needs an administrator; the name must be free', async () => {
      const anonymous = await app.inject({ method: 'POST', url: '/api/v1/tsa/units', payload: { name: 'x', ca: 'demo-p256' } });
      assert.equal(anonymous.statusCode, 401);
      const unit = await services.tsa.createUnit(SYSTEM_PRINCIPAL, { name: 'archive', authority: 'demo-p256' });
      assert.equal(unit.isDefault, false);
      await assert.rejects(services.tsa.createUnit(SYSTEM_PRINCIPAL, { name: 'archive', authority: 'demo-p256' }), /already exists/);
      const r = await stamp('/tsa/archive', buildTimeStampRequest({ data: DATA, hash: 'sha256' }).der);
      assert.equal(TimeStampResponse.parse(r.rawPayload).status, 'granted');
    });
  });
}

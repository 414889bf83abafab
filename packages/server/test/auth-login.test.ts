/**
 * Certificate login and credentials: signed challenges (signatures made by the OpenSSL CLI, not
 * our code) for SM2, ECDSA and RSA certificates; officer bindings and per-CA grants; holders;
 * single-use challenges; failed logins audited and throttled; API tokens scoped and revoked at
 * once across two service instances sharing one database; TLS client certificates.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { sql } from 'kysely';
import { exportPrivateKey } from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, startServer, type Services } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { certLogin, issueCert, opensslSign } from './helpers/auth-setup.js';
import { outside } from './helpers/outside.js';

for (const backendName of BACKENDS) {
  describe(`certificate login and tokens (${backendName})`, () => {
    let backend: TestBackend;
    let services: Services;
    let second: Services;
    let app: FastifyInstance;
    let app2: FastifyInstance;
    let api: Api;
    let api2: Api;
    let admin: string;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0 });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      // A second instance over the same database: another process of the same deployment.
      second = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0 });
      app2 = await buildHttpApp(second, { logger: false });
      api2 = injectApi(app2);
    });

    after(async () => {
      await app?.close();
      await app2?.close();
      await services?.close();
      await second?.close();
      await backend?.cleanup();
    });

    test('an officer logs in with SM2, ECDSA and RSA certificates (signatures by OpenSSL) and acts only on their CA', async () => {
      const created = await api('POST', '/api/v1/officers', { id: 'li', name: '李四', roles: ['officer'], cas: ['demo-sm2'], token: false }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.token, undefined);
      for (const [ca, alg] of [['demo-sm2', 'sm2'], ['demo-p256', 'p256'], ['demo-p256', 'rsa2048']] as const) {
        const cert = await issueCert(api, admin, ca, alg);
        // Not bound yet: the certificate logs in as its holder.
        const asHolder = await certLogin(api, cert);
        assert.equal(asHolder.status, 200, JSON.stringify(asHolder.json));
        assert.equal(asHolder.json.principal.role, 'holder');
        const bound = await api('POST', '/api/v1/officers/li/bindings', { ca, serial: cert.serial }, admin);
        assert.equal(bound.status, 200, JSON.stringify(bound.json));
        const login = await certLogin(api, cert);
        assert.equal(login.status, 200, `${alg}: ${JSON.stringify(login.json)}`);
        assert.equal(login.json.principal.id, 'li');
        const session = login.json.token as string;
        const who = await api('GET', '/api/v1/auth/whoami', undefined, session);
        assert.deepEqual(who.json.grants, [{ role: 'officer', ca: 'demo-sm2' }]);
        assert.equal(who.json.via, 'session');
        // Officer of demo-sm2: may read its queue, not demo-p256's.
        assert.equal((await api('GET', '/api/v1/cas/demo-sm2/applications', undefined, session)).status, 200);
        const other = await api('GET', '/api/v1/cas/demo-p256/applications', undefined, session);
        assert.equal(other.status, 403);
        assert.equal(other.json.error, 'auth.forbidden');
        assert.match(other.json.message, /demo-p256/);
        // The session works in the other process too, and logout ends it everywhere.
        assert.equal((await api2('GET', '/api/v1/auth/whoami', undefined, session)).status, 200);
        assert.equal((await api('POST', '/api/v1/auth/logout', {}, session)).status, 200);
        const gone = await api2('GET', '/api/v1/auth/whoami', undefined, session);
        assert.equal(gone.status, 401);
        assert.match(String(gone.headers['www-authenticate']), /Bearer/);
      }
    });

    test('a challenge is single use and bound to its certificate; bad signatures fail; failures are audited and throttled', async () => {
      const cert = await issueCert(api, admin, 'demo-p256', 'p256');
      const other = await issueCert(api, admin, 'demo-p256', 'p256');
      const ch = (await api('POST', '/api/v1/auth/challenge', { certificate: cert.pem })).json;
      const sig = (await opensslSign(cert, Buffer.from(ch.toBeSigned, 'base64'))).toString('base64');
      // Answered with another certificate: refused, and the challenge is used up.
      const wrong = await api('POST', '/api/v1/auth/login', { challenge: ch.challenge, certificate: other.pem, signature: sig });
      assert.equal(wrong.status, 401);
      assert.match(wrong.json.message, /another certificate/);
      const replay = await api('POST', '/api/v1/auth/login', { challenge: ch.challenge, certificate: cert.pem, signature: sig });
      assert.equal(replay.status, 401);
      assert.match(replay.json.message, /already used/);
      // A signature by another key.
      const forged = await certLogin(api, cert, (d) => opensslSign(other, d));
      assert.equal(forged.status, 401);
      assert.match(forged.json.message, /does not verify/);
      // Garbage certificate: 401, not 500.
      const junk = await api('POST', '/api/v1/auth/challenge', { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
      assert.equal(junk.status, 401);
      const audited = await sql<{ n: number }>`select count(*) as n from audit_log where action = 'auth.login.failed'`.execute(services.database.db);
      assert.ok(Number(audited.rows[0]!.n) >= 3, 'failed logins are in the audit log');
      // A revoked certificate cannot log in.
      await api('POST', `/api/v1/cas/demo-p256/certificates/${other.serial}/revoke`, { reason: 'keyCompromise' }, admin);
      const revoked = await certLogin(api, other);
      assert.equal(revoked.status, 401);
      assert.match(revoked.json.message, /revoked/);
      // Throttling: after 10 failures for a certificate, 429 with Retry-After.
      let last = 0;
      for (let i = 0; i < 12; i++) {
        const r = await api('POST', '/api/v1/auth/login', { challenge: 'nope', certificate: cert.pem, signature: 'AAAA' });
        last = r.status;
        if (r.status === 429) {
          assert.ok(Number(r.headers['retry-after']) > 0);
          break;
        }
      }
      assert.equal(last, 429);
      services.auth.limiter.clear();
    });

    test('a holder sees and reports the loss of their own certificates only', async () => {
      const mine = await issueCert(api, admin, 'demo-p256', 'p256', '王五');
      const theirs = await issueCert(api, admin, 'demo-p256', 'p256', '赵六');
      const session = (await certLogin(api, mine)).json.token as string;
      assert.equal((await api('GET', `/api/v1/cas/demo-p256/certificates/${mine.serial}/history`, undefined, session)).status, 200);
      assert.equal((await api('GET', `/api/v1/cas/demo-p256/certificates/${theirs.serial}/history`, undefined, session)).status, 403);
      assert.equal((await api('POST', `/api/v1/cas/demo-p256/certificates/${theirs.serial}/report-loss`, {}, session)).status, 403);
      assert.equal((await api('POST', `/api/v1/cas/demo-p256/certificates/${theirs.serial}/revoke`, { reason: 'keyCompromise' }, session)).status, 403);
      const lost = await api('POST', `/api/v1/cas/demo-p256/certificates/${mine.serial}/report-loss`, { comment: 'lost the USB key' }, session);
      assert.equal(lost.status, 200, JSON.stringify(lost.json));
      assert.equal(lost.json.status, 'hold');
      assert.equal((await api('GET', '/api/v1/cas/demo-p256/applications', undefined, session)).status, 403);
    });

    test('API tokens: scoped to roles × CAs, expiring, listed without secrets, revoked at once in every process', async () => {
      const created = await api('POST', '/api/v1/tokens', { name: 'batch-job', grants: [{ role: 'officer', ca: 'demo-p256' }] }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const token = created.json.token as string;
      assert.equal((await api2('GET', '/api/v1/cas/demo-p256/applications', undefined, token)).status, 200);
      assert.equal((await api2('GET', '/api/v1/cas/demo-sm2/applications', undefined, token)).status, 403);
      assert.equal((await api2('GET', '/api/v1/tokens', undefined, token)).status, 403);
      const list = await api('GET', '/api/v1/tokens', undefined, admin);
      assert.ok(list.json.tokens.some((t: { id: string; token?: string }) => t.id === created.json.id && t.token === undefined));
      assert.equal((await api('POST', `/api/v1/tokens/${created.json.id}/revoke`, {}, admin)).status, 200);
      assert.equal((await api2('GET', '/api/v1/cas/demo-p256/applications', undefined, token)).status, 401, 'revocation is seen at once by the other process');
      const expired = await api('POST', '/api/v1/tokens', { name: 'old', grants: [{ role: 'auditor', ca: '*' }], expiresAt: '2001-01-01T00:00:00Z' }, admin);
      assert.equal(expired.status, 400);
      assert.equal((await api('POST', '/api/v1/tokens', { name: 'x', grants: [{ role: 'admin', ca: 'demo-p256' }] }, admin)).status, 400);
      assert.equal((await api('POST', '/api/v1/tokens', { name: 'x', grants: [{ role: 'officer', ca: 'no-such-ca' }] }, admin)).status, 400);
      // Disabling an officer stops their personal token at once.
      const officer = await api('POST', '/api/v1/officers', { id: 'temp', cas: ['demo-p256'] }, admin);
      assert.equal((await api2('GET', '/api/v1/cas/demo-p256/applications', undefined, officer.json.token)).status, 200);
      assert.equal((await api('POST', '/api/v1/officers/temp/disable', {}, admin)).status, 200);
      assert.equal((await api2('GET', '/api/v1/cas/demo-p256/applications', undefined, officer.json.token)).status, 401);
    });
  });
}

describe('TLS client certificate login', () => {
  let backend: TestBackend;
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    backend = await createBackend('sqlite');
    const { openssl } = await outside();
    const r = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=127.0.0.1'], { outputs: ['k.pem', 'c.pem'] });
    assert.equal(r.code, 0, r.stderr);
    server = await startServer({ dataDir: backend.dataDir, port: 0, logger: false, pkiThreads: 0, tls: { cert: r.outputs['c.pem']!, key: r.outputs['k.pem']! } });
  });

  after(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  function get(path: string, client?: { cert: string; key: Buffer }): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = https.request(server.url + path, { rejectUnauthorized: false, ...(client ?? {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('a request with a bound officer certificate acts as that officer; without one it is 401', async () => {
    assert.match(server.url, /^https:/);
    const { httpApi } = await import('./helpers/api.js');
    const api = httpApi(server.url);
    const admin = readFileSync(server.tokenFile, 'utf8').trim();
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const cert = await issueCert(api, admin, 'demo-p256', 'p256');
      await api('POST', '/api/v1/officers', { id: 'tls-officer', cas: ['demo-p256'], token: false }, admin);
      assert.equal((await api('POST', '/api/v1/officers/tls-officer/bindings', { certificate: cert.pem, by: 'key' }, admin)).status, 200);
      const client = { cert: cert.pem, key: exportPrivateKey(cert.key, 'pem') };
      const who = await get('/api/v1/auth/whoami', client);
      assert.equal(who.status, 200, JSON.stringify(who.body));
      assert.equal(who.body.id, 'tls-officer');
      assert.equal(who.body.via, 'tls-client-certificate');
      assert.equal((await get('/api/v1/cas/demo-p256/applications', client)).status, 200);
      assert.equal((await get('/api/v1/cas/demo-sm2/applications', client)).status, 403);
      assert.equal((await get('/api/v1/cas/demo-p256/applications')).status, 401);
      // Revoked: the next request is refused (no caching).
      await api('POST', `/api/v1/cas/demo-p256/certificates/${cert.serial}/revoke`, { reason: 'keyCompromise' }, admin);
      assert.equal((await get('/api/v1/cas/demo-p256/applications', client)).status, 401);
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }
  });
});

/**
 * Holder self-service (issue 10): a holder logged in with their certificate renews it — approved
 * by the holder-renewal policy, no officer — and asks for a PIN unblock of their token, which
 * officers then decide in their queue. P-256 and SM2 holders, on every backend, over the real
 * HTTP app: re-key (new key: old certificate superseded) and renewal (same key), the records
 * (entered by the holder, decided by the policy, the audit entry), and the refusals — outside
 * the window, another subject or identity, another holder's certificate, a certificate on hold,
 * revoked or already renewed, bad input, officers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Certificate, type KeyAlgorithm } from '@health-pki/pki';
import { SoftToken, generateAdminPin } from '@health-pki/token';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { renewableFrom, SelfServiceRenewal } from '../src/ra/self-service.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { csrFor, makeCsr } from './helpers/pki.js';
import { certLogin, type IssuedCert } from './helpers/auth-setup.js';

const FAST_KDF = { alg: 'pbkdf2-sm3' as const, iterations: 1000 };
const CAS: Array<[KeyAlgorithm, string]> = [
  ['p256', 'demo-p256'],
  ['sm2', 'demo-sm2'],
];

let counter = 0;

test('the renewal window opens at the last 30 days or the last third, whichever is earlier', () => {
  const nb = new Date('2026-01-01T00:00:00Z');
  const w = { days: 30, fraction: 1 / 3 };
  // 300 days: the last third (100 days) opens earlier than the last 30 days.
  assert.equal(renewableFrom(nb, new Date('2026-10-28T00:00:00Z'), w).toISOString(), '2026-07-20T00:00:00.000Z');
  // 60 days: the last 30 days open earlier than the last third (20 days).
  assert.equal(renewableFrom(nb, new Date('2026-03-02T00:00:00Z'), w).toISOString(), '2026-01-31T00:00:00.000Z');
  // 20 days: renewable from the start.
  assert.equal(renewableFrom(nb, new Date('2026-01-21T00:00:00Z'), w).toISOString(), nb.toISOString());
});

for (const backendName of BACKENDS) {
  describe(`holder self-service on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    let officer: string;
    let dir: string;

    /** Enrolls a staff-sign certificate (bootstrap admin) valid `days` days, and logs its holder in. */
    async function holder(alg: KeyAlgorithm, ca: string, days: number, name = `自助${++counter}`): Promise<IssuedCert & { session: string; name: string }> {
      const csr = makeCsr(alg, `C=CN,O=示例医院,OU=信息科,CN=${name}`);
      const r = await api('POST', `/api/v1/cas/${ca}/enroll`, { profile: 'staff-sign', csr: csr.pem, applicant: { name, phone: '010-1234' }, validityDays: days }, admin);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      const cert: IssuedCert = { ca, serial: r.json.certificate.serial, pem: r.json.certificate.pem, key: csr.key, alg };
      const login = await certLogin(api, cert);
      assert.equal(login.status, 200, JSON.stringify(login.json));
      return { ...cert, session: login.json.token, name };
    }

    before(async () => {
      backend = await createBackend(backendName);
      dir = mkdtempSync(join(tmpdir(), 'hpki-self-'));
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, crl: { start: false } });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officer = (await api('POST', '/api/v1/officers', { id: 'desk-self' }, admin)).json.token;
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [alg, ca] of CAS) {
      test(`${alg}: re-key with a new key, approved by policy; the old certificate is superseded`, async () => {
        const h = await holder(alg, ca, 20);
        const mine = await api('GET', '/api/v1/me/certificates', undefined, h.session);
        assert.equal(mine.status, 200);
        assert.ok(Date.parse(mine.json.certificates[0].renewableFrom) <= Date.now(), 'a 20-day certificate is renewable at once');

        const next = makeCsr(alg, `C=CN,O=示例医院,OU=信息科,CN=${h.name}`);
        const r = await api('POST', '/api/v1/me/renewals', { csr: next.pem }, h.session);
        assert.equal(r.status, 201, JSON.stringify(r.json));
        const a = r.json.application;
        assert.equal(a.kind, 'rekey');
        assert.equal(a.state, 'issued');
        assert.equal(a.enteredBy, `holder:${ca}/${h.serial}`);
        assert.equal(a.decidedBy, 'policy:holder-renewal');
        assert.match(a.decisionReason, /policy holder-renewal.*identity verified by an officer at first issuance \(certificate [0-9a-f]+ issued by application .+\).*certificate login/);
        assert.equal(a.applicant.notes, `self-service renewal by holder:${ca}/${h.serial}`);
        assert.equal(a.applicant.phone, '010-1234', 'the applicant data of the first application carry over');
        assert.equal(a.previousSerial, h.serial);
        assert.ok(a.events.some((e: { action: string; actor: string }) => e.action === 'approve' && e.actor === 'policy:holder-renewal'));

        const oldCert = Certificate.parse(h.pem);
        const newCert = Certificate.parse(r.json.certificate.pem);
        assert.deepEqual(newCert.subjectDer, oldCert.subjectDer);
        assert.deepEqual(newCert.identity, oldCert.identity);
        assert.equal(r.json.certificate.profile, 'staff-sign');
        assert.notDeepEqual(newCert.spkiDer, oldCert.spkiDer);
        assert.ok(r.json.chainPem.includes('BEGIN CERTIFICATE'));

        const old = await api('GET', `/api/v1/cas/${ca}/certificates/${h.serial}`);
        assert.deepEqual([old.json.status, old.json.reason], ['revoked', 'superseded']);
        // The revoked certificate's session ends with it.
        assert.equal((await api('GET', '/api/v1/me/certificates', undefined, h.session)).status, 401);

        const audit = await sql<{ action: string; actor: string; details: string }>`select action, actor, details from audit_log where target = ${`ra:application:${a.id}`} order by seq`.execute(services.database.db);
        const actions = audit.rows.map((e) => `${e.action}/${e.actor}`);
        assert.ok(actions.includes(`ra.apply/holder:${ca}/${h.serial}`), actions.join());
        assert.ok(actions.includes('ra.approve/policy:holder-renewal'), actions.join());
        const policy = audit.rows.find((e) => e.action === 'ra.self-renewal');
        assert.ok(policy, 'the policy has its own audit entry');
        assert.equal(JSON.parse(policy.details).policy, 'holder-renewal');

        // The new certificate logs in and is listed as the holder's.
        const again = await certLogin(api, { ca, serial: r.json.certificate.serial, pem: r.json.certificate.pem, key: next.key, alg });
        assert.equal(again.status, 200);
        const list = await api('GET', '/api/v1/me/certificates', undefined, again.json.token);
        assert.deepEqual(list.json.certificates.map((c: { serial: string }) => c.serial).sort(), [h.serial, r.json.certificate.serial].sort());
      });

      test(`${alg}: renewal with the same key (no CSR, or a CSR of the same key) keeps the old certificate valid, once`, async () => {
        const h = await holder(alg, ca, 20);
        const r = await api('POST', '/api/v1/me/renewals', {}, h.session);
        assert.equal(r.status, 201, JSON.stringify(r.json));
        assert.equal(r.json.application.kind, 'renewal');
        assert.deepEqual(Certificate.parse(r.json.certificate.pem).spkiDer, Certificate.parse(h.pem).spkiDer);
        assert.equal((await api('GET', `/api/v1/cas/${ca}/certificates/${h.serial}`)).json.status, 'valid');
        const twice = await api('POST', '/api/v1/me/renewals', { csr: csrFor(h.key, `C=CN,O=示例医院,OU=信息科,CN=${h.name}`) }, h.session);
        assert.equal(twice.status, 409, JSON.stringify(twice.json));
        assert.equal(twice.json.error, 'renewal.done');
        assert.match(twice.json.message, new RegExp(r.json.certificate.serial));
      });
    }

    test('refused: outside the window, another subject or identity, another holder, hold, revoked, bad input, officers', async () => {
      const [alg, ca] = CAS[0]!;
      const early = await holder(alg, ca, 365);
      const w = await api('POST', '/api/v1/me/renewals', {}, early.session);
      assert.equal(w.status, 422);
      assert.equal(w.json.error, 'renewal.window');
      assert.match(w.json.message, /can be renewed from \d{4}-/);
      // A CA may open its window wider (a deployment setting per CA): the same certificate is then renewable.
      assert.deepEqual(services.selfService.windowOf(ca), { days: 30, fraction: 1 / 3 });
      const wide = new SelfServiceRenewal(services.database, services.ca, services.ra, { perCa: { [ca]: { renewalWindow: { fraction: 1 } } } });
      assert.deepEqual(wide.windowOf(ca), { days: 30, fraction: 1 });
      assert.deepEqual(wide.windowOf('demo-sm2'), { days: 30, fraction: 1 / 3 });
      const me = (await api('GET', '/api/v1/auth/whoami', undefined, early.session)).json;
      const renewed = await wide.renew({ id: me.id, role: 'holder', bootstrap: false, holder: me.holder }, {});
      assert.equal(renewed.application.kind, 'renewal');

      const h = await holder(alg, ca, 20);
      const other = await api('POST', '/api/v1/me/renewals', { csr: makeCsr(alg, 'C=CN,O=示例医院,OU=信息科,CN=别人').pem }, h.session);
      assert.equal(other.status, 422);
      assert.equal(other.json.error, 'subject.changed');
      const ident = await api('POST', '/api/v1/me/renewals', { csr: makeCsr(alg, `C=CN,O=示例医院,OU=信息科,CN=${h.name}`, { residentId: '110105194912310029' }).pem }, h.session);
      assert.equal(ident.status, 422, JSON.stringify(ident.json));
      assert.equal(ident.json.error, 'identity.changed');
      const victim = await holder(alg, ca, 20);
      const notMine = await api('POST', '/api/v1/me/renewals', { serial: victim.serial }, h.session);
      assert.equal(notMine.status, 403);
      assert.equal(notMine.json.error, 'renewal.not-login-certificate');
      for (const [body, code] of [
        [{ csr: 'not a csr' }, 400],
        [{ csr: '' }, 400],
        [{ csr: 'x'.repeat(70_000) }, 400],
        [{ unknown: 1 }, 400],
        [{ serial: 'zz' }, 403],
      ] as const) {
        const r = await api('POST', '/api/v1/me/renewals', body, h.session);
        assert.equal(r.status, code, `${JSON.stringify(body).slice(0, 60)} → ${r.status} ${JSON.stringify(r.json)}`);
      }
      assert.equal((await api('POST', '/api/v1/me/renewals', '{"csr":', h.session)).status, 400);
      assert.equal((await api('POST', '/api/v1/me/renewals', {})).status, 401);
      for (const who of [admin, officer]) {
        const r = await api('POST', '/api/v1/me/renewals', {}, who);
        assert.equal(r.status, 403);
        assert.equal(r.json.error, 'holder.only');
      }
      // Nothing was entered by the refusals.
      const entered = await sql<{ n: number }>`select count(*) as n from ra_applications where entered_by = ${`holder:${ca}/${h.serial}`}`.execute(services.database.db);
      assert.equal(Number(entered.rows[0]!.n), 0);

      // On hold (the holder reported the loss): refused until released.
      const held = await api('POST', `/api/v1/cas/${ca}/certificates/${h.serial}/report-loss`, {}, h.session);
      assert.equal(held.status, 200, JSON.stringify(held.json));
      const onHold = await api('POST', '/api/v1/me/renewals', {}, h.session);
      assert.equal(onHold.status, 409);
      assert.equal(onHold.json.error, 'previous.hold');
      // Revoked: the session ends, so nothing can be renewed with it.
      const rev = await api('POST', `/api/v1/cas/${ca}/certificates/${victim.serial}/revoke`, { reason: 'keyCompromise' }, officer);
      assert.equal(rev.status, 200, JSON.stringify(rev.json));
      assert.equal((await api('POST', '/api/v1/me/renewals', {}, victim.session)).status, 401);
    });

    test('PIN unblock: the holder enters the request, an officer decides, the holder takes the answer to the token', async () => {
      const [alg, ca] = CAS[1]!;
      const h = await holder(alg, ca, 365);
      const adminPin = generateAdminPin();
      const token = SoftToken.init(join(dir, `holder-${backendName}.tok`), { userPin: 'pin-123456', adminPin, kdf: FAST_KDF, userMaxRetries: 3 });
      const tokenId = token.info().tokenId;
      assert.equal((await api('POST', `/api/v1/cas/${ca}/tokens`, { tokenId, adminPin, holder: h.name }, officer)).status, 204);
      for (let i = 0; i < 3; i++) assert.throws(() => token.login('HPKI', 'wrong-000'));

      const request = token.requestUnblock('HPKI');
      const entered = await api('POST', '/api/v1/me/unblocks', { request }, h.session);
      assert.equal(entered.status, 201, JSON.stringify(entered.json));
      assert.deepEqual([entered.json.state, entered.json.requestedBy, entered.json.response], ['pending', `holder:${ca}/${h.serial}`, null]);
      const dup = await api('POST', '/api/v1/me/unblocks', { request }, h.session);
      assert.equal(dup.status, 409);
      assert.equal(dup.json.error, 'unblock.pending');
      const queue = await api('GET', `/api/v1/cas/${ca}/unblocks`, undefined, officer);
      assert.ok(queue.json.unblocks.some((u: { id: string }) => u.id === entered.json.id), 'in the officers’ queue');

      // Another holder sees none of it; officers and tokens are not holders.
      const stranger = await holder(alg, ca, 365);
      assert.deepEqual((await api('GET', '/api/v1/me/unblocks', undefined, stranger.session)).json.unblocks, []);
      assert.equal((await api('GET', '/api/v1/me/unblocks', undefined, officer)).status, 403);
      assert.equal((await api('POST', '/api/v1/me/unblocks', { request }, officer)).status, 403);
      // Bad input and a token of another CA.
      assert.equal((await api('POST', '/api/v1/me/unblocks', { request: { format: 'nope' } }, h.session)).status, 400);
      assert.equal((await api('POST', '/api/v1/me/unblocks', {}, h.session)).status, 400);
      const p256 = await holder('p256', 'demo-p256', 365);
      const foreign = await api('POST', '/api/v1/me/unblocks', { request }, p256.session);
      assert.equal(foreign.status, 404, JSON.stringify(foreign.json));

      const before = await api('GET', '/api/v1/me/unblocks', undefined, h.session);
      assert.deepEqual(before.json.unblocks.map((u: { state: string }) => u.state), ['pending']);
      const done = await api('POST', `/api/v1/cas/${ca}/unblocks/${entered.json.id}/authorise`, undefined, officer);
      assert.equal(done.status, 200, JSON.stringify(done.json));
      const mine = await api('GET', '/api/v1/me/unblocks', undefined, h.session);
      assert.equal(mine.json.unblocks[0].state, 'answered');
      token.applyUnblock('HPKI', mine.json.unblocks[0].response, 'new-pin-7788');
      token.login('HPKI', 'new-pin-7788').logout();
    });
  });
}

/**
 * PIN unblock as a CA service, on SQLite and PostgreSQL, with the real software token: the CA
 * registers the admin PIN of a token it hands out (sealed; never shown again) → the holder locks
 * the user PIN → the token's unblock request is entered → nothing is answered until an officer
 * authorises → the answer unblocks the token with a new PIN chosen locally, once. Refused: an
 * unregistered token, a tampered request, a second decision, a replayed answer; all audited;
 * the admin PIN is in no database file or answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { SoftToken, PinLockedError, generateAdminPin } from '@health-pki/token';
import type { FastifyInstance } from 'fastify';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';

const FAST_KDF = { alg: 'pbkdf2-sm3' as const, iterations: 1000 };

for (const backendName of BACKENDS) {
  describe(`PIN unblock on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let dir: string;
    let officerA: string;
    let officerB: string;
    const adminPin = generateAdminPin();
    const responses: string[] = [];

    before(async () => {
      backend = await createBackend(backendName);
      dir = mkdtempSync(join(tmpdir(), 'hpki-unblock-'));
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0 });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      const admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officerA = (await api('POST', '/api/v1/officers', { id: 'counter-a' }, admin)).json.token;
      officerB = (await api('POST', '/api/v1/officers', { id: 'counter-b' }, admin)).json.token;
    });
    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('lock → request → nothing until authorised → the answer unblocks once with a new PIN', async () => {
      const token = SoftToken.init(join(dir, 'holder.tok'), { userPin: 'pin-123456', adminPin, kdf: FAST_KDF, userMaxRetries: 3 });
      const tokenId = token.info().tokenId;
      const reg = await api('POST', '/api/v1/cas/demo-sm2/tokens', { tokenId, adminPin, holder: '张三 (110105194912310029)' }, officerA);
      assert.equal(reg.status, 204, JSON.stringify(reg.json));
      assert.equal((await api('POST', '/api/v1/cas/demo-sm2/tokens', { tokenId, adminPin, holder: 'again' }, officerA)).status, 409);

      for (let i = 0; i < 3; i++) assert.throws(() => token.login('HPKI', 'wrong-000'));
      assert.throws(() => token.login('HPKI', 'pin-123456'), PinLockedError, 'locked even with the right PIN');

      const request = token.requestUnblock('HPKI');
      const entered = await api('POST', '/api/v1/cas/demo-sm2/unblocks', { request }, officerA);
      assert.equal(entered.status, 201, JSON.stringify(entered.json));
      assert.deepEqual([entered.json.state, entered.json.response], ['pending', null]);
      const queue = await api('GET', '/api/v1/cas/demo-sm2/unblocks', undefined, officerB);
      assert.deepEqual(queue.json.unblocks.map((u: { id: string }) => u.id), [entered.json.id]);

      const anonymous = await api('POST', `/api/v1/cas/demo-sm2/unblocks/${entered.json.id}/authorise`);
      assert.equal(anonymous.status, 401);
      const done = await api('POST', `/api/v1/cas/demo-sm2/unblocks/${entered.json.id}/authorise`, undefined, officerB);
      assert.equal(done.status, 200, JSON.stringify(done.json));
      assert.equal(done.json.state, 'answered');
      responses.push(JSON.stringify(done.json));
      assert.equal((await api('POST', `/api/v1/cas/demo-sm2/unblocks/${entered.json.id}/authorise`, undefined, officerB)).status, 409);

      token.applyUnblock('HPKI', done.json.response, 'new-pin-7788');
      token.login('HPKI', 'new-pin-7788').logout();
      assert.throws(() => token.applyUnblock('HPKI', done.json.response, 'other-pin-99'), /no pending|challenge|spent|unblock/i, 'an answer works once');

      const audit = await sql<{ action: string }>`select action from audit_log where target = ${`media:token:${tokenId}`} order by seq`.execute(services.database.db);
      assert.deepEqual(audit.rows.map((r) => r.action), ['media.token.register', 'media.unblock.request', 'media.unblock.authorise']);
    });

    test('refused: an unregistered token, a tampered request, garbage; a rejected request is never answered', async () => {
      const stranger = SoftToken.init(join(dir, 'stranger.tok'), { userPin: 'pin-000000', adminPin: generateAdminPin(), kdf: FAST_KDF });
      const unknown = await api('POST', '/api/v1/cas/demo-sm2/unblocks', { request: stranger.requestUnblock('HPKI') }, officerA);
      assert.equal(unknown.status, 404);
      assert.match(unknown.json.message, /has not registered token/);

      const token = SoftToken.init(join(dir, 'tampered.tok'), { userPin: 'pin-111111', adminPin, kdf: FAST_KDF });
      await api('POST', '/api/v1/cas/demo-sm2/tokens', { tokenId: token.info().tokenId, adminPin: generateAdminPin(), holder: 'recorded with another admin PIN' }, officerA);
      const entered = await api('POST', '/api/v1/cas/demo-sm2/unblocks', { request: token.requestUnblock('HPKI') }, officerA);
      const refused = await api('POST', `/api/v1/cas/demo-sm2/unblocks/${entered.json.id}/authorise`, undefined, officerB);
      assert.equal(refused.status, 422);
      assert.match(refused.json.message, /admin PIN on record does not open this token/);

      for (const request of [{}, { format: 'hpki-unblock-request', version: 1 }, { ...token.requestUnblock('HPKI'), tokenId: 'zz' }]) {
        const r = await api('POST', '/api/v1/cas/demo-sm2/unblocks', { request }, officerA);
        assert.equal(r.status, 400, JSON.stringify(r.json));
      }
      const other = SoftToken.init(join(dir, 'rejected.tok'), { userPin: 'pin-222222', adminPin, kdf: FAST_KDF });
      await api('POST', '/api/v1/cas/demo-sm2/tokens', { tokenId: other.info().tokenId, adminPin, holder: 'someone' }, officerA);
      const asked = await api('POST', '/api/v1/cas/demo-sm2/unblocks', { request: other.requestUnblock('HPKI') }, officerA);
      const rejected = await api('POST', `/api/v1/cas/demo-sm2/unblocks/${asked.json.id}/reject`, { reason: 'the person at the counter could not prove to be the holder' }, officerB);
      assert.deepEqual([rejected.status, rejected.json.state, rejected.json.response], [200, 'rejected', null]);
      assert.equal((await api('POST', `/api/v1/cas/demo-sm2/unblocks/${asked.json.id}/authorise`, undefined, officerB)).status, 409);
    });

    test('the admin PIN is in no database file and no answer', async () => {
      const pin = Buffer.from(adminPin);
      for (const r of responses) assert.ok(!r.includes(adminPin));
      if (backendName === 'sqlite') {
        for (const f of readdirSync(backend.dataDir).filter((n) => n.includes('.sqlite'))) {
          assert.equal(readFileSync(join(backend.dataDir, f)).indexOf(pin), -1, f);
        }
      } else {
        const rows = await sql<{ n: number }>`select count(*) as n from media_tokens where position(${pin} in admin_pin_sealed) > 0`.execute(services.database.db);
        assert.equal(Number(rows.rows[0]!.n), 0);
      }
    });
  });
}

/**
 * Two `hpki start` processes on one PostgreSQL database, started at the same moment (so their
 * migrations and first-start bootstrap race too), issuing at once: no duplicate serial, no
 * certificate without its application, and no lost update when both change the same
 * application or certificate at the same time.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { DEV_MASTER_KEY_FILE, createKeyFile, openServices } from '../src/index.js';
import { createBackend, postgresOff, type TestBackend } from './helpers/backends.js';
import { httpApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { consistencyProblems } from './helpers/invariants.js';

const ISSUES_PER_PROCESS = 60;
const CONCURRENCY = 8;
const RACES = 20;

describe('two server processes on one PostgreSQL database', { skip: postgresOff ? 'HPKI_TEST_PG=off' : false }, () => {
  let backend: TestBackend;
  let second: string;
  const servers: ServerProcess[] = [];

  after(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await backend?.cleanup();
    if (second) rmSync(second, { recursive: true, force: true });
  });

  test('concurrent issuance never duplicates a serial; racing decisions and status changes never lose an update', async () => {
    backend = await createBackend('postgres');
    second = mkdtempSync(join(tmpdir(), 'hpki-second-'));
    // One deployment, one master key: both data directories hold the same (demo) key file.
    createKeyFile(join(backend.dataDir, DEV_MASTER_KEY_FILE));
    copyFileSync(join(backend.dataDir, DEV_MASTER_KEY_FILE), join(second, DEV_MASTER_KEY_FILE));
    // Both start together: migrations and demo-CA creation race and must settle to one set of CAs.
    servers.push(...(await Promise.all([startServerProcess({ dataDir: backend.dataDir, dbUrl: backend.dbUrl }), startServerProcess({ dataDir: second, dbUrl: backend.dbUrl })])));
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const apiA = httpApi(a.url);
    const apiB = httpApi(b.url);
    const cas = (await apiA('GET', '/api/v1/cas')).json.cas.map((c: any) => c.name);
    assert.deepEqual(cas, ['demo-p256', 'demo-sm2']);
    assert.deepEqual((await apiB('GET', '/api/v1/cas')).json.cas.map((c: any) => c.name), cas);

    const csrs = Array.from({ length: 2 * ISSUES_PER_PROCESS + RACES * 2 }, () => makeCsr('p256').pem);
    let next = 0;
    const apply = async (api: Api, token: string) => {
      const r = await api('POST', '/api/v1/cas/demo-p256/applications', { profile: 'staff-sign', csr: csrs[next++], applicant: { name: '张三' } }, token);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json.id as string;
    };

    // 1. Both processes issue at once, several requests in flight each.
    const serials: string[] = [];
    const issueMany = async (api: Api, token: string) => {
      let left = ISSUES_PER_PROCESS;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) {
            const id = await apply(api, token);
            const r = await api('POST', `/api/v1/cas/demo-p256/applications/${id}/approve`, {}, token);
            assert.equal(r.status, 200, JSON.stringify(r.json));
            serials.push(r.json.certificate.serial);
          }
        }),
      );
    };
    await Promise.all([issueMany(apiA, a.adminToken), issueMany(apiB, b.adminToken)]);
    assert.equal(serials.length, 2 * ISSUES_PER_PROCESS);
    assert.equal(new Set(serials).size, serials.length, 'every serial is different');

    // 2. The same application approved through both processes at the same moment: exactly one wins.
    let wins = 0;
    for (let i = 0; i < RACES; i++) {
      const id = await apply(apiA, a.adminToken);
      const answers = await Promise.all([
        apiA('POST', `/api/v1/cas/demo-p256/applications/${id}/approve`, {}, a.adminToken),
        apiB('POST', `/api/v1/cas/demo-p256/applications/${id}/approve`, {}, b.adminToken),
      ]);
      const statuses = answers.map((x) => x.status).sort();
      assert.deepEqual(statuses, [200, 409], JSON.stringify(answers.map((x) => x.json)));
      wins++;
      const app = (await apiB('GET', `/api/v1/cas/demo-p256/applications/${id}`, undefined, b.adminToken)).json;
      assert.equal(app.certificateSerial, answers.find((x) => x.status === 200)!.json.certificate.serial);
    }
    assert.equal(wins, RACES);

    // 3. The same certificate changed through both processes at once (hold vs revoke, revoke vs revoke):
    //    every change that was acknowledged is in the history, in an unbroken chain.
    const acknowledged = new Map<string, number>();
    for (let i = 0; i < RACES; i++) {
      const serial = serials[i]!;
      const answers = await Promise.all([
        apiA('POST', `/api/v1/cas/demo-p256/certificates/${serial}/${i % 2 ? 'hold' : 'revoke'}`, i % 2 ? {} : { reason: 'keyCompromise' }, a.adminToken),
        apiB('POST', `/api/v1/cas/demo-p256/certificates/${serial}/revoke`, { reason: 'affiliationChanged' }, b.adminToken),
      ]);
      for (const x of answers) assert.ok(x.status === 200 || x.status === 409, `${x.status} ${JSON.stringify(x.json)}`);
      acknowledged.set(serial, answers.filter((x) => x.status === 200).length);
      assert.ok(acknowledged.get(serial)! >= 1, 'at least one of the racing changes applies');
    }

    for (const s of servers.splice(0)) await s.stop();
    const services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://unused.test' });
    try {
      for (const [serial, n] of acknowledged) {
        const history = await services.ca.statusHistory('demo-p256', serial);
        assert.equal(history.length, 1 + n, `certificate ${serial}: ${n} acknowledged changes, history ${JSON.stringify(history)}`);
      }
      const r = await sql<{ n: string }>`select count(*) as n from ca_certificates where profile = 'staff-sign'`.execute(services.database.db);
      assert.equal(Number(r.rows[0]!.n), 2 * ISSUES_PER_PROCESS + RACES, 'one certificate per approval, none from the losing side of a race');
      assert.deepEqual(await consistencyProblems(services.database), []);
    } finally {
      await services.close();
    }
  });
});

/**
 * Issuance's hot path and the batch enrollment (POST /api/v1/cas/:ca/enroll/batch): each
 * application of a batch gets exactly the records of a single enroll (its application in its
 * final state, both RA events, three chained audit entries, the certificate and its status
 * history) and its own outcome; the whole batch is refused for anyone maker-checker binds. The
 * audit entries written together (one head move, one insert) verify as a chain, on SQLite and
 * on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Certificate } from '@health-pki/pki';
import { bootstrap, buildHttpApp, verifyAuditLog, openServices, type Services } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { all } from '../src/store/sql.js';
import { sql } from 'kysely';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

const CA = 'demo-p256';

for (const backendName of BACKENDS) {
  describe(`enrollment hot path and batches on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    let officer: string;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', crl: { start: false } });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officer = (await api('POST', '/api/v1/officers', { id: 'officer-batch' }, admin)).json.token;
    });

    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    const auditRows = () => all<{ seq: number | string; action: string; target: string; details: string }>(services.database.db, sql`select seq, action, target, details from audit_log order by seq`);

    test('a batch issues each good application with the records of a single enroll; bad ones get their own error', async () => {
      const before = (await auditRows()).length;
      const good = Array.from({ length: 5 }, () => ({ profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三', organization: '示例医院' } }));
      const r = await api(
        'POST',
        `/api/v1/cas/${CA}/enroll/batch`,
        {
          applications: [
            good[0],
            { profile: 'staff-sign', csr: 'not base64!', applicant: { name: '李四' } },
            good[1],
            { profile: 'no-such-profile', csr: makeCsr('p256').pem, applicant: { name: '王五' } },
            good[2],
            good[3],
            good[4],
          ],
        },
        admin,
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const results = r.json.results as any[];
      assert.deepEqual(results.map((x) => x.status), [201, 400, 201, results[3].status, 201, 201, 201]);
      assert.ok(results[3].status >= 400 && results[3].status < 500, JSON.stringify(results[3]));
      assert.equal(results[1].error, 'base64');
      assert.ok(results[3].error && results[3].message);
      const issuing = (await services.ca.chain(CA))[0]!;
      const serials = new Set<string>();
      for (const ok of results.filter((x) => x.status === 201)) {
        const cert = Certificate.parse(ok.certificate.pem);
        assert.ok(cert.verifySignature(issuing.publicKey), 'signed by the issuing CA');
        assert.equal(ok.application.state, 'issued');
        assert.equal(ok.application.selfApproved, true);
        assert.equal(ok.application.certificateSerial, ok.certificate.serial);
        assert.deepEqual(ok.application.events.map((e: any) => e.action), ['apply', 'approve']);
        assert.match(ok.chainPem, /BEGIN CERTIFICATE/);
        serials.add(ok.certificate.serial);
        // What is stored is what was answered: the application, its record, the certificate and its first status.
        const stored = await api('GET', `/api/v1/cas/${CA}/applications/${ok.application.id}`, undefined, admin);
        assert.equal(stored.status, 200);
        assert.equal(stored.json.state, 'issued');
        assert.deepEqual(stored.json.events.map((e: any) => e.action), ['apply', 'approve']);
        const history = await services.ca.statusHistory(CA, ok.certificate.serial);
        assert.deepEqual(history.map((h) => h.to), ['valid']);
      }
      assert.equal(serials.size, 5);
      // Three chained audit entries per certificate, in the order of the acts; nothing for the refused ones.
      const rows = (await auditRows()).slice(before);
      const mine = rows.filter((x) => x.action === 'ra.apply' || x.action === 'ca.issue' || x.action === 'ra.approve');
      assert.equal(mine.length, 15, rows.map((x) => x.action).join(' '));
      for (const ok of results.filter((x) => x.status === 201)) {
        const of = mine.filter((x) => x.target === `ra:application:${ok.application.id}` || x.target === `ca:${CA}/cert:${ok.certificate.serial}`);
        assert.deepEqual(of.map((x) => x.action), ['ra.apply', 'ca.issue', 'ra.approve']);
        const seqs = of.map((x) => Number(x.seq));
        assert.deepEqual(seqs, [seqs[0]!, seqs[0]! + 1, seqs[0]! + 2], 'one transaction, consecutive entries');
      }
      const report = await verifyAuditLog(services.database.db);
      assert.equal(report.ok, true, JSON.stringify(report.faults));
      assert.equal(report.head?.seq, report.entries);
    });

    test('the single enroll writes the same records, and approve after apply still chains its entries', async () => {
      const one = await api('POST', `/api/v1/cas/${CA}/enroll`, { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } }, admin);
      assert.equal(one.status, 201, JSON.stringify(one.json));
      assert.deepEqual(one.json.application.events.map((e: any) => e.action), ['apply', 'approve']);
      const checker = (await api('POST', '/api/v1/officers', { id: 'officer-checker' }, admin)).json.token;
      const applied = await api('POST', `/api/v1/cas/${CA}/applications`, { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '李四' } }, officer);
      assert.equal(applied.status, 201, JSON.stringify(applied.json));
      const approved = await api('POST', `/api/v1/cas/${CA}/applications/${applied.json.id}/approve`, {}, checker);
      assert.equal(approved.status, 200, JSON.stringify(approved.json));
      assert.equal(approved.json.application.selfApproved, false);
      assert.deepEqual(approved.json.application.events.map((e: any) => e.action), ['apply', 'approve']);
      const tail = (await auditRows()).slice(-2);
      assert.deepEqual(tail.map((x) => x.action), ['ca.issue', 'ra.approve']);
      const report = await verifyAuditLog(services.database.db);
      assert.equal(report.ok, true, JSON.stringify(report.faults));
    });

    test('maker-checker, an unknown CA and malformed batches refuse the whole request and write nothing', async () => {
      const before = (await auditRows()).length;
      const item = () => ({ profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } });
      const asOfficer = await api('POST', `/api/v1/cas/${CA}/enroll/batch`, { applications: [item()] }, officer);
      assert.equal(asOfficer.status, 403);
      assert.equal(asOfficer.json.error, 'ra.maker-checker');
      const unknown = await api('POST', '/api/v1/cas/no-such-ca/enroll/batch', { applications: [item()] }, admin);
      assert.equal(unknown.status, 404);
      const empty = await api('POST', `/api/v1/cas/${CA}/enroll/batch`, { applications: [] }, admin);
      assert.equal(empty.status, 400);
      const tooMany = await api('POST', `/api/v1/cas/${CA}/enroll/batch`, { applications: Array.from({ length: 101 }, () => ({ profile: 'staff-sign', csr: 'x', applicant: { name: 'x' } })) }, admin);
      assert.equal(tooMany.status, 400);
      const notArray = await api('POST', `/api/v1/cas/${CA}/enroll/batch`, { applications: 'x' }, admin);
      assert.equal(notArray.status, 400);
      const anonymous = await api('POST', `/api/v1/cas/${CA}/enroll/batch`, { applications: [item()] });
      assert.equal(anonymous.status, 401);
      assert.equal((await auditRows()).length, before);
    });
  });
}

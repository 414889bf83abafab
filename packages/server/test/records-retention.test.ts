/**
 * Retention of application records (regulation Art. 13) with a test clock, on SQLite and
 * PostgreSQL: materials cannot be deleted while the application awaits a decision, nor until
 * 5 years after its certificate expired (4 years after: refused, and the job leaves them);
 * more than 5 years after, the retention job purges them, each purge an RA event and an audit
 * entry, and an administrator may delete them. The audit chain verifies afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { lifecycle } from './helpers/audit.js';
import { makeCsr } from './helpers/pki.js';

const DAY = 24 * 60 * 60 * 1000;

function plusYears(t: Date, years: number): Date {
  const d = new Date(t);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

for (const backendName of BACKENDS) {
  describe(`records retention on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let api: Api;
    let admin: string;
    let officer: string;
    let now = new Date('2026-03-01T08:00:00.000Z');
    let first: { application: string; serial: string };
    let second: { application: string; serial: string };
    let pending: string;
    let notAfter: Date;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', clock: () => now, pkiThreads: 0, crl: { start: false } });
      const boot = await bootstrap(services, backend.dataDir);
      const app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officer = (await api('POST', '/api/v1/officers', { id: 'officer-li', role: 'officer' }, admin)).json.token;
      first = await lifecycle(api, admin, 'demo-p256', { revoke: true, validityDays: 365 });
      second = await lifecycle(api, admin, 'demo-p256', { revoke: false, validityDays: 365 });
      const p = await api('POST', '/api/v1/cas/demo-p256/applications', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '李四' }, materials: [{ name: 'form.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') }] }, admin);
      assert.equal(p.status, 201, JSON.stringify(p.json));
      pending = p.json.id;
      notAfter = new Date((await services.ca.getCertificate('demo-p256', first.serial)).notAfter);
      assert.equal(notAfter.getTime(), new Date((await services.ca.getCertificate('demo-p256', second.serial)).notAfter).getTime());
    });

    after(async () => {
      await services?.close();
      await backend?.cleanup();
    });

    const materialsOf = async (id: string) => (await api('GET', `/api/v1/cas/demo-p256/applications/${id}`, undefined, admin)).json.materials.length;

    test('while the certificate is valid, and 4 years after it expired, deletion is refused and the job keeps the materials', async () => {
      const early = await api('DELETE', `/api/v1/cas/demo-p256/applications/${first.application}/materials`, undefined, admin);
      assert.equal(early.status, 409);
      assert.equal(early.json.error, 'records.retained');
      const until = plusYears(notAfter, 5).toISOString();
      assert.match(early.json.message, new RegExp(`must be kept until ${until.replace(/\./g, '\\.')}`));
      assert.match(early.json.message, /Art\. 13/);

      now = plusYears(notAfter, 4);
      const fourYears = await api('DELETE', `/api/v1/cas/demo-p256/applications/${first.application}/materials`, undefined, admin);
      assert.equal(fourYears.status, 409, 'revocation does not shorten retention');
      assert.deepEqual(await services.records.purgeExpired(), []);
      assert.equal(await materialsOf(first.application), 1);
      const retention = await api('GET', `/api/v1/cas/demo-p256/applications/${first.application}/retention`, undefined, officer);
      assert.equal(retention.status, 200);
      assert.deepEqual(retention.json, { until, basis: `certificate ${first.serial} expires ${notAfter.toISOString()}`, materials: 1 });
    });

    test('an application awaiting a decision keeps its materials, whatever the date', async () => {
      now = plusYears(notAfter, 50);
      const r = await api('DELETE', `/api/v1/cas/demo-p256/applications/${pending}/materials`, undefined, admin);
      assert.equal(r.status, 409);
      assert.match(r.json.message, /awaits a decision/);
    });

    test('more than 5 years after expiry the job purges them, audited; an administrator may delete, an officer may not', async () => {
      now = new Date(plusYears(notAfter, 5).getTime() + DAY);
      assert.equal((await api('DELETE', `/api/v1/cas/demo-p256/applications/${second.application}/materials`, undefined, officer)).status, 403);
      const deleted = await api('DELETE', `/api/v1/cas/demo-p256/applications/${second.application}/materials`, undefined, admin);
      assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
      assert.deepEqual(deleted.json, { deleted: 1 });

      const purged = await services.records.purgeExpired();
      assert.deepEqual(purged.map((p) => [p.application, p.materials]), [[first.application, 1]]);
      assert.equal(await materialsOf(first.application), 0);
      assert.equal(await materialsOf(second.application), 0);
      assert.equal(await materialsOf(pending), 1, 'the pending application is untouched');
      assert.deepEqual(await services.records.purgeExpired(), [], 'nothing left to purge');

      const events = (await api('GET', `/api/v1/cas/demo-p256/applications/${first.application}`, undefined, admin)).json.events.map((e: any) => e.action);
      assert.ok(events.includes('materials-purged'), events.join());
      const purges = await api('GET', '/api/v1/audit?action=records.*', undefined, admin);
      assert.deepEqual(
        purges.json.entries.map((e: any) => [e.action, e.actor, e.target, e.at]),
        [
          ['records.delete', 'bootstrap-admin', `ra:application:${second.application}`, now.toISOString()],
          ['records.purge', 'system', `ra:application:${first.application}`, now.toISOString()],
        ],
      );
      assert.equal(purges.json.entries[1].details.certificate, first.serial);
      const verified = await api('GET', '/api/v1/audit/verify', undefined, admin);
      assert.equal(verified.json.ok, true, JSON.stringify(verified.json.faults));
    });

    test('bad input: an unknown application is 404, a malformed id too, never a 500', async () => {
      assert.equal((await api('DELETE', '/api/v1/cas/demo-p256/applications/00000000-0000-0000-0000-000000000000/materials', undefined, admin)).status, 404);
      assert.equal((await api('DELETE', '/api/v1/cas/demo-p256/applications/not-an-id/materials', undefined, admin)).status, 404);
      assert.equal((await api('DELETE', '/api/v1/cas/no-such-ca/applications/not-an-id/materials', undefined, admin)).status, 404);
    });
  });
}

/**
 * Server-side sort of the application queue (GET /api/v1/cas/:ca/applications?sort&order) and
 * of the public certificate search (GET /api/v1/certificates?sort&order): whitelisted columns,
 * ascending and descending, keyset paging (`after` / `cursor`) that follows the chosen order, the
 * default order unchanged, an unknown column refused with a 400, and a cursor of another sort
 * refused with a 400. On SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

for (const backendName of BACKENDS) {
  describe(`application queue sort on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    const entered: string[] = [];
    const list = async (q: string) => {
      // Only the submitted ones: enrolling the certificates below made issued applications too.
      const r = await api('GET', `/api/v1/cas/demo-p256/applications?state=submitted&${q}`, undefined, admin);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.applications as Array<{ id: string; applicant: { name: string }; profile: string }>;
    };
    const names = (apps: Array<{ applicant: { name: string } }>) => apps.map((a) => a.applicant.name);

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test:8080', pkiThreads: 0 });
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync((await bootstrap(services, backend.dataDir)).tokenFile, 'utf8').trim();
      // Entered in an order that is neither the names' nor their reverse.
      for (const name of ['bert', 'cleo', 'anna']) {
        const r = await api('POST', '/api/v1/cas/demo-p256/applications', { profile: 'staff-sign', csr: makeCsr('p256', `C=CN,O=示例医院,OU=心内科,CN=${name}`).pem, applicant: { name } }, admin);
        assert.equal(r.status, 201, JSON.stringify(r.json));
        entered.push(name);
      }
      // Certificates issued in an order that is neither their subjects' nor its reverse.
      for (const name of ['sortcase-b', 'sortcase-c', 'sortcase-a']) {
        const r = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256', `C=CN,O=示例医院,OU=心内科,CN=${name}`).pem, applicant: { name } }, admin);
        assert.equal(r.status, 201, JSON.stringify(r.json));
      }
    });

    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('default: entry order; sort=subject ascending and descending', async () => {
      assert.deepEqual(names(await list('')), entered);
      assert.deepEqual(names(await list('sort=enteredAt&order=desc')), [...entered].reverse());
      assert.deepEqual(names(await list('sort=subject')), ['anna', 'bert', 'cleo']);
      assert.deepEqual(names(await list('sort=subject&order=desc')), ['cleo', 'bert', 'anna']);
    });

    test('keyset pages follow the chosen order', async () => {
      const seen: string[] = [];
      let after = '';
      for (let i = 0; i < 4; i++) {
        const page = await list(`sort=subject&order=desc&limit=1${after ? `&after=${after}` : ''}`);
        if (page.length === 0) break;
        seen.push(...names(page));
        after = page[page.length - 1]!.id;
      }
      assert.deepEqual(seen, ['cleo', 'bert', 'anna']);
    });

    test('an unknown sort column or order is a 400, never a 500', async () => {
      for (const q of ['sort=applicant', 'sort=entered_at;drop', 'order=sideways']) {
        const r = await api('GET', `/api/v1/cas/demo-p256/applications?${q}`, undefined, admin);
        assert.equal(r.status, 400, `${q}: ${r.status}`);
      }
    });
    test('certificate search: sort by subject or issue time, both directions, cursor pages in that order', async () => {
      const cns = (certs: Array<{ subject: string }>) => certs.map((c) => /CN=([^,]+)/.exec(c.subject)![1]);
      const search = async (q: string) => {
        const r = await api('GET', `/api/v1/certificates?subject=sortcase&${q}`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        return r.json as { certificates: Array<{ subject: string }>; next: string | null };
      };
      assert.deepEqual(cns((await search('sort=subject')).certificates), ['sortcase-a', 'sortcase-b', 'sortcase-c']);
      // By issue time: the issue order (ties, within a millisecond, fall to CA and serial), and descending its exact reverse.
      const byTime = (await search('sort=issuedAt')).certificates as Array<{ subject: string; issuedAt: string }>;
      assert.deepEqual(byTime.map((c) => c.issuedAt), byTime.map((c) => c.issuedAt).sort());
      assert.deepEqual(cns((await search('sort=issuedAt&order=desc')).certificates), cns(byTime).reverse());
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 4; i++) {
        const page = await search(`sort=subject&order=desc&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...cns(page.certificates));
        cursor = page.next;
        if (!cursor) break;
      }
      assert.deepEqual(seen, ['sortcase-c', 'sortcase-b', 'sortcase-a']);
      // A cursor of one sort is refused by another (or by the unsorted search), not misapplied.
      const first = await search('sort=subject&limit=1');
      for (const q of [`sort=subject&order=desc&cursor=${first.next}`, `cursor=${first.next}`, 'sort=serial', 'sort=subject&order=up']) {
        const r = await api('GET', `/api/v1/certificates?subject=sortcase&${q}`);
        assert.equal(r.status, 400, `${q}: ${r.status} ${JSON.stringify(r.json)}`);
      }
    });
  });
}

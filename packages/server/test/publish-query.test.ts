/**
 * Public query and download, on SQLite and PostgreSQL: certificates are found by serial, subject,
 * identity number (however it is written), organisation, status and validity, page by page with
 * a cursor; downloads are the issued bytes (PEM, DER) and a PKCS#7 chain that OpenSSL reads;
 * CRL downloads are the publisher's bytes; bad and fuzzed parameters are 400s, never 500s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Certificate } from '@health-pki/pki';
import { startServer, type RunningServer } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { httpApi, type Api } from './helpers/api.js';
import { RESIDENT_ID, makeCsr } from './helpers/pki.js';
import { outside } from './helpers/outside.js';

const USCC = '91350100M000100Y43';

for (const backendName of BACKENDS) {
  describe(`query and download (${backendName})`, () => {
    let backend: TestBackend;
    let server: RunningServer;
    let api: Api;
    let admin: string;
    const issued: Array<{ ca: string; serial: string; der: Buffer }> = [];

    before(async () => {
      backend = await createBackend(backendName);
      server = await startServer({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, port: 0, logger: false, pkiThreads: 0 });
      api = httpApi(server.url);
      admin = readFileSync(server.tokenFile, 'utf8').trim();
      const enroll = async (ca: string, profile: string, subject: string, identity: Record<string, string>, email?: string) => {
        const csr = makeCsr(ca === 'demo-sm2' ? 'sm2' : 'p256', subject, identity, email);
        const r = await api('POST', `/api/v1/cas/${ca}/enroll`, { profile, csr: csr.pem, applicant: { name: 'x' } }, admin);
        assert.equal(r.status, 201, JSON.stringify(r.json));
        const der = Certificate.parse(r.json.certificate.pem).der;
        issued.push({ ca, serial: r.json.certificate.serial, der });
      };
      await enroll('demo-p256', 'staff-sign', 'C=CN,O=示例医院,OU=心内科,CN=张三', { residentId: RESIDENT_ID }, 'zhangsan@example.cn');
      await enroll('demo-sm2', 'staff-sign', 'C=CN,O=示例医院,OU=放射科,CN=李四', { residentId: '110105194912310038' });
      await enroll('demo-sm2', 'org-sign', 'C=CN,O=第二人民医院,CN=第二人民医院', { unifiedSocialCreditCode: USCC });
    });

    after(async () => {
      await server?.close();
      await backend?.cleanup();
    });

    const find = async (query: string) => {
      const r = await api('GET', `/api/v1/certificates?${query}`);
      assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.json)}`);
      return r.json as { certificates: Array<{ ca: string; serial: string; subject: string; status: string; holderOrg: string | null; links: Record<string, string> }>; next: string | null };
    };

    test('search by serial (any spelling), subject, identity number (normalised), organisation', async () => {
      const [zs, ls, org] = issued;
      const bySerial = await find(`serial=${zs!.serial.toUpperCase().replace(/(..)(?=.)/g, '$1:')}`);
      assert.deepEqual(bySerial.certificates.map((c) => c.serial), [zs!.serial]);
      assert.equal((await find(`subject=${encodeURIComponent('cn=张三')}`)).certificates[0]?.serial, zs!.serial);
      // Written with a lower-case check character, or with spaces: the same number.
      const byId = await find(`identity=${RESIDENT_ID.toLowerCase()}`);
      assert.deepEqual(byId.certificates.map((c) => c.serial), [zs!.serial]);
      assert.deepEqual((await find(`identity=${encodeURIComponent(USCC.slice(0, 9) + ' ' + USCC.slice(9))}`)).certificates.map((c) => c.serial), [org!.serial]);
      const byOrg = await find(`org=${encodeURIComponent('示例医院')}`);
      assert.deepEqual(byOrg.certificates.map((c) => c.serial).sort(), [zs!.serial, ls!.serial].sort());
      assert.equal((await find(`org=${encodeURIComponent('示例医院')}&ca=demo-sm2`)).certificates.length, 1);
      // A LIKE wildcard in the text is matched literally.
      assert.equal((await find(`subject=${encodeURIComponent('%')}`)).certificates.length, 0);
      assert.equal((await find(`subject=_`)).certificates.length, 0);
      // Identity numbers are not part of the answer (they are personal information).
      assert.ok(!JSON.stringify(byId).includes(RESIDENT_ID));
    });

    test('status and validity window; status changes show', async () => {
      const [, ls] = issued;
      const rv = await api('POST', `/api/v1/cas/demo-sm2/certificates/${ls!.serial}/revoke`, { reason: 'keyCompromise' }, admin);
      assert.equal(rv.status, 200, JSON.stringify(rv.json));
      assert.deepEqual((await find('status=revoked')).certificates.map((c) => c.serial), [ls!.serial]);
      const now = new Date().toISOString();
      const valid = await find(`validAt=${now}&limit=100`);
      for (const i of issued) assert.ok(valid.certificates.some((c) => c.serial === i.serial));
      assert.equal((await find('validAt=2000-01-01T00:00:00Z')).certificates.length, 0);
      assert.equal((await find(`notAfterBefore=${now}`)).certificates.length, 0);
      assert.ok((await find(`notAfterAfter=${now}`)).certificates.length >= 3);
    });

    test('pages: limit and cursor walk every certificate exactly once', async () => {
      const all = await find('limit=100');
      assert.ok(all.certificates.length >= 7, 'the CA certificates and the 3 issued'); // 2 × (root + issuing) + 3
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof find>> = await find(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.certificates.length <= 2);
        seen.push(...page.certificates.map((c) => `${c.ca}/${c.serial}`));
        cursor = page.next;
      } while (cursor);
      assert.deepEqual(seen, all.certificates.map((c) => `${c.ca}/${c.serial}`));
      assert.equal(new Set(seen).size, seen.length);
    });

    test('downloads: PEM and DER are the issued bytes; the PKCS#7 chain reads in OpenSSL', async () => {
      const { openssl } = await outside();
      for (const i of issued) {
        const base = `/api/v1/cas/${i.ca}/certificates/${i.serial}`;
        const der = await api('GET', `${base}/cert.der`);
        assert.equal(der.status, 200);
        assert.equal(der.headers['content-type'], 'application/pkix-cert');
        assert.ok(der.body.equals(i.der));
        const pem = await api('GET', `${base}/cert.pem`);
        assert.ok(Certificate.parse(pem.body.toString('utf8')).der.equals(i.der));
        const p7 = await api('GET', `${base}/chain.p7c`);
        assert.equal(p7.status, 200);
        assert.match(String(p7.headers['content-type']), /^application\/pkcs7-mime/);
        const r = await openssl(['pkcs7', '-inform', 'DER', '-in', 'c.p7c', '-print_certs'], { files: { 'c.p7c': p7.body } });
        assert.equal(r.code, 0, r.stderr);
        const blocks = r.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        assert.equal(blocks.length, 3, 'leaf, issuing CA, root');
        assert.ok(blocks.some((b) => Certificate.parse(b).der.equals(i.der)));
        const authority = (await api('GET', `/api/v1/cas/${i.ca}`)).json;
        for (const ca of authority.issuers) assert.ok(blocks.some((b) => Certificate.parse(b).der.equals(Certificate.parse(ca.pem).der)), ca.label);
      }
      // The officer's JSON view at the same prefix still works.
      const json = await api('GET', `/api/v1/cas/${issued[0]!.ca}/certificates/${issued[0]!.serial}`);
      assert.equal(json.status, 200);
      assert.equal(json.json.serial, issued[0]!.serial);
      assert.equal((await api('GET', `/api/v1/cas/demo-p256/certificates/0a0b/cert.pem`)).status, 404);
      assert.equal((await api('GET', `/api/v1/cas/nope/certificates/0a0b/cert.pem`)).json.error, 'ca.unknown');
      assert.equal((await api('GET', `/api/v1/cas/demo-p256/certificates/${issued[0]!.serial}/cert.exe`)).status, 400);
    });

    test('CRL download: the publisher\'s bytes, full and delta, DER and PEM', async () => {
      const crls = (server.services as unknown as { crls?: { current(a: string, l: string, k: 'full' | 'delta'): Promise<{ der: Buffer } | undefined> } }).crls;
      const r = await api('GET', '/api/v1/cas/demo-sm2/crls/issuing-1');
      const published = await crls?.current('demo-sm2', 'issuing-1', 'full');
      if (!published) {
        assert.equal(r.status, 404);
        return;
      }
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/pkix-crl');
      assert.ok(r.body.equals(published.der));
      const pem = await api('GET', '/api/v1/cas/demo-sm2/crls/issuing-1?format=pem');
      assert.match(pem.body.toString('utf8'), /^-----BEGIN X509 CRL-----/);
      const delta = await api('GET', '/api/v1/cas/demo-sm2/crls/issuing-1?kind=delta');
      assert.ok([200, 404].includes(delta.status));
      assert.equal((await api('GET', '/api/v1/cas/demo-sm2/crls/issuing-9')).status, 404);
      assert.equal((await api('GET', '/api/v1/cas/demo-sm2/crls/issuing-1?kind=weekly')).status, 400);
    });

    test('bad parameters are 400 with a message', async () => {
      const bad = [
        'limit=1000',
        'limit=0',
        'limit=abc',
        'serial=xyz',
        'serial=' + 'a'.repeat(200),
        'subject=' + 'x'.repeat(500),
        `subject=${encodeURIComponent('a\u0000b')}`,
        "org=%27%3B%20drop%20table%20ca_certificates%3B--%00",
        'status=lost',
        'validAt=yesterday',
        'validAt=2026-02-30T00:00:00Z',
        'cursor=!!!',
        'cursor=' + Buffer.from('not a position').toString('base64url'),
        'identity=' + encodeURIComponent("1' or '1'='1"),
        'unknown=1',
        'serial=01&serial=02',
      ];
      for (const q of bad) {
        const r = await api('GET', `/api/v1/certificates?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
        assert.ok(typeof r.json?.message === 'string' && r.json.message.length > 0, q);
      }
      // SQL-looking text that the schema allows is only text.
      assert.equal((await find(`subject=${encodeURIComponent("' or 1=1 --")}`)).certificates.length, 0);
      assert.equal((await find(`org=${encodeURIComponent("x' union select * from ca_issuers --")}`)).certificates.length, 0);
    });

    test('fuzzed query strings are never a 500', async () => {
      const names = ['ca', 'serial', 'subject', 'identity', 'org', 'status', 'validAt', 'notAfterBefore', 'notAfterAfter', 'cursor', 'limit', 'x'];
      const junk = (): string => {
        const kind = Math.floor(Math.random() * 4);
        if (kind === 0) return encodeURIComponent(randomBytes(1 + Math.floor(Math.random() * 40)).toString('latin1'));
        if (kind === 1) return randomBytes(1 + Math.floor(Math.random() * 30)).toString('base64url');
        if (kind === 2) return [...randomBytes(1 + Math.floor(Math.random() * 20))].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
        return encodeURIComponent(String.fromCodePoint(...[...randomBytes(8)].map((b) => b * 97 + 1)));
      };
      for (let i = 0; i < 300; i++) {
        const parts: string[] = [];
        for (let j = 0; j < 1 + Math.floor(Math.random() * 3); j++) parts.push(`${names[Math.floor(Math.random() * names.length)]}=${junk()}`);
        const r = await api('GET', `/api/v1/certificates?${parts.join('&')}`);
        assert.ok(r.status === 200 || r.status === 400, `${parts.join('&')}: ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
        const d = await api('GET', `/api/v1/cas/demo-p256/certificates/${junk()}/${junk()}`);
        assert.ok(d.status < 500, `download ${d.status}`);
      }
    });
  });
}

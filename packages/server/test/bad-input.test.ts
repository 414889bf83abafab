/**
 * Bad and hostile input through the HTTP API, on SQLite and PostgreSQL: every case gets a 4xx
 * with a code and a sentence saying what is wrong, never a 500, and nothing is stored half-way
 * (row counts of every table are unchanged afterwards).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Certificate, buildCsr, generateKey, parseName, basicConstraintsExt, identityExtensions } from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { RESIDENT_ID, makeCsr } from './helpers/pki.js';

const TABLES = ['ra_applications', 'ra_materials', 'ra_events', 'ca_certificates', 'ca_status_changes', 'audit_log', 'ca_authorities'];

/** A CSR made by OpenSSL with a key type our profiles do not allow. */
function opensslCsr(keyArgs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-badcsr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-nodes', ...keyArgs, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.pem'), '-subj', '/C=CN/O=Example Hospital/CN=Zhang San'], { stdio: 'ignore' });
    return readFileSync(join(dir, 'r.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withFlippedSignatureByte(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5]! ^= 0x01; // inside the signature BIT STRING
  return der.toString('base64');
}

for (const backendName of BACKENDS) {
  describe(`bad input on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let officer: string;
    let admin: string;
    let issuedSerial: string;
    let counts: Record<string, number>;

    async function countRows(): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const t of TABLES) {
        const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(services.database.db);
        out[t] = Number(r.rows[0]!.n);
      }
      return out;
    }

    /** Sends a request that must be refused with `status` and `code`, and checks nothing was stored. */
    async function refused(status: number, code: string | RegExp, method: string, path: string, body?: unknown, token: string | null = officer) {
      const r = await api(method, path, body, token ?? undefined);
      assert.equal(r.status, status, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      assert.ok(r.json && typeof r.json.message === 'string' && r.json.message.length > 10, `a clear message: ${JSON.stringify(r.json)}`);
      if (typeof code === 'string') assert.equal(r.json.error, code, r.json.message);
      else assert.match(r.json.error, code, r.json.message);
      assert.deepEqual(await countRows(), counts, 'nothing stored');
      return r.json;
    }

    const apply = (body: Record<string, unknown>) => ({ profile: 'staff-sign', applicant: { name: '张三' }, ...body });

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', materialLimits: { maxBytes: 64 * 1024, maxCount: 3 } });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officer = (await api('POST', '/api/v1/officers', { id: 'officer-x' }, admin)).json.token;
      const a = await api('POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256').pem }), admin);
      const ok = await api('POST', `/api/v1/cas/demo-p256/applications/${a.json.id}/approve`, {}, admin);
      assert.equal(ok.status, 200);
      issuedSerial = ok.json.certificate.serial;
      counts = await countRows();
    });

    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('malformed CSRs: garbage, truncated DER, bad base64, PEM of something else → 400', async () => {
      const good = makeCsr('p256').der;
      await refused(400, /^parse\./, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: Buffer.from('this is not a CSR at all').toString('base64') }));
      await refused(400, /^parse\./, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: good.subarray(0, good.length - 20).toString('base64') }));
      await refused(400, 'base64', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: '@@@not base64@@@' }));
      const certPem = (await api('GET', '/api/v1/cas/demo-p256')).json.issuers[0].pem;
      await refused(400, /^parse\./, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: certPem }));
    });

    test('hostile CSRs: wrong signature (no proof of possession) → 422; huge → 400/413', async () => {
      const e = await refused(422, 'csr.signature', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: withFlippedSignatureByte(makeCsr('p256').pem) }));
      assert.match(e.message, /proof of possession/);
      await refused(422, 'csr.signature', 'POST', '/api/v1/cas/demo-sm2/applications', apply({ csr: withFlippedSignatureByte(makeCsr('sm2').pem) }));
      // Beyond the schema's limit on the field.
      await refused(400, 'bad-request', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: 'A'.repeat(70_000) }));
      // Within the field limit but a CSR of 40 KB: padded with a huge requested extension.
      const key = generateKey('p256');
      const ou = Array.from({ length: 18 }, (_, i) => `OU=${String(i).padEnd(1000, 'x')}`).join(',');
      const hugeSubject = buildCsr(parseName(`C=CN,O=示例医院,${ou},CN=张三`), key);
      assert.ok(hugeSubject.der.length > 16 * 1024, `${hugeSubject.der.length}`);
      await refused(413, 'csr.size', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: hugeSubject.der.toString('base64') }));
    });

    test('a CSR that asks for CA powers gets an end-entity certificate: requested extensions never override the profile', async () => {
      const key = generateKey('p256');
      const csr = buildCsr(parseName('C=CN,O=示例医院,CN=张三'), key, [...identityExtensions({ residentId: RESIDENT_ID }), basicConstraintsExt(true)]);
      const a = await api('POST', '/api/v1/cas/demo-p256/applications', apply({ csr: csr.toPem() }), admin);
      assert.equal(a.status, 201);
      const ok = await api('POST', `/api/v1/cas/demo-p256/applications/${a.json.id}/approve`, {}, admin);
      assert.equal(ok.status, 200);
      const cert = Certificate.parse(ok.json.certificate.pem);
      assert.equal(cert.isCa, false);
      assert.equal(cert.basicConstraints, undefined);
      counts = await countRows();
    });

    test('wrong key type for the profile (RSA-1024, P-521, Ed25519, made by OpenSSL) → 422 naming the rule', async () => {
      for (const args of [['-newkey', 'rsa:1024'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], ['-newkey', 'ed25519']]) {
        const e = await refused(422, /^(profile\.|unsupported)/, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: opensslCsr(args), identity: { residentId: RESIDENT_ID } }));
        assert.match(e.message, /key|algorithm/i, e.message);
      }
    });

    test('wrong profiles: unknown, a CA profile, an encryption profile, and requests that break profile rules → 422 naming the rule', async () => {
      const csr = makeCsr('p256').pem;
      const unknown = await refused(422, 'profile.unknown', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, profile: 'no-such-profile' }));
      assert.match(unknown.message, /staff-sign/, 'lists the known profiles');
      await refused(422, 'ra.profile', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, profile: 'sub-ca' }));
      await refused(422, 'ra.profile', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, profile: 'staff-enc' }));
      const noId = await refused(422, 'profile.identity.required', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256', undefined, {}).pem }));
      assert.equal(noId.rule, 'identity.required');
      assert.ok(noId.messageZh, 'the rule is explained in Chinese too');
      await refused(422, /^profile\.subject\./, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256', 'C=CN,CN=张三').pem }));
      await refused(422, /^profile\.identity\./, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256', undefined, { residentId: '110105194912310021' }).pem }));
      await refused(422, /^profile\.validity/, 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, validityDays: 5000 }));
      await refused(422, 'identity.mismatch', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, identity: { residentId: '11010519491231002X'.replace('1949', '1950') } }));
    });

    test('oversized and unacceptable uploads → 413 / 422 / 400, nothing stored', async () => {
      const csr = makeCsr('p256').pem;
      const big = Buffer.alloc(64 * 1024 + 1, 7).toString('base64');
      await refused(413, 'material.size', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [{ name: 'scan.png', contentType: 'image/png', data: big }] }));
      const huge = Buffer.alloc(600 * 1024, 7).toString('base64');
      await refused(413, 'body.too-large', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [{ name: 'a.png', contentType: 'image/png', data: huge }] }));
      const small = { name: 'scan.png', contentType: 'image/png', data: Buffer.from('png').toString('base64') };
      await refused(413, 'material.count', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [small, small, small, small] }));
      await refused(422, 'material.type', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [{ ...small, contentType: 'application/x-msdownload' }] }));
      await refused(400, 'base64', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [{ ...small, data: 'no*base64' }] }));
      await refused(400, 'material.empty', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr, materials: [{ ...small, data: '' }] }));
    });

    test('unknown CA, application, certificate, or route → 404', async () => {
      const csr = makeCsr('p256').pem;
      const e = await refused(404, 'ca.unknown', 'POST', '/api/v1/cas/no-such-ca/applications', apply({ csr }));
      assert.match(e.message, /no-such-ca/);
      await refused(404, 'ca.unknown', 'GET', '/api/v1/cas/no-such-ca', undefined, null);
      await refused(404, 'ca.unknown', 'POST', `/api/v1/cas/no-such-ca/certificates/${issuedSerial}/revoke`, { reason: 'keyCompromise' });
      await refused(404, 'ca.certificate.unknown', 'POST', '/api/v1/cas/demo-p256/certificates/0badc0de/revoke', { reason: 'keyCompromise' });
      await refused(404, 'ca.certificate.unknown', 'POST', `/api/v1/cas/demo-sm2/certificates/${issuedSerial}/revoke`, { reason: 'keyCompromise' });
      await refused(404, 'application.unknown', 'POST', '/api/v1/cas/demo-p256/applications/00000000-0000-0000-0000-000000000000/approve', {});
      await refused(404, 'application.unknown', 'GET', '/api/v1/cas/demo-p256/applications/not-an-application-id', undefined);
      await refused(404, 'publication.unknown', 'GET', '/ca/demo-p256/root.pem', undefined, null);
      await refused(404, 'crl.unknown', 'GET', '/ca/demo-p256/issuing-9.crl', undefined, null);
      await refused(404, 'ca.issuer.unknown', 'GET', '/ca/demo-p256/issuing-9.crt', undefined, null);
      await refused(404, 'route.unknown', 'GET', '/api/v1/nothing-here', undefined, null);
    });

    test('malformed requests: bad JSON, unknown fields, wrong types, bad serials, bad reasons → 400', async () => {
      await refused(400, 'bad-request', 'POST', '/api/v1/cas/demo-p256/applications', '{"profile": "staff-sign", ');
      await refused(400, 'bad-request', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256').pem, profil: 'typo' }));
      await refused(400, 'bad-request', 'POST', '/api/v1/cas/demo-p256/applications', { profile: 'staff-sign', csr: makeCsr('p256').pem });
      await refused(400, 'bad-request', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr: makeCsr('p256').pem, validityDays: 'ten' }));
      await refused(400, 'serial.format', 'POST', '/api/v1/cas/demo-p256/certificates/not-hex/revoke', { reason: 'keyCompromise' });
      await refused(400, 'bad-request', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'becauseISaidSo' });
      await refused(400, 'bad-request', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'certificateHold' });
      await refused(422, 'revocation.reason', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'cACompromise' });
      await refused(400, 'bad-request', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'keyCompromise', invalidityDate: 'yesterday' });
      await refused(422, 'revocation.invalidityDate', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'keyCompromise', invalidityDate: '2999-01-01T00:00:00Z' });
      await refused(400, 'bad-request', 'POST', '/api/v1/cas', { name: 'Bad Name!', algorithm: 'p256', organization: 'x' }, admin);
    });

    test('credentials: none, unknown, or not enough → 401 / 403, nothing stored', async () => {
      const csr = makeCsr('p256').pem;
      await refused(401, 'auth.required', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr }), null);
      await refused(401, 'auth.required', 'POST', '/api/v1/cas/demo-p256/applications', apply({ csr }), 'x'.repeat(40));
      await refused(403, 'auth.forbidden', 'POST', '/api/v1/cas', { name: 'new-ca', algorithm: 'p256', organization: 'x' }, officer);
      await refused(403, 'auth.forbidden', 'POST', '/api/v1/officers', { id: 'mallory' }, officer);
      await refused(401, 'auth.required', 'POST', `/api/v1/cas/demo-p256/certificates/${issuedSerial}/revoke`, { reason: 'keyCompromise' }, null);
    });
  });
}

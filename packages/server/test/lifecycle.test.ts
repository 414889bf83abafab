/**
 * End to end through the HTTP API, for ECDSA P-256 and SM2, on SQLite and on PostgreSQL:
 * apply with materials → maker-checker → approve → issue → the certificate validates to its root
 * (our validator, `openssl verify`, BouncyCastle) → renew → re-key → hold/release → reissue →
 * revoke, with the record of every step.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Certificate, checkCertificate, getProfile, validateCertificate, type KeyAlgorithm } from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { csrFor, makeCsr } from './helpers/pki.js';
import { outside } from './helpers/outside.js';
import { caMigrations } from '../src/ca/tables.js';

const BASE = 'http://pki.test:8080';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('scan of the resident identity card')]);
const PDF = Buffer.from('%PDF-1.4\n% application form signed by the hospital\n%%EOF\n');

for (const backendName of BACKENDS) {
  describe(`certification service on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    let officerA: string;
    let officerB: string;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE });
      const boot = await bootstrap(services, backend.dataDir);
      assert.deepEqual(boot.createdCas.sort(), ['demo-p256', 'demo-sm2']);
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officerA = (await api('POST', '/api/v1/officers', { id: 'officer-a' }, admin)).json.token;
      officerB = (await api('POST', '/api/v1/officers', { id: 'officer-b' }, admin)).json.token;
      assert.ok(officerA && officerB);
    });

    after(async () => {
      await app?.close();
      await services?.close();
      await backend?.cleanup();
    });

    test('the demo CAs are listed with their root → issuing hierarchy, and their certificates are published at the AIA URL', async () => {
      const r = await api('GET', '/api/v1/cas');
      assert.equal(r.status, 200);
      const byName = Object.fromEntries(r.json.cas.map((c: any) => [c.name, c]));
      assert.equal(byName['demo-sm2'].algorithm, 'sm2');
      assert.equal(byName['demo-p256'].algorithm, 'p256');
      for (const ca of Object.values(byName) as any[]) {
        assert.deepEqual(ca.issuers.map((i: any) => [i.label, i.role, i.parent, i.active]), [['root', 'root', null, false], ['issuing-1', 'issuing', 'root', true]]);
        const crt = await api('GET', `/ca/${ca.name}/issuing-1.crt`);
        assert.equal(crt.status, 200);
        assert.equal(crt.headers['content-type'], 'application/pkix-cert');
        assert.equal(Certificate.parse(crt.body).toPem(), ca.issuers[1].pem);
      }
    });

    for (const alg of ['p256', 'sm2'] as KeyAlgorithm[]) {
      const caName = alg === 'sm2' ? 'demo-sm2' : 'demo-p256';

      test(`${alg}: apply with materials → approve → issue → validates to its root → renew → re-key → hold/release → reissue → revoke`, async () => {
        const ca = (await api('GET', `/api/v1/cas/${caName}`)).json;
        const root = Certificate.parse(ca.issuers[0].pem);
        const issuing = Certificate.parse(ca.issuers[1].pem);

        // 1. Officer A enters the application with two materials.
        const holder = makeCsr(alg, undefined, undefined, 'zhangsan@hospital.example');
        const applied = await api(
          'POST',
          `/api/v1/cas/${caName}/applications`,
          {
            profile: 'staff-sign',
            csr: holder.pem,
            applicant: { name: '张三', organization: '示例医院', department: '心内科', phone: '010-12345678' },
            materials: [
              { name: 'id-card.png', contentType: 'image/png', data: PNG.toString('base64') },
              { name: 'application-form.pdf', contentType: 'application/pdf', data: PDF.toString('base64') },
            ],
          },
          officerA,
        );
        assert.equal(applied.status, 201, JSON.stringify(applied.json));
        const app1 = applied.json;
        assert.equal(app1.state, 'submitted');
        assert.equal(app1.enteredBy, 'officer-a');
        assert.deepEqual(app1.identity, { residentId: '11010519491231002X' });
        assert.deepEqual(app1.altNames, [{ type: 'email', value: 'zhangsan@hospital.example' }]);
        assert.deepEqual(app1.materials.map((m: any) => [m.name, m.contentType, m.size]), [['id-card.png', 'image/png', PNG.length], ['application-form.pdf', 'application/pdf', PDF.length]]);
        const scan = await api('GET', `/api/v1/cas/${caName}/applications/${app1.id}/materials/${app1.materials[0].id}`, undefined, officerB);
        assert.equal(scan.status, 200);
        assert.equal(scan.headers['content-type'], 'image/png');
        assert.deepEqual(scan.body, PNG);
        assert.equal((await api('GET', `/api/v1/cas/${caName}/applications/${app1.id}`)).status, 401, 'applications are not public');

        // 2. Maker-checker: officer A cannot approve what officer A entered; nothing changes.
        const self = await api('POST', `/api/v1/cas/${caName}/applications/${app1.id}/approve`, {}, officerA);
        assert.equal(self.status, 403);
        assert.equal(self.json.error, 'ra.maker-checker');
        assert.equal((await api('GET', `/api/v1/cas/${caName}/applications/${app1.id}`, undefined, officerA)).json.state, 'submitted');

        // 3. Officer B approves: the certificate is issued in the same step.
        const approved = await api('POST', `/api/v1/cas/${caName}/applications/${app1.id}/approve`, { comment: 'identity card checked' }, officerB);
        assert.equal(approved.status, 200, JSON.stringify(approved.json));
        assert.equal(approved.json.application.state, 'issued');
        assert.equal(approved.json.application.decidedBy, 'officer-b');
        assert.equal(approved.json.application.selfApproved, false);
        assert.deepEqual(approved.json.application.events.map((e: any) => e.action), ['apply', 'approve']);
        const cert1 = Certificate.parse(approved.json.certificate.pem);
        assert.equal(approved.json.application.certificateSerial, cert1.serialHex);
        assert.ok(cert1.serialNumber.length >= 9 || cert1.serialHex.length >= 16, 'serial has at least 64 bits');
        assert.equal(cert1.subjectText, 'C=CN, O=示例医院, OU=心内科, CN=张三');
        assert.deepEqual(cert1.identity, { residentId: '11010519491231002X' });
        assert.deepEqual(cert1.aia, { ocsp: [`${BASE}/ocsp/${caName}`], caIssuers: [`${BASE}/ca/${caName}/issuing-1.crt`] });
        assert.deepEqual(cert1.crlUrls, [`${BASE}/ca/${caName}/issuing-1.crl`]);
        assert.equal(approved.json.chainPem, issuing.toPem() + root.toPem());

        // The certificate meets its profile (the profile engine's lint, run again here on what was returned).
        checkCertificate(getProfile('staff-sign'), cert1, issuing);

        // 4. It validates to its root: our validator, OpenSSL, and (SM2) BouncyCastle.
        const ours = validateCertificate(cert1, { anchors: [root], intermediates: [issuing], checkRevocation: false });
        assert.equal(ours.valid, true, JSON.stringify(!ours.valid && ours.reason));
        const o = await outside();
        const ossl = await o.opensslVerifyCert({ leaf: cert1.der, chain: [issuing.der], trusted: root.der });
        assert.ok(ossl.ok, ossl.output);
        if (alg === 'sm2') {
          const bc = await o.bcCheck([
            { kind: 'cert', cert: cert1.der, issuer: issuing.der },
            { kind: 'cert', cert: issuing.der, issuer: root.der },
            { kind: 'path', anchor: root.der, chain: [cert1.der, issuing.der] },
          ]);
          assert.ok(bc.every((v) => v.ok), bc.map((v) => v.output).join('\n'));
        }

        // 5. Renewal with the same key (no CSR needed): a new certificate for the same key and subject.
        const renewApp = await api('POST', `/api/v1/cas/${caName}/applications`, { kind: 'renewal', previousSerial: cert1.serialHex, applicant: { name: '张三' } }, officerA);
        assert.equal(renewApp.status, 201, JSON.stringify(renewApp.json));
        assert.equal(renewApp.json.profile, 'staff-sign');
        const renewed = await api('POST', `/api/v1/cas/${caName}/applications/${renewApp.json.id}/approve`, {}, officerB);
        assert.equal(renewed.status, 200, JSON.stringify(renewed.json));
        const cert2 = Certificate.parse(renewed.json.certificate.pem);
        assert.notEqual(cert2.serialHex, cert1.serialHex);
        assert.ok(cert2.spkiDer.equals(cert1.spkiDer), 'renewal keeps the key');
        assert.ok(cert2.subjectDer.equals(cert1.subjectDer), 'renewal keeps the subject');
        assert.deepEqual(cert2.identity, cert1.identity);
        assert.equal((await api('GET', `/api/v1/cas/${caName}/certificates/${cert1.serialHex}`)).json.status, 'valid', 'a renewal leaves the old certificate to expire');

        // A renewal that tries to slip in a new key is refused and stores nothing.
        const sneaky = await api('POST', `/api/v1/cas/${caName}/applications`, { kind: 'renewal', previousSerial: cert2.serialHex, csr: makeCsr(alg).pem, applicant: { name: '张三' } }, officerA);
        assert.equal(sneaky.status, 422);
        assert.equal(sneaky.json.error, 'renewal.key');

        // 6. Re-key: a new key; the certificate it replaces is revoked as superseded in the same transaction.
        const newKey = makeCsr(alg);
        const rekeyApp = await api('POST', `/api/v1/cas/${caName}/applications`, { kind: 'rekey', previousSerial: cert2.serialHex, csr: newKey.pem, applicant: { name: '张三' } }, officerB);
        assert.equal(rekeyApp.status, 201, JSON.stringify(rekeyApp.json));
        const rekeyed = await api('POST', `/api/v1/cas/${caName}/applications/${rekeyApp.json.id}/approve`, {}, officerA);
        assert.equal(rekeyed.status, 200, JSON.stringify(rekeyed.json));
        const cert3 = Certificate.parse(rekeyed.json.certificate.pem);
        assert.ok(!cert3.spkiDer.equals(cert2.spkiDer), 're-key changes the key');
        assert.ok(cert3.subjectDer.equals(cert1.subjectDer));
        const old2 = (await api('GET', `/api/v1/cas/${caName}/certificates/${cert2.serialHex}`)).json;
        assert.equal(old2.status, 'revoked');
        assert.equal(old2.reason, 'superseded');
        assert.deepEqual(rekeyed.json.application.events.map((e: any) => [e.action, e.serial]), [['apply', null], ['revoke', cert2.serialHex], ['approve', cert3.serialHex]]);
        const v3 = await o.opensslVerifyCert({ leaf: cert3.der, chain: [issuing.der], trusted: root.der });
        assert.ok(v3.ok, v3.output);

        // 7. Hold and release (e.g. the holder mislaid the token, then found it).
        const held = await api('POST', `/api/v1/cas/${caName}/certificates/${cert3.serialHex}/hold`, { comment: 'token mislaid' }, officerA);
        assert.equal(held.status, 200, JSON.stringify(held.json));
        assert.equal(held.json.status, 'hold');
        assert.equal(held.json.reason, 'certificateHold');
        assert.equal((await api('POST', `/api/v1/cas/${caName}/certificates/${cert3.serialHex}/hold`, {}, officerA)).status, 409, 'hold twice');
        const released = await api('POST', `/api/v1/cas/${caName}/certificates/${cert3.serialHex}/release`, { comment: 'token found' }, officerA);
        assert.equal(released.status, 200);
        assert.equal(released.json.status, 'valid');
        assert.equal(released.json.reason, null);
        assert.deepEqual((await services.ca.statusHistory(caName, cert3.serialHex)).map((h) => [h.from, h.to, h.reason]), [[null, 'valid', null], ['valid', 'hold', 'certificateHold'], ['hold', 'valid', 'removeFromCRL']]);

        // 8. Reissue after loss of the medium (Art. 18): the lost certificate is revoked (keyCompromise) and a new one issued, together.
        const replacement = csrFor(makeCsr(alg).key);
        const reissueApp = await api('POST', `/api/v1/cas/${caName}/applications`, { kind: 'reissue', previousSerial: cert3.serialHex, csr: replacement, applicant: { name: '张三' }, previousReason: 'keyCompromise' }, officerA);
        assert.equal(reissueApp.status, 201, JSON.stringify(reissueApp.json));
        const reissued = await api('POST', `/api/v1/cas/${caName}/applications/${reissueApp.json.id}/approve`, {}, officerB);
        assert.equal(reissued.status, 200, JSON.stringify(reissued.json));
        const cert4 = Certificate.parse(reissued.json.certificate.pem);
        const lost = (await api('GET', `/api/v1/cas/${caName}/certificates/${cert3.serialHex}`)).json;
        assert.equal(lost.status, 'revoked');
        assert.equal(lost.reason, 'keyCompromise');

        // 9. Revocation with an RFC 5280 reason; a second revocation is refused.
        const revoked = await api('POST', `/api/v1/cas/${caName}/certificates/${cert4.serialHex}/revoke`, { reason: 'affiliationChanged', comment: 'left the hospital' }, officerB);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
        assert.equal(revoked.json.status, 'revoked');
        assert.equal(revoked.json.reason, 'affiliationChanged');
        assert.ok(revoked.json.revokedAt);
        const again = await api('POST', `/api/v1/cas/${caName}/certificates/${cert4.serialHex}/revoke`, { reason: 'keyCompromise' }, officerB);
        assert.equal(again.status, 409);
        assert.equal(again.json.error, 'certificate.revoked');
        // cert1 (renewed, never replaced) is still valid.
        assert.equal((await api('GET', `/api/v1/cas/${caName}/certificates/${cert1.serialHex}`)).json.status, 'valid');
      });
    }

    test('the bootstrap administrator may approve its own application, and the record says so', async () => {
      const applied = await api('POST', '/api/v1/cas/demo-p256/applications', { profile: 'device-sign', csr: makeCsr('p256', 'C=CN,O=示例医院,CN=infusion-pump-17', {}).pem, applicant: { name: '设备科' } }, admin);
      assert.equal(applied.status, 201, JSON.stringify(applied.json));
      const approved = await api('POST', `/api/v1/cas/demo-p256/applications/${applied.json.id}/approve`, {}, admin);
      assert.equal(approved.status, 200, JSON.stringify(approved.json));
      assert.equal(approved.json.application.selfApproved, true);
      const ev = approved.json.application.events.find((e: any) => e.action === 'approve');
      assert.equal(ev.details.selfApproved, true);
      assert.match(ev.details.note, /bootstrap administrator .* maker-checker waived/);
    });

    test('one-request enrollment: the bootstrap administrator gets the certificate at once, recorded as apply + self-approval; an officer gets 403 (maker-checker) and nothing is stored', async () => {
      const ca = (await api('GET', '/api/v1/cas/demo-p256')).json;
      const holder = makeCsr('p256');
      const enrolled = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: holder.pem, applicant: { name: '张三', organization: '示例医院' } }, admin);
      assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
      const cert = Certificate.parse(enrolled.json.certificate.pem);
      checkCertificate(getProfile('staff-sign'), cert, Certificate.parse(ca.issuers[1].pem));
      const v = validateCertificate(cert, { anchors: [Certificate.parse(ca.issuers[0].pem)], intermediates: [Certificate.parse(ca.issuers[1].pem)], checkRevocation: false });
      assert.equal(v.valid, true, JSON.stringify(v));
      assert.equal(enrolled.json.chainPem, ca.issuers[1].pem + ca.issuers[0].pem);
      const application = enrolled.json.application;
      assert.equal(application.state, 'issued');
      assert.equal(application.selfApproved, true);
      assert.equal(application.certificateSerial, cert.serialHex);
      assert.deepEqual(application.applicant, { name: '张三', organization: '示例医院' });
      assert.deepEqual(application.events.map((e: any) => [e.action, e.actor]), [['apply', 'bootstrap-admin'], ['approve', 'bootstrap-admin']]);
      // What the answer says is what was stored.
      const stored = await api('GET', `/api/v1/cas/demo-p256/applications/${application.id}`, undefined, admin);
      assert.deepEqual(stored.json, application);
      assert.equal((await api('GET', `/api/v1/cas/demo-p256/certificates/${cert.serialHex}`)).json.pem, enrolled.json.certificate.pem);
      const audit = await services.database.db.selectFrom('audit_log').select(['action', 'target']).where('target', 'in', [`ra:application:${application.id}`, `ca:demo-p256/cert:${cert.serialHex}`]).orderBy('id').execute();
      assert.deepEqual(audit.map((a) => a.action), ['ra.apply', 'ca.issue', 'ra.approve']);

      const count = async () => Number((await services.database.db.selectFrom('ra_applications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const before = await count();
      const refused = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '李四' } }, officerA);
      assert.equal(refused.status, 403);
      assert.equal(refused.json.error, 'ra.maker-checker');
      const badCsr = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: csrFor(makeCsr('p256').key, 'C=CN,O=示例医院,CN=王五').replace(/[A-Za-z](?=[A-Za-z0-9+/=]*\n-----END)/, (c) => (c === 'A' ? 'B' : 'A')), applicant: { name: '王五' } }, admin);
      assert.ok(badCsr.status === 400 || badCsr.status === 422, `tampered CSR: ${badCsr.status}`);
      assert.equal(await count(), before, 'a refused enrollment stores nothing');
    });

    test('rejection with a reason issues nothing', async () => {
      const applied = await api('POST', '/api/v1/cas/demo-sm2/applications', { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '李四' } }, officerA);
      assert.equal(applied.status, 201);
      const noReason = await api('POST', `/api/v1/cas/demo-sm2/applications/${applied.json.id}/reject`, {}, officerB);
      assert.equal(noReason.status, 400);
      const rejected = await api('POST', `/api/v1/cas/demo-sm2/applications/${applied.json.id}/reject`, { reason: 'identity card does not match the applicant' }, officerB);
      assert.equal(rejected.status, 200);
      assert.equal(rejected.json.state, 'rejected');
      assert.equal(rejected.json.decisionReason, 'identity card does not match the applicant');
      assert.equal(rejected.json.certificateSerial, null);
      const late = await api('POST', `/api/v1/cas/demo-sm2/applications/${applied.json.id}/approve`, {}, officerB);
      assert.equal(late.status, 409);
      const queue = await api('GET', '/api/v1/cas/demo-sm2/applications?state=rejected', undefined, officerA);
      assert.ok(queue.json.applications.some((a: any) => a.id === applied.json.id));
    });

    test('a new CA can be created through the API and issues at once', async () => {
      const created = await api('POST', '/api/v1/cas', { name: 'city-hospital-ca', algorithm: 'p384', organization: '市卫生健康委员会' }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal((await api('POST', '/api/v1/cas', { name: 'city-hospital-ca', algorithm: 'p384', organization: 'x' }, admin)).status, 409);
      assert.equal((await api('POST', '/api/v1/cas', { name: 'other', algorithm: 'p256', organization: 'x' }, officerA)).status, 403);
      const applied = await api('POST', '/api/v1/cas/city-hospital-ca/applications', { profile: 'org-sign', csr: makeCsr('p256', 'C=CN,O=市第一人民医院,CN=市第一人民医院', { unifiedSocialCreditCode: '91350100M000100Y43' }).pem, applicant: { name: '市第一人民医院' } }, officerA);
      assert.equal(applied.status, 201, JSON.stringify(applied.json));
      const approved = await api('POST', `/api/v1/cas/city-hospital-ca/applications/${applied.json.id}/approve`, {}, officerB);
      assert.equal(approved.status, 200, JSON.stringify(approved.json));
      const root = Certificate.parse(created.json.issuers[0].pem);
      const v = validateCertificate(Certificate.parse(approved.json.certificate.pem), { anchors: [root], intermediates: [Certificate.parse(created.json.issuers[1].pem)], checkRevocation: false });
      assert.equal(v.valid, true);
    });

    test('CAs have per-language display names; the migration gives an older demo deployment its English names', async () => {
      const names = async () => Object.fromEntries(((await api('GET', '/api/v1/cas')).json.cas as Array<{ name: string; displayNames: unknown }>).map((c) => [c.name, c.displayNames]));
      assert.deepEqual((await names())['demo-sm2'], { 'zh-CN': '演示CA（SM2）', en: 'Demo CA (SM2)' });
      const created = await api('POST', '/api/v1/cas', { name: 'county-ca', algorithm: 'p256', organization: '县卫生健康局', displayName: '县级CA', displayNameEn: 'County CA' }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.deepEqual(created.json.displayNames, { 'zh-CN': '县级CA', en: 'County CA' });
      assert.equal(created.json.displayName, '县级CA');
      // Without an English name, the one display name serves both languages.
      assert.deepEqual((await names())['city-hospital-ca'], { 'zh-CN': 'city-hospital-ca', en: 'city-hospital-ca' });
      for (const bad of ['', 'x'.repeat(129)]) {
        const r = await api('POST', '/api/v1/cas', { name: 'bad-name-ca', algorithm: 'p256', organization: 'x', displayNameEn: bad }, admin);
        assert.equal(r.status, 400, JSON.stringify(bad));
      }
      // A deployment made before the column existed: its migration adds it and names the demo CAs in English.
      await services.database.db.schema.alterTable('ca_authorities').dropColumn('display_name_en').execute();
      await caMigrations.migrations(services.database.dialect)['0003_display_name_en']!.up(services.database.db);
      // Read from the table: the service caches its authorities, which never change once created.
      const rows = await services.database.db.selectFrom('ca_authorities').select(['name', 'display_name_en']).where('name', 'in', ['demo-sm2', 'demo-p256', 'county-ca']).orderBy('name').execute();
      assert.deepEqual(
        rows.map((r) => [r.name, r.display_name_en]),
        [
          ['county-ca', null], // an operator's own CA: no English name is made up for it
          ['demo-p256', 'Demo CA (ECDSA P-256)'],
          ['demo-sm2', 'Demo CA (SM2)'],
        ],
      );
    });
  });
}

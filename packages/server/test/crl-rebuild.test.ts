/**
 * POST /api/v1/cas/:ca/crls/:label/rebuild: an administrator of the CA publishes a new complete
 * CRL now. The new CRL has a higher number, lists a certificate revoked just before, is the one
 * then served, and the rebuild is in the audit log; an officer, an auditor and an anonymous caller
 * are refused; an unknown CA or label is a 404; a bad label a 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Certificate, Crl } from '@health-pki/pki';
import type { FastifyInstance } from 'fastify';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

describe('CRL rebuild by an administrator', () => {
  let backend: TestBackend;
  let services: Services;
  let app: FastifyInstance;
  let api: Api;
  let admin: string;
  let officer: string;
  let auditor: string;

  before(async () => {
    backend = await createBackend('sqlite');
    services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test:8080', pkiThreads: 0 });
    app = await buildHttpApp(services, { logger: false });
    api = injectApi(app);
    const boot = await bootstrap(services, backend.dataDir);
    admin = readFileSync(boot.tokenFile, 'utf8').trim();
    officer = (await api('POST', '/api/v1/officers', { id: 'officer-rebuild' }, admin)).json.token;
    // Administrators administer every CA (auth.admin-scope), so the other refused role is an auditor.
    auditor = (await api('POST', '/api/v1/officers', { id: 'auditor-rebuild', role: 'auditor' }, admin)).json.token;
    assert.ok(officer && auditor, 'officers created');
  });

  after(async () => {
    await app?.close();
    await services?.close();
    await backend?.cleanup();
  });

  test('publishes a new complete CRL with the revocation, served at once and audited', async () => {
    const before = Crl.parse((await api('GET', '/ca/demo-p256/issuing-1.crl')).body);
    const enrolled = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } }, admin);
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    const cert = Certificate.parse(enrolled.json.certificate.pem);
    assert.equal((await api('POST', `/api/v1/cas/demo-p256/certificates/${cert.serialHex}/revoke`, { reason: 'keyCompromise' }, officer)).status, 200);

    const r = await api('POST', '/api/v1/cas/demo-p256/crls/issuing-1/rebuild', undefined, admin);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.ca, 'demo-p256');
    assert.equal(r.json.crls[0].partition, 0);
    assert.ok(BigInt(r.json.crls[0].number) > before.crlNumber!, 'a new CRL number');
    assert.equal(r.json.crls[0].entries, 1);

    const served = Crl.parse((await api('GET', '/api/v1/cas/demo-p256/crls/issuing-1')).body);
    assert.equal(served.crlNumber, BigInt(r.json.crls[0].number), 'the rebuilt CRL is the one served');
    assert.equal(served.revokedCount, 1);

    const audit = await api('GET', '/api/v1/audit?action=crl.rebuild', undefined, admin);
    assert.equal(audit.status, 200, JSON.stringify(audit.json));
    assert.equal(audit.json.entries.length, 1);
    assert.equal(audit.json.entries[0].target, 'ca:demo-p256/crl:issuing-1');
  });

  test('only an administrator of that CA; unknown CA or label 404; bad label 400', async () => {
    const path = '/api/v1/cas/demo-p256/crls/issuing-1/rebuild';
    assert.equal((await api('POST', path)).status, 401);
    assert.equal((await api('POST', path, undefined, officer)).status, 403);
    assert.equal((await api('POST', path, undefined, auditor)).status, 403);
    assert.equal((await api('POST', '/api/v1/cas/demo-sm2/crls/issuing-1/rebuild', undefined, admin)).status, 200);
    assert.equal((await api('POST', '/api/v1/cas/no-such-ca/crls/issuing-1/rebuild', undefined, admin)).status, 404);
    assert.equal((await api('POST', '/api/v1/cas/demo-p256/crls/issuing-9/rebuild', undefined, admin)).status, 404);
    const bad = await api('POST', '/api/v1/cas/demo-p256/crls/Bad..Label/rebuild', undefined, admin);
    assert.equal(bad.status, 400);
  });
});

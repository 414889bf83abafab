/**
 * CA keys in an HSM (SoftHSM2 through PKCS#11), on SQLite and PostgreSQL: a P-256 and an RSA CA
 * created with HSM custody keep only a reference in the database, their keys are sensitive and
 * never extractable on the token (seen from another process), certificates issued through the
 * API verify with `openssl verify`, the CRL and OCSP responses (published by the service, and
 * built directly with the pki builders) verify with `openssl crl` / `openssl ocsp`, SM2 is refused
 * with a clear error, and after a restart the CAs still sign with their HSM keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Certificate, OcspResponse, buildCrl, buildOcspRequest, buildOcspResponse, certId, isExternalKey, verifyOcspResponse } from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, type Pkcs11TokenConfig, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';
import { outside } from './helpers/outside.js';
import { createSoftHsm, privateKeysOnToken, softHsmAvailable, type SoftHsm } from './helpers/softhsm.js';

const BASE = 'http://pki.test:8080';
const skip = softHsmAvailable ? false : 'SoftHSM2 is not installed (scripts/setup.sh installs it)';

let hsm: SoftHsm | undefined;
const tokens: Record<string, Pkcs11TokenConfig> = {};
before(() => {
  if (skip) return;
  hsm = createSoftHsm();
  // SoftHSM reads its token directory when the module is initialised: make every token first.
  for (const b of BACKENDS) tokens[b] = hsm.initToken(`hpki-${b}`, '24681357');
});
after(() => hsm?.cleanup());

for (const backendName of BACKENDS) {
  describe(`CA keys in SoftHSM on ${backendName}`, { skip }, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    let officerA: string;
    let officerB: string;
    const issued: Record<string, Certificate> = {};

    const open = async () => {
      // One worker thread: HSM keys must be signed for in the service's thread, not handed to it.
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkcs11: tokens[backendName], pkiThreads: 1, crl: { start: false } });
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
    };
    const close = async () => {
      await app?.close();
      await services?.close();
    };
    const issue = async (ca: string, alg: 'p256' | 'rsa3072', cn: string) => {
      const holder = makeCsr(alg, `C=CN,O=示例医院,CN=${cn}`);
      const applied = await api('POST', `/api/v1/cas/${ca}/applications`, { profile: 'staff-sign', csr: holder.pem, applicant: { name: cn } }, officerA);
      assert.equal(applied.status, 201, JSON.stringify(applied.json));
      const approved = await api('POST', `/api/v1/cas/${ca}/applications/${applied.json.id}/approve`, {}, officerB);
      assert.equal(approved.status, 200, JSON.stringify(approved.json));
      return Certificate.parse(approved.json.certificate.pem);
    };
    const hierarchy = async (ca: string) => {
      const issuers = await services.ca.signingIssuers(ca);
      return { root: issuers.find((i) => i.role === 'root')!, issuing: issuers.find((i) => i.role === 'issuing')! };
    };

    before(async () => {
      backend = await createBackend(backendName);
      await open();
      const boot = await bootstrap(services, backend.dataDir);
      // The demo SM2 CA cannot be kept in a PKCS#11 HSM: bootstrap skips it.
      assert.deepEqual(boot.createdCas, ['demo-p256']);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officerA = (await api('POST', '/api/v1/officers', { id: 'officer-a' }, admin)).json.token;
      officerB = (await api('POST', '/api/v1/officers', { id: 'officer-b' }, admin)).json.token;
      assert.ok(officerA && officerB);
    });

    after(async () => {
      await close();
      await backend?.cleanup();
    });

    test('a P-256 and an RSA CA are created with their keys generated in the token; SM2 is refused', async () => {
      for (const [name, algorithm] of [['hsm-p256', 'p256'], ['hsm-rsa', 'rsa3072']] as const) {
        const r = await api('POST', '/api/v1/cas', { name, algorithm, organization: 'HSM test' }, admin);
        assert.equal(r.status, 201, JSON.stringify(r.json));
      }
      const sm2 = await api('POST', '/api/v1/cas', { name: 'hsm-sm2', algorithm: 'sm2', organization: 'HSM test' }, admin);
      assert.equal(sm2.status, 422);
      assert.equal(sm2.json.error, 'ca.algorithm.hsm');
      assert.match(sm2.json.message, /GM\/T 0018/);
      for (const name of ['hsm-p256', 'hsm-rsa']) {
        const ca = (await services.ca.getAuthority(name)).issuers;
        assert.deepEqual(ca.map((i) => i.keyProtection), ['pkcs11', 'pkcs11']);
        const { issuing } = await hierarchy(name);
        assert.ok(isExternalKey(issuing.key), 'the issuing key is a token key');
        assert.throws(() => issuing.key.pkcs8, /held by PKCS#11 token/);
      }
    });

    test('the database holds only references; on the token the keys are sensitive and not extractable', async () => {
      const rows = await sql<{ label: string; key_protection: string; key_sealed: Uint8Array }>`select label, key_protection, key_sealed from ca_issuers`.execute(services.database.db);
      const hsmRows = rows.rows.filter((r) => r.key_protection === 'pkcs11');
      assert.equal(hsmRows.length, 6, 'demo-p256, hsm-p256 and hsm-rsa: root and issuing each');
      const onToken = privateKeysOnToken(tokens[backendName]!);
      for (const row of hsmRows) {
        const ref = JSON.parse(Buffer.from(row.key_sealed).toString('utf8'));
        assert.deepEqual(Object.keys(ref).sort(), ['id', 'label', 'spki', 'token', 'tokenSerial', 'v']);
        assert.equal(ref.token, `hpki-${backendName}`);
        const key = onToken.find((k) => k.id === ref.id);
        assert.ok(key, `key ${ref.label} is on the token`);
        assert.equal(key.sensitive, true);
        assert.equal(key.extractable, false);
        assert.equal(key.valueRead, 'CKR_ATTRIBUTE_SENSITIVE');
      }
      // Nothing that looks like a private key is stored anywhere in the issuer rows.
      for (const row of rows.rows) assert.doesNotMatch(Buffer.from(row.key_sealed).toString('latin1'), /PRIVATE KEY|\x30\x82..\x02\x01\x00\x30/s);
      // The keys other modules make and seal (the demo time-stamp unit) are moved into the token too.
      const tsa = await sql<{ key_protection: string }>`select key_protection from tsa_units`.execute(services.database.db);
      assert.deepEqual(tsa.rows.map((r) => r.key_protection), ['pkcs11']);
      // Generation and activation are audited.
      const audit = await sql<{ action: string; n: number }>`select action, count(*) as n from audit_log where action like 'ca.key.%' group by action`.execute(services.database.db);
      const counts = Object.fromEntries(audit.rows.map((r) => [r.action, Number(r.n)]));
      assert.ok(counts['ca.key.generate']! >= 6, JSON.stringify(counts));
      assert.ok(counts['ca.key.open']! >= 1, JSON.stringify(counts));
    });

    test('certificates issued through the API verify with openssl to the HSM-held root', async () => {
      const o = await outside();
      for (const [ca, alg] of [['hsm-p256', 'p256'], ['hsm-rsa', 'rsa3072']] as const) {
        const cert = await issue(ca, alg, `HSM holder ${ca}`);
        issued[ca] = cert;
        const { root, issuing } = await hierarchy(ca);
        const v = await o.opensslVerifyCert({ leaf: cert.der, chain: [issuing.cert.der], trusted: root.cert.der });
        assert.ok(v.ok, v.output);
      }
    });

    test('CRLs signed by the HSM key verify with `openssl crl -CAfile`: published by the service and built directly', async () => {
      const o = await outside();
      for (const ca of ['hsm-p256', 'hsm-rsa']) {
        const cert = issued[ca]!;
        const revoked = await api('POST', `/api/v1/cas/${ca}/certificates/${cert.serialHex}/revoke`, { reason: 'keyCompromise' }, officerA);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
        const { issuing } = await hierarchy(ca);
        const direct = buildCrl({ issuer: issuing.cert, signer: issuing.key, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 1n, entries: [{ serial: cert.serialNumber, revocationDate: new Date(), reason: 'keyCompromise' }] });
        const published = await api('GET', `/ca/${ca}/issuing-1.crl`);
        assert.equal(published.status, 200, published.body.toString('utf8').slice(0, 300));
        for (const [what, der] of [['built directly', direct.der], ['published', published.body]] as const) {
          const r = await o.openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'issuing.pem', '-noout', '-verify', '-text'], { files: { 'crl.der': der, 'issuing.pem': issuing.cert.toPem() } });
          assert.match(r.stderr + r.stdout, /verify OK/, `${ca} ${what}: ${r.stderr}${r.stdout}`);
          assert.match(r.stdout, new RegExp(cert.serialHex.toUpperCase().replace(/^0+/, '')), `${ca} ${what} lists the revoked serial`);
        }
      }
    });

    test('OCSP responses signed with HSM keys verify with `openssl ocsp`: the responder service and a CA-signed one', async () => {
      const o = await outside();
      for (const ca of ['hsm-p256', 'hsm-rsa']) {
        const cert = issued[ca]!;
        const { root, issuing } = await hierarchy(ca);
        // Signed by the issuing CA's own HSM key with the pki builder.
        const direct = buildOcspResponse({ responderCert: issuing.cert, signer: issuing.key, producedAt: new Date(), responses: [{ certId: certId(cert, issuing.cert), status: 'revoked', revocationTime: new Date(Date.now() - 1000), reason: 'keyCompromise', thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3_600_000) }] });
        const v1 = await ocspCheck(o, direct.der, issuing.cert, cert, { responder: issuing.cert.der });
        assert.ok(v1.ok && /revoked/.test(v1.output), v1.output);
        assert.ok(verifyOcspResponse(OcspResponse.parse(direct.der), issuing.cert).valid);
        // The service's responder (its delegated responder key was sealed into the token too).
        const req = buildOcspRequest({ certIds: [certId(cert, issuing.cert)] });
        const reply = await app.inject({ method: 'POST', url: `/ocsp/${ca}`, headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.from(req.der) });
        assert.equal(reply.statusCode, 200);
        const v2 = await ocspCheck(o, reply.rawPayload, issuing.cert, cert, { trusted: [root.cert.der, issuing.cert.der] });
        assert.ok(v2.ok && /revoked/.test(v2.output), v2.output);
      }
      // The responder's own keys were sealed into the token, like the CA keys.
      const responders = await sql<{ key_protection: string }>`select key_protection from ocsp_responders`.execute(services.database.db);
      assert.ok(responders.rows.length >= 2 && responders.rows.every((r) => r.key_protection === 'pkcs11'), JSON.stringify(responders.rows));
    });

    test('after a restart the CAs still sign with their HSM keys', async () => {
      await close();
      await open();
      const o = await outside();
      for (const [ca, alg] of [['hsm-p256', 'p256'], ['hsm-rsa', 'rsa3072']] as const) {
        const cert = await issue(ca, alg, `after restart ${ca}`);
        const { root, issuing } = await hierarchy(ca);
        assert.ok(isExternalKey(issuing.key));
        const v = await o.opensslVerifyCert({ leaf: cert.der, chain: [issuing.cert.der], trusted: root.cert.der });
        assert.ok(v.ok, v.output);
      }
    });
  });
}

describe('PKCS#11 configuration errors stop the start with a clear message', { skip }, () => {
  let backend: TestBackend;
  before(async () => {
    backend = await createBackend('sqlite');
  });
  after(async () => backend?.cleanup());

  const attempt = (pkcs11: Pkcs11TokenConfig) => openServices({ dataDir: backend.dataDir, baseUrl: BASE, pkcs11, pkiThreads: 0 });

  test('wrong PIN, missing token, missing module', async () => {
    const good = tokens[BACKENDS[0]!]!;
    await assert.rejects(attempt({ ...good, pin: '00000000' }), (e: any) => e.code === 'hsm.pin' && /wrong user PIN for token "hpki-sqlite"/.test(e.message));
    await assert.rejects(attempt({ ...good, token: 'no-such-token' }), (e: any) => e.code === 'hsm.token' && /no token labelled "no-such-token".*"hpki-sqlite"/.test(e.message));
    await assert.rejects(attempt({ ...good, module: '/nonexistent/libpkcs11.so' }), (e: any) => e.code === 'hsm.module' && /cannot load the PKCS#11 module/.test(e.message));
    // After the refusals, the right settings still work.
    const s = await attempt(good);
    await s.close();
  });
});

/** `openssl ocsp -respin` with the status of `cert`. */
async function ocspCheck(o: Awaited<ReturnType<typeof outside>>, resp: Uint8Array, issuer: Certificate, cert: Certificate, opts: { responder?: Uint8Array; trusted?: Uint8Array[] }) {
  const files: Record<string, Uint8Array | string> = { 'resp.der': resp, 'issuer.pem': issuer.toPem() };
  const args = ['ocsp', '-respin', 'resp.der', '-issuer', 'issuer.pem', '-serial', `0x${cert.serialHex}`, '-no_nonce'];
  if (opts.responder) {
    files['va.pem'] = Certificate.parse(Buffer.from(opts.responder)).toPem();
    args.push('-VAfile', 'va.pem');
  }
  if (opts.trusted) {
    files['ca.pem'] = opts.trusted.map((d) => Certificate.parse(Buffer.from(d)).toPem()).join('');
    args.push('-CAfile', 'ca.pem');
  }
  const r = await o.openssl(args, { files });
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.code === 0 && /Response verify OK/.test(output), output };
}

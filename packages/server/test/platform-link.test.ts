/**
 * The CA side of the platform link, in-process: the embedded platform of the demo start admits
 * the demo CAs (conformance test included) and does nothing more at a restart; every issuance,
 * renewal and revocation writes exactly one event into its CA's outbox in the act's transaction
 * and reaches the platform; the certificate query interface answers the platform and refuses
 * forged, replayed, stale, oversized and malformed queries; /platform/* is passed through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { generateKey, parseName, selfSignedSigningCertificate, signCmsDer, SignedDataDoc, verifyCms, type Certificate } from '@health-pki/pki';
import { startServer, type RunningServer } from '../src/server.js';
import { startPlatformServer, type RunningPlatform } from '../src/platform/server.js';
import { BACKENDS, createBackend } from './helpers/backends.js';
import { httpApi } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

const QUICK = { pollMs: 50, minBackoffMs: 20, maxBackoffMs: 200 };

async function outboxRows(server: RunningServer, ca: string): Promise<Array<{ seq: number; body: any; sent: boolean }>> {
  const r = await sql<{ seq: number | string; body: string; sent_at: string | null }>`select seq, body, sent_at from platform_outbox where ca = ${ca} order by seq`.execute(server.services.database.db);
  return r.rows.map((x) => ({ seq: Number(x.seq), body: JSON.parse(x.body), sent: x.sent_at !== null }));
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the demo start admits its CAs to the embedded platform, once; /platform/* is passed through', { timeout: 120_000 }, async () => {
  const backend = await createBackend('sqlite');
  try {
    let server = await startServer({ dataDir: backend.dataDir, port: 0, logger: false, platform: 'embedded', pkiThreads: 0, platformLink: QUICK });
    try {
      const results = await server.platformAdmission!.done;
      assert.deepEqual(results.map((r) => [r.ca, r.status]), [['demo-sm2', 'connected'], ['demo-p256', 'connected']], JSON.stringify(results));
      for (const r of results) assert.ok('report' in r && r.report?.passed, `${r.ca}: conformance report passed`);
      const api = httpApi(server.url);
      // The trust list, read through the CA service's pass-through, names both CAs.
      const cert = await api('GET', '/platform/trust-list/certificate');
      assert.equal(cert.status, 200);
      assert.ok(cert.body.equals((await server.platform!.services.trustList.certificate()).der) || cert.body.toString().includes('BEGIN CERTIFICATE'));
      const list = await server.platform!.services.trustList.current();
      assert.deepEqual(list.json.cas.map((c: { name: string }) => c.name).sort(), ['demo-p256', 'demo-sm2']);
      // The pass-through carries status, body and authorization both ways.
      const anonymous = await api('POST', '/platform/tokens', { id: 'x', role: 'auditor' });
      assert.equal(anonymous.status, 401);
      const national = readFileSync(join(backend.dataDir, 'platform', 'platform-admin.token'), 'utf8').trim();
      const whoami = await api('GET', '/platform/whoami', undefined, national);
      assert.equal(whoami.status, 200);
      assert.equal(whoami.json.role, 'national');
      const huge = await fetch(`${server.url}/platform/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"' + 'x'.repeat(3 * 1024 * 1024) + '"' });
      assert.equal(huge.status, 413);
      // The samples' and access certificates' events arrived: the outbox drains.
      await until('the outbox drains', async () => (await outboxRows(server, 'demo-sm2')).every((r) => r.sent));
    } finally {
      await server.close();
    }
    // A restart finds both CAs connected and takes no step.
    server = await startServer({ dataDir: backend.dataDir, port: 0, logger: false, platform: 'embedded', pkiThreads: 0, platformLink: QUICK });
    try {
      const again = await server.platformAdmission!.done;
      assert.deepEqual(again.map((r) => [r.ca, r.status, 'steps' in r ? r.steps.length : -1]), [['demo-sm2', 'connected', 0], ['demo-p256', 'connected', 0]]);
    } finally {
      await server.close();
    }
  } finally {
    await backend.cleanup();
  }
});

for (const backendName of BACKENDS) {
  test(`[${backendName}] each act writes one event in its transaction, per CA, and the platform gets it`, { timeout: 120_000 }, async () => {
    const backend = await createBackend(backendName);
    const platformBackend = await createBackend('sqlite');
    let platform: RunningPlatform | undefined;
    let server: RunningServer | undefined;
    try {
      platform = await startPlatformServer({ dataDir: platformBackend.dataDir, port: 0, logger: false });
      const platformCert = await platform.services.trustList.certificate();
      server = await startServer({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, port: 0, logger: false, pkiThreads: 0, platform: { url: platform.url, certificate: platformCert }, province: 'GD', platformLink: QUICK });
      const api = httpApi(server.url);
      const token = readFileSync(server.tokenFile, 'utf8').trim();
      const before = await outboxRows(server, 'demo-p256');
      const enroll = await api('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } }, token);
      assert.equal(enroll.status, 201, JSON.stringify(enroll.json));
      const serial = enroll.json.certificate.serial as string;
      const rekey = await api('POST', '/api/v1/cas/demo-p256/enroll', { kind: 'rekey', previousSerial: serial, csr: makeCsr('p256').pem, applicant: { name: '张三' } }, token);
      assert.equal(rekey.status, 201, JSON.stringify(rekey.json));
      const newSerial = rekey.json.certificate.serial as string;
      const revoke = await api('POST', `/api/v1/cas/demo-p256/certificates/${newSerial}/revoke`, { reason: 'keyCompromise' }, token);
      assert.equal(revoke.status, 200);
      // A refused act writes nothing: revoking again is 409, and no event follows.
      assert.equal((await api('POST', `/api/v1/cas/demo-p256/certificates/${newSerial}/revoke`, { reason: 'keyCompromise' }, token)).status, 409);
      const after = (await outboxRows(server, 'demo-p256')).slice(before.length);
      const events = after.map((r) => r.body);
      // Re-key: the old certificate revoked (superseded) and the new one "renewed" with replaces; then the revocation.
      assert.deepEqual(
        events.map((e) => [e.kind, e.serial, e.reason ?? null, e.replaces ?? null]),
        [
          ['issued', serial, null, null],
          ['revoked', serial, 'superseded', null],
          ['renewed', newSerial, null, serial],
          ['revoked', newSerial, 'keyCompromise', null],
        ],
      );
      assert.deepEqual([events[0].class, events[0].profile, events[0].province], ['person', 'staff-sign', 'GD']);
      // Seqs of one CA have no gaps; the other CA has its own stream.
      const all = await outboxRows(server, 'demo-p256');
      assert.deepEqual(all.map((r) => r.seq), all.map((_, i) => i + 1));
      const sm2Before = (await outboxRows(server, 'demo-sm2')).length;
      assert.equal((await api('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '李四' } }, token)).status, 201);
      const sm2 = await outboxRows(server, 'demo-sm2');
      assert.equal(sm2.length, sm2Before + 1);
      assert.equal(sm2.at(-1)!.seq, sm2.length);
      // The CA is not admitted: the platform refuses, the events wait in the outbox.
      const outbox = await api('GET', '/api/v1/platform-access/demo-p256/outbox', undefined, token);
      assert.equal(outbox.status, 200);
      assert.equal(outbox.json.pending, all.length);
      assert.equal((await api('GET', '/api/v1/platform-access/demo-p256/outbox')).status, 401);
      // Admitted (as the offices would, here directly through the registry), the outbox drains into the platform's statistics.
      const info = await api('GET', '/api/v1/platform-access/demo-p256');
      assert.equal(info.status, 200);
      const reg = platform.services.registry;
      const nationalP = { id: 'national', role: 'national' as const, bootstrap: true };
      await reg.apply(nationalP, {
        name: 'demo-p256',
        displayName: 'Demo',
        homeProvince: 'GD',
        provinces: ['GD'],
        licence: { number: 'L-1', notBefore: new Date(Date.now() - 86_400_000).toISOString(), notAfter: new Date(Date.now() + 86_400_000 * 700).toISOString() },
        company: { name: 'Demo' },
        servicePlan: 'demo',
        materials: [],
        certificates: info.json.certificates,
        platformAccessCertificate: info.json.platformAccessCertificate,
      });
      await reg.provinceReview({ id: 'gd', role: 'provincial', province: 'GD', bootstrap: false }, 'demo-p256', { approve: true });
      await until('the outbox drains', async () => (await outboxRows(server!, 'demo-p256')).every((r) => r.sent));
      const stats = await platform.services.statistics.query({ groupBy: ['ca'], ca: 'demo-p256' });
      assert.equal(stats.length, 1);
      const issued = all.filter((r) => r.body.kind === 'issued').length;
      assert.deepEqual([stats[0]!.issued, stats[0]!.renewed, stats[0]!.revoked], [issued, 1, 2]);
    } finally {
      await server?.close();
      await platform?.close();
      await backend.cleanup();
      await platformBackend.cleanup();
    }
  });
}

test('the certificate query interface answers the platform and refuses forged, replayed, stale, oversized and malformed queries', { timeout: 60_000 }, async () => {
  const backend = await createBackend('sqlite');
  const platformBackend = await createBackend('sqlite');
  let platform: RunningPlatform | undefined;
  let server: RunningServer | undefined;
  let bare: RunningServer | undefined;
  let bareBackend: Awaited<ReturnType<typeof createBackend>> | undefined;
  try {
    platform = await startPlatformServer({ dataDir: platformBackend.dataDir, port: 0, logger: false });
    const platformCert = await platform.services.trustList.certificate();
    server = await startServer({ dataDir: backend.dataDir, port: 0, logger: false, pkiThreads: 0, platform: { url: platform.url, certificate: platformCert } });
    const api = httpApi(server.url);
    const token = readFileSync(server.tokenFile, 'utf8').trim();
    const samples = await api('POST', '/api/v1/platform-access/demo-sm2/samples', {}, token);
    assert.equal(samples.status, 201, JSON.stringify(samples.json));
    const info = await api('GET', '/api/v1/platform-access/demo-sm2');
    const access = (await import('@health-pki/pki')).Certificate.parse(info.json.platformAccessCertificate as string);
    const good = (await import('@health-pki/pki')).Certificate.parse(samples.json.good[0]).serialHex;
    const revoked = (await import('@health-pki/pki')).Certificate.parse(samples.json.revoked[0]).serialHex;
    const url = `${server.url}/api/v1/platform-access/demo-sm2/query`;
    const signed = (content: object) => platform!.services.trustList.signContent(Buffer.from(JSON.stringify(content)));
    const post = (body: Buffer | string, type = 'application/cms') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const query = (extra: object = {}) => ({ ca: 'demo-sm2', serials: [good, revoked, 'abcdef'], nonce: randomBytes(16).toString('hex'), at: new Date().toISOString(), ...extra });

    const q = query();
    const ok = await post(await signed(q));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/cms');
    const doc = SignedDataDoc.parse(Buffer.from(await ok.arrayBuffer()));
    const verdict = verifyCms(doc, { certificates: [access] });
    assert.ok(verdict.valid && verdict.signerCertificate?.der.equals(access.der), 'signed by the CA platform-access certificate');
    const answer = JSON.parse(doc.content!.toString());
    assert.equal(answer.nonce, q.nonce);
    assert.deepEqual(answer.certificates.map((c: { serial: string; status: string }) => [c.serial, c.status]), [[good, 'good'], [revoked, 'revoked'], ['abcdef', 'unknown']]);
    assert.equal(answer.certificates[1].reason, 'superseded');
    assert.equal(answer.certificates[0].class, 'device');

    // The access certificate was issued by the CA itself, under its issuing CA.
    assert.equal(access.issuerText, (await server.services.ca.chain('demo-sm2'))[0]!.subjectText);

    // Replayed: the same signed bytes again.
    const replay = await post(await signed(q));
    assert.deepEqual([replay.status, ((await replay.json()) as any).error], [400, 'platform.query.replayed']);
    // Stale: made 6 minutes ago (or ahead).
    const stale = await post(await signed(query({ at: new Date(Date.now() - 6 * 60_000).toISOString() })));
    assert.deepEqual([stale.status, ((await stale.json()) as any).error], [400, 'platform.query.stale']);
    // Forged: signed by another key whose certificate rides in the SignedData.
    const forgerKey = generateKey('sm2');
    const forgerCert: Certificate = selfSignedSigningCertificate(forgerKey, parseName(platformCert.subjectText.replace(/, /g, ',')), { notBefore: new Date(), days: 30 });
    const forged = await post(signCmsDer({ content: Buffer.from(JSON.stringify(query())), signer: forgerKey, cert: forgerCert }));
    assert.equal(forged.status, 401);
    // Oversized, garbage, wrong type, wrong CA, unknown CA, bad fields.
    assert.equal((await post(Buffer.alloc(64 * 1024, 1))).status, 413);
    assert.equal((await post(Buffer.from('not cms'))).status, 400);
    assert.equal((await post('{}', 'application/json')).status, 400);
    const other = await post(await signed(query({ ca: 'demo-p256' })));
    assert.deepEqual([other.status, ((await other.json()) as any).error], [400, 'platform.query.ca']);
    const unknownCa = await fetch(`${server.url}/api/v1/platform-access/nope/query`, { method: 'POST', headers: { 'content-type': 'application/cms' }, body: await signed(query({ ca: 'nope' })) });
    assert.equal(unknownCa.status, 404);
    for (const bad of [{ serials: [] }, { serials: Array(101).fill('ab') }, { serials: ['XYZ'] }, { nonce: 'short' }, { at: 'yesterday' }]) {
      const r = await post(await signed(query(bad)));
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    // Without a platform, queries are refused plainly.
    bareBackend = await createBackend('sqlite');
    bare = await startServer({ dataDir: bareBackend.dataDir, port: 0, logger: false, pkiThreads: 0 });
    const none = await fetch(`${bare.url}/api/v1/platform-access/demo-sm2/query`, { method: 'POST', headers: { 'content-type': 'application/cms' }, body: await signed(query()) });
    assert.equal(none.status, 422);
    assert.equal((await fetch(`${bare.url}/platform/trust-list`)).status, 404);
  } finally {
    await bare?.close();
    await bareBackend?.cleanup();
    await server?.close();
    await platform?.close();
    await backend.cleanup();
    await platformBackend.cleanup();
  }
});

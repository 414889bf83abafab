/**
 * The key management centre as its own service, on SQLite and PostgreSQL, driven over HTTP with
 * signed GM/T 0014-style messages: apply → an SM2 key enveloped to the holder's signing key, which
 * OpenSSL takes apart (pkeyutl -decrypt, enc -sm4-ecb) → restore to a fresh key after the token is
 * lost (also after revoke) → retention destroys it. Refusals: unknown client, wrong signature,
 * reused task number, stale request, malformed bytes; a retried task gets the same answer once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  Certificate,
  addDays,
  basicConstraintsExt,
  buildCertificate,
  encodeKmcRequestBody,
  exportPrivateKey,
  importPrivateKey,
  openEnvelopedPrivateKey,
  generateKey,
  kmcSignatureValid,
  openSm2EnvelopedKey,
  parseKmcResponseBody,
  parseName,
  parseSignedKmcMessage,
  parseSm2EnvelopedKey,
  randomSerial,
  signKmcMessage,
  sm2PrivateKeyFromScalar,
  type KmcRequestItem,
  type KmcResponseItem,
  type PrivateKey,
} from '@health-pki/pki';
import type { FastifyInstance } from 'fastify';
import { SYSTEM_PRINCIPAL } from '../src/index.js';
import { buildKmcApp, openKmcServices, KMC_REQUEST_TYPE, type KmcServices } from '../src/kmc/server.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { outside } from './helpers/outside.js';

/** A CA's KMC-access identity: its key and a certificate the KMC registers. */
function caIdentity(cn: string): { key: PrivateKey; cert: Certificate } {
  const key = generateKey('sm2');
  const now = new Date();
  const cert = buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=演示CA,CN=${cn}`), notBefore: now, notAfter: addDays(now, 365), publicKey: key.publicKey, extensions: [basicConstraintsExt(false)] }, key);
  return { key, cert };
}

for (const backendName of BACKENDS) {
  describe(`key management centre on ${backendName}`, () => {
    let backend: TestBackend;
    let kmc: KmcServices;
    let app: FastifyInstance;
    let kmcCert: Certificate;
    let now = new Date();
    const ca = caIdentity('demo-sm2 KMC access');
    let task = 1n;

    const post = (body: Uint8Array) => app.inject({ method: 'POST', url: '/kmc', headers: { 'content-type': KMC_REQUEST_TYPE }, payload: Buffer.from(body) });
    const request = (requests: KmcRequestItem[], o: { key?: PrivateKey; taskNo?: bigint; time?: Date; caName?: Buffer } = {}) =>
      signKmcMessage(encodeKmcRequestBody({ caName: o.caName ?? ca.cert.subjectDer, requests, requestTime: o.time ?? now, taskNo: o.taskNo ?? task++ }), o.key ?? ca.key);
    /** Sends a request and returns the KMC's answers, checking the answer's signature against the pinned KMC certificate. */
    const call = async (der: Buffer): Promise<KmcResponseItem[]> => {
      const r = await post(der);
      assert.equal(r.statusCode, 200, r.body);
      const msg = parseSignedKmcMessage(r.rawPayload);
      assert.ok(kmcSignatureValid(msg, kmcCert.publicKey), 'the answer is signed by the KMC');
      return parseKmcResponseBody(msg.body).responses;
    };

    before(async () => {
      backend = await createBackend(backendName);
      kmc = await openKmcServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, clock: () => now });
      app = await buildKmcApp(kmc, { logger: false });
      kmcCert = Certificate.parse((await app.inject({ method: 'GET', url: '/kmc/certificate' })).rawPayload);
      await kmc.centre.addClient(SYSTEM_PRINCIPAL, 'demo-sm2', ca.cert);
    });
    after(async () => {
      await app?.close();
      await kmc?.close();
      await backend?.cleanup();
    });

    test('apply: an SM2 key enveloped to the holder; OpenSSL opens the envelope and finds the same key', async () => {
      const holderSign = generateKey('sm2');
      const [answer] = await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xa1n, recipientSpki: holderSign.publicKey.spki, notBefore: now, notAfter: addDays(now, 730), userName: '王医生' }]));
      assert.equal(answer!.type, 'key');
      if (answer!.type !== 'key') return;
      const ours = openSm2EnvelopedKey(answer.envelope, holderSign);
      assert.ok(ours.publicKey.spki.equals(answer.publicSpki));

      const parts = parseSm2EnvelopedKey(answer.envelope);
      const o = await outside();
      const sym = await o.openssl(['pkeyutl', '-decrypt', '-inkey', 'sign.key', '-in', 'sym.der', '-out', 'sym.bin'], { files: { 'sign.key': exportPrivateKey(holderSign), 'sym.der': parts.encryptedSymmetricKey }, outputs: ['sym.bin'] });
      assert.equal(sym.code, 0, sym.stderr);
      const d = await o.openssl(['enc', '-d', '-sm4-ecb', '-K', sym.outputs['sym.bin']!.toString('hex'), '-nopad', '-in', 'priv.bin', '-out', 'd.bin'], { files: { 'priv.bin': parts.encryptedPrivateKey }, outputs: ['d.bin'] });
      assert.equal(d.code, 0, d.stderr);
      const scalar = d.outputs['d.bin']!.subarray(-32);
      assert.ok(sm2PrivateKeyFromScalar(scalar).publicKey.spki.equals(answer.publicSpki), 'OpenSSL found the private key of the returned public key');
      assert.ok(scalar.equals(Buffer.from(ours.sm2D!)));

      // The escrow row holds the key sealed by the custody, never the envelope's recipient data.
      const escrows = await kmc.centre.escrows('demo-sm2');
      assert.deepEqual(escrows.map((e) => [e.certNo, e.state]), [['a1', 'active']]);
    });

    test('apply and restore a P-256 key: CMS EnvelopedData to the recipient certificate, which openssl cms -decrypt opens', async () => {
      const holder = generateKey('p256');
      const holderCert = buildCertificate({ serialNumber: randomSerial(), subject: parseName('C=CN,O=示例医院,CN=赵医生'), notBefore: now, notAfter: addDays(now, 365), publicKey: holder.publicKey, extensions: [basicConstraintsExt(false)] }, holder);
      const [noCert] = await call(request([{ type: 'apply', keyType: 'p256', userCertNo: 0x256n, recipientSpki: holder.publicKey.spki, notBefore: now, notAfter: addDays(now, 365) }]));
      assert.equal(noCert!.type, 'error', 'a CMS delivery needs the recipient certificate');
      const [answer] = await call(request([{ type: 'apply', keyType: 'p256', userCertNo: 0x257n, recipientSpki: holder.publicKey.spki, recipientCertificate: holderCert.der, notBefore: now, notAfter: addDays(now, 365) }]));
      assert.equal(answer!.type, 'key');
      const env = (answer as Extract<KmcResponseItem, { type: 'key' }>).envelope;
      const o = await outside();
      const opened = await o.openssl(['cms', '-decrypt', '-inform', 'DER', '-in', 'env.der', '-recip', 'cert.pem', '-inkey', 'key.pem', '-out', 'key.p8'], { files: { 'env.der': env, 'cert.pem': holderCert.toPem(), 'key.pem': exportPrivateKey(holder) }, outputs: ['key.p8'] });
      assert.equal(opened.code, 0, opened.stderr);
      const escrowed = importPrivateKey(opened.outputs['key.p8']!);
      assert.ok(escrowed.publicKey.spki.equals((answer as Extract<KmcResponseItem, { type: 'key' }>).publicSpki), 'OpenSSL found the key of the returned public key');
      // Restore to a new holder certificate.
      const next = generateKey('p256');
      const nextCert = buildCertificate({ serialNumber: randomSerial(), subject: parseName('C=CN,O=示例医院,CN=赵医生'), notBefore: now, notAfter: addDays(now, 365), publicKey: next.publicKey, extensions: [basicConstraintsExt(false)] }, next);
      const [restored] = await call(request([{ type: 'restore', userCertNo: 0x257n, recipientSpki: next.publicKey.spki, recipientCertificate: nextCert.der }]));
      const back = openEnvelopedPrivateKey((restored as Extract<KmcResponseItem, { type: 'key' }>).envelope, next, nextCert);
      assert.ok(back.publicKey.spki.equals(escrowed.publicKey.spki));
      const [mismatch] = await call(request([{ type: 'restore', userCertNo: 0x257n, recipientSpki: next.publicKey.spki, recipientCertificate: holderCert.der }]));
      assert.equal(mismatch!.type, 'error', 'the certificate must carry userPubKey');
    });

    test('restore after loss: the same key, enveloped to a fresh signing key, also after revoke; every step audited', async () => {
      const oldSign = generateKey('sm2');
      const [applied] = await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xb2n, recipientSpki: oldSign.publicKey.spki, notBefore: now, notAfter: addDays(now, 730) }]));
      const original = openSm2EnvelopedKey((applied as Extract<KmcResponseItem, { type: 'key' }>).envelope, oldSign);
      const [revoked] = await call(request([{ type: 'revoke', userCertNo: 0xb2n }]));
      assert.deepEqual(revoked, { type: 'revoked', userCertNo: 0xb2n });
      const newSign = generateKey('sm2');
      const [restored] = await call(request([{ type: 'restore', userCertNo: 0xb2n, recipientSpki: newSign.publicKey.spki }]));
      assert.equal(restored!.type, 'key');
      const recovered = openSm2EnvelopedKey((restored as Extract<KmcResponseItem, { type: 'key' }>).envelope, newSign);
      assert.ok(Buffer.from(recovered.sm2D!).equals(Buffer.from(original.sm2D!)), 'the escrowed key comes back');
      assert.throws(() => openSm2EnvelopedKey((restored as Extract<KmcResponseItem, { type: 'key' }>).envelope, oldSign), 'the lost key cannot open it');
      const audit = await sql<{ action: string }>`select action from audit_log where target = ${'kmc:demo-sm2/key:b2'} order by at, id`.execute(kmc.database.db);
      assert.deepEqual(audit.rows.map((r) => r.action), ['kmc.key.generate', 'kmc.key.revoke', 'kmc.key.restore']);
    });

    test('a repeated task is answered from the record; a reused task number with another request is refused', async () => {
      const holder = generateKey('sm2');
      const der = request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xc3n, recipientSpki: holder.publicKey.spki, notBefore: now, notAfter: addDays(now, 365) }], { taskNo: 1000n });
      const [first, second] = await Promise.all([post(der), post(der)]);
      assert.equal(first.statusCode, 200);
      assert.ok(first.rawPayload.equals(second.rawPayload), 'one answer, given twice');
      assert.equal((await kmc.centre.escrows('demo-sm2')).filter((e) => e.certNo === 'c3').length, 1);
      const other = await post(request([{ type: 'revoke', userCertNo: 0xc3n }], { taskNo: 1000n }));
      assert.equal(other.statusCode, 409);
      assert.match(other.json().message, /task 1000 .* was used for another request/);
    });

    test('refusals: unknown client, wrong signature, malformed, stale, duplicate, unknown key, non-SM2 recipient', async () => {
      const stranger = caIdentity('stranger');
      const unknown = await post(request([{ type: 'revoke', userCertNo: 1n }], { key: stranger.key, caName: stranger.cert.subjectDer }));
      assert.equal(unknown.statusCode, 403);
      const forged = await post(request([{ type: 'revoke', userCertNo: 1n }], { key: stranger.key }));
      assert.equal(forged.statusCode, 403);
      assert.match(forged.json().message, /not signed by the key of client "demo-sm2"/);
      for (const junk of [Buffer.alloc(0), Buffer.from('hello'), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])]) {
        const r = await post(junk);
        assert.equal(r.statusCode, 400, r.body);
        assert.equal(r.json().error, 'kmc.malformed');
      }
      const huge = await post(Buffer.alloc(200 * 1024, 0x30));
      assert.equal(huge.statusCode, 413);
      const refused = await sql<{ n: number }>`select count(*) as n from audit_log where action like 'kmc.refused.%'`.execute(kmc.database.db);
      assert.ok(Number(refused.rows[0]!.n) >= 2);

      const holder = generateKey('sm2');
      const [stale] = await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xd4n, recipientSpki: holder.publicKey.spki, notBefore: now, notAfter: addDays(now, 365) }], { time: new Date(now.getTime() - 3_600_000) }));
      assert.equal(stale!.type, 'error');
      assert.match((stale as Extract<KmcResponseItem, { type: 'error' }>).description, /requestTime/);
      const [dup] = await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xa1n, recipientSpki: holder.publicKey.spki, notBefore: now, notAfter: addDays(now, 365) }]));
      assert.deepEqual([dup!.type, (dup as { code?: number }).code], ['error', 5]);
      const [none] = await call(request([{ type: 'restore', userCertNo: 0xeeeen, recipientSpki: holder.publicKey.spki }]));
      assert.deepEqual([none!.type, (none as { code?: number }).code], ['error', 3]);
      const [p256] = await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0xf5n, recipientSpki: generateKey('p256').publicKey.spki, notBefore: now, notAfter: addDays(now, 365) }]));
      assert.equal(p256!.type, 'error');
    });

    test('retention: an escrowed key is destroyed once its retention after expiry ended, audited, and can no longer be restored', async () => {
      const holder = generateKey('sm2');
      await call(request([{ type: 'apply', keyType: 'sm2', userCertNo: 0x99n, recipientSpki: holder.publicKey.spki, notBefore: now, notAfter: addDays(now, 30) }]));
      now = addDays(now, 30 + 4 * 365);
      assert.equal((await kmc.centre.escrows('demo-sm2')).find((e) => e.certNo === '99')!.state, 'active', 'kept 4 years after expiry');
      await kmc.centre.destroyExpired();
      assert.equal((await kmc.centre.escrows('demo-sm2')).find((e) => e.certNo === '99')!.state, 'active');
      now = addDays(now, 366 + 2);
      const destroyed = await kmc.centre.destroyExpired();
      assert.ok(destroyed >= 1);
      assert.equal((await kmc.centre.escrows('demo-sm2')).find((e) => e.certNo === '99')!.state, 'destroyed');
      const [gone] = await call(request([{ type: 'restore', userCertNo: 0x99n, recipientSpki: holder.publicKey.spki }]));
      assert.equal(gone!.type, 'error');
      const sealed = await sql<{ n: number }>`select length(key_sealed) as n from kmc_keys where cert_no = '99'`.execute(kmc.database.db);
      assert.equal(Number(sealed.rows[0]!.n), 0, 'the sealed key bytes are gone');
    });
  });
}

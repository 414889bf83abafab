/**
 * Certificate login against the real demo deployment. Challenge-response with SM2 (signed by the
 * OpenSSL CLI with the GM/T 0009 user ID, so not only our own signer is proven) and P-256 holders;
 * refused: a replayed answer, a forged or tampered signature, another session's signature, an
 * expired or superseded challenge, garbage input, a certificate of a CA not on the trust list and
 * a revoked one. TLS client-certificate login over a real TLS connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { addDays, buildCertificate, exportPrivateKey, generateKey, parseName, randomSerial, signData } from '@health-pki/pki';
import { CertificateValidator, fromTlsSocket, LoginVerifier, loginToBeSigned, TrustStore, trustListCaPems, type LoginFailure, type LoginSuccess } from '../src/index.js';
import { RESIDENT_ID, startDeployment, type Deployment, type Holder } from './helpers/deployment.js';

const run = promisify(execFile);

/** Signs with the OpenSSL CLI: SM2 with SM3 and the default user ID, ECDSA with SHA-256. */
async function opensslSign(holder: Holder, data: Buffer): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-sdk-ossl-'));
  try {
    writeFileSync(join(dir, 'key.pem'), exportPrivateKey(holder.key, 'pem'));
    writeFileSync(join(dir, 'msg.bin'), data);
    const args =
      holder.alg === 'sm2'
        ? ['pkeyutl', '-sign', '-inkey', 'key.pem', '-rawin', '-in', 'msg.bin', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678', '-out', 'sig.bin']
        : ['dgst', '-sha256', '-sign', 'key.pem', '-out', 'sig.bin', 'msg.bin'];
    await run('openssl', args, { cwd: dir });
    return readFileSync(join(dir, 'sig.bin'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('certificate login', () => {
  let d: Deployment;
  let trust: TrustStore;
  let validator: CertificateValidator;
  let now = Date.now();
  let verifier: LoginVerifier;
  const holders: Record<string, Holder> = {};

  before(async () => {
    d = await startDeployment();
    trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
    assert.equal((await trust.refresh()).accepted, true);
    validator = new CertificateValidator({ trust });
    verifier = new LoginVerifier({ validator, ttlMs: 60_000, clock: () => new Date(now) });
    holders.sm2 = await d.issue('demo-sm2');
    holders.p256 = await d.issue('demo-p256');
  });
  after(async () => {
    await d?.close();
  });

  for (const alg of ['sm2', 'p256'] as const) {
    test(`${alg}: a challenge signed by the holder's key (OpenSSL) logs in once; the replay is refused`, async () => {
      const h = holders[alg]!;
      const ch = await verifier.challenge(`session-${alg}`);
      assert.equal(ch.toBeSigned.toString('utf8').split('\n')[0], 'health-pki sdk login v1');
      assert.deepEqual(ch.toBeSigned, loginToBeSigned(ch.nonce, `session-${alg}`));
      const sig = await opensslSign(h, ch.toBeSigned);
      const r = await verifier.verify(`session-${alg}`, h.certificate.toPem(), sig.toString('base64'));
      assert.equal(r.ok, true, (r as LoginFailure).reason);
      const ok = r as LoginSuccess;
      assert.equal(ok.identity.key, `person:resident-id:${RESIDENT_ID}`);
      assert.equal(ok.validation.ca, h.ca);
      assert.equal(ok.validation.revocation?.status, 'good');

      const replay = await verifier.verify(`session-${alg}`, h.certificate, sig);
      assert.equal(replay.ok, false);
      assert.match((replay as LoginFailure).reason, /no outstanding challenge/);
    });
  }

  test('forged answers: another key, a flipped bit, another session\'s signature, garbage', async () => {
    const h = holders.sm2!;
    // Signed by a different SM2 key but presented with the holder's certificate.
    let ch = await verifier.challenge('s1');
    const stranger = generateKey('sm2');
    const forged = await verifier.verify('s1', h.certificate, signData(stranger, ch.toBeSigned).signature);
    assert.equal(forged.ok, false);
    assert.match((forged as LoginFailure).reason, /signature does not verify/);

    ch = await verifier.challenge('s1');
    const sig = signData(h.key, ch.toBeSigned).signature;
    sig[sig.length - 3] ^= 0x01;
    assert.match(((await verifier.verify('s1', h.certificate, sig)) as LoginFailure).reason, /signature does not verify/);

    // Session binding: a valid answer for session A presented in session B.
    const a = await verifier.challenge('A');
    await verifier.challenge('B');
    const sigA = signData(h.key, a.toBeSigned).signature;
    const crossed = await verifier.verify('B', h.certificate, sigA);
    assert.equal(crossed.ok, false);
    assert.match((crossed as LoginFailure).reason, /signature does not verify over this session's challenge/);
    assert.equal((await verifier.verify('A', h.certificate, sigA)).ok, true, 'in its own session it works');

    await verifier.challenge('g');
    assert.match(((await verifier.verify('g', 'not a certificate', 'AAAA')) as LoginFailure).reason, /certificate cannot be read/);
    await verifier.challenge('g');
    assert.match(((await verifier.verify('g', h.certificate, '***')) as LoginFailure).reason, /not base64/);
    assert.match(((await verifier.verify('', h.certificate, 'AAAA')) as LoginFailure).reason, /no session id/);
    assert.match(((await verifier.verify('never-asked', h.certificate, 'AAAA')) as LoginFailure).reason, /no outstanding challenge/);
    await assert.rejects(verifier.challenge(''), /session id/);
  });

  test('an expired challenge and a superseded one are refused', async () => {
    const h = holders.p256!;
    const ch = await verifier.challenge('slow');
    now += 61_000;
    try {
      const late = await verifier.verify('slow', h.certificate, signData(h.key, ch.toBeSigned).signature);
      assert.match((late as LoginFailure).reason, /expired/);
    } finally {
      now -= 61_000;
    }
    const first = await verifier.challenge('twice');
    await verifier.challenge('twice');
    const old = await verifier.verify('twice', h.certificate, signData(h.key, first.toBeSigned).signature);
    assert.match((old as LoginFailure).reason, /does not verify/, 'only the newest challenge of a session counts');
  });

  test('a correctly signed login with a certificate of a CA not on the trust list, or a revoked one, is refused', async () => {
    await d.createUnadmittedCa('rogue-login', 'sm2');
    const rogue = await d.issue('rogue-login', { alg: 'sm2' });
    let ch = await verifier.challenge('r');
    const r = await verifier.verify('r', rogue.certificate, signData(rogue.key, ch.toBeSigned).signature, rogue.chain);
    assert.equal(r.ok, false);
    assert.match((r as LoginFailure).reason, /not issued by a CA on the platform's trust list/);

    const revoked = await d.issue('demo-p256');
    await d.revoke(revoked);
    ch = await verifier.challenge('rv');
    const rv = await verifier.verify('rv', revoked.certificate, signData(revoked.key, ch.toBeSigned).signature);
    assert.equal(rv.ok, false);
    assert.match((rv as LoginFailure).reason, /revoked/);
    assert.equal((rv as LoginFailure).validation?.code, 'revoked');
  });

  test('TLS client certificate: a trusted holder logs in, no certificate or an untrusted one does not', async () => {
    const serverKey = generateKey('p256');
    const t0 = new Date();
    const serverCert = buildCertificate({ serialNumber: randomSerial(), subject: parseName('CN=127.0.0.1'), notBefore: t0, notAfter: addDays(t0, 1), publicKey: serverKey.publicKey }, serverKey);
    const server = tls.createServer({ cert: serverCert.toPem(), key: exportPrivateKey(serverKey, 'pem'), requestCert: true, rejectUnauthorized: false, ca: trustListCaPems(trust) }, (socket) => {
      void fromTlsSocket(socket, validator).then((r) => socket.end(JSON.stringify(r.ok ? { ok: true, key: r.identity.key, ca: r.validation.ca } : { ok: false, reason: r.reason })));
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    const connect = (client?: Holder) =>
      new Promise<any>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(client ? { cert: client.certificate.toPem(), key: exportPrivateKey(client.key, 'pem') } : {}) });
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        s.on('error', reject);
      });
    try {
      const ok = await connect(holders.p256);
      assert.deepEqual(ok, { ok: true, key: `person:resident-id:${RESIDENT_ID}`, ca: 'demo-p256' });
      const none = await connect();
      assert.equal(none.ok, false);
      assert.match(none.reason, /presented no certificate/);
      await d.createUnadmittedCa('rogue-tls', 'p256');
      const rogue = await d.issue('rogue-tls', { alg: 'p256' });
      const refused = await connect(rogue);
      assert.equal(refused.ok, false);
      assert.match(refused.reason, /not issued by a CA on the platform's trust list/);
    } finally {
      server.close();
    }
  });
});

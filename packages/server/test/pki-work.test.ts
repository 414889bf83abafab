/**
 * The pure issuance work (CSR examination, signing) gives the same answers in worker threads as
 * in the service's own thread: the same fields, the same certificates, and the same typed
 * errors (so a refusal stays a 4xx naming the rule after crossing a thread boundary). A worker
 * that dies takes only its own calls down and is replaced.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Certificate, checkCertificate, generateKey, getProfile, issueFromProfile, parseName, randomSerial, type PrivateKey } from '@health-pki/pki';
import { InThreadPkiWork, WorkerPkiWork, type SigningIssuer } from '../src/work/pki-work.js';
import type { PoolWorker } from '../src/work/pool.js';
import type { ExamineTask } from '../src/work/pki-tasks.js';
import { describeHttpError } from '../src/http/errors.js';
import { RESIDENT_ID, makeCsr } from './helpers/pki.js';

/** Issuer ids are unique per key, as a CA's are: a workbench keeps the key it was given for an id. */
let issuers = 0;

function issuerFor(alg: 'p256' | 'sm2'): { issuer: SigningIssuer; root: Certificate } {
  const rootKey: PrivateKey = generateKey(alg);
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=test,CN=test root'), publicKey: rootKey.publicKey, issuerKey: rootKey });
  const key = generateKey(alg);
  const cert = issueFromProfile({ profile: 'sub-ca', subject: parseName('C=CN,O=test,CN=test issuing CA'), publicKey: key.publicKey, issuerCert: root, issuerKey: rootKey });
  return { issuer: { id: `issuer-${alg}-${++issuers}`, cert, key }, root };
}

function opensslRsa1024Csr(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-work-'));
  try {
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'rsa:1024', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.pem'), '-subj', '/C=CN/O=Example Hospital/CN=Zhang San'], { stdio: 'ignore' });
    return readFileSync(join(dir, 'r.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The outcome of a call as comparable data: the value, or the error's class, fields and HTTP answer. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (e) {
    const err = e as Error & Record<string, unknown>;
    return { error: err.constructor.name, message: err.message, code: err.code, rule: err.rule, http: describeHttpError(e) };
  }
}

describe('pki work in worker threads and in the service thread', () => {
  const inThread = new InThreadPkiWork();
  let workers: WorkerPkiWork;

  before(() => {
    workers = new WorkerPkiWork(2);
  });

  after(async () => {
    await workers?.close();
  });

  test('examining requests: the same facts and the same typed errors (4xx naming the rule) in both', async () => {
    const now = Date.now();
    const farFuture = now + 20 * 365 * 86_400_000;
    const good = makeCsr('p256', undefined, undefined, 'zhangsan@hospital.example').pem;
    const goodDer = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const tampered = Buffer.from(goodDer);
    tampered[tampered.length - 5]! ^= 0x01;
    const precheck = (profile: string) => ({ profile, issuerNotAfter: farFuture, now });
    const cases: Array<[string, ExamineTask]> = [
      ['good P-256, PEM', { csr: good, precheck: precheck('staff-sign') }],
      ['good P-256, DER', { csr: goodDer }],
      ['good SM2', { csr: makeCsr('sm2').pem, precheck: precheck('staff-sign') }],
      ['wrong signature', { csr: tampered }],
      ['garbage', { csr: Buffer.from('not a certification request at all') }],
      ['truncated', { csr: goodDer.subarray(0, 60) }],
      ['huge', { csr: Buffer.alloc(40_000, 0x30) }],
      ['RSA-1024 for a profile that refuses it', { csr: opensslRsa1024Csr(), precheck: precheck('staff-sign') }],
      ['unknown profile', { csr: good, precheck: precheck('no-such-profile') }],
      ['encryption profile', { csr: good, precheck: precheck('staff-enc') }],
      ['identity differs from the CSR', { csr: good, identity: { residentId: '110105194912310037' } }],
      ['identity the profile needs is missing', { csr: makeCsr('p256', undefined, {}).pem, precheck: precheck('staff-sign') }],
      ['the issuing CA expires first', { csr: good, precheck: { profile: 'staff-sign', issuerNotAfter: now + 86_400_000, now } }],
    ];
    let refusals = 0;
    for (const [name, task] of cases) {
      const here = await outcome(inThread.examine(task));
      const there = await outcome(workers.examine(task));
      assert.deepEqual(there, here, name);
      const http = (here as { http?: { status: number } }).http;
      if (http) {
        refusals++;
        assert.ok(http.status >= 400 && http.status < 500, `${name}: ${JSON.stringify(here)}`);
      }
    }
    assert.equal(refusals, cases.length - 3, 'every bad case was refused');
    const ok = (await workers.examine({ csr: good })) as { spki: Buffer; subjectDer: Buffer; csrIdentity: unknown; csrAltNames: unknown };
    assert.ok(Buffer.isBuffer(ok.spki) && Buffer.isBuffer(ok.subjectDer), 'bytes come back as Buffers');
    assert.deepEqual(ok.csrIdentity, { residentId: RESIDENT_ID });
    assert.deepEqual(ok.csrAltNames, [{ type: 'email', value: 'zhangsan@hospital.example' }]);
  });

  for (const alg of ['p256', 'sm2'] as const) {
    test(`signing (${alg}): the certificate made in a worker is the one made here (same TBS), verifies and passes the profile lint`, async () => {
      const { issuer } = issuerFor(alg);
      const examined = await inThread.examine({ csr: makeCsr(alg).pem });
      const task = {
        profile: 'staff-sign',
        subjectDer: examined.subjectDer,
        spki: examined.spki,
        identity: examined.csrIdentity,
        notBefore: Math.floor(Date.now() / 1000) * 1000,
        serial: randomSerial(),
        urls: { crlUrls: ['http://pki.test/crl'], ocspUrls: ['http://pki.test/ocsp'], caIssuersUrls: ['http://pki.test/ca.crt'] },
      };
      const here = await inThread.sign(task, issuer);
      // Twice: the first call carries the key to the worker, the second finds it there.
      for (let i = 0; i < 2; i++) {
        const there = await workers.sign(task, issuer);
        const a = Certificate.parse(here.der);
        const b = Certificate.parse(there.der);
        assert.ok(b.tbsDer.equals(a.tbsDer), 'same to-be-signed certificate');
        assert.equal(b.verifySignature(issuer.cert.publicKey), true);
        checkCertificate(getProfile('staff-sign'), b, issuer.cert);
        assert.deepEqual({ ...there, der: undefined }, { ...here, der: undefined });
      }
    });
  }

  test('examining with `sign` (one trip, as an enrollment does) gives the certificate `sign` gives; a refused request signs nothing', async () => {
    const { issuer } = issuerFor('p256');
    const csr = makeCsr('p256').pem;
    const plan = { issuerId: issuer.id, notBefore: Math.floor(Date.now() / 1000) * 1000, serial: randomSerial(), urls: { crlUrls: ['http://pki.test/crl'], ocspUrls: ['http://pki.test/ocsp'], caIssuersUrls: ['http://pki.test/ca.crt'] } };
    const precheck = { profile: 'staff-sign', issuerNotAfter: issuer.cert.notAfter.getTime(), now: Date.now() };
    const examined = await inThread.examine({ csr });
    const separate = await inThread.sign({ profile: 'staff-sign', subjectDer: examined.subjectDer, spki: examined.spki, identity: examined.csrIdentity, altNames: examined.csrAltNames, notBefore: plan.notBefore, serial: plan.serial, urls: plan.urls }, issuer);
    for (const work of [inThread, workers]) {
      const both = await work.examine({ csr, precheck, sign: plan }, issuer);
      assert.ok(both.signed, 'signed in the same pass');
      assert.ok(Certificate.parse(both.signed.der).tbsDer.equals(Certificate.parse(separate.der).tbsDer), 'the same to-be-signed certificate');
      assert.equal(Certificate.parse(both.signed.der).verifySignature(issuer.cert.publicKey), true);
      // A request the precheck refuses (a profile that holders cannot apply for) is not signed.
      const refused = await outcome(work.examine({ csr, precheck: { ...precheck, profile: 'sub-ca' }, sign: plan }, issuer));
      assert.equal((refused as { http: { status: number } }).http.status, 422);
    }
    // A signing examination needs its issuer and precheck.
    await assert.rejects(workers.examine({ csr, sign: plan }, issuer), /needs its precheck and its issuer/);
  });

  test('an issuing key that does not belong to its certificate is refused before it signs anything (pairwise consistency test)', async () => {
    const { issuer } = issuerFor('p256');
    const wrong: SigningIssuer = { id: 'issuer-wrong-key', cert: issuer.cert, key: generateKey('p256') };
    const examined = await inThread.examine({ csr: makeCsr('p256').pem });
    const task = { profile: 'staff-sign', subjectDer: examined.subjectDer, spki: examined.spki, identity: examined.csrIdentity, notBefore: Date.now(), serial: randomSerial(), urls: {} };
    await assert.rejects(new InThreadPkiWork().sign(task, wrong), /pairwise consistency test failed/);
    await assert.rejects(workers.sign(task, wrong), /pairwise consistency test failed/);
  });

  test('a profile rule broken at signing is the same ProfileError, also from a worker', async () => {
    const { issuer } = issuerFor('p256');
    const examined = await inThread.examine({ csr: makeCsr('p256', undefined, {}).pem });
    const task = { profile: 'staff-sign', subjectDer: examined.subjectDer, spki: examined.spki, notBefore: Date.now(), serial: randomSerial(), urls: {} };
    const here = await outcome(inThread.sign(task, issuer));
    const there = await outcome(workers.sign(task, issuer));
    assert.deepEqual(there, here);
    assert.equal((here as { http: { status: number } }).http.status, 422);
  });

  test('a worker that dies rejects only its own calls; it is replaced and signing goes on', async () => {
    const pool = new WorkerPkiWork(2);
    try {
      const { issuer } = issuerFor('p256');
      const examined = await pool.examine({ csr: makeCsr('p256').pem });
      const task = () => ({ profile: 'staff-sign', subjectDer: examined.subjectDer, spki: examined.spki, identity: examined.csrIdentity, notBefore: Date.now(), serial: randomSerial(), urls: {} });
      // Both workers get the key.
      await Promise.all([pool.sign(task(), issuer), pool.sign(task(), issuer)]);
      const [doomed, survivor] = pool.workers() as [PoolWorker, PoolWorker];
      const calls: Array<{ worker: PoolWorker; result: Promise<unknown> }> = [];
      for (let i = 0; i < 24; i++) {
        const before = doomed.load;
        const result = outcome(pool.sign(task(), issuer));
        calls.push({ worker: doomed.load > before ? doomed : survivor, result });
      }
      await doomed.crashForTest();
      const results = await Promise.all(calls.map(async (c) => ({ worker: c.worker, r: (await c.result) as { ok?: { der: Buffer }; message?: string } })));
      const lost = results.filter((x) => x.r.ok === undefined);
      assert.ok(lost.length > 0, 'calls in flight on the dead worker were rejected');
      for (const x of lost) {
        assert.equal(x.worker, doomed, 'only calls of the dead worker fail');
        assert.match(x.r.message!, /worker thread stopped/);
      }
      assert.ok(results.filter((x) => x.worker === survivor).every((x) => x.r.ok), 'the other worker answered all of its calls');
      // The replacement holds no key: it is sent again with its first certificate.
      assert.notEqual(pool.workers()[0], doomed, 'the dead worker was replaced');
      const again = await Promise.all([pool.sign(task(), issuer), pool.sign(task(), issuer), pool.sign(task(), issuer)]);
      for (const c of again) assert.equal(Certificate.parse(c.der).verifySignature(issuer.cert.publicKey), true);
      assert.equal(pool.threads, 2);
    } finally {
      await pool.close();
    }
  });
});

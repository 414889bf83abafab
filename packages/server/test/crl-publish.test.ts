/**
 * CRL publishing end to end, ECDSA P-256 and SM2, on SQLite and PostgreSQL: issue → revoke (with
 * reason and invalidity date) → within about a second the delta CRL served over HTTP lists it →
 * OpenSSL (P-256) and BouncyCastle (SM2) check the CRLs' signatures and reject the revoked
 * certificate while accepting a good one → our PathValidator accepts complete + delta CRLs and
 * reports the revocation → hold then release shows as removeFromCRL in the delta → CRL numbers go
 * on increasing after a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Certificate, Crl, EXT, PathValidator, type KeyAlgorithm } from '@health-pki/pki';
import type { FastifyInstance } from 'fastify';
import { bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';
import { outside } from './helpers/outside.js';

const BASE = 'http://pki.test:8080';

type Der = Uint8Array;
interface Verdict {
  ok: boolean;
  output: string;
}
/** The outside verifiers this test uses, typed with their CRL options (packages/pki/test/helpers/outside.ts). */
interface CrlCheckers {
  opensslCrlVerify(crl: Der, issuer: Der): Promise<Verdict>;
  opensslVerifyCert(o: { leaf: Der; chain?: Der[]; trusted: Der; crls?: Der[]; crlCheck?: 'leaf' | 'all'; extraArgs?: string[] }): Promise<Verdict>;
  bcCheck(jobs: Array<{ kind: 'crl'; crl: Der; issuer: Der } | { kind: 'path'; anchor: Der; chain: Der[]; crls?: Der[] }>): Promise<Verdict[]>;
}

/** Fetches a CRL over HTTP until `done` says it is the one awaited; returns it and how long that took. */
async function awaitCrl(api: Api, path: string, done: (crl: Crl) => boolean, limitMs = 5_000): Promise<{ crl: Crl; ms: number }> {
  const start = performance.now();
  for (;;) {
    const r = await api('GET', path);
    assert.equal(r.status, 200, `${path}: ${r.body.toString().slice(0, 200)}`);
    const crl = Crl.parse(r.body);
    if (done(crl)) return { crl, ms: performance.now() - start };
    if (performance.now() - start > limitMs) assert.fail(`${path} did not show the change within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const backendName of BACKENDS) {
  describe(`CRL publishing on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    let api: Api;
    let admin: string;
    let officer: string;

    const open = async () => {
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkiThreads: 0 });
      app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
    };
    const close = async () => {
      await app?.close();
      await services?.close();
    };

    before(async () => {
      backend = await createBackend(backendName);
      await open();
      const boot = await bootstrap(services, backend.dataDir);
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      officer = (await api('POST', '/api/v1/officers', { id: 'officer-crl' }, admin)).json.token;
      assert.ok(officer);
    });

    after(async () => {
      await close();
      await backend?.cleanup();
    });

    const enroll = async (caName: string, alg: KeyAlgorithm): Promise<Certificate> => {
      const r = await api('POST', `/api/v1/cas/${caName}/enroll`, { profile: 'staff-sign', csr: makeCsr(alg).pem, applicant: { name: '张三' } }, admin);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return Certificate.parse(r.json.certificate.pem);
    };

    for (const alg of ['p256', 'sm2'] as KeyAlgorithm[]) {
      const caName = alg === 'sm2' ? 'demo-sm2' : 'demo-p256';

      test(`${alg}: revoke → delta CRL over HTTP within ~1 s → outside verifiers and our validator agree; hold/release → removeFromCRL`, async (t) => {
        const ca = (await api('GET', `/api/v1/cas/${caName}`)).json;
        const root = Certificate.parse(ca.issuers[0].pem);
        const issuing = Certificate.parse(ca.issuers[1].pem);
        const good = await enroll(caName, alg);
        const bad = await enroll(caName, alg);
        const held = await enroll(caName, alg);
        assert.deepEqual(bad.crlUrls, [`${BASE}/ca/${caName}/issuing-1.crl`]);

        // The complete CRL before anything is revoked: empty, with the RFC 5280 extensions.
        const full0 = Crl.parse((await api('GET', `/ca/${caName}/issuing-1.crl`)).body);
        assert.equal(full0.revokedCount, 0);
        assert.equal(full0.isDelta, false);
        assert.ok(full0.crlNumber !== undefined);
        assert.deepEqual(full0.issuingDistributionPoint?.distributionPoint?.fullName?.map((g) => g.uniformResourceIdentifier), [`${BASE}/ca/${caName}/issuing-1.crl`]);
        assert.equal(full0.issuingDistributionPoint?.onlyContainsUserCerts, true);
        assert.ok(full0.extension(EXT.freshestCrl), 'the complete CRL points at its delta CRLs');
        assert.ok(full0.authorityKeyId?.equals(issuing.subjectKeyId!), 'AKI names the issuing CA key');

        // Revoke with a reason and an invalidity date: the delta CRL served over HTTP lists it soon.
        const invalidity = new Date(Date.now() - 3_600_000);
        const revoked = await api('POST', `/api/v1/cas/${caName}/certificates/${bad.serialHex}/revoke`, { reason: 'keyCompromise', invalidityDate: invalidity.toISOString() }, officer);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
        const { crl: delta, ms } = await awaitCrl(api, `/ca/${caName}/issuing-1-delta.crl`, (c) => c.findRevoked(bad.serialNumber) !== undefined);
        assert.ok(ms < 2_000, `the delta CRL listed the revocation after ${Math.round(ms)} ms`);
        t.diagnostic(`revocation → delta CRL over HTTP listing it: ${Math.round(ms)} ms`);
        assert.equal(delta.isDelta, true);
        assert.ok(delta.baseCrlNumber !== undefined && delta.crlNumber! > delta.baseCrlNumber);
        const deltaEntry = delta.findRevoked(bad.serialNumber)!;
        assert.equal(deltaEntry.reason, 'keyCompromise');
        assert.equal(deltaEntry.invalidityDate?.toISOString(), new Date(Math.floor(invalidity.getTime() / 1000) * 1000).toISOString());
        assert.equal(delta.findRevoked(good.serialNumber), undefined);
        const baseFull = Crl.parse((await api('GET', `/ca/${caName}/issuing-1.crl`)).body);
        assert.equal(baseFull.crlNumber, delta.baseCrlNumber, 'the delta applies to the complete CRL served beside it');

        // Our validator: complete + delta CRLs (and the root's CRL for the issuing CA certificate).
        const rootCrl = Crl.parse((await api('GET', `/ca/${caName}/root.crl`)).body);
        assert.equal(rootCrl.issuingDistributionPoint?.onlyContainsCACerts, true);
        assert.equal(rootCrl.issuingDistributionPoint?.distributionPoint, undefined, "the root's CRL also covers the root, which has no CRL distribution point");
        const validator = new PathValidator({ anchors: [root], intermediates: [issuing], crls: [rootCrl, baseFull, delta] });
        const vBad = validator.validate(bad);
        assert.equal(vBad.valid, false);
        assert.equal(!vBad.valid && vBad.reason.code, 'revoked', JSON.stringify(!vBad.valid && vBad.reason));
        assert.equal(!vBad.valid && vBad.reason.details?.reason, 'keyCompromise');
        assert.equal(!vBad.valid && vBad.reason.details?.fromDeltaCrl, true);
        const vGood = validator.validate(good);
        assert.ok(vGood.valid, JSON.stringify(!vGood.valid && vGood.reason));

        // A new complete CRL lists it too.
        await services.crls.refreshNow(caName, 'issuing-1', 'full');
        const full1 = Crl.parse((await api('GET', `/ca/${caName}/issuing-1.crl`)).body);
        assert.ok(full1.crlNumber! > delta.crlNumber!, 'CRL numbers increase across kinds');
        assert.equal(full1.findRevoked(bad.serialNumber)?.reason, 'keyCompromise');
        assert.equal(full1.revokedCount, 1);

        const o = (await outside()) as unknown as CrlCheckers;
        if (alg === 'p256') {
          for (const c of [full1, delta, rootCrl]) {
            const sig = await o.opensslCrlVerify(c.der, c === rootCrl ? root.der : issuing.der);
            assert.ok(sig.ok, sig.output);
          }
          const rejected = await o.opensslVerifyCert({ leaf: bad.der, chain: [issuing.der], trusted: root.der, crls: [full1.der] });
          assert.equal(rejected.ok, false);
          assert.match(rejected.output, /certificate revoked/);
          const accepted = await o.opensslVerifyCert({ leaf: good.der, chain: [issuing.der], trusted: root.der, crls: [full1.der] });
          assert.ok(accepted.ok, accepted.output);
          const all = await o.opensslVerifyCert({ leaf: good.der, chain: [issuing.der], trusted: root.der, crls: [full1.der, rootCrl.der], crlCheck: 'all' });
          assert.ok(all.ok, all.output);
          // OpenSSL with delta CRLs: the old complete CRL plus the delta rejects it as well.
          const viaDelta = await o.opensslVerifyCert({ leaf: bad.der, chain: [issuing.der], trusted: root.der, crls: [baseFull.der, delta.der], extraArgs: ['-use_deltas'] });
          assert.equal(viaDelta.ok, false);
          assert.match(viaDelta.output, /certificate revoked/);
        } else {
          const bc = await o.bcCheck([
            { kind: 'crl', crl: full1.der, issuer: issuing.der },
            { kind: 'crl', crl: delta.der, issuer: issuing.der },
            { kind: 'crl', crl: rootCrl.der, issuer: root.der },
            { kind: 'path', anchor: root.der, chain: [good.der, issuing.der], crls: [full1.der, rootCrl.der] },
            { kind: 'path', anchor: root.der, chain: [bad.der, issuing.der], crls: [full1.der, rootCrl.der] },
          ]);
          for (const v of bc.slice(0, 4)) assert.ok(v.ok, v.output);
          assert.equal(bc[4]!.ok, false, bc[4]!.output);
          assert.match(bc[4]!.output, /revocation.*keyCompromise/i);
        }

        // Hold: listed as certificateHold; release: the delta says removeFromCRL, and the holder is good again.
        assert.equal((await api('POST', `/api/v1/cas/${caName}/certificates/${held.serialHex}/hold`, {}, officer)).status, 200);
        await awaitCrl(api, `/ca/${caName}/issuing-1-delta.crl`, (c) => c.findRevoked(held.serialNumber)?.reason === 'certificateHold');
        await services.crls.refreshNow(caName, 'issuing-1', 'full');
        const fullHeld = Crl.parse((await api('GET', `/ca/${caName}/issuing-1.crl`)).body);
        assert.equal(fullHeld.findRevoked(held.serialNumber)?.reason, 'certificateHold');
        const vHeld = new PathValidator({ anchors: [root], intermediates: [issuing], crls: [rootCrl, fullHeld] }).validate(held);
        assert.equal(!vHeld.valid && vHeld.reason.code, 'revoked');
        assert.equal((await api('POST', `/api/v1/cas/${caName}/certificates/${held.serialHex}/release`, {}, officer)).status, 200);
        const { crl: released } = await awaitCrl(api, `/ca/${caName}/issuing-1-delta.crl`, (c) => c.findRevoked(held.serialNumber)?.reason === 'removeFromCRL');
        assert.equal(released.baseCrlNumber, fullHeld.crlNumber);
        assert.equal(released.findRevoked(bad.serialNumber)?.reason, 'keyCompromise', 'the delta still lists what changed since its base');
        const vReleased = new PathValidator({ anchors: [root], intermediates: [issuing], crls: [rootCrl, fullHeld, released] }).validate(held);
        assert.ok(vReleased.valid, JSON.stringify(!vReleased.valid && vReleased.reason));
        if (alg === 'p256') {
          const r = await o.opensslVerifyCert({ leaf: held.der, chain: [issuing.der], trusted: root.der, crls: [fullHeld.der, released.der], extraArgs: ['-use_deltas'] });
          assert.ok(r.ok, r.output);
        }
        await services.crls.refreshNow(caName, 'issuing-1', 'full');
        const fullAfter = Crl.parse((await api('GET', `/ca/${caName}/issuing-1.crl`)).body);
        assert.equal(fullAfter.findRevoked(held.serialNumber), undefined, 'a released certificate leaves the complete CRL');
      });
    }

    test('cache headers: ETag, Last-Modified, max-age up to nextUpdate, 304 on If-None-Match; bad paths are 404 with a message', async () => {
      const r = await api('GET', '/ca/demo-p256/issuing-1.crl');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/pkix-crl');
      const crl = Crl.parse(r.body);
      const etag = r.headers.etag as string;
      assert.match(etag, /^"[0-9a-f]{64}"$/);
      assert.equal(r.headers['last-modified'], crl.thisUpdate.toUTCString());
      assert.equal(r.headers.expires, crl.nextUpdate!.toUTCString());
      const maxAge = Number(/max-age=(\d+)/.exec(r.headers['cache-control'] as string)?.[1]);
      assert.ok(maxAge > 0 && maxAge * 1000 <= crl.nextUpdate!.getTime() - Date.now() + 1000, `max-age ${maxAge}`);
      const again = await app.inject({ method: 'GET', url: '/ca/demo-p256/issuing-1.crl', headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304);
      assert.equal(again.rawPayload.length, 0);
      const other = await app.inject({ method: 'GET', url: '/ca/demo-p256/issuing-1.crl', headers: { 'if-none-match': '"00"' } });
      assert.equal(other.statusCode, 200);
      const d = await api('GET', '/ca/demo-sm2/issuing-1-delta.crl');
      assert.equal(d.status, 200);
      assert.ok(Number(/max-age=(\d+)/.exec(d.headers['cache-control'] as string)?.[1]) <= 60, 'delta CRLs are cached briefly');

      for (const [path, code] of [
        ['/ca/demo-p256/issuing-9.crl', 'crl.unknown'],
        ['/ca/nope/issuing-1.crl', 'ca.unknown'],
        ['/ca/demo-p256/issuing-1-p7.crl', 'crl.partition.unknown'],
        ['/ca/demo-p256/issuing-1.crl.txt', 'publication.unknown'],
        ['/ca/demo-p256/ISSUING-1.crl', 'publication.unknown'],
      ] as const) {
        const bad = await api('GET', path);
        assert.equal(bad.status, 404, path);
        assert.equal(bad.json.error, code, path);
        assert.ok(bad.json.message.length > 10);
      }
    });

    test('CRL numbers strictly increase across a restart', async () => {
      const before = await services.crls.current('demo-p256', 'issuing-1', 'delta');
      assert.ok(before);
      await close();
      await open();
      const full = await services.crls.refreshNow('demo-p256', 'issuing-1', 'full');
      assert.ok(full.number > before.number, `${full.number} > ${before.number}`);
      const delta = await services.crls.current('demo-p256', 'issuing-1', 'delta');
      assert.ok(delta!.number > full.number && delta!.baseNumber === full.number);
    });
  });
}

/**
 * The OCSP responder end to end over HTTP, for ECDSA P-256 and SM2, on SQLite and PostgreSQL:
 * issue → `openssl ocsp` (P-256) or BouncyCastle (SM2) says good → revoke with a reason → within
 * 1 s the answer is revoked with that reason; hold is revoked/certificateHold and release makes
 * it good again; unknown serials, foreign issuers, nonces, GET with RFC 5019 caching headers,
 * SHA-1/SHA-256/SM3 CertIDs, the root's answers for the issuing CA, and our own verifier.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Certificate, OID, verifyOcspResponse, type OcspResponse } from '@health-pki/pki';
import { BACKENDS } from './helpers/backends.js';
import { outside } from './helpers/outside.js';
import { ocspGet, ocspPost, ocspRequestDer, startOcspDeployment, until, type OcspDeployment } from './helpers/ocsp.js';

const pem = (c: Certificate) => c.toPem();

function single(resp: OcspResponse) {
  assert.equal(resp.status, 'successful');
  assert.equal(resp.responses.length, 1);
  return resp.responses[0]!;
}

for (const backendName of BACKENDS) {
  describe(`OCSP responder on ${backendName}`, () => {
    let d: OcspDeployment;

    before(async () => {
      d = await startOcspDeployment(backendName);
    });
    after(async () => {
      await d?.close();
    });

    test('P-256: openssl ocsp says good (with and without nonce) → revoked (keyCompromise) within 1 s of the revocation', async () => {
      const { root, issuing } = await d.cas('demo-p256');
      const leaf = await d.issue('demo-p256', 'p256');
      const { openssl } = await outside();
      const ask = (extra: string[]) =>
        openssl(['ocsp', '-issuer', 'issuing.pem', '-cert', 'leaf.pem', '-url', `${d.url}/ocsp/demo-p256`, '-CAfile', 'root.pem', '-verify_other', 'issuing.pem', ...extra], {
          files: { 'issuing.pem': pem(issuing), 'leaf.pem': pem(leaf), 'root.pem': pem(root) },
        });
      for (const extra of [[], ['-no_nonce']]) {
        const r = await ask(extra);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /leaf\.pem: good/);
        assert.match(r.stderr + r.stdout, /Response verify OK/);
        assert.doesNotMatch(r.stderr + r.stdout, /WARNING/);
      }

      const revoked = await d.api('POST', `/api/v1/cas/demo-p256/certificates/${leaf.serialHex}/revoke`, { reason: 'keyCompromise' }, d.admin);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
      const req = ocspRequestDer(leaf, issuing);
      const ms = await until(async () => single((await ocspPost(d.url, 'demo-p256', req)).response).status === 'revoked', 1000);
      const s = single((await ocspPost(d.url, 'demo-p256', req)).response);
      assert.equal(s.reason, 'keyCompromise');
      assert.ok(s.revocationTime instanceof Date);
      assert.ok(ms < 1000, `revoked after ${ms} ms`);

      const r = await ask(['-no_nonce']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /leaf\.pem: revoked/);
      assert.match(r.stdout, /Reason: keyCompromise/);
      assert.match(r.stderr + r.stdout, /Response verify OK/);
    });

    test('P-256: hold is revoked/certificateHold, release is good again; SHA-256 CertIDs; our verifier accepts the delegated responder', async () => {
      const { issuing } = await d.cas('demo-p256');
      const leaf = await d.issue('demo-p256', 'p256');
      const req = ocspRequestDer(leaf, issuing, { hash: 'sha256' });
      const first = (await ocspPost(d.url, 'demo-p256', req)).response;
      assert.equal(single(first).status, 'good');
      assert.deepEqual(single(first).certId.hashAlgorithm, OID.sha256);
      const v = verifyOcspResponse(first, issuing);
      assert.ok(v.valid, v.error);
      assert.ok(v.signer && !v.signer.der.equals(issuing.der), 'signed by the delegated responder, not the CA key');
      assert.ok(v.signer!.extKeyUsage?.includes(OID.kpOcspSigning));
      assert.ok(v.signer!.extensions.some((e) => e.extnID === OID.ocspNoCheck), 'id-pkix-ocsp-nocheck');

      assert.equal((await d.api('POST', `/api/v1/cas/demo-p256/certificates/${leaf.serialHex}/hold`, {}, d.admin)).status, 200);
      await until(async () => single((await ocspPost(d.url, 'demo-p256', req)).response).status === 'revoked', 1000);
      assert.equal(single((await ocspPost(d.url, 'demo-p256', req)).response).reason, 'certificateHold');
      assert.equal((await d.api('POST', `/api/v1/cas/demo-p256/certificates/${leaf.serialHex}/release`, {}, d.admin)).status, 200);
      await until(async () => single((await ocspPost(d.url, 'demo-p256', req)).response).status === 'good', 1000);
    });

    test('SM2: SM3 and SHA-1 CertIDs, BouncyCastle checks the SM2 signatures and the responder certificate; revoked (affiliationChanged) within 1 s', async () => {
      const { issuing } = await d.cas('demo-sm2');
      const leaf = await d.issue('demo-sm2', 'sm2');
      const sm3 = ocspRequestDer(leaf, issuing, { hash: 'sm3' });
      const sha1 = ocspRequestDer(leaf, issuing, { hash: 'sha1' });
      const good = (await ocspPost(d.url, 'demo-sm2', sm3)).response;
      assert.equal(single(good).status, 'good');
      assert.equal(single(good).certId.hashAlgorithm, OID.sm3);
      assert.equal(single((await ocspPost(d.url, 'demo-sm2', sha1)).response).status, 'good');
      assert.ok(verifyOcspResponse(good, issuing).valid);

      assert.equal((await d.api('POST', `/api/v1/cas/demo-sm2/certificates/${leaf.serialHex}/revoke`, { reason: 'affiliationChanged' }, d.admin)).status, 200);
      const ms = await until(async () => single((await ocspPost(d.url, 'demo-sm2', sm3)).response).status === 'revoked', 1000);
      assert.ok(ms < 1000);
      const revoked = (await ocspPost(d.url, 'demo-sm2', sm3)).response;
      assert.equal(single(revoked).reason, 'affiliationChanged');
      const { bcCheck } = await outside();
      const [g, r, c] = await bcCheck([
        { kind: 'ocsp', response: good.der },
        { kind: 'ocsp', response: revoked.der },
        { kind: 'cert', cert: revoked.certs[0]!.der, issuer: issuing.der },
      ]);
      assert.ok(g!.ok, g!.output);
      assert.match(g!.output, /:good/);
      assert.ok(r!.ok, r!.output);
      assert.match(r!.output, /:revoked/);
      assert.ok(c!.ok, `responder certificate signed by the issuing CA: ${c!.output}`);
    });

    test('unknown serial → unknown; another authority\'s CA or an unknown authority → unauthorized; the root answers for its issuing CA', async () => {
      const p256 = await d.cas('demo-p256');
      const sm2 = await d.cas('demo-sm2');
      const unknown = (await ocspPost(d.url, 'demo-p256', ocspRequestDer({ serialNumber: Buffer.concat([Buffer.from([0x42]), randomBytes(15)]) }, p256.issuing))).response;
      assert.equal(single(unknown).status, 'unknown');
      assert.ok(verifyOcspResponse(unknown, p256.issuing).valid);
      assert.equal((await ocspPost(d.url, 'demo-p256', ocspRequestDer(sm2.issuing, sm2.root))).response.status, 'unauthorized');
      assert.equal((await ocspPost(d.url, 'no-such-ca', ocspRequestDer(p256.issuing, p256.root))).response.status, 'unauthorized');
      const rootAnswer = (await ocspPost(d.url, 'demo-p256', ocspRequestDer(p256.issuing, p256.root))).response;
      assert.equal(single(rootAnswer).status, 'good');
      const v = verifyOcspResponse(rootAnswer, p256.root);
      assert.ok(v.valid, v.error);
      assert.ok(v.signer!.issuerDer.equals(p256.root.subjectDer), 'signed by the root\'s delegated responder');
    });

    test('nonce is echoed and the response signed fresh; without nonce the pre-produced response is served again', async () => {
      const { issuing } = await d.cas('demo-p256');
      const leaf = await d.issue('demo-p256', 'p256');
      const nonce = randomBytes(16);
      const a = (await ocspPost(d.url, 'demo-p256', ocspRequestDer(leaf, issuing, { nonce }))).response;
      assert.deepEqual(a.nonce, nonce);
      assert.equal(single(a).status, 'good');
      const plain = ocspRequestDer(leaf, issuing);
      const p1 = await ocspPost(d.url, 'demo-p256', plain);
      const p2 = await ocspPost(d.url, 'demo-p256', plain);
      assert.equal(p1.response.nonce, undefined);
      assert.ok(p1.http.body.equals(p2.http.body), 'the same pre-produced bytes');
      assert.equal(p1.http.headers['cache-control'], 'no-store');
    });

    test('GET (base64 and base64url) with RFC 5019 caching headers; If-None-Match → 304; same answer as POST', async () => {
      const { issuing } = await d.cas('demo-p256');
      const leaf = await d.issue('demo-p256', 'p256');
      const der = ocspRequestDer(leaf, issuing);
      const g = await ocspGet(d.url, 'demo-p256', der);
      assert.equal(g.http.status, 200);
      assert.equal(g.http.headers['content-type'], 'application/ocsp-response');
      const s = single(g.response!);
      assert.equal(s.status, 'good');
      const cc = String(g.http.headers['cache-control']);
      assert.match(cc, /public/);
      assert.match(cc, /no-transform/);
      const maxAge = Number(/max-age=(\d+)/.exec(cc)![1]);
      assert.ok(maxAge > 0 && maxAge * 1000 <= s.nextUpdate!.getTime() - Date.now() + 2000, `max-age ${maxAge} within nextUpdate`);
      assert.equal(g.http.headers['last-modified'], s.thisUpdate.toUTCString());
      assert.equal(g.http.headers.expires, s.nextUpdate!.toUTCString());
      const etag = String(g.http.headers.etag);
      assert.match(etag, /^"[0-9a-f]+"$/);
      const again = await ocspGet(d.url, 'demo-p256', der, { 'if-none-match': etag });
      assert.equal(again.http.status, 304);
      const url64 = der.toString('base64url');
      const u = await ocspGet(d.url, 'demo-p256', Buffer.alloc(0)).catch(() => undefined);
      assert.equal(u?.http.status, 400, 'GET without a request');
      const { httpRequest } = await import('./helpers/ocsp.js');
      const b = await httpRequest(`${d.url}/ocsp/demo-p256/${url64}`, 'GET');
      assert.equal(b.status, 200);
      assert.ok(b.body.equals(g.http.body));
      const p = await ocspPost(d.url, 'demo-p256', der);
      assert.ok(p.http.body.equals(g.http.body), 'POST and GET share the pre-produced response');
      // The fastify route (the API document, inject) gives the same bytes.
      const inj = await d.app.inject({ method: 'POST', url: '/ocsp/demo-p256', headers: { 'content-type': 'application/ocsp-request' }, payload: der });
      assert.equal(inj.statusCode, 200);
      assert.ok(inj.rawPayload.equals(g.http.body));
    });
  });
}

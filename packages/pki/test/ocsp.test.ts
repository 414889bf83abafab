import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '../src/x509/certificate.js';
import { buildCertificate } from '../src/x509/certificate-build.js';
import { ParseError } from '../src/errors.js';
import { authorityKeyIdentifierExt, basicConstraintsExt, extKeyUsageExt, keyUsageExt, subjectKeyIdentifierExt } from '../src/x509/extensions.js';
import { exportPrivateKey, generateKey, type KeyAlgorithm, type PrivateKey } from '../src/crypto/keys.js';
import { parseName } from '../src/x509/name.js';
import { OID } from '../src/oids.js';
import { certId, matchesCertId, sameCertId } from '../src/ocsp/cert-id.js';
import { OcspRequest, buildOcspRequest } from '../src/ocsp/request.js';
import { OcspResponse, buildOcspErrorResponse, buildOcspResponse, verifyOcspResponse, type OcspResponseStatus } from '../src/ocsp/response.js';
import { bcCheck, openssl, opensslOcspVerifyResponse } from './helpers/outside.js';
import { basicOcspResponse, flipBit, flipOcspSignatureBit, signedParts } from './helpers/der.js';

interface Ca {
  key: PrivateKey;
  cert: Certificate;
}

function makeCa(alg: KeyAlgorithm): Ca {
  const key = generateKey(alg);
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=测试医院,CN=OCSP Test CA ${alg}`),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign', 'digitalSignature']), subjectKeyIdentifierExt(key.publicKey)],
    },
    key,
  );
  return { key, cert };
}

function issue(ca: Ca, cn: string, opts: { alg?: KeyAlgorithm; ocspSigning?: boolean } = {}): Ca {
  const key = generateKey(opts.alg ?? 'p256');
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=Test,CN=${cn}`),
      issuer: ca.cert.subject,
      notBefore: new Date('2025-06-01T00:00:00Z'),
      notAfter: new Date('2030-06-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [
        basicConstraintsExt(false),
        keyUsageExt(['digitalSignature']),
        authorityKeyIdentifierExt(ca.cert.subjectKeyId!),
        ...(opts.ocspSigning ? [extKeyUsageExt([OID.kpOcspSigning])] : []),
      ],
    },
    ca.key,
  );
  return { key, cert };
}

const hour = 3_600_000;

test('certId: SHA-1, SHA-256 and SM3 CertIDs equal the ones openssl ocsp puts in its requests', async () => {
  const ca = makeCa('p256');
  const leaf = issue(ca, 'leaf');
  for (const hash of ['sha1', 'sha256', 'sm3'] as const) {
    const r = await openssl(['ocsp', `-${hash}`, '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-reqout', 'req.der'], {
      files: { 'ca.pem': ca.cert.toPem(), 'leaf.pem': leaf.cert.toPem() },
      outputs: ['req.der'],
    });
    assert.equal(r.code, 0, r.stderr);
    const req = OcspRequest.parse(r.outputs['req.der']!);
    assert.equal(req.requests.length, 1);
    const theirs = req.requests[0]!.certId;
    assert.ok(sameCertId(theirs, certId(leaf.cert, ca.cert, hash)), hash);
    assert.ok(matchesCertId(theirs, leaf.cert, ca.cert));
    assert.equal(matchesCertId(theirs, ca.cert, ca.cert), false);
    assert.equal(req.nonce?.length, 16, 'openssl sends a 16-byte nonce');
  }
});

test('openssl ocsp -reqin reads our request: CertID, hash, serial and nonce', async () => {
  const ca = makeCa('rsa2048');
  const leaf = issue(ca, 'leaf');
  const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const req = buildOcspRequest({ certIds: [certId(leaf.cert, ca.cert, 'sha256'), certId(ca.cert, ca.cert, 'sha1')], nonce });
  assert.ok(req.nonce?.equals(nonce));
  assert.equal(req.isSigned, false);
  const r = await openssl(['ocsp', '-reqin', 'req.der', '-req_text'], { files: { 'req.der': req.der } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Hash Algorithm: sha256/);
  assert.match(r.stdout, /Hash Algorithm: sha1/);
  assert.ok(r.stdout.includes(`Serial Number: ${leaf.cert.serialHex.toUpperCase()}`), r.stdout);
  assert.match(r.stdout, /OCSP Nonce: \n\s+041000112233445566778899AABBCCDDEEFF/);
});

test('a signed request: requestor name, certificates, signature checked by us and shown by openssl', async () => {
  const ca = makeCa('p256');
  const client = issue(ca, 'client');
  const req = buildOcspRequest({ certIds: [certId(client.cert, ca.cert)], signer: { key: client.key, cert: client.cert } });
  assert.equal(req.isSigned, true);
  assert.equal(req.verifySignature(client.key.publicKey), true);
  assert.equal(req.verifySignature(ca.key.publicKey), false);
  assert.ok(req.certs[0]!.der.equals(client.cert.der));
  assert.ok(req.requestorName?.directoryName);
  const r = await openssl(['ocsp', '-reqin', 'req.der', '-req_text'], { files: { 'req.der': req.der } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Requestor Name: DirName:C = CN, O = Test, CN = client/);
  assert.match(r.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
});

for (const alg of ['rsa2048', 'p256'] as const) {
  test(`${alg}: openssl ocsp -respin verifies our good and revoked responses and reads the status`, async () => {
    const ca = makeCa(alg);
    const good = issue(ca, 'good');
    const revoked = issue(ca, 'revoked');
    const now = new Date();
    const resp = buildOcspResponse({
      responderCert: ca.cert,
      signer: ca.key,
      producedAt: now,
      responses: [
        { certId: certId(good.cert, ca.cert), status: 'good', thisUpdate: now, nextUpdate: new Date(now.getTime() + hour) },
        { certId: certId(revoked.cert, ca.cert), status: 'revoked', revocationTime: new Date('2026-01-02T03:04:05.678Z'), reason: 'keyCompromise', thisUpdate: now },
      ],
    });
    const files = { 'resp.der': resp.der, 'ca.pem': ca.cert.toPem(), 'good.pem': good.cert.toPem(), 'revoked.pem': revoked.cert.toPem() };
    const r1 = await openssl(['ocsp', '-respin', 'resp.der', '-CAfile', 'ca.pem', '-issuer', 'ca.pem', '-cert', 'good.pem', '-no_nonce'], { files });
    assert.match(r1.stderr + r1.stdout, /Response verify OK/);
    assert.match(r1.stdout, /^good\.pem: good$/m);
    const r2 = await openssl(['ocsp', '-respin', 'resp.der', '-CAfile', 'ca.pem', '-issuer', 'ca.pem', '-cert', 'revoked.pem', '-no_nonce'], { files });
    assert.match(r2.stderr + r2.stdout, /Response verify OK/);
    assert.match(r2.stdout, /^revoked\.pem: revoked$/m);
    assert.match(r2.stdout, /Reason: keyCompromise/);
    assert.match(r2.stdout, /Revocation Time: Jan  2 03:04:05 2026 GMT/);
    // A tampered signature is refused by OpenSSL and by us.
    const bad = flipOcspSignatureBit(resp.der);
    const v = await opensslOcspVerifyResponse(bad, { trusted: [ca.cert.der], issuer: ca.cert.der, serial: good.cert.serialHex });
    assert.equal(v.ok, false, v.output);
    assert.equal(verifyOcspResponse(OcspResponse.parse(bad), ca.cert).valid, false);
    // And ours reads back what we wrote.
    assert.equal(verifyOcspResponse(resp, ca.cert).valid, true);
    assert.equal(resp.responseFor(good.cert, ca.cert)?.status, 'good');
    const rv = resp.responseFor(revoked.cert, ca.cert)!;
    assert.equal(rv.status, 'revoked');
    assert.equal(rv.reason, 'keyCompromise');
    assert.equal(rv.revocationTime?.toISOString(), '2026-01-02T03:04:05.000Z');
    assert.equal(resp.producedAt.getTime() % 1000, 0);
  });
}

test('delegated responder by name, certificate included, unknown status, nonce echoed: OpenSSL and BouncyCastle accept', async () => {
  const ca = makeCa('p256');
  const responder = issue(ca, 'OCSP Responder', { ocspSigning: true });
  const leaf = issue(ca, 'leaf');
  const now = new Date();
  const req = buildOcspRequest({ certIds: [certId(leaf.cert, ca.cert, 'sha256')] });
  const resp = buildOcspResponse({
    responderCert: responder.cert,
    signer: responder.key,
    responderIdBy: 'name',
    producedAt: now,
    responses: [{ certId: req.requests[0]!.certId, status: 'unknown', thisUpdate: now }],
    nonce: req,
    certs: [responder.cert],
  });
  assert.ok(resp.responderId.byName?.equals(responder.cert.subjectDer));
  assert.ok(resp.nonce?.equals(req.nonce!));
  assert.ok(resp.certs[0]!.der.equals(responder.cert.der));
  const v = verifyOcspResponse(resp, ca.cert);
  assert.equal(v.valid, true, v.error);
  assert.ok(v.signer?.der.equals(responder.cert.der));

  // OpenSSL: -reqin makes it compare the nonce; the embedded responder chains to the CA.
  const r = await openssl(['ocsp', '-reqin', 'req.der', '-respin', 'resp.der', '-CAfile', 'ca.pem', '-resp_text'], {
    files: { 'req.der': req.der, 'resp.der': resp.der, 'ca.pem': ca.cert.toPem() },
  });
  assert.match(r.stdout + r.stderr, /Response verify OK/);
  assert.doesNotMatch(r.stdout + r.stderr, /Nonce Verify error/);
  assert.match(r.stdout, /Cert Status: unknown/);
  const other = buildOcspRequest({ certIds: [certId(leaf.cert, ca.cert, 'sha256')] });
  const r2 = await openssl(['ocsp', '-reqin', 'req.der', '-respin', 'resp.der', '-CAfile', 'ca.pem'], {
    files: { 'req.der': other.der, 'resp.der': resp.der, 'ca.pem': ca.cert.toPem() },
  });
  assert.match(r2.stdout + r2.stderr, /Nonce Verify error/, 'a different nonce must be noticed (the test can fail)');

  // A responder certificate without id-kp-OCSPSigning is not authorized.
  const rogue = issue(ca, 'not a responder');
  const rogueResp = buildOcspResponse({ responderCert: rogue.cert, signer: rogue.key, producedAt: now, responses: [{ certId: certId(leaf.cert, ca.cert), status: 'good', thisUpdate: now }], certs: [rogue.cert] });
  assert.match(verifyOcspResponse(rogueResp, ca.cert).error ?? '', /OCSPSigning/);

  const [bc] = await bcCheck([{ kind: 'ocsp', response: resp.der }]);
  assert.ok(bc!.ok, bc!.output);
  assert.match(bc!.output, /:unknown/);
});

test('SM2: response signed with SM2 (standard user ID) and SM3 CertID; BouncyCastle and openssl dgst verify it', async () => {
  const ca = makeCa('sm2');
  const leaf = issue(ca, 'sm2 leaf', { alg: 'sm2' });
  const now = new Date();
  const resp = buildOcspResponse({
    responderCert: ca.cert,
    signer: ca.key,
    producedAt: now,
    responses: [{ certId: certId(leaf.cert, ca.cert, 'sm3'), status: 'revoked', revocationTime: now, reason: 'cessationOfOperation', thisUpdate: now }],
    nonce: Buffer.from('0102030405060708', 'hex'),
    certs: [ca.cert],
  });
  assert.equal(signedParts(basicOcspResponse(resp.der).basic).algorithmOid, OID.sm2WithSm3);
  assert.equal(verifyOcspResponse(resp, ca.cert).valid, true);
  const [good, tampered] = await bcCheck([
    { kind: 'ocsp', response: resp.der, responder: ca.cert.der },
    { kind: 'ocsp', response: flipOcspSignatureBit(resp.der), responder: ca.cert.der },
  ]);
  assert.ok(good!.ok, good!.output);
  assert.match(good!.output, /:revoked/);
  assert.equal(tampered!.ok, false);
  // (openssl ocsp -serial would look for a SHA-1 CertID; this response uses SM3, so read the text.)
  const v = await opensslOcspVerifyResponse(resp.der, { responder: ca.cert.der });
  assert.ok(v.ok, v.output);
  const text = await openssl(['ocsp', '-respin', 'resp.der', '-resp_text', '-noverify'], { files: { 'resp.der': resp.der } });
  assert.match(text.stdout, /Hash Algorithm: sm3/);
  assert.match(text.stdout, /Cert Status: revoked/);
  assert.match(text.stdout, /Revocation Reason: cessationOfOperation/);
});

const STATUS_NUMBERS = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

test('error responses: every status builds, parses, and openssl reads it', async () => {
  for (const status of ['malformedRequest', 'internalError', 'tryLater', 'sigRequired', 'unauthorized'] as const satisfies readonly OcspResponseStatus[]) {
    const resp = buildOcspErrorResponse(status);
    assert.equal(resp.der.length, 5);
    const back = OcspResponse.parse(resp.der);
    assert.equal(back.status, status);
    assert.equal(back.isSuccessful, false);
    assert.throws(() => back.responses, /has no response data/);
    const r = await openssl(['ocsp', '-respin', 'resp.der', '-resp_text', '-noverify'], { files: { 'resp.der': resp.der } });
    assert.match(r.stdout + r.stderr, new RegExp(`Responder Error: ${status} \\(${STATUS_NUMBERS[status]}\\)`, 'i'));
  }
});

test('OpenSSL-made request and response (openssl ocsp -index) parse and verify with our code', async () => {
  const ca = makeCa('p256');
  const revoked = issue(ca, 'revoked');
  const good = issue(ca, 'good');
  const index =
    `R\t300601000000Z\t260115000000Z,keyCompromise\t${revoked.cert.serialHex.toUpperCase()}\tunknown\t/CN=revoked\n` +
    `V\t300601000000Z\t\t${good.cert.serialHex.toUpperCase()}\tunknown\t/CN=good\n`;
  const files = { 'ca.pem': ca.cert.toPem(), 'ca.key': exportPrivateKey(ca.key, 'pem'), 'index.txt': index, 'revoked.pem': revoked.cert.toPem(), 'good.pem': good.cert.toPem() };
  const mk = await openssl(['ocsp', '-issuer', 'ca.pem', '-cert', 'revoked.pem', '-cert', 'good.pem', '-reqout', 'req.der'], { files, outputs: ['req.der'] });
  assert.equal(mk.code, 0, mk.stderr);
  const req = OcspRequest.parse(mk.outputs['req.der']!);
  assert.equal(req.requests.length, 2);
  const r = await openssl(['ocsp', '-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', 'ca.pem', '-rkey', 'ca.key', '-reqin', 'req.der', '-respout', 'resp.der', '-ndays', '1'], {
    files: { ...files, 'req.der': req.der },
    outputs: ['resp.der'],
  });
  assert.equal(r.code, 0, r.stderr);
  const resp = OcspResponse.parse(r.outputs['resp.der']!);
  assert.equal(resp.status, 'successful');
  const v = verifyOcspResponse(resp, ca.cert);
  assert.equal(v.valid, true, v.error);
  assert.ok(resp.nonce?.equals(req.nonce!), 'OpenSSL echoes the nonce');
  const rv = resp.responseFor(revoked.cert, ca.cert)!;
  assert.equal(rv.status, 'revoked');
  assert.equal(rv.reason, 'keyCompromise');
  assert.equal(rv.revocationTime?.toISOString(), '2026-01-15T00:00:00.000Z');
  assert.equal(resp.responseFor(good.cert, ca.cert)?.status, 'good');
  assert.ok(resp.responseFor(good.cert, ca.cert)?.nextUpdate);
});

test('bad OCSP input is a ParseError: truncation, garbage, bit flips', () => {
  const ca = makeCa('p256');
  const leaf = issue(ca, 'leaf');
  const now = new Date();
  const req = buildOcspRequest({ certIds: [certId(leaf.cert, ca.cert)] }).der;
  const resp = buildOcspResponse({
    responderCert: ca.cert,
    signer: ca.key,
    producedAt: now,
    responses: [{ certId: certId(leaf.cert, ca.cert), status: 'revoked', revocationTime: now, reason: 'superseded', thisUpdate: now, nextUpdate: now }],
    nonce: Buffer.from('abcd', 'hex'),
    certs: [ca.cert],
  }).der;
  const parsers = [
    { name: 'request', der: req, parse: (b: Buffer) => OcspRequest.parse(b), read: (o: OcspRequest) => [o.requests, o.nonce, o.certs] },
    {
      name: 'response',
      der: resp,
      parse: (b: Buffer) => OcspResponse.parse(b),
      read: (o: OcspResponse) => (o.isSuccessful ? [o.responses, o.nonce, o.certs, o.responderId, o.producedAt] : []),
    },
  ] as const;
  for (const p of parsers) {
    for (const len of [0, 1, 2, 7, p.der.length >> 1, p.der.length - 1]) {
      assert.throws(() => p.parse(p.der.subarray(0, len)), ParseError, `${p.name} truncated to ${len}`);
    }
    assert.throws(() => p.parse(Buffer.concat([p.der, Buffer.from([0])])), ParseError);
    assert.throws(() => p.parse(Buffer.from('not DER at all')), ParseError);
    let rejected = 0;
    for (let i = 0; i < p.der.length; i++) {
      for (const mask of [0x01, 0x80]) {
        try {
          const o = p.parse(flipBit(p.der, i, mask)) as never;
          (p.read as (o: never) => unknown)(o);
        } catch (e) {
          assert.ok(e instanceof ParseError, `${p.name} byte ${i} mask ${mask}: ${String(e)}`);
          rejected++;
        }
      }
    }
    assert.ok(rejected > p.der.length / 4, `${p.name}: only ${rejected} flips rejected`);
  }
});

// RFC 3161 time-stamping, judged from outside: OpenSSL's `ts` command reads our requests and
// responses and verifies our ECDSA and RSA tokens; we verify tokens from OpenSSL's own TSA;
// BouncyCastle's TimeStampToken.validate verifies our SM2 (GM/T 0033 profile) tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '../src/x509/certificate.js';
import { buildCertificate } from '../src/x509/certificate-build.js';
import { ParseError, PkiError } from '../src/errors.js';
import { basicConstraintsExt, extKeyUsageExt, keyUsageExt, subjectKeyIdentifierExt } from '../src/x509/extensions.js';
import { exportPrivateKey, generateKey, type KeyAlgorithm, type PrivateKey } from '../src/crypto/keys.js';
import { digest } from '../src/crypto/hash.js';
import { parseName } from '../src/x509/name.js';
import { issueFromProfile } from '../src/profiles/issue.js';
import { OID } from '../src/oids.js';
import { signCmsDer } from '../src/cms/sign.js';
import {
  TimeStampRequest,
  TimeStampResponse,
  TimeStampToken,
  TstInfo,
  buildTimeStampRequest,
  encodeSigningCertificate,
  encodeTimeStampResp,
  encodeTstInfo,
  issueTimeStamp,
  timeStampRejection,
  verifyTimeStampToken,
  type IssueTimeStampOptions,
  type PkiFailureInfo,
} from '../src/tsp/index.js';
import { bcCheck, openssl } from './helpers/outside.js';
import { children, flipBit, oidToString, readTlv } from './helpers/der.js';

interface Party {
  key: PrivateKey;
  cert: Certificate;
}

const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const DATA = Buffer.from('电子病历 record #7: 诊断 hypertension, signed 2026-03-01\n\x00\xff', 'utf8');
const SERIAL = 0x5a17_0000_0000_0000_0001n;
const POLICY = '1.2.156.112560.7.1';

function makeRoot(alg: KeyAlgorithm, cn = 'Root'): Party {
  const key = generateKey(alg);
  const cert = issueFromProfile({ profile: 'root-ca', subject: parseName(`C=CN,O=国家卫生健康委,CN=TSP ${cn} ${alg}`), publicKey: key.publicKey, issuerKey: key, notBefore: NOT_BEFORE });
  return { key, cert };
}

/** A TSA certificate under the `tsa` profile: critical EKU timeStamping only. */
function makeTsa(root: Party, alg: KeyAlgorithm, cn = 'TSA'): Party {
  const key = generateKey(alg);
  const cert = issueFromProfile({
    profile: 'tsa',
    subject: parseName(`C=CN,O=国家卫生健康委,OU=时间戳服务,CN=${cn} ${alg}`),
    publicKey: key.publicKey,
    issuerKey: root.key,
    issuerCert: root.cert,
    notBefore: NOT_BEFORE,
  });
  return { key, cert };
}

/** What a verification said, for assertion messages (bigint fields do not JSON-serialise). */
function why(v: ReturnType<typeof verifyTimeStampToken>): string {
  return v.valid ? `valid, genTime ${v.genTimeText}` : `${v.code}: ${v.message}`;
}

const rootAlg = (alg: KeyAlgorithm): KeyAlgorithm => (alg === 'rsa2048' ? 'rsa3072' : alg);

function issue(tsa: Party, request: Uint8Array | TimeStampRequest, extra: Partial<IssueTimeStampOptions> = {}): Buffer {
  return issueTimeStamp({ request, tsaCert: tsa.cert, tsaKey: tsa.key, serial: SERIAL, genTime: new Date('2026-03-01T08:30:15.250Z'), policy: POLICY, ...extra });
}

/** `openssl ts` with the usual files in place. */
async function ts(args: string[], files: Record<string, Uint8Array | string>, outputs: string[] = []) {
  const r = await openssl(['ts', ...args], { files, outputs });
  return { ...r, out: `${r.stdout}${r.stderr}` };
}

// ---------------------------------------------------------------------------------------------
// Requests

test('openssl ts -query requests (SHA-256 + certReq, SM3 + policy, SHA-512 without nonce) parse with our parser', async () => {
  const cases = [
    { args: ['-sha256', '-cert'], hash: 'sha256' as const, certReq: true, policy: undefined, nonce: true },
    { args: ['-sm3', '-cert', '-tspolicy', '1.2.3.4.5'], hash: 'sm3' as const, certReq: true, policy: '1.2.3.4.5', nonce: true },
    { args: ['-sha512', '-no_nonce'], hash: 'sha512' as const, certReq: false, policy: undefined, nonce: false },
  ];
  for (const c of cases) {
    const q = await ts(['-query', '-data', 'data.bin', ...c.args, '-out', 'q.tsq'], { 'data.bin': DATA }, ['q.tsq']);
    assert.equal(q.code, 0, q.out);
    const der = q.outputs['q.tsq']!;
    const req = TimeStampRequest.parse(der);
    assert.equal(req.version, 1);
    assert.equal(req.messageImprint.hashAlgorithm, OID[c.hash]);
    assert.ok(req.messageImprint.hashedMessage.equals(digest(c.hash, DATA)), `${c.hash} imprint`);
    assert.equal(req.certReq, c.certReq);
    assert.equal(req.reqPolicy, c.policy);
    assert.equal(req.extensions.length, 0);
    assert.ok(req.messageImprintDer.equals(der.subarray(5, 5 + req.messageImprintDer.length)), 'messageImprint bytes kept as sent');
    // OpenSSL's own reading of the nonce.
    const text = await ts(['-query', '-in', 'q.tsq', '-text'], { 'q.tsq': der });
    const nonce = /Nonce: (0x[0-9A-F]+|unspecified)/.exec(text.out)?.[1];
    assert.equal(nonce === 'unspecified' ? undefined : BigInt(nonce!), req.nonce, text.out);
    assert.equal(c.nonce, req.nonce !== undefined);
  }
});

test('our requests are read by openssl ts -query -text and answered by openssl ts -reply', async () => {
  const req = buildTimeStampRequest({ data: DATA, hash: 'sha384', reqPolicy: '1.2.3.4.5', nonce: 0xfedcba9876543210n, certReq: true });
  const text = await ts(['-query', '-in', 'q.tsq', '-text'], { 'q.tsq': req.der });
  assert.equal(text.code, 0, text.out);
  assert.match(text.out, /Hash Algorithm: sha384/);
  assert.match(text.out, /Policy OID: 1\.2\.3\.4\.5/);
  assert.match(text.out, /Nonce: 0xFEDCBA9876543210/);
  assert.match(text.out, /Certificate required: yes/);
  const hex = digest('sha384', DATA).toString('hex');
  const dumped = [...text.out.matchAll(/^\s+[0-9a-f]{4} - ([0-9a-f -]+?)\s{2,}/gm)].map((m) => m[1]!.replace(/[ -]/g, '')).join('');
  assert.equal(dumped, hex, 'OpenSSL prints our imprint');
  // A negative nonce and a non-critical extension survive our own round trip, byte for byte.
  const odd = buildTimeStampRequest({ data: DATA, nonce: -129n, extensions: [{ oid: '1.2.3.9', critical: false, value: Buffer.from([5, 0]) }] });
  const back = TimeStampRequest.parse(odd.der);
  assert.equal(back.nonce, -129n);
  assert.deepEqual(back.extensions, [{ oid: '1.2.3.9', critical: false, value: Buffer.from([5, 0]) }]);
  assert.equal(TimeStampRequest.parse(odd.toPem()).der.equals(odd.der), true);
});

// ---------------------------------------------------------------------------------------------
// Our ECDSA P-256 and RSA tokens, judged by OpenSSL

for (const alg of ['p256', 'rsa2048'] as const) {
  test(`${alg}: openssl ts -verify says "Verification: OK" for our tokens and fails for wrong data`, async () => {
    const root = makeRoot(rootAlg(alg));
    const tsa = makeTsa(root, alg);
    const req = buildTimeStampRequest({ data: DATA, nonce: true, certReq: true });
    const resp = issue(tsa, req.der, { accuracy: { seconds: 1, millis: 500, micros: 20 }, ordering: true });
    const files = { 'data.bin': DATA, 'resp.der': resp, 'root.pem': root.cert.toPem(), 'tsa.pem': tsa.cert.toPem(), 'q.tsq': req.der, 'other.bin': Buffer.concat([DATA, Buffer.from('!')]) };

    const ok = await ts(['-verify', '-data', 'data.bin', '-in', 'resp.der', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], files);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /Verification: OK/);
    const byQuery = await ts(['-verify', '-queryfile', 'q.tsq', '-in', 'resp.der', '-CAfile', 'root.pem'], files);
    assert.match(byQuery.out, /Verification: OK/, 'nonce and imprint checked against the request');
    const wrong = await ts(['-verify', '-data', 'other.bin', '-in', 'resp.der', '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], files);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /Verification: FAILED/);
    assert.match(wrong.out, /message imprint mismatch/);
    const otherRoot = await ts(['-verify', '-data', 'data.bin', '-in', 'resp.der', '-CAfile', 'tsa.pem'], { ...files, 'tsa.pem': makeRoot(rootAlg(alg), 'Other').cert.toPem() });
    assert.match(otherRoot.out, /Verification: FAILED/, 'a token under an untrusted root fails');

    const text = await ts(['-reply', '-in', 'resp.der', '-text'], files);
    assert.equal(text.code, 0, text.out);
    assert.match(text.out, /Status: Granted\./);
    assert.match(text.out, /Policy OID: 1\.2\.156\.112560\.7\.1/);
    assert.match(text.out, /Serial number: 0x5A170000000000000001/);
    assert.match(text.out, /Time stamp: Mar {2}1 08:30:15\.25 2026 GMT/);
    assert.match(text.out, /Accuracy: 0x01 seconds, 0x01F4 millis, 0x14 micros/);
    assert.match(text.out, /Ordering: yes/);
    assert.equal(BigInt(/Nonce: (0x[0-9A-F]+)/.exec(text.out)![1]!), req.nonce);
    assert.match(text.out, /TSA: DirName:\/C=CN\/O=.*\/CN=TSA/);

    const mine = verifyTimeStampToken(resp, { data: DATA, trusted: [root.cert], nonce: req.nonce });
    assert.ok(mine.valid, why(mine));
    assert.equal(mine.serialNumber, SERIAL);
    assert.equal(mine.genTimeText, '20260301083015.25Z');
    assert.equal(mine.path?.length, 2);
  });

  test(`${alg}: a token without certificates (no certReq) verifies with -untrusted; ESS v1 (SHA-1, RFC 5816) tokens verify too`, async () => {
    const root = makeRoot(rootAlg(alg));
    const tsa = makeTsa(root, alg);
    const noCerts = issue(tsa, buildTimeStampRequest({ data: DATA }).der, { includeTsaName: false });
    assert.equal(TimeStampResponse.parse(noCerts).token!.signedData.certificates.length, 0, 'RFC 3161: no certificates unless certReq');
    const essV1 = issue(tsa, buildTimeStampRequest({ data: DATA, certReq: true, hash: 'sha512' }).der, { essVersion: 1, signatureHash: 'sha384' });
    const files = { 'data.bin': DATA, 'a.der': noCerts, 'b.der': essV1, 'root.pem': root.cert.toPem(), 'tsa.pem': tsa.cert.toPem() };
    for (const f of ['a.der', 'b.der']) {
      const v = await ts(['-verify', '-data', 'data.bin', '-in', f, '-CAfile', 'root.pem', '-untrusted', 'tsa.pem'], files);
      assert.match(v.out, /Verification: OK/, `${f}: ${v.out}`);
    }
    const noSigner = await ts(['-verify', '-data', 'data.bin', '-in', 'a.der', '-CAfile', 'root.pem'], files);
    assert.match(noSigner.out, /Verification: FAILED/, 'without -untrusted OpenSSL has no signer certificate');
    assert.equal(verifyTimeStampToken(noCerts, { data: DATA, trusted: [root.cert] }).valid, false);
    const withCert = verifyTimeStampToken(noCerts, { data: DATA, tsaCert: tsa.cert });
    assert.ok(withCert.valid, why(withCert));
    const v1 = verifyTimeStampToken(essV1, { data: DATA, trusted: [root.cert] });
    assert.ok(v1.valid, why(v1));
  });
}

// ---------------------------------------------------------------------------------------------
// OpenSSL's TSA, judged by us

const OPENSSL_TSA_CONF = `
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = ./tsaserial
signer_cert = ./tsa.pem
certs = ./root.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = ESS_ALG
`;

for (const alg of ['p256', 'rsa2048'] as const) {
  test(`${alg}: we verify tokens from openssl ts -reply (ESS v2 and v1) and read its rejections`, async () => {
    const root = makeRoot(rootAlg(alg));
    const tsa = makeTsa(root, alg);
    const req = buildTimeStampRequest({ data: DATA, nonce: 0x0123456789abcdefn, certReq: true });
    for (const essAlg of ['sha256', 'sha1']) {
      const files = {
        'ts.cnf': OPENSSL_TSA_CONF.replace('ESS_ALG', essAlg),
        tsaserial: '0102030405060708090a\n',
        'tsa.pem': tsa.cert.toPem(),
        'tsa.key': exportPrivateKey(tsa.key, 'pem'),
        'root.pem': root.cert.toPem(),
        'q.tsq': req.der,
      };
      const r = await ts(['-reply', '-config', 'ts.cnf', '-queryfile', 'q.tsq', '-out', 'resp.der'], files, ['resp.der']);
      const t = await ts(['-reply', '-config', 'ts.cnf', '-queryfile', 'q.tsq', '-token_out', '-out', 'token.der'], files, ['token.der']);
      assert.ok(r.outputs['resp.der'] && t.outputs['token.der'], r.out);
      const resp = TimeStampResponse.parse(r.outputs['resp.der']!);
      assert.equal(resp.status, 'granted');
      const info = resp.token!.tstInfo;
      assert.equal(info.policy, '1.2.3.4.1');
      assert.equal(info.nonce, 0x0123456789abcdefn);
      assert.equal(info.ordering, true);
      assert.deepEqual(info.accuracy, { seconds: 1, millis: 500, micros: 100 });
      assert.ok(info.serialNumber >= 0x0102030405060708090bn);
      assert.ok(Math.abs(info.genTime.getTime() - Date.now()) < 60_000, info.genTimeText);

      for (const token of [r.outputs['resp.der']!, t.outputs['token.der']!]) {
        const ok = verifyTimeStampToken(token, { data: DATA, trusted: [root.cert], nonce: req.nonce, policies: ['1.2.3.4.1'] });
        assert.ok(ok.valid, `${essAlg}: ${why(ok)}`);
        assert.ok(ok.tsaCert.der.equals(tsa.cert.der));
        const wrong = verifyTimeStampToken(token, { data: Buffer.from('other'), trusted: [root.cert] });
        assert.equal(wrong.valid ? 'valid' : wrong.code, 'imprintMismatch');
        const nonce = verifyTimeStampToken(token, { data: DATA, trusted: [root.cert], nonce: 1n });
        assert.equal(nonce.valid ? 'valid' : nonce.code, 'nonceMismatch');
        const byImprint = verifyTimeStampToken(token, { messageImprint: { hashAlgorithm: 'sha256', hashedMessage: digest('sha256', DATA) }, tsaCert: tsa.cert });
        assert.ok(byImprint.valid, why(byImprint));
      }
    }

    // OpenSSL refuses SHA-1 here (not in `digests`): we read its rejection.
    const sha1Req = buildTimeStampRequest({ data: DATA, hash: 'sha1' });
    const rej = await ts(['-reply', '-config', 'ts.cnf', '-queryfile', 'q.tsq', '-out', 'resp.der'], {
      'ts.cnf': OPENSSL_TSA_CONF.replace('ESS_ALG', 'sha256'),
      tsaserial: '01\n',
      'tsa.pem': tsa.cert.toPem(),
      'tsa.key': exportPrivateKey(tsa.key, 'pem'),
      'root.pem': root.cert.toPem(),
      'q.tsq': sha1Req.der,
    }, ['resp.der']);
    const rejected = TimeStampResponse.parse(rej.outputs['resp.der']!);
    assert.equal(rejected.status, 'rejection');
    assert.deepEqual(rejected.failInfo, ['badAlg']);
    assert.equal(rejected.token, undefined);
    assert.match(rejected.statusText.join(' '), /algorithm is not supported/);
    const v = verifyTimeStampToken(rejected, { data: DATA, tsaCert: tsa.cert });
    assert.equal(v.valid ? 'valid' : v.code, 'notGranted');
  });
}

// ---------------------------------------------------------------------------------------------
// SM2 (GM/T 0033 profile), judged by BouncyCastle

test('SM2: BouncyCastle TimeStampToken.validate accepts our SM3/SM2 tokens (standard and GM/T 0010 OIDs, ESS v2 with SM3, ESS v1) and refuses wrong data and tampering', async () => {
  const root = makeRoot('sm2');
  const tsa = makeTsa(root, 'sm2');
  const req = buildTimeStampRequest({ data: DATA, hash: 'sm3', nonce: true, certReq: true });
  const standard = issue(tsa, req.der, { accuracy: { seconds: 1 } });
  const gm = issue(tsa, req.der, { gm: true });
  const gmWithSm3Oid = issue(tsa, req.der, { gm: true, sm2SignatureOid: 'sm2-with-sm3' });
  const essV1 = issue(tsa, req.der, { essVersion: 1 });
  const sha256Imprint = issue(tsa, buildTimeStampRequest({ data: DATA, hash: 'sha256', certReq: true }).der);
  const token = TimeStampResponse.parse(standard).token!;
  const tampered = flipBit(standard, standard.length - 3); // inside the SM2 signature's s
  const p256Root = makeRoot('p256');
  const p256Tsa = makeTsa(p256Root, 'p256');
  const p256 = issue(p256Tsa, buildTimeStampRequest({ data: DATA, certReq: true }).der);
  const p256Tst = TimeStampResponse.parse(p256).token!.tstInfo.der;
  const lying = handToken(p256Tsa, p256Tsa.cert, p256Tst, [LYING_PROTECTION]);

  const [a, b, c, d, e, f, g, h, i, j] = await bcCheck([
    { kind: 'tsp', token: standard, data: DATA },
    { kind: 'tsp', token: gm, data: DATA },
    { kind: 'tsp', token: gmWithSm3Oid, data: DATA },
    { kind: 'tsp', token: essV1, data: DATA },
    { kind: 'tsp', token: token.der, data: DATA },
    { kind: 'tsp', token: sha256Imprint, data: DATA },
    { kind: 'tsp', token: standard, data: Buffer.concat([DATA, Buffer.from('!')]) },
    { kind: 'tsp', token: tampered, data: DATA },
    { kind: 'tsp', token: p256, data: DATA },
    { kind: 'tsp', token: lying, data: DATA },
  ]);
  for (const [name, v] of Object.entries({ standard: a, gm: b, gmWithSm3Oid: c, essV1: d, bareToken: e, sha256Imprint: f, p256: i })) assert.ok(v!.ok, `${name}: ${v!.output}`);
  assert.match(a!.output, /imprintAlg=1\.2\.156\.10197\.1\.401 ess=v2 sigAlg=1\.2\.156\.10197\.1\.401\/1\.2\.156\.10197\.1\.501 contentType=1\.2\.840\.113549\.1\.7\.2/);
  assert.match(b!.output, /sigAlg=1\.2\.156\.10197\.1\.401\/1\.2\.156\.10197\.1\.301\.1 contentType=1\.2\.156\.10197\.6\.1\.4\.2\.2/);
  assert.match(d!.output, /ess=v1/);
  assert.match(a!.output, new RegExp(`serial=${SERIAL.toString(16)} policy=${POLICY.replace(/\./g, '\\.')}`));
  assert.match(a!.output, new RegExp(`genTime=${Date.parse('2026-03-01T08:30:15.250Z')}`));
  assert.equal(g!.ok, false, 'wrong data');
  assert.match(g!.output, /messageImprint does not match/);
  assert.equal(h!.ok, false, `tampered signature: ${h!.output}`);
  assert.equal(j!.ok, false, 'BouncyCastle checks RFC 6211 too');
  assert.match(j!.output, /Protection/i);
  const lie = verifyTimeStampToken(lying, { data: DATA, trusted: [p256Root.cert] });
  assert.equal(lie.valid ? 'valid' : lie.code, 'badSignature');
  assert.match(why(lie), /CMSAlgorithmProtection/);

  // The ESSCertIDv2 of an SM2 token uses SM3, spelled out (SHA-256 is the DEFAULT, omitted).
  const ess = token.signedData.signerInfos[0]!.signedAttributes!.find((x) => x.type === OID.aaSigningCertificateV2)!.values[0]!;
  assert.ok(ess.includes(Buffer.from('06082a811ccf55018311', 'hex')), 'SM3 OID in the ESSCertIDv2');
  assert.ok(ess.includes(digest('sm3', tsa.cert.der)));
  assert.ok(token.signedData.signerInfos[0]!.signedAttributes!.some((x) => x.type === OID.cmsAlgorithmProtection), 'RFC 6211 attribute present');

  for (const t of [standard, gm, gmWithSm3Oid, essV1]) {
    const v = verifyTimeStampToken(t, { data: DATA, trusted: [root.cert], nonce: req.nonce });
    assert.ok(v.valid, why(v));
  }
  assert.equal((verifyTimeStampToken(tampered, { data: DATA, trusted: [root.cert] }) as { code?: string }).code, 'badSignature');
});

test('we verify SM2 and P-256 tokens made by BouncyCastle’s TSA (TimeStampResponseGenerator), and catch wrong data and nonce', async () => {
  const parties = (['sm2', 'p256'] as const).map((alg) => {
    const root = makeRoot(alg);
    return { alg, root, tsa: makeTsa(root, alg), req: buildTimeStampRequest({ data: DATA, hash: alg === 'sm2' ? 'sm3' : 'sha256', nonce: true, certReq: true }) };
  });
  const made = await bcCheck(parties.map((p) => ({ kind: 'tsp-issue' as const, tsaCert: p.tsa.cert.der, tsaKey: p.tsa.key.pkcs8, request: p.req.der })));
  parties.forEach((p, i) => {
    assert.ok(made[i]!.ok, made[i]!.output);
    const resp = TimeStampResponse.parse(Buffer.from(/resp=([0-9a-f]+)/.exec(made[i]!.output)![1]!, 'hex'));
    assert.equal(resp.status, 'granted');
    const token = resp.token!;
    assert.equal(token.tstInfo.policy, '1.2.156.112560.7.9');
    assert.equal(token.tstInfo.serialNumber, 0x1234567890abcdef01n);
    assert.deepEqual(token.tstInfo.accuracy, { millis: 10 });
    const si = token.signedData.signerInfos[0]!;
    assert.equal(si.digestAlgorithm.algorithm, p.alg === 'sm2' ? OID.sm3 : OID.sha256);
    assert.equal(si.signatureAlgorithm.algorithm, p.alg === 'sm2' ? OID.sm2WithSm3 : OID.ecdsaWithSha256);
    const v = verifyTimeStampToken(resp, { data: DATA, trusted: [p.root.cert], nonce: p.req.nonce });
    assert.ok(v.valid, `${p.alg}: ${why(v)}`);
    const wrong = verifyTimeStampToken(resp, { data: Buffer.from('other'), trusted: [p.root.cert] });
    assert.equal(wrong.valid ? 'valid' : wrong.code, 'imprintMismatch');
    const nonce = verifyTimeStampToken(resp, { data: DATA, trusted: [p.root.cert], nonce: (p.req.nonce ?? 0n) + 1n });
    assert.equal(nonce.valid ? 'valid' : nonce.code, 'nonceMismatch');
  });
});

// ---------------------------------------------------------------------------------------------
// Rejections: every failure gets its PKIFailureInfo, never an exception; OpenSSL names the bit

test('issueTimeStamp rejects bad requests with the right failInfo, and openssl ts -reply -text names each one', async () => {
  const root = makeRoot('p256');
  const tsa = makeTsa(root, 'p256');
  const good = buildTimeStampRequest({ data: DATA });
  const withAlg = (oid: string, params?: Buffer) => buildTimeStampRequest({ messageImprint: { hashAlgorithm: oid, hashParameters: params, hashedMessage: digest('sha256', DATA) } }).der;
  const v2 = Buffer.from(good.der);
  v2[4] = 2; // version INTEGER content: 30 len 02 01 <01>
  const cases: Array<{ name: string; resp: Buffer; fail: PkiFailureInfo; openssl: RegExp }> = [
    { name: 'garbage', resp: issue(tsa, Buffer.from('not a request')), fail: 'badDataFormat', openssl: /the data submitted has the wrong format/ },
    { name: 'truncated', resp: issue(tsa, good.der.subarray(0, good.der.length - 1)), fail: 'badDataFormat', openssl: /wrong format/ },
    { name: 'version 2', resp: issue(tsa, v2), fail: 'badRequest', openssl: /transaction not permitted or supported/ },
    { name: 'unknown hash OID', resp: issue(tsa, withAlg('1.2.3.4.5.6')), fail: 'badAlg', openssl: /unrecognized or unsupported algorithm identifier/ },
    { name: 'SHA-1', resp: issue(tsa, buildTimeStampRequest({ data: DATA, hash: 'sha1' }).der), fail: 'badAlg', openssl: /unsupported algorithm/ },
    { name: 'hash parameters', resp: issue(tsa, withAlg(OID.sha256, Buffer.from('0400', 'hex'))), fail: 'badAlg', openssl: /unsupported algorithm/ },
    { name: 'short digest', resp: issue(tsa, withAlg(OID.sha384)), fail: 'badDataFormat', openssl: /wrong format/ },
    { name: 'policy', resp: issue(tsa, buildTimeStampRequest({ data: DATA, reqPolicy: '1.2.3.99' }).der), fail: 'unacceptedPolicy', openssl: /the requested TSA policy is not supported by the TSA/ },
    {
      name: 'non-critical unknown extension',
      resp: issue(tsa, buildTimeStampRequest({ data: DATA, extensions: [{ oid: '1.2.3.9', critical: false, value: Buffer.from([5, 0]) }] }).der),
      fail: 'unacceptedExtension',
      openssl: /the requested extension is not supported by the TSA/,
    },
    { name: 'no time', resp: issue(tsa, good.der, { genTime: null }), fail: 'timeNotAvailable', openssl: /the TSA's time source is not available/ },
    { name: 'invalid time', resp: issue(tsa, good.der, { genTime: new Date(Number.NaN) }), fail: 'timeNotAvailable', openssl: /time source/ },
  ];
  // systemFailure: the signer fails (an SM2 user ID longer than GM/T 0009 allows makes signing throw).
  const sm2Tsa = makeTsa(makeRoot('sm2'), 'sm2');
  const errors: unknown[] = [];
  const failed = issue(sm2Tsa, buildTimeStampRequest({ data: DATA, hash: 'sm3' }).der, { sm2UserId: Buffer.alloc(9000), onSystemFailure: (e) => errors.push(e) });
  cases.push({ name: 'signing fails', resp: failed, fail: 'systemFailure', openssl: /the request cannot be handled due to system failure/ });
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof PkiError);

  const printed = await Promise.all(cases.map((c) => ts(['-reply', '-in', 'r.der', '-text'], { 'r.der': c.resp })));
  cases.forEach((c, i) => {
    const r = TimeStampResponse.parse(c.resp);
    assert.equal(r.status, 'rejection', c.name);
    assert.deepEqual(r.failInfo, [c.fail], c.name);
    assert.equal(r.token, undefined);
    assert.ok(r.statusText.length === 1 && r.statusText[0]!.length > 5, c.name);
    assert.match(printed[i]!.out, /Status: Rejected\./, c.name);
    assert.match(printed[i]!.out, c.openssl, `${c.name}: ${printed[i]!.out}`);
  });

  // Exact DER of the named bits (X.690 §11.2.2: trailing zero bits dropped).
  const failInfoBits = (resp: Buffer) => {
    const info = children(resp, children(resp, readTlv(resp))[0]!);
    return resp.subarray(info[2]!.start, info[2]!.end).toString('hex');
  };
  assert.equal(failInfoBits(timeStampRejection('badAlg', 'x')), '03020780');
  assert.equal(failInfoBits(timeStampRejection('badRequest', 'x')), '03020520');
  assert.equal(failInfoBits(timeStampRejection('unacceptedExtension', 'x')), '030407000080');
  assert.equal(failInfoBits(timeStampRejection('systemFailure', 'x')), '03050600000040');

  // Leniency on request: known extensions, or non-critical ones when only critical are refused.
  const ext = buildTimeStampRequest({ data: DATA, extensions: [{ oid: '1.2.3.9', critical: false, value: Buffer.from([5, 0]) }] }).der;
  assert.equal(TimeStampResponse.parse(issue(tsa, ext, { refuseUnknownExtensions: 'critical' })).status, 'granted');
  assert.equal(TimeStampResponse.parse(issue(tsa, ext, { acceptedExtensions: ['1.2.3.9'] })).status, 'granted');
  const critical = buildTimeStampRequest({ data: DATA, extensions: [{ oid: '1.2.3.9', critical: true, value: Buffer.from([5, 0]) }] }).der;
  assert.deepEqual(TimeStampResponse.parse(issue(tsa, critical, { refuseUnknownExtensions: 'critical' })).failInfo, ['unacceptedExtension']);
  // An accepted non-default policy is echoed.
  const other = TimeStampResponse.parse(issue(tsa, buildTimeStampRequest({ data: DATA, reqPolicy: '1.2.3.99' }).der, { acceptedPolicies: [POLICY, '1.2.3.99'] }));
  assert.equal(other.token!.tstInfo.policy, '1.2.3.99');
});

test('issueTimeStamp refuses the caller’s own mistakes with a PkiError: non-TSA certificate, foreign key, short serial', () => {
  const root = makeRoot('p256');
  const tsa = makeTsa(root, 'p256');
  const req = buildTimeStampRequest({ data: DATA }).der;
  assert.throws(() => issue({ key: root.key, cert: root.cert }, req), (e: unknown) => e instanceof PkiError && /extendedKeyUsage/.test((e as Error).message));
  assert.throws(() => issue({ key: generateKey('p256'), cert: tsa.cert }, req), /does not belong/);
  assert.throws(() => issue(tsa, req, { serial: 12345n }), /64 to 160 bits/);
  assert.throws(() => issue(tsa, req, { serial: 1n << 160n }), /64 to 160 bits/);
  assert.equal(TimeStampResponse.parse(issue(tsa, req, { serial: Buffer.from('00112233445566778899', 'hex') })).token!.tstInfo.serialNumber, 0x112233445566778899n);
});

// ---------------------------------------------------------------------------------------------
// Verification reasons

/** A token made by hand, to reach the checks issueTimeStamp would never let fail. */
function handToken(signer: Party, essCert: Certificate | undefined, tst: Buffer, more: Array<{ type: string; values: Buffer[] }> = []): Buffer {
  return signCmsDer({
    content: tst,
    eContentType: OID.ctTstInfo,
    signer: signer.key,
    cert: signer.cert,
    signingTime: false,
    signedAttributes: [...(essCert ? [{ type: OID.aaSigningCertificateV2, values: [encodeSigningCertificate(essCert, 2)] }] : []), ...more],
  });
}

/** An RFC 6211 CMSAlgorithmProtection value claiming SHA-384 while a P-256 token is signed with ECDSA-SHA-256. */
const LYING_PROTECTION = { type: OID.cmsAlgorithmProtection, values: [Buffer.from('3019300b0609608648016503040202a10a06082a8648ce3d040302', 'hex')] };

test('verifyTimeStampToken gives a typed reason for each failure', () => {
  const root = makeRoot('p256');
  const tsa = makeTsa(root, 'p256');
  const other = makeTsa(root, 'p256', 'Other TSA');
  const req = buildTimeStampRequest({ data: DATA, nonce: 77n, certReq: true });
  const resp = issue(tsa, req.der);
  const trusted = [root.cert];
  const code = (r: ReturnType<typeof verifyTimeStampToken>) => (r.valid ? 'valid' : r.code);

  assert.equal(code(verifyTimeStampToken(resp, { data: DATA, trusted, nonce: 77n, policies: [POLICY] })), 'valid');
  assert.equal(code(verifyTimeStampToken(resp, { data: Buffer.from('x'), trusted })), 'imprintMismatch');
  assert.equal(code(verifyTimeStampToken(resp, { messageImprint: { hashAlgorithm: 'sha384', hashedMessage: digest('sha384', DATA) }, trusted })), 'imprintMismatch');
  assert.equal(code(verifyTimeStampToken(resp, { data: DATA, trusted, nonce: 78n })), 'nonceMismatch');
  assert.equal(code(verifyTimeStampToken(issue(tsa, buildTimeStampRequest({ data: DATA, certReq: true }).der), { data: DATA, trusted, nonce: 77n })), 'nonceMismatch');
  assert.equal(code(verifyTimeStampToken(resp, { data: DATA, trusted, policies: ['1.2.3'] })), 'policyMismatch');
  assert.equal(code(verifyTimeStampToken(resp, { data: DATA, tsaCert: other.cert })), 'wrongTsa');
  assert.equal(code(verifyTimeStampToken(resp, { data: DATA, trusted: [makeRoot('p256', 'Other').cert] })), 'untrustedTsa');
  assert.equal(code(verifyTimeStampToken(timeStampRejection('badAlg', 'no'), { data: DATA, trusted })), 'notGranted');
  const late = issue(tsa, req.der, { genTime: new Date(tsa.cert.notAfter.getTime() + 1000) });
  assert.equal(code(verifyTimeStampToken(late, { data: DATA, trusted })), 'tsaCertificateNotValid');

  // Bad signature: one bit of the ECDSA signature value (the last bytes of the response).
  assert.equal(code(verifyTimeStampToken(flipBit(resp, resp.length - 2), { data: DATA, trusted })), 'badSignature');
  // A changed TSTInfo breaks the messageDigest: flip a bit of the serial inside the content.
  const token = TimeStampResponse.parse(resp).token!;
  const serialAt = token.der.indexOf(Buffer.from('5a170000000000000001', 'hex'));
  assert.ok(serialAt > 0);
  assert.equal(code(verifyTimeStampToken(flipBit(token.der, serialAt + 9), { data: DATA, trusted })), 'badSignature');

  const tst = encodeTstInfo({ policy: POLICY, messageImprint: req.messageImprint, serialNumber: SERIAL, genTime: new Date('2026-03-01T00:00:00Z') });
  // ESS attribute naming another certificate, or none at all.
  assert.equal(code(verifyTimeStampToken(handToken(tsa, other.cert, tst), { data: DATA, trusted })), 'signingCertificateMismatch');
  assert.equal(code(verifyTimeStampToken(handToken(tsa, undefined, tst), { data: DATA, trusted })), 'signingCertificateMissing');
  // A certificate without the timeStamping purpose (the CA itself; and one with a non-critical EKU).
  assert.equal(code(verifyTimeStampToken(handToken(root, root.cert, tst), { data: DATA, trusted })), 'eku');
  const nonCriticalKey = generateKey('p256');
  const nonCritical = buildCertificate(
    {
      subject: parseName('C=CN,O=Test,CN=EKU not critical'),
      issuer: root.cert.subject,
      notBefore: NOT_BEFORE,
      notAfter: new Date('2030-01-01T00:00:00Z'),
      publicKey: nonCriticalKey.publicKey,
      extensions: [basicConstraintsExt(false), keyUsageExt(['digitalSignature']), extKeyUsageExt([OID.kpTimeStamping], false), subjectKeyIdentifierExt(nonCriticalKey.publicKey)],
    },
    root.key,
  );
  const nc = verifyTimeStampToken(handToken({ key: nonCriticalKey, cert: nonCritical }, nonCritical, tst), { data: DATA, trusted });
  assert.equal(code(nc), 'eku');
  assert.match((nc as { message: string }).message, /not critical/);
  assert.throws(() => verifyTimeStampToken(resp, { data: DATA }), PkiError, 'needs tsaCert or trusted');
  assert.throws(() => verifyTimeStampToken(resp, { trusted }), PkiError, 'needs data or imprint');
});

// ---------------------------------------------------------------------------------------------
// Encodings and hostile input

test('genTime: fractions without trailing zeros, whole seconds without a dot; strict parsing', () => {
  const mi = { hashAlgorithm: OID.sha256, hashedMessage: digest('sha256', DATA) };
  const text = (ms: string) => TstInfo.parse(encodeTstInfo({ policy: POLICY, messageImprint: mi, serialNumber: SERIAL, genTime: new Date(`2049-12-31T23:59:59${ms}Z`) })).genTimeText;
  assert.equal(text(''), '20491231235959Z');
  assert.equal(text('.000'), '20491231235959Z');
  assert.equal(text('.500'), '20491231235959.5Z');
  assert.equal(text('.250'), '20491231235959.25Z');
  assert.equal(text('.123'), '20491231235959.123Z');
  const good = encodeTstInfo({ policy: POLICY, messageImprint: mi, serialNumber: SERIAL, genTime: new Date('2026-03-01T08:30:15.5Z') });
  const at = good.indexOf(Buffer.from('20260301083015.5Z', 'latin1'));
  assert.ok(at > 0);
  // Same-length replacements, so only the time text is wrong.
  for (const bad of ['20260301083015.0Z', '20261301083015.5Z', '20260230083015.5Z', '20260301246015.5Z', '20260301083015,5Z', '2026030108301a.5Z', '20260301083015.5z', '202603010830155ZZ']) {
    const copy = Buffer.from(good);
    copy.write(bad, at, 'latin1');
    assert.throws(() => TstInfo.parse(copy), ParseError, bad);
  }
  const parsed = TstInfo.parse(encodeTstInfo({ policy: POLICY, messageImprint: mi, serialNumber: SERIAL, genTime: new Date('2026-03-01T08:30:15.5Z'), accuracy: { millis: 1, micros: 999 } }));
  assert.deepEqual(parsed.accuracy, { millis: 1, micros: 999 });
  assert.throws(() => encodeTstInfo({ policy: POLICY, messageImprint: mi, serialNumber: SERIAL, genTime: new Date(), accuracy: { millis: 1000 } }), PkiError);
});

test('truncated and bit-flipped requests and responses are a ParseError (or still well-formed), never another exception', () => {
  const root = makeRoot('p256');
  const tsa = makeTsa(root, 'p256');
  const req = buildTimeStampRequest({ data: DATA, nonce: true, certReq: true, reqPolicy: POLICY });
  const resp = issue(tsa, req.der, { accuracy: { seconds: 1, millis: 5 } });
  const rejection = timeStampRejection('unacceptedPolicy', '不支持的策略');
  const inputs: Array<{ der: Buffer; parse: (b: Buffer) => unknown }> = [
    { der: req.der, parse: (b) => TimeStampRequest.parse(b) },
    { der: resp, parse: (b) => TimeStampResponse.parse(b) },
    { der: rejection, parse: (b) => TimeStampResponse.parse(b) },
    { der: TimeStampResponse.parse(resp).token!.der, parse: (b) => TimeStampToken.parse(b) },
  ];
  for (const { der, parse } of inputs) {
    for (let n = 0; n < der.length; n++) assert.throws(() => parse(der.subarray(0, n)), ParseError, `truncated to ${n}`);
    let parsedAfterFlip = 0;
    for (let i = 0; i < der.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const flipped = flipBit(der, i, mask);
        try {
          parse(flipped);
          parsedAfterFlip++;
        } catch (e) {
          assert.ok(e instanceof ParseError, `flip at ${i}/${mask}: ${String(e)}`);
        }
      }
    }
    assert.ok(parsedAfterFlip < der.length * 2, 'some flips must break the structure');
  }
  // No flipped bit in what the TSA signs or binds (the TSTInfo, the signed attributes, the
  // signature, the embedded TSA certificate) leaves a token that still verifies.
  const parsedToken = TimeStampResponse.parse(resp).token!;
  const token = parsedToken.der;
  const si = parsedToken.signedData.signerInfos[0]!;
  const attrs = Buffer.from(si.signedAttrsDer!);
  attrs[0] = 0xa0;
  const regions = [parsedToken.tstInfo.der, attrs, si.signature, tsa.cert.der].map((part) => {
    const start = token.indexOf(part);
    assert.ok(start > 0);
    return [start, start + part.length] as const;
  });
  let checked = 0;
  for (const [start, end] of regions) {
    for (let i = start; i < end; i++) {
      let parsed;
      try {
        parsed = TimeStampToken.parse(flipBit(token, i, 1 << (i % 8)));
      } catch (e) {
        assert.ok(e instanceof ParseError, String(e));
        continue;
      }
      const v = verifyTimeStampToken(parsed, { data: DATA, trusted: [root.cert], nonce: req.nonce });
      assert.equal(v.valid, false, `flip at ${i} still verifies`);
      checked++;
    }
  }
  assert.ok(checked > 100);
  // issueTimeStamp answers every truncated request with a response, never an exception.
  for (let n = 0; n < req.der.length; n++) assert.deepEqual(TimeStampResponse.parse(issue(tsa, req.der.subarray(0, n))).failInfo, ['badDataFormat']);
  // Structure checks beyond DER: a granted status without a token, a rejection with one.
  const granted = encodeTimeStampResp({ status: 'granted', token: TimeStampResponse.parse(resp).token!.der });
  const info = children(granted, readTlv(granted))[0]!;
  assert.throws(() => TimeStampResponse.parse(Buffer.concat([Buffer.from([0x30, info.end - info.start]), granted.subarray(info.start, info.end)])), ParseError);
  assert.equal(oidToString(token, children(token, readTlv(token))[0]!), OID.cmsSignedData);
});

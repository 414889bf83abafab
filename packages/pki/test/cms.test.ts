import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '../src/x509/certificate.js';
import { buildCertificate } from '../src/x509/certificate-build.js';
import { ParseError } from '../src/errors.js';
import { authorityKeyIdentifierExt, basicConstraintsExt, keyUsageExt, subjectKeyIdentifierExt } from '../src/x509/extensions.js';
import { exportPrivateKey, generateKey, type KeyAlgorithm, type PrivateKey } from '../src/crypto/keys.js';
import { parseName } from '../src/x509/name.js';
import { OID } from '../src/oids.js';
import { SignedDataDoc, signCms, verifyCms } from '../src/cms/index.js';
import { bcCheck, openssl, opensslCmsVerify } from './helpers/outside.js';
import { children, flipBit, oidToString, readTlv } from './helpers/der.js';

interface Party {
  key: PrivateKey;
  cert: Certificate;
}

function makeCa(alg: KeyAlgorithm): Party {
  const key = generateKey(alg);
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=国家卫生健康委,CN=CMS Test CA ${alg}`),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(key.publicKey)],
    },
    key,
  );
  return { key, cert };
}

function makeSigner(ca: Party, alg: KeyAlgorithm): Party {
  const key = generateKey(alg);
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=某医院,CN=张医生 ${alg}`),
      issuer: ca.cert.subject,
      notBefore: new Date('2025-06-01T00:00:00Z'),
      notAfter: new Date('2030-06-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(false), keyUsageExt(['digitalSignature', 'nonRepudiation']), subjectKeyIdentifierExt(key.publicKey), authorityKeyIdentifierExt(ca.cert.subjectKeyId!)],
    },
    ca.key,
  );
  return { key, cert };
}

const CONTENT = Buffer.from('电子病历 record #42: 血压 120/80\n\x00\xff binary tail', 'utf8');

/** The SignerInfo's digest and signature AlgorithmIdentifier DERs, read with the test's own DER reader. */
function signerAlgorithms(der: Buffer): { outerType: string; eContentType: string; digestAlg: Buffer; sigAlgOid: string; sigAlg: Buffer } {
  const ci = children(der, readTlv(der, 0));
  const sd = readTlv(der, ci[1]!.valueStart);
  const parts = children(der, sd);
  const encap = children(der, parts[2]!);
  const infos = parts[parts.length - 1]!;
  const si = children(der, children(der, infos)[0]!);
  const sigAlg = si.find((t, i) => i > 2 && t.tag === 0x30)!;
  return {
    outerType: oidToString(der, ci[0]!),
    eContentType: oidToString(der, encap[0]!),
    digestAlg: der.subarray(si[2]!.start, si[2]!.end),
    sigAlgOid: oidToString(der, children(der, sigAlg)[0]!),
    sigAlg: der.subarray(sigAlg.start, sigAlg.end),
  };
}

for (const alg of ['rsa2048', 'p256'] as const) {
  test(`${alg}: openssl cms -verify accepts our attached and detached SignedData; tampering is caught`, async () => {
    const ca = makeCa(alg);
    const signer = makeSigner(ca, alg);
    const attached = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, chain: [ca.cert] });
    const detached = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, detached: true });
    assert.equal(attached.isDetached, false);
    assert.equal(detached.isDetached, true);
    assert.equal(attached.certificates.length, 2);

    const a = await opensslCmsVerify(attached.der, { trusted: [ca.cert.der] });
    assert.ok(a.ok, a.output);
    assert.ok(a.content?.equals(CONTENT), 'openssl extracts the same content');
    const d = await opensslCmsVerify(detached.der, { trusted: [ca.cert.der], content: CONTENT });
    assert.ok(d.ok, d.output);
    const wrong = await opensslCmsVerify(detached.der, { trusted: [ca.cert.der], content: Buffer.concat([CONTENT, Buffer.from('!')]) });
    assert.equal(wrong.ok, false, wrong.output);

    const [bcA, bcD] = await bcCheck([
      { kind: 'cms', cms: attached.der },
      { kind: 'cms', cms: detached.der, content: CONTENT },
    ]);
    assert.ok(bcA!.ok, bcA!.output);
    assert.ok(bcD!.ok, bcD!.output);

    const mine = verifyCms(attached);
    assert.equal(mine.valid, true, mine.error);
    assert.ok(mine.signerCertificate?.der.equals(signer.cert.der));
    assert.ok(mine.content?.equals(CONTENT));
    assert.equal(mine.eContentType, OID.cmsData);
    assert.equal(verifyCms(detached.der, { content: Buffer.concat([CONTENT, Buffer.from('!')]) }).error, 'messageDigest does not match the content');
    const algs = signerAlgorithms(attached.der);
    assert.equal(algs.sigAlgOid, alg === 'rsa2048' ? OID.rsaEncryption : OID.ecdsaWithSha256);
    assert.equal(algs.digestAlg.toString('hex'), '300b0609608648016503040201', 'SHA-256 without parameters (RFC 5754)');
  });
}

test('we verify openssl cms -sign output, detached and with -nodetach, and catch a changed content', async () => {
  for (const alg of ['p256', 'rsa2048'] as const) {
    const ca = makeCa(alg);
    const signer = makeSigner(ca, alg);
    for (const attach of [false, true]) {
      const r = await openssl(
        ['cms', '-sign', '-binary', '-outform', 'DER', '-in', 'content.bin', '-signer', 'signer.pem', '-inkey', 'signer.key', '-certfile', 'ca.pem', '-out', 'out.der', ...(attach ? ['-nodetach'] : [])],
        { files: { 'content.bin': CONTENT, 'signer.pem': signer.cert.toPem(), 'signer.key': exportPrivateKey(signer.key, 'pem'), 'ca.pem': ca.cert.toPem() }, outputs: ['out.der'] },
      );
      assert.equal(r.code, 0, r.stderr);
      const doc = SignedDataDoc.parse(r.outputs['out.der']!);
      assert.equal(doc.isDetached, !attach);
      const v = verifyCms(doc, attach ? {} : { content: CONTENT });
      assert.equal(v.valid, true, `${alg} attach=${attach}: ${v.error}`);
      assert.ok(v.signerCertificate?.der.equals(signer.cert.der));
      assert.ok(v.signingTime && Math.abs(v.signingTime.getTime() - Date.now()) < 120_000);
      assert.equal(doc.certificates.length, 2);
      if (!attach) assert.equal(verifyCms(doc, { content: Buffer.from('other') }).valid, false);
      else assert.equal(verifyCms(doc).content?.equals(CONTENT), true);
    }
  }
});

test('SM2 GM/T 0010 SignedData: GM OIDs, SM3, sm2-1 or SM2-with-SM3; BouncyCastle verifies attached and detached', async () => {
  const ca = makeCa('sm2');
  const signer = makeSigner(ca, 'sm2');
  const at = new Date('2026-03-01T09:30:15.750Z');
  const gmAttached = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, chain: [ca.cert], signingTime: at });
  const gmDetached = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, detached: true });
  const gm501 = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, sm2SignatureOid: 'sm2-with-sm3' });
  const plain = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, gm: false });

  const a = signerAlgorithms(gmAttached.der);
  assert.equal(a.outerType, '1.2.156.10197.6.1.4.2.2');
  assert.equal(a.eContentType, '1.2.156.10197.6.1.4.2.1');
  assert.equal(a.digestAlg.toString('hex'), '300a06082a811ccf55018311', 'SM3 without parameters (GmSSL rejects NULL)');
  assert.equal(a.sigAlgOid, '1.2.156.10197.1.301.1');
  assert.equal(a.sigAlg.length, 13, 'no parameters');
  assert.equal(signerAlgorithms(gm501.der).sigAlgOid, '1.2.156.10197.1.501');
  assert.equal(signerAlgorithms(plain.der).outerType, OID.cmsSignedData);
  assert.equal(signerAlgorithms(plain.der).eContentType, OID.cmsData);

  const results = await bcCheck([
    { kind: 'cms', cms: gmAttached.der },
    { kind: 'cms', cms: gmDetached.der, content: CONTENT },
    { kind: 'cms', cms: gm501.der },
    { kind: 'cms', cms: plain.der },
    { kind: 'cms', cms: gmDetached.der, content: Buffer.from('tampered') },
  ]);
  for (const [i, r] of results.slice(0, 4).entries()) assert.ok(r.ok, `job ${i}: ${r.output}`);
  assert.equal(results[4]!.ok, false, 'BC must reject the wrong detached content');

  const v = verifyCms(gmAttached);
  assert.equal(v.valid, true, v.error);
  assert.equal(v.signingTime?.toISOString(), '2026-03-01T09:30:15.000Z');
  assert.ok(v.signerCertificate?.der.equals(signer.cert.der));
  assert.equal(verifyCms(gmDetached, { content: CONTENT }).valid, true);
  assert.equal(verifyCms(gm501).valid, true);
  // The SM2 signature binds the user ID: another ID does not verify.
  assert.equal(verifyCms(gmAttached, { sm2UserId: Buffer.from('another-user-id') }).error, 'signature is invalid');
  // A signature by someone else's key under this signer's certificate is caught.
  const other = generateKey('sm2');
  assert.throws(() => signCms({ content: CONTENT, signer: other, cert: signer.cert }), /does not belong/);
});

test('certificates left out: the verifier takes them from the caller; unknown signer is reported', () => {
  const ca = makeCa('p256');
  const signer = makeSigner(ca, 'p256');
  const doc = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, includeCertificates: false, signingTime: false });
  assert.equal(doc.certificates.length, 0);
  assert.equal(verifyCms(doc).error, 'no certificate matches the SignerInfo');
  const v = verifyCms(doc, { certificates: [ca.cert, signer.cert] });
  assert.equal(v.valid, true, v.error);
  assert.equal(v.signingTime, undefined);
  const detached = signCms({ content: CONTENT, signer: signer.key, cert: signer.cert, detached: true });
  assert.equal(verifyCms(detached).error, 'the signature is detached and no content was given');
});

test('bad CMS input is a ParseError: truncation, bit flips, BER indefinite length from openssl -stream', async () => {
  const ca = makeCa('p256');
  const signer = makeSigner(ca, 'p256');
  const der = signCms({ content: Buffer.from('short'), signer: signer.key, cert: signer.cert }).der;
  for (const len of [0, 1, 2, 9, der.length >> 1, der.length - 1]) {
    assert.throws(() => SignedDataDoc.parse(der.subarray(0, len)), ParseError, `truncated to ${len}`);
  }
  assert.throws(() => SignedDataDoc.parse(Buffer.concat([der, Buffer.from([0, 0])])), ParseError);
  let rejected = 0;
  for (let i = 0; i < der.length; i++) {
    for (const mask of [0x01, 0x80]) {
      try {
        const doc = SignedDataDoc.parse(flipBit(der, i, mask));
        const v = verifyCms(doc);
        assert.equal(typeof v.valid, 'boolean');
      } catch (e) {
        assert.ok(e instanceof ParseError, `byte ${i} mask ${mask}: ${String(e)}`);
        rejected++;
      }
    }
  }
  assert.ok(rejected > der.length / 4, `only ${rejected} flips rejected`);

  // OpenSSL's streaming mode writes BER with indefinite lengths: a typed refusal, not a crash.
  const r = await openssl(['cms', '-sign', '-binary', '-stream', '-nodetach', '-outform', 'DER', '-in', 'c.bin', '-signer', 's.pem', '-inkey', 's.key', '-out', 'out.der'], {
    files: { 'c.bin': CONTENT, 's.pem': signer.cert.toPem(), 's.key': exportPrivateKey(signer.key, 'pem') },
    outputs: ['out.der'],
  });
  assert.equal(r.code, 0, r.stderr);
  const ber = r.outputs['out.der']!;
  assert.equal(ber[1], 0x80, 'openssl -stream output starts with an indefinite length');
  assert.throws(() => SignedDataDoc.parse(ber), (e: unknown) => e instanceof ParseError && /indefinite length/.test(e.message));
});

/** The certs-only CMS message of chain downloads: OpenSSL reads every certificate back, byte for byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '../src/x509/certificate.js';
import { buildCertificate } from '../src/x509/certificate-build.js';
import { basicConstraintsExt, keyUsageExt } from '../src/x509/extensions.js';
import { generateKey, type KeyAlgorithm } from '../src/crypto/keys.js';
import { parseName } from '../src/x509/name.js';
import { SignedDataDoc, buildCertsOnly } from '../src/cms/index.js';
import { toDer } from '../src/encoding/pem.js';
import { openssl } from './helpers/outside.js';

function chain(alg: KeyAlgorithm): Certificate[] {
  const caKey = generateKey(alg);
  const notBefore = new Date('2025-01-01T00:00:00Z');
  const notAfter = new Date('2030-01-01T00:00:00Z');
  const ca = buildCertificate({ subject: parseName(`C=CN,O=测试,CN=Chain CA ${alg}`), notBefore, notAfter, publicKey: caKey.publicKey, extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign'])] }, caKey);
  const leafKey = generateKey(alg);
  const leaf = buildCertificate({ subject: parseName(`C=CN,O=测试,CN=张三 ${alg}`), issuer: ca.subjectDer, notBefore, notAfter, publicKey: leafKey.publicKey, extensions: [keyUsageExt(['digitalSignature'])] }, caKey);
  return [leaf, ca];
}

for (const alg of ['p256', 'sm2'] as const) {
  test(`${alg}: openssl pkcs7 -print_certs reads every certificate of a certs-only message unchanged`, async () => {
    const certs = chain(alg);
    const p7 = buildCertsOnly(certs.map((c) => c.der));
    const r = await openssl(['pkcs7', '-inform', 'DER', '-in', 'chain.p7b', '-print_certs'], { files: { 'chain.p7b': p7 } });
    assert.equal(r.code, 0, r.stderr);
    const blocks = r.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const got = blocks.map((b) => toDer(b, ['CERTIFICATE']).toString('hex')).sort();
    assert.deepEqual(got, certs.map((c) => c.der.toString('hex')).sort());
    // Our own reader agrees: no signers, no content, both certificates.
    const doc = SignedDataDoc.parse(p7);
    assert.equal(doc.signerInfos.length, 0);
    assert.equal(doc.content, undefined);
    assert.equal(doc.certificates.length, 2);
  });
}

test('an empty certs-only message is still well-formed for openssl', async () => {
  const r = await openssl(['pkcs7', '-inform', 'DER', '-in', 'empty.p7b', '-print_certs'], { files: { 'empty.p7b': buildCertsOnly([]) } });
  assert.equal(r.code, 0, r.stderr);
});

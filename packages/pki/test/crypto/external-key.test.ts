/**
 * Device-held keys (crypto/external-key.ts): a KeySigner that does what a PKCS#11 token does —
 * CKM_ECDSA over a hash returning r‖s, CKM_RSA_PKCS over a DigestInfo — signs certificates and
 * CRLs through the ordinary builders, and OpenSSL verifies them. RSA PKCS#1 v1.5 is deterministic,
 * so the device path must give the very bytes the software path gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, privateEncrypt } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { generateKey, type PrivateKey } from '../../src/crypto/keys.js';
import { ecdsaRawToDer, externalPrivateKey, isExternalKey, rsaDigestInfo } from '../../src/crypto/external-key.js';
import { digest, type HashName } from '../../src/crypto/hash.js';
import { signData, verifyData } from '../../src/crypto/signature.js';
import { buildCertificate } from '../../src/x509/certificate-build.js';
import { buildCrl } from '../../src/x509/crl.js';
import { basicConstraintsExt, keyUsageExt, subjectKeyIdentifierExt } from '../../src/x509/extensions.js';
import { parseName } from '../../src/x509/name.js';
import { opensslCrlVerify, opensslVerifyCert } from '../helpers/outside.js';

/** A stand-in token: signs with a software key the way PKCS#11 raw mechanisms do. */
function deviceKey(soft: PrivateKey): PrivateKey {
  return externalPrivateKey(soft.publicKey, {
    description: 'test device',
    sign(data: Uint8Array, hash: HashName) {
      const h = digest(hash, data);
      if (soft.kind === 'rsa') return privateEncrypt({ key: soft.node, padding: constants.RSA_PKCS1_PADDING }, rsaDigestInfo(hash, h));
      // CKM_ECDSA: the hash is signed as is (no further hashing), the result is r‖s.
      const d = Buffer.from(soft.node.export({ format: 'jwk' }).d!, 'base64url');
      return ecdsaRawToDer((soft.curve === 'P-384' ? p384 : p256).sign(h, d, { prehash: false, format: 'compact' }));
    },
  });
}

test('RSA through a device signer gives the same bytes as the software key', () => {
  const soft = generateKey('rsa2048');
  const dev = deviceKey(soft);
  assert.ok(isExternalKey(dev) && !isExternalKey(soft));
  const data = Buffer.from('to be signed');
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    assert.deepEqual(signData(dev, data, { hash }).signature, signData(soft, data, { hash }).signature, hash);
  }
});

test('ECDSA r‖s becomes a DER signature that verifies; the private half cannot be read', () => {
  for (const alg of ['p256', 'p384'] as const) {
    const dev = deviceKey(generateKey(alg));
    const data = Buffer.from('to be signed');
    const { algorithm, signature } = signData(dev, data);
    assert.ok(verifyData(dev.publicKey, algorithm, data, signature), alg);
    assert.throws(() => dev.pkcs8, (e: any) => e.code === 'key.external' && /test device/.test(e.message));
    assert.throws(() => dev.node, (e: any) => e.code === 'key.external');
  }
  // Leading zero bytes of r or s are dropped and a high bit gets its 00: minimal DER INTEGERs.
  const raw = Buffer.concat([Buffer.alloc(31), Buffer.from([5]), Buffer.from([0x80]), Buffer.alloc(31, 1)]);
  assert.equal(ecdsaRawToDer(raw).toString('hex'), '3026020105022100' + '80' + '01'.repeat(31));
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), (e: any) => e.code === 'key.external');
});

test('SM2 keys cannot be wrapped as device keys', () => {
  assert.throws(() => externalPrivateKey(generateKey('sm2').publicKey, { description: 'x', sign: () => new Uint8Array() }), /RSA or ECDSA/);
});

test('a CA with a device key issues a certificate and a CRL that OpenSSL verifies', async () => {
  for (const alg of ['p256', 'rsa2048'] as const) {
    const ca = deviceKey(generateKey(alg));
    const caName = parseName(`C=CN,O=Device test,CN=Device CA ${alg}`);
    const caCert = buildCertificate({
      subject: caName,
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      publicKey: ca.publicKey,
      serialNumber: Buffer.from([1]),
      extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(ca.publicKey)],
    }, ca);
    const holder = generateKey('p256');
    const leaf = buildCertificate({
      subject: parseName('C=CN,O=Device test,CN=holder'),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
      publicKey: holder.publicKey,
      issuer: caCert.subjectDer,
      serialNumber: Buffer.from([2]),
      extensions: [keyUsageExt(['digitalSignature'])],
    }, ca);
    const v = await opensslVerifyCert({ leaf: leaf.der, trusted: caCert.der, at: new Date('2026-01-01T00:00:00Z') });
    assert.ok(v.ok, `${alg} certificate: ${v.output}`);
    const crl = buildCrl({ issuer: caCert, signer: ca, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 7n, entries: [{ serial: leaf.serialNumber, revocationDate: new Date(), reason: 'keyCompromise' }] });
    const c = await opensslCrlVerify(crl.der, caCert.der);
    assert.ok(c.ok, `${alg} CRL: ${c.output}`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Certificate } from '../src/x509/certificate.js';
import { buildCertificate } from '../src/x509/certificate-build.js';
import { Crl, buildCrl } from '../src/x509/crl.js';
import { ParseError, UnsupportedError } from '../src/errors.js';
import { basicConstraintsExt, keyUsageExt, subjectKeyIdentifierExt, authorityKeyIdentifierExt } from '../src/x509/extensions.js';
import { exportPrivateKey, generateKey, type KeyAlgorithm, type PrivateKey } from '../src/crypto/keys.js';
import { formatName, nameFromDer, parseName } from '../src/x509/name.js';
import { bcCheck, openssl, opensslCrlVerify, opensslVerifyCert } from './helpers/outside.js';
import { flipBit, flipSignatureBit } from './helpers/der.js';
import { AsnConvert } from '@peculiar/asn1-schema';

// The tests run from the repository root; shared/ lies beside the clone (as in CI).
const PKITS = process.env.PKITS_DIR ?? resolve(process.cwd(), '..', 'shared', 'pkits');
const pkitsCrl = (name: string) => Crl.parse(readFileSync(join(PKITS, 'crls', name)));
const pkitsCert = (name: string) => Certificate.parse(readFileSync(join(PKITS, 'certs', name)));

const NOW = new Date('2026-03-01T08:00:00Z');
const LATER = new Date('2026-03-08T08:00:00Z');

function makeCa(alg: KeyAlgorithm): { key: PrivateKey; cert: Certificate } {
  const key = generateKey(alg);
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=卫生健康委员会测试,CN=Test CA ${alg}`),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(key.publicKey)],
    },
    key,
  );
  return { key, cert };
}

function makeLeaf(ca: { key: PrivateKey; cert: Certificate }, cn: string): Certificate {
  const key = generateKey('p256');
  return buildCertificate(
    {
      subject: parseName(`C=CN,O=Test Hospital,CN=${cn}`),
      issuer: ca.cert.subject,
      notBefore: new Date('2025-06-01T00:00:00Z'),
      notAfter: new Date('2030-06-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(false), keyUsageExt(['digitalSignature']), authorityKeyIdentifierExt(ca.cert.subjectKeyId!)],
    },
    ca.key,
  );
}

function sampleCrl(ca: { key: PrivateKey; cert: Certificate }, revoke: Certificate[] = []) {
  return buildCrl({
    issuer: ca.cert,
    signer: ca.key,
    thisUpdate: NOW,
    nextUpdate: LATER,
    crlNumber: 42n,
    entries: [
      ...revoke.map((c) => ({ serial: c.serialNumber, revocationDate: NOW, reason: 'keyCompromise' as const })),
      { serial: Buffer.from('0a0b0c', 'hex'), revocationDate: new Date('2026-02-01T10:20:30.999Z'), reason: 'superseded', invalidityDate: new Date('2026-01-15T00:00:00Z') },
      { serial: Buffer.from('00ff', 'hex'), revocationDate: new Date('2026-02-02T00:00:00Z'), reason: 'unspecified' },
      { serial: Buffer.from('77', 'hex'), revocationDate: new Date('2026-02-03T00:00:00Z') },
    ],
  });
}

test('every PKITS CRL parses, with its entries, numbers and distribution points', () => {
  const names = readdirSync(join(PKITS, 'crls'));
  assert.equal(names.length, 173);
  let deltas = 0;
  let idps = 0;
  for (const name of names) {
    const crl = pkitsCrl(name);
    assert.ok(crl.thisUpdate instanceof Date && !Number.isNaN(crl.thisUpdate.getTime()), name);
    assert.equal(crl.revoked.length, crl.revokedCount, name);
    assert.equal(crl.asn.tbsCertList.revokedCertificates?.length ?? 0, crl.revokedCount, name);
    if (crl.isDelta) deltas++;
    if (crl.issuingDistributionPoint) idps++;
  }
  assert.ok(deltas >= 4, `delta CRLs: ${deltas}`);
  assert.ok(idps >= 10, `CRLs with an IDP: ${idps}`);
});

test('PKITS CRL signatures verify with their CA keys, and the bad-signature CRL does not', () => {
  const root = pkitsCert('TrustAnchorRootCertificate.crt');
  assert.equal(pkitsCrl('TrustAnchorRootCRL.crl').verifySignature(root.publicKey), true);
  const good = pkitsCert('GoodCACert.crt');
  const goodCrl = pkitsCrl('GoodCACRL.crl');
  assert.equal(goodCrl.verifySignature(good.publicKey), true);
  assert.ok(goodCrl.issuerDer.equals(good.subjectDer));
  const badCa = pkitsCert('BadCRLSignatureCACert.crt');
  assert.equal(pkitsCrl('BadCRLSignatureCACRL.crl').verifySignature(badCa.publicKey), false);
});

test('PKITS revoked certificates are found by serial, including negative and long serials', () => {
  const revokedEe = pkitsCert('InvalidRevokedEETest3EE.crt');
  assert.equal(pkitsCrl('GoodCACRL.crl').findRevoked(revokedEe.serialNumber, revokedEe.issuerDer)?.reason, 'keyCompromise');
  const negative = pkitsCert('InvalidNegativeSerialNumberTest15EE.crt');
  assert.ok(pkitsCrl('NegativeSerialNumberCACRL.crl').findRevoked(negative.serialNumber));
  assert.equal(pkitsCrl('NegativeSerialNumberCACRL.crl').findRevoked(pkitsCert('ValidNegativeSerialNumberTest14EE.crt').serialNumber), undefined);
  const long = pkitsCert('InvalidLongSerialNumberTest18EE.crt');
  assert.equal(long.serialNumber.length, 20);
  assert.ok(pkitsCrl('LongSerialNumberCACRL.crl').findRevoked(long.serialNumber));
  assert.equal(pkitsCrl('LongSerialNumberCACRL.crl').findRevoked(pkitsCert('ValidLongSerialNumberTest16EE.crt').serialNumber), undefined);
});

test('PKITS indirect CRL: certificateIssuer carries over to the following entries', () => {
  const crl = pkitsCrl('indirectCRLCA5CRL.crl');
  assert.equal(crl.issuingDistributionPoint?.indirectCRL, true);
  const issuerOf = (serialHex: string) => {
    const e = crl.revoked.find((r) => r.serialHex === serialHex)!;
    return e.certificateIssuer?.map((n) => formatName(nameFromDer(n)));
  };
  assert.equal(issuerOf('01'), undefined); // first entry without the extension: the CRL issuer
  assert.deepEqual(issuerOf('02'), ['C=US, O=Test Certificates 2011, CN=indirectCRL CA6']);
  assert.deepEqual(issuerOf('04'), ['C=US, O=Test Certificates 2011, CN=indirectCRL CA6']); // carried over
  assert.deepEqual(issuerOf('05'), ['C=US, O=Test Certificates 2011, CN=indirectCRL CA7']);
  const ca6 = pkitsCert('indirectCRLCA6Cert.crt');
  const serial2 = Buffer.from([2]);
  assert.ok(crl.findRevoked(serial2, ca6.subjectDer));
  assert.equal(crl.findRevoked(serial2), undefined, 'serial 2 of the CRL issuer itself is not revoked');
  assert.ok(crl.findRevoked(Buffer.from([1])));
});

test('PKITS delta CRL carries its base CRL number', () => {
  const base = pkitsCrl('deltaCRLCA1CRL.crl');
  const delta = pkitsCrl('deltaCRLCA1deltaCRL.crl');
  assert.equal(base.isDelta, false);
  assert.equal(delta.isDelta, true);
  assert.equal(typeof delta.baseCrlNumber, 'bigint');
  assert.ok(delta.crlNumber! > delta.baseCrlNumber!);
});

test('built CRL reads back: entries, reasons (unspecified omitted), whole seconds, big CRL number', () => {
  const ca = makeCa('p256');
  const crl = buildCrl({
    issuer: ca.cert,
    signer: ca.key,
    thisUpdate: new Date('2026-03-01T08:00:00.500Z'),
    nextUpdate: new Date('2051-01-01T00:00:00Z'),
    crlNumber: 2n ** 150n + 7n,
    entries: [
      { serial: Buffer.from('0a0b0c', 'hex'), revocationDate: new Date('2026-02-01T10:20:30.999Z'), reason: 'superseded', invalidityDate: new Date('2026-01-15T00:00:00Z') },
      { serial: Buffer.from('00ff', 'hex'), revocationDate: new Date('2026-02-02T00:00:00Z'), reason: 'unspecified' },
    ],
  });
  assert.equal(crl.version, 2);
  assert.equal(crl.crlNumber, 2n ** 150n + 7n);
  assert.equal(crl.thisUpdate.toISOString(), '2026-03-01T08:00:00.000Z');
  assert.equal(crl.nextUpdate?.toISOString(), '2051-01-01T00:00:00.000Z');
  assert.ok(crl.tbsDer.includes(Buffer.from('20510101000000Z')), 'from 2050 on, GeneralizedTime');
  assert.ok(crl.issuerDer.equals(ca.cert.subjectDer));
  assert.ok(crl.authorityKeyId?.equals(ca.cert.subjectKeyId!));
  const [a, b] = crl.revoked;
  assert.equal(a!.serialHex, '0a0b0c');
  assert.equal(a!.reason, 'superseded');
  assert.equal(a!.revocationDate.toISOString(), '2026-02-01T10:20:30.000Z');
  assert.equal(a!.invalidityDate?.toISOString(), '2026-01-15T00:00:00.000Z');
  assert.equal(b!.reason, undefined, 'reasonCode unspecified SHOULD be absent (RFC 5280 §5.3.1)');
  assert.equal(b!.extensions.length, 0);
  assert.equal(crl.findRevoked(Buffer.from('00ff', 'hex'))?.serialHex, 'ff');
  assert.equal(crl.findRevoked(Buffer.from('ff', 'hex')), undefined, '0xff is -1, not 255');
  assert.ok(crl.findRevoked(Buffer.from('000a0b0c', 'hex')), 'a redundant sign byte does not matter');
  assert.equal(crl.findRevoked(Buffer.from('0b', 'hex')), undefined);
  assert.equal(Crl.parse(crl.toPem()).der.equals(crl.der), true);
  // The schema view and our own walker agree.
  assert.equal(Buffer.from(crl.asn.tbsCertList.revokedCertificates![0]!.userCertificate).toString('hex'), '0a0b0c');
});

test('an empty CRL omits revokedCertificates; delta CRL and IDP read back', () => {
  const ca = makeCa('p256');
  const crl = buildCrl({
    issuer: { name: ca.cert.subject, keyId: ca.cert.subjectKeyId },
    signer: ca.key,
    thisUpdate: NOW,
    nextUpdate: LATER,
    crlNumber: 8n,
    deltaOf: 5n,
    entries: [],
    issuingDistributionPoint: { urls: ['http://crl.example.cn/ca.crl'], onlyContainsUserCerts: true, onlySomeReasons: ['keyCompromise', 'cACompromise'] },
  });
  assert.equal(crl.revokedCount, 0);
  assert.equal(crl.asn.tbsCertList.revokedCertificates, undefined);
  assert.equal(crl.isDelta, true);
  assert.equal(crl.baseCrlNumber, 5n);
  assert.equal(crl.extension('2.5.29.27')?.critical, true);
  const idp = crl.issuingDistributionPoint!;
  assert.equal(idp.onlyContainsUserCerts, true);
  assert.equal(idp.onlyContainsCACerts, false);
  assert.deepEqual(idp.onlySomeReasons?.toJSON().sort(), ['cACompromise', 'keyCompromise']);
  assert.equal(idp.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier, 'http://crl.example.cn/ca.crl');
  assert.equal(crl.verifySignature(ca.key.publicKey), true);
});

for (const alg of ['rsa2048', 'p256'] as const) {
  test(`${alg}: openssl crl -verify accepts our CRL and rejects a tampered one`, async () => {
    const ca = makeCa(alg);
    const crl = sampleCrl(ca);
    const ok = await opensslCrlVerify(crl.der, ca.cert.der);
    assert.ok(ok.ok, ok.output);
    const bad = await opensslCrlVerify(flipSignatureBit(crl.der), ca.cert.der);
    assert.equal(bad.ok, false, bad.output);
    const text = await openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-noout', '-text'], { files: { 'crl.der': crl.der } });
    assert.match(text.stdout, /CRL Number: \n\s+42/);
    assert.match(text.stdout, /Serial Number: 0A0B0C\n\s+Revocation Date: Feb  1 10:20:30 2026 GMT\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Superseded/);
  });

  test(`${alg}: openssl verify -crl_check reports our revoked leaf as revoked, and a good one as OK`, async () => {
    const ca = makeCa(alg);
    const revoked = makeLeaf(ca, 'revoked');
    const good = makeLeaf(ca, 'good');
    const crl = sampleCrl(ca, [revoked]);
    const at = new Date('2026-03-02T00:00:00Z');
    const v1 = await opensslVerifyCert({ leaf: revoked.der, trusted: ca.cert.der, crls: [crl.der], at });
    assert.equal(v1.ok, false);
    assert.match(v1.output, /certificate revoked/);
    const v2 = await opensslVerifyCert({ leaf: good.der, trusted: ca.cert.der, crls: [crl.der], at });
    assert.ok(v2.ok, v2.output);
  });
}

test('SM2 CRL: BouncyCastle and openssl dgst (standard user ID) verify it; BC rejects a tampered one', async () => {
  const ca = makeCa('sm2');
  const rsaCa = makeCa('p256');
  const crl = sampleCrl(ca, [makeLeaf(ca, 'x')]);
  assert.equal(crl.signatureAlgorithm.algorithm, '1.2.156.10197.1.501');
  assert.equal(crl.verifySignature(ca.key.publicKey), true);
  const [good, tampered, p256] = await bcCheck([
    { kind: 'crl', crl: crl.der, issuer: ca.cert.der },
    { kind: 'crl', crl: flipSignatureBit(crl.der), issuer: ca.cert.der },
    { kind: 'crl', crl: sampleCrl(rsaCa).der, issuer: rsaCa.cert.der },
  ]);
  assert.ok(good!.ok, good!.output);
  assert.match(good!.output, /entries=4/);
  assert.equal(tampered!.ok, false);
  assert.ok(p256!.ok, p256!.output);
  const viaOpenssl = await opensslCrlVerify(crl.der, ca.cert.der);
  assert.ok(viaOpenssl.ok, viaOpenssl.output);
});

test('a CRL made by openssl ca -gencrl parses and verifies with our code', async () => {
  const ca = makeCa('p256');
  const conf = [
    '[ca]',
    'default_ca = CA_default',
    '[CA_default]',
    'dir = .',
    'database = index.txt',
    'crlnumber = crlnumber',
    'certificate = ca.pem',
    'private_key = ca.key',
    'default_md = sha256',
    'default_crl_days = 7',
    'crl_extensions = crl_ext',
    '[crl_ext]',
    'authorityKeyIdentifier = keyid:always',
    '',
  ].join('\n');
  // index.txt: status, expiry, revocation time[,reason], serial, file, subject (tab separated)
  const index = 'R\t300101000000Z\t260201000000Z,keyCompromise\t1A2B\tunknown\t/CN=revoked one\n' + 'R\t300101000000Z\t260202000000Z\t3C\tunknown\t/CN=revoked two\n' + 'V\t300101000000Z\t\t4D\tunknown\t/CN=valid\n';
  const r = await openssl(['ca', '-gencrl', '-config', 'ca.cnf', '-out', 'crl.pem', '-batch'], {
    files: { 'ca.cnf': conf, 'index.txt': index, crlnumber: '1001\n', 'ca.pem': ca.cert.toPem(), 'ca.key': exportPrivateKey(ca.key, 'pem') },
    outputs: ['crl.pem'],
  });
  assert.equal(r.code, 0, r.stderr);
  const crl = Crl.parse(r.outputs['crl.pem']!);
  assert.equal(crl.verifySignature(ca.key.publicKey), true);
  assert.equal(crl.crlNumber, 0x1001n);
  assert.ok(crl.issuerDer.equals(ca.cert.subjectDer));
  assert.deepEqual(
    crl.revoked.map((e) => [e.serialHex, e.reason, e.revocationDate.toISOString()]).sort(),
    [
      ['1a2b', 'keyCompromise', '2026-02-01T00:00:00.000Z'],
      ['3c', undefined, '2026-02-02T00:00:00.000Z'],
    ],
  );
  assert.ok(crl.findRevoked(Buffer.from('1a2b', 'hex')));
  assert.equal(crl.findRevoked(Buffer.from('4d', 'hex')), undefined);
});

test('bad CRL input is a ParseError: truncation, garbage, bit flips everywhere', () => {
  const ca = makeCa('p256');
  const der = sampleCrl(ca).der;
  for (const len of [0, 1, 2, 10, der.length >> 1, der.length - 1]) {
    assert.throws(() => Crl.parse(der.subarray(0, len)), ParseError, `truncated to ${len}`);
  }
  assert.throws(() => Crl.parse(Buffer.concat([der, Buffer.from([0])])), ParseError);
  assert.throws(() => Crl.parse('-----BEGIN X509 CRL-----\nnot base64!\n-----END X509 CRL-----\n'), ParseError);
  assert.throws(() => Crl.parse(Buffer.from('hello world')), ParseError);
  // Flip each byte's low and high bit: the result either parses and reads fully, or is a ParseError.
  let rejected = 0;
  for (let i = 0; i < der.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const bad = flipBit(der, i, mask);
      try {
        const c = Crl.parse(bad);
        void [c.revoked, c.crlNumber, c.baseCrlNumber, c.issuingDistributionPoint, c.authorityKeyId, c.nextUpdate, c.findRevoked(Buffer.from([0x77]))];
        // A flipped signature algorithm OID is an UnsupportedError at verification, never a crash.
        try {
          assert.equal(c.verifySignature(ca.key.publicKey), false, `byte ${i} mask ${mask} still verifies`);
        } catch (e) {
          assert.ok(e instanceof UnsupportedError, `byte ${i} mask ${mask}: ${String(e)}`);
        }
      } catch (e) {
        assert.ok(e instanceof ParseError, `byte ${i} mask ${mask}: ${String(e)}`);
        rejected++;
      }
    }
  }
  assert.ok(rejected > der.length / 2, `only ${rejected} of ${2 * der.length} flips were rejected`);
});

test('the hand-written revoked-list DER equals what the @peculiar schema encodes', () => {
  const ca = makeCa('p256');
  const crl = sampleCrl(ca);
  const reencoded = Buffer.from(AsnConvert.serialize(crl.asn.tbsCertList));
  assert.ok(reencoded.equals(crl.tbsDer));
});

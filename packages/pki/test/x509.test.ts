import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Certificate,
  CertificationRequestDoc,
  ParseError,
  addDays,
  basicConstraintsExt,
  buildCertificate,
  buildCsr,
  formatName,
  generateKey,
  identityExtensions,
  isValidOrganizationCode,
  isValidResidentId,
  isValidSocialCreditCode,
  keyUsageExt,
  nameAttributes,
  parseName,
  subjectKeyIdentifierExt,
} from '../src/index.js';
import { bcCheck, openssl, opensslReqVerify, opensslVerifyCert } from './helpers/outside.js';

test('names: comma and slash forms, escapes, multi-valued RDNs, Chinese text', () => {
  const n = parseName('C=CN, O=北京协和医院, OU=信息中心+OU=Radiology, CN=Li\\, Wei');
  assert.equal(formatName(n), 'C=CN, O=北京协和医院, OU=信息中心 + OU=Radiology, CN=Li\\, Wei');
  assert.deepEqual(nameAttributes(n, 'OU'), ['信息中心', 'Radiology']);
  assert.equal(formatName(parseName('/C=CN/O=Org/CN=x')), 'C=CN, O=Org, CN=x');
});

test('names: bad input is a ParseError that says what is wrong', () => {
  assert.throws(() => parseName('C=CN,O'), (e: unknown) => e instanceof ParseError && /not TYPE=value/.test(e.message));
  assert.throws(() => parseName('C=China'), (e: unknown) => e instanceof ParseError && /two-letter/.test(e.message));
  assert.throws(() => parseName('XX=1'), (e: unknown) => e instanceof ParseError && /unknown attribute type/.test(e.message));
  assert.throws(() => parseName('CN='), (e: unknown) => e instanceof ParseError && /empty value/.test(e.message));
  assert.throws(() => parseName('serialNumber=编号'), ParseError);
});

test('identity numbers: published check-digit rules', () => {
  assert.equal(isValidResidentId('11010519491231002X'), true); // the GB 11643 example
  assert.equal(isValidResidentId('110105194912310021'), false); // wrong check character
  assert.equal(isValidResidentId('11010519491331002X'), false); // month 13
  assert.equal(isValidSocialCreditCode('91350100M000100Y43'), true);
  assert.equal(isValidSocialCreditCode('91350100M000100Y44'), false);
  assert.equal(isValidSocialCreditCode('91350100M000100YI3'), false); // I is not in the alphabet
  assert.equal(isValidOrganizationCode('D2143569-X'), true);
  assert.equal(isValidOrganizationCode('D21435690'), false);
});

for (const alg of ['p256', 'sm2', 'rsa2048'] as const) {
  test(`${alg}: a certificate and CSR we build are accepted by OpenSSL and read back`, async () => {
    const caKey = generateKey(alg);
    const now = new Date();
    const root = buildCertificate(
      {
        subject: parseName('C=CN,O=测试认证机构,CN=测试根CA'),
        notBefore: now,
        notAfter: addDays(now, 3650),
        publicKey: caKey.publicKey,
        extensions: [basicConstraintsExt(true, 1), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(caKey.publicKey)],
      },
      caKey,
    );
    const holder = generateKey(alg);
    const csr = buildCsr(parseName('C=CN,O=测试医院,CN=张三'), holder, identityExtensions({ residentId: '11010519491231002X' }));
    assert.ok((await opensslReqVerify(csr.der)).ok);
    const again = CertificationRequestDoc.parse(csr.toPem());
    assert.equal(again.verifySignature(), true);
    assert.deepEqual(again.requestedExtensions.map((e) => e.extnID), ['1.2.156.10260.4.1.1']);
    const leaf = buildCertificate(
      {
        subject: again.subject,
        issuer: root.subject,
        notBefore: now,
        notAfter: addDays(now, 365),
        publicKey: again.publicKey,
        extensions: [basicConstraintsExt(false), keyUsageExt(['digitalSignature']), ...again.requestedExtensions],
      },
      caKey,
    );
    const verdict = await opensslVerifyCert({ leaf: leaf.der, trusted: root.der });
    assert.ok(verdict.ok, verdict.output);
    // BouncyCastle is the second, independent judge (and the only full one for SM2 chains).
    const bc = await bcCheck([
      { kind: 'csr', csr: csr.der },
      { kind: 'cert', cert: leaf.der, issuer: root.der },
      { kind: 'path', anchor: root.der, chain: [leaf.der] },
    ]);
    for (const r of bc) assert.ok(r.ok, r.output);
    assert.deepEqual(leaf.identity, { residentId: '11010519491231002X' });
    assert.equal(leaf.subjectText, 'C=CN, O=测试医院, CN=张三');
    assert.equal(leaf.verifySignature(root.publicKey), true);
    assert.ok(leaf.serialNumber.length >= 8 && (leaf.serialNumber[0]! & 0x80) === 0);
  });
}

test('certificates and CSRs OpenSSL makes parse, and their signatures verify (SM2 with the standard user ID)', async () => {
  for (const [alg, keyopts, sigopts] of [
    ['EC', ['-pkeyopt', 'ec_paramgen_curve:P-256'], []],
    ['RSA', ['-pkeyopt', 'rsa_keygen_bits:2048'], []],
    ['SM2', [], ['-sigopt', 'distid:1234567812345678']],
  ] as const) {
    const r = await openssl(['req', '-x509', '-newkey', alg, ...keyopts, ...sigopts, '-nodes', '-keyout', 'k.pem', '-subj', '/C=CN/O=OpenSSL Org/CN=root', '-days', '30', '-out', 'c.pem'], { outputs: ['c.pem'] });
    assert.equal(r.code, 0, r.stderr);
    const cert = Certificate.parse(r.outputs['c.pem']!);
    assert.equal(cert.subjectText, 'C=CN, O=OpenSSL Org, CN=root');
    assert.equal(cert.isSelfIssued, true);
    assert.equal(cert.verifySignature(cert.publicKey), true, `${alg} self-signature`);
    const q = await openssl(['req', '-new', '-newkey', alg, ...keyopts, ...sigopts, '-nodes', '-keyout', 'k.pem', '-subj', '/C=CN/O=某医院/CN=李四', '-addext', 'subjectAltName=email:li@example.cn', '-utf8', '-outform', 'DER', '-out', 'r.der'], { outputs: ['r.der'] });
    assert.equal(q.code, 0, q.stderr);
    const csr = CertificationRequestDoc.parse(q.outputs['r.der']!);
    assert.equal(csr.subjectText, 'C=CN, O=某医院, CN=李四');
    assert.equal(csr.verifySignature(), true, `${alg} CSR proof of possession`);
    assert.deepEqual(csr.requestedExtensions.map((e) => e.extnID), ['2.5.29.17']);
  }
});

test('garbage and truncated certificates are ParseErrors', () => {
  const key = generateKey('p256');
  const now = new Date();
  const cert = buildCertificate({ subject: parseName('CN=x'), notBefore: now, notAfter: addDays(now, 1), publicKey: key.publicKey }, key);
  for (const bad of [Buffer.alloc(0), Buffer.from('not a certificate'), cert.der.subarray(0, cert.der.length - 1), Buffer.concat([cert.der, Buffer.from([0])])]) {
    assert.throws(() => Certificate.parse(bad), ParseError);
  }
  assert.throws(() => Certificate.parse('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n'), ParseError);
});

/**
 * The pure rules of long-term verification, on a small CA built here so that every timeline can
 * be staged (a deployment cannot make a certificate expire or a CRL age): revocation relative to
 * a signing time from OCSP and CRLs, what counts as evidence, and the CAdES archive attributes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDays,
  basicConstraintsExt,
  buildCertificate,
  buildCrl,
  buildOcspResponse,
  certId,
  crlDistributionPointsExt,
  generateKey,
  keyUsageExt,
  parseName,
  type Certificate,
  type OcspResponse,
  type PrivateKey,
} from '@health-pki/pki';
import { decodeCertValues, decodeRevocationValues, encodeCertValues, encodeRevocationValues, revocationStatusAt } from '../src/evidence/index.js';

const T0 = new Date('2026-03-01T08:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const CDP = 'http://ca.test/crl/issuing-p1.crl';

function makeCa(alg: 'p256' | 'sm2'): { key: PrivateKey; cert: Certificate; leaf: Certificate } {
  const key = generateKey(alg);
  const cert = buildCertificate({ subject: parseName(`C=CN,O=Test,CN=Test CA ${alg}`), notBefore: addDays(T0, -10), notAfter: addDays(T0, 3650), publicKey: key.publicKey, extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign', 'digitalSignature'])] }, key);
  const leafKey = generateKey(alg);
  // The leaf expires 48 hours after T0: long after, only archived data can speak for it.
  const leaf = buildCertificate(
    { subject: parseName('C=CN,O=Test,CN=张三'), issuer: cert.subjectDer, notBefore: addDays(T0, -1), notAfter: hours(48), publicKey: leafKey.publicKey, extensions: [basicConstraintsExt(false), keyUsageExt(['digitalSignature', 'nonRepudiation']), crlDistributionPointsExt([CDP])] },
    key,
  );
  return { key, cert, leaf };
}

function ocsp(ca: { key: PrivateKey; cert: Certificate; leaf: Certificate }, at: Date, status: 'good' | 'revoked', revokedAt?: Date, signer = ca.key): OcspResponse {
  return buildOcspResponse({
    responderCert: ca.cert,
    signer,
    producedAt: at,
    responses: [{ certId: certId(ca.leaf, ca.cert), status, revocationTime: revokedAt, reason: revokedAt ? 'keyCompromise' : undefined, thisUpdate: at, nextUpdate: new Date(at.getTime() + 3_600_000) }],
  });
}

for (const alg of ['p256', 'sm2'] as const) {
  describe(`revocation relative to the signing time (${alg})`, () => {
    const ca = makeCa(alg);
    const signedAt = hours(1);

    test('OCSP: revoked after the signing time is reported with its time; good around it counts', () => {
      const later = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(5), 'revoked', hours(3))], crls: [] });
      assert.equal(later.status, 'revoked');
      assert.equal(later.revokedAt!.getTime(), hours(3).getTime());
      assert.equal(later.source, 'ocsp');
      const before = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(5), 'revoked', hours(0.5))], crls: [] });
      assert.ok(before.revokedAt! < signedAt);
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(0.5), 'good')], crls: [] }).status, 'good'); // current at signedAt
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(2), 'good')], crls: [] }).status, 'good'); // produced after
    });

    test('OCSP: a good answer that ended before the signing time, one after expiry, or a forged one is no evidence', () => {
      const stale = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(-3), 'good')], crls: [] });
      assert.equal(stale.status, 'unknown');
      assert.match(stale.problems.join(), /good only until/);
      const afterExpiry = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(72), 'good')], crls: [] });
      assert.equal(afterExpiry.status, 'unknown');
      assert.match(afterExpiry.problems.join(), /after the certificate expired/);
      const forged = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(2), 'good', undefined, generateKey(alg))], crls: [] });
      assert.equal(forged.status, 'unknown');
      // A revocation outweighs a good answer, whatever their order.
      const both = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [ocsp(ca, hours(2), 'good'), ocsp(ca, hours(5), 'revoked', hours(0.2))], crls: [] });
      assert.equal(both.status, 'revoked');
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [] }).status, 'unknown');
    });

    test('CRLs: listed with its date; silence counts only while current, before expiry, and in the right partition', () => {
      const crl = (thisUpdate: Date, entries: Array<{ serial: Uint8Array; revocationDate: Date }>, urls = [CDP]) =>
        buildCrl({ issuer: ca.cert, signer: ca.key, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + 86_400_000), crlNumber: 1n, entries, issuingDistributionPoint: { urls } });
      const listed = revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [crl(hours(4), [{ serial: ca.leaf.serialNumber, revocationDate: hours(3) }])] });
      assert.equal(listed.status, 'revoked');
      assert.equal(listed.source, 'crl');
      assert.equal(listed.revokedAt!.getTime(), hours(3).getTime());
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [crl(hours(2), [])] }).status, 'good');
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [crl(hours(-30), [])] }).status, 'unknown'); // ended before
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [crl(hours(60), [])] }).status, 'unknown'); // after expiry
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, { ocsp: [], crls: [crl(hours(2), [], ['http://ca.test/crl/issuing-p2.crl'])] }).status, 'unknown'); // other partition
    });

    test('the archive attributes round-trip (CertificateValues, RevocationValues with BasicOCSPResponse)', () => {
      const r = ocsp(ca, hours(2), 'good');
      const c = buildCrl({ issuer: ca.cert, signer: ca.key, thisUpdate: hours(2), nextUpdate: hours(26), crlNumber: 7n, entries: [] });
      const certs = decodeCertValues(encodeCertValues([ca.leaf, ca.cert]));
      assert.deepEqual(certs.map((x) => x.serialHex), [ca.leaf.serialHex, ca.cert.serialHex]);
      const rev = decodeRevocationValues(encodeRevocationValues([c], [r]));
      assert.ok(rev.crls[0]!.der.equals(c.der));
      assert.ok(rev.ocsp[0]!.basicDer.equals(r.basicDer));
      assert.equal(revocationStatusAt(ca.leaf, ca.cert, signedAt, rev).status, 'good');
      assert.throws(() => decodeRevocationValues(Buffer.from([0x30, 0x03, 0xa1, 0x01, 0x00])));
      assert.throws(() => decodeCertValues(Buffer.from([0x31, 0x00])));
    });
  });
}

/**
 * Chains made by OpenSSL (RSA, P-256, SM2 with the standard user ID) validate through the
 * library; the same chains with a flipped signature bit, an expired certificate, or a
 * certificate revoked with `openssl ca -revoke` + `-gencrl` are rejected with the right reason.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { Certificate, Crl, PathValidator, validateCertificate } from '../../src/index.js';
import { flipSignatureBit, makeOpensslChain, opensslVerifiesLink, type ChainAlg, type OpensslChain } from './openssl-chain.js';

const cert = (path: string) => Certificate.parse(readFileSync(path));
const made: string[] = [];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
function chain(alg: ChainAlg): OpensslChain {
  const pki = makeOpensslChain(alg);
  made.push(pki.dir);
  return pki;
}
const crl = (path: string) => Crl.parse(readFileSync(path));

for (const alg of ['rsa', 'p256', 'sm2'] as ChainAlg[]) {
  test(`${alg}: an OpenSSL-made chain validates; tampered, expired and revoked ones fail with the right reason`, () => {
    const pki = chain(alg);
    // OpenSSL itself vouches for every link (for SM2: with the standard ID).
    assert.equal(opensslVerifiesLink(alg, pki.root, pki.intermediate), true);
    assert.equal(opensslVerifiesLink(alg, pki.intermediate, pki.leaf), true);

    const validator = new PathValidator({ anchors: [cert(pki.root)], intermediates: [cert(pki.intermediate)], crls: [crl(pki.rootCrl), crl(pki.intermediateCrl)] });
    const good = validator.validate(cert(pki.leaf));
    assert.equal(good.valid, true, good.valid ? '' : good.reason.message);
    if (good.valid) {
      assert.deepEqual(good.path.map((c) => c.subjectText), [cert(pki.leaf).subjectText, cert(pki.intermediate).subjectText, cert(pki.root).subjectText]);
      assert.deepEqual(good.userConstrainedPolicySet, []); // OpenSSL put no certificatePolicies in
      assert.deepEqual(good.warnings, []);
    }

    const flippedLeaf = validator.validate(cert(flipSignatureBit(pki.leaf, join(pki.dir, 'leaf-flipped.pem'))));
    assert.equal(flippedLeaf.valid, false);
    if (!flippedLeaf.valid) {
      assert.equal(flippedLeaf.reason.code, 'badSignature');
      assert.equal(flippedLeaf.reason.certIndex, 0);
    }
    // A flipped bit in the intermediate: the leaf's only possible issuer is broken.
    const flippedInt = validateCertificate(cert(pki.leaf), {
      anchors: [cert(pki.root)],
      intermediates: [cert(flipSignatureBit(pki.intermediate, join(pki.dir, 'int-flipped.pem')))],
      crls: [crl(pki.rootCrl), crl(pki.intermediateCrl)],
    });
    assert.equal(flippedInt.valid, false);
    if (!flippedInt.valid) {
      assert.equal(flippedInt.reason.code, 'badSignature');
      assert.equal(flippedInt.reason.certIndex, 1);
    }

    const expired = validator.validate(cert(pki.expiredLeaf));
    assert.equal(expired.valid, false);
    if (!expired.valid) {
      assert.equal(expired.reason.code, 'expired');
      assert.equal(expired.reason.certIndex, 0);
      assert.equal(expired.reason.details?.notAfter, '2021-01-01T00:00:00.000Z');
    }
    // Far in the future the intermediate (5 years) has expired too; it is reported, being higher up.
    const later = validator.validate(cert(pki.leaf), { time: new Date(Date.now() + 6 * 365 * 86_400_000), checkRevocation: false });
    assert.equal(later.valid, false);
    if (!later.valid) {
      assert.equal(later.reason.code, 'expired');
      assert.equal(later.reason.certIndex, 1);
    }

    const revoked = validator.validate(cert(pki.revokedLeaf));
    assert.equal(revoked.valid, false);
    if (!revoked.valid) {
      assert.equal(revoked.reason.code, 'revoked');
      assert.equal(revoked.reason.certIndex, 0);
      assert.equal(revoked.reason.details?.reason, 'keyCompromise');
      assert.match(String(revoked.reason.details?.revocationDate), /^\d{4}-\d\d-\d\dT/);
    }
    // Without the intermediate's CRL the leaf's status is unknown, which is a rejection too.
    const noCrl = validateCertificate(cert(pki.revokedLeaf), { anchors: [cert(pki.root)], intermediates: [cert(pki.intermediate)], crls: [crl(pki.rootCrl)] });
    assert.equal(noCrl.valid, false);
    if (!noCrl.valid) assert.equal(noCrl.reason.code, 'revocationUnknown');
    // Once the CRLs have passed nextUpdate (30 days), they no longer vouch for anything.
    const stale = validator.validate(cert(pki.leaf), { time: new Date(Date.now() + 40 * 86_400_000) });
    assert.equal(stale.valid, false);
    if (!stale.valid) assert.equal(stale.reason.code, 'revocationUnknown');
  });
}

test('sm2: a verifier using the empty SM2 user ID rejects the OpenSSL chain made with the standard ID', () => {
  const pki = chain('sm2');
  const r = validateCertificate(cert(pki.leaf), { anchors: [cert(pki.root)], intermediates: [cert(pki.intermediate)], sm2UserId: new Uint8Array(0) });
  assert.equal(r.valid, false);
  if (!r.valid) assert.equal(r.reason.code, 'badSignature');
});

/**
 * The path validator (packages/pki/src/validation) judging revocation with what this service
 * publishes, P-256 and SM2: OCSP responses from the responder for the leaf (signed by the issuing
 * CA's delegated responder) and for the issuing CA (the root's responder) → valid; revoke the
 * leaf → the validator reports it revoked with its reason from OCSP alone; the full + delta CRLs
 * from the publisher agree; a response that is tampered, stale or about another certificate does
 * not decide, and without CRLs the status is then unknown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Crl, OcspResponse, PathValidator, type Certificate } from '@health-pki/pki';
import { ocspPost, ocspRequestDer, startOcspDeployment, until, type OcspDeployment } from './helpers/ocsp.js';

for (const alg of ['p256', 'sm2'] as const) {
  const ca = alg === 'sm2' ? 'demo-sm2' : 'demo-p256';
  describe(`path validation with OCSP and CRLs from the service (${alg})`, () => {
    let d: OcspDeployment;
    let root: Certificate;
    let issuing: Certificate;
    let leaf: Certificate;
    const ask = async (cert: Certificate, issuer: Certificate): Promise<OcspResponse> => (await ocspPost(d.url, ca, ocspRequestDer(cert, issuer, { hash: alg === 'sm2' ? 'sm3' : 'sha256' }))).response;

    before(async () => {
      d = await startOcspDeployment('sqlite');
      ({ root, issuing } = await d.cas(ca));
      leaf = await d.issue(ca, alg);
    });
    after(async () => d?.close());

    test('good from OCSP alone (leaf and issuing CA); then revoked with its reason, from OCSP alone and from full + delta CRLs', async () => {
      const validator = new PathValidator({ anchors: [root], intermediates: [issuing] });
      const ocspGood = [await ask(leaf, issuing), await ask(issuing, root)];
      const good = validator.validate(leaf, { ocspResponses: ocspGood });
      assert.ok(good.valid, good.valid ? '' : good.reason.message);
      assert.deepEqual(good.warnings, []);

      const r = await d.api('POST', `/api/v1/cas/${ca}/certificates/${leaf.serialHex}/revoke`, { reason: 'keyCompromise' }, d.admin);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      await until(async () => (await ask(leaf, issuing)).responses[0]?.status === 'revoked', 2000);
      const revoked = validator.validate(leaf, { ocspResponses: [await ask(leaf, issuing), ocspGood[1]!] });
      assert.equal(revoked.valid, false);
      if (!revoked.valid) {
        assert.equal(revoked.reason.code, 'revoked');
        assert.match(revoked.reason.message, /keyCompromise/);
      }

      // The CRLs say the same: full + delta from the publisher, for the leaf and the issuing CA.
      await d.services.crls.refreshNow(ca, 'issuing-1', 'full');
      const crls = [];
      for (const [label, kind] of [['issuing-1', 'full'], ['issuing-1', 'delta'], ['root', 'full']] as const) crls.push(Crl.parse((await d.services.crls.current(ca, label, kind))!.der));
      const byCrl = validator.validate(leaf, { crls });
      assert.equal(byCrl.valid, false);
      if (!byCrl.valid) assert.equal(byCrl.reason.code, 'revoked');
    });

    test('responses that cannot decide: tampered, about another certificate, stale; without CRLs the status is unknown', async () => {
      const other = await d.issue(ca, alg);
      const validator = new PathValidator({ anchors: [root], intermediates: [issuing] });
      const forIssuing = await ask(issuing, root);
      const fresh = await ask(other, issuing);
      const tamperedDer = Buffer.from(fresh.der);
      tamperedDer[tamperedDer.length - 5]! ^= 0x01;
      const candidates: Array<[string, OcspResponse[], Date | undefined, RegExp]> = [
        ['about another certificate', [await ask(leaf, issuing)], undefined, /no CRL .* and no OCSP response/],
        ['tampered signature', [OcspResponse.parse(tamperedDer)], undefined, /signature is invalid|OCSP response/],
        ['stale (2 hours later)', [fresh], new Date(Date.now() + 2 * 3600_000), /out of date/],
      ];
      for (const [what, responses, time, message] of candidates) {
        const v = validator.validate(other, { ocspResponses: [...responses, forIssuing], time });
        assert.equal(v.valid, false, what);
        if (!v.valid) {
          assert.equal(v.reason.code, 'revocationUnknown', `${what}: ${v.reason.message}`);
          assert.match(v.reason.message, message, what);
        }
      }
      const ok = validator.validate(other, { ocspResponses: [fresh, forIssuing] });
      assert.ok(ok.valid, ok.valid ? '' : ok.reason.message);
    });
  });
}

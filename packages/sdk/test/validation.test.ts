/**
 * CertificateValidator against the real demo deployment: SM2 and P-256 holders validate with a
 * path to a trust-list CA and an OCSP answer; a revoked certificate is refused by OCSP and, with
 * OCSP down, by the CRL; answers are cached; when both are unreachable (refused connections, a
 * responder that hangs) the policy decides and says so; a CA not on the trust list, a CA dropped
 * from it, a wrong usage, a certificate not yet valid, and a CA certificate are refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Crl, OcspResponse } from '@health-pki/pki';
import { CertificateValidator, TrustStore } from '../src/index.js';
import { startDeployment, type Deployment } from './helpers/deployment.js';

describe('CertificateValidator', () => {
  let d: Deployment;
  let trust: TrustStore;
  let hang: Server;
  let hangUrl: string;

  /** A fetch that sends what matches `pattern` to `target` (refused or hanging) and counts calls. */
  const routed = (pattern: RegExp, target: string) => {
    const calls: string[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      calls.push(url);
      return fetch(pattern.test(url) ? target : url, init);
    }) as typeof fetch;
    return { fetch: f, calls };
  };

  before(async () => {
    d = await startDeployment();
    trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
    assert.equal((await trust.refresh()).accepted, true);
    // A server that accepts connections and never answers: the timeout must end the wait.
    hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/`;
  });
  after(async () => {
    hang?.close();
    await d?.close();
  });

  for (const ca of ['demo-sm2', 'demo-p256']) {
    test(`a ${ca} holder validates: path to the trust-list CA, OCSP good with the response as evidence`, async () => {
      const holder = await d.issue(ca);
      const v = new CertificateValidator({ trust });
      const r = await v.validate(holder.certificate, { usage: 'signing' });
      assert.equal(r.valid, true, r.reason);
      assert.equal(r.ca, ca);
      assert.equal(r.path?.length, 3);
      assert.equal(r.revocation?.source, 'ocsp');
      assert.equal(r.revocation?.status, 'good');
      // Leaf and issuing CA both checked.
      assert.equal(r.revocation?.evidence?.length, 2);
      const resp = OcspResponse.parse(r.revocation!.evidence![0]!);
      assert.equal(resp.responseFor(holder.certificate, r.path![1]!)?.status, 'good');
      assert.equal(r.trustListVersion, trust.version);
      assert.equal((await v.validate(holder.certificate, { usage: 'login' })).valid, true);
    });
  }

  test('revoked: refused by OCSP, and by the CRL when OCSP is unreachable; a replayed good OCSP answer is not believed', async () => {
    const holder = await d.issue('demo-sm2');
    // Record the responder's "good" answer (it echoes our nonce) before the revocation.
    let recorded: Buffer | undefined;
    const recorder = (async (input: string | URL | Request, init?: RequestInit) => {
      const r = await fetch(input, init);
      if (String(input).includes('/ocsp/') && !recorded) recorded = Buffer.from(await r.clone().arrayBuffer());
      return r;
    }) as typeof fetch;
    assert.equal((await new CertificateValidator({ trust, fetch: recorder }).validate(holder.certificate)).revocation?.status, 'good');
    await d.revoke(holder, 'keyCompromise');
    const r = await new CertificateValidator({ trust }).validate(holder.certificate);
    assert.equal(r.valid, false);
    assert.equal(r.code, 'revoked');
    assert.equal(r.revocation?.source, 'ocsp');
    assert.equal(r.revocation?.reason, 'keyCompromise');
    assert.match(r.reason!, /revoked \(keyCompromise\).*OCSP/);

    // OCSP refused (nothing listens on port 1): the CRL decides. The publisher regenerates the
    // CRL after the status change, so allow it a moment.
    const { fetch: f, calls } = routed(/\/ocsp\//, 'http://127.0.0.1:1/');
    let viaCrl;
    for (let i = 0; i < 50; i++) {
      viaCrl = await new CertificateValidator({ trust, fetch: f, timeoutMs: 2000 }).validate(holder.certificate);
      if (viaCrl.code === 'revoked') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(viaCrl!.code, 'revoked', viaCrl!.reason);
    assert.equal(viaCrl!.revocation?.source, 'crl');
    // The revocation is in the delta CRL (the complete one is hourly); both are the evidence.
    const crls = viaCrl!.revocation!.evidence!.map((der) => Crl.parse(der));
    assert.ok(crls.some((c) => c.isDelta && c.findRevoked(holder.certificate.serialNumber)), 'the delta CRL lists it');
    assert.ok(calls.some((u) => u.includes('/ocsp/')) && calls.some((u) => u.endsWith('.crl')));

    // An attacker replays the recorded "good" answer: its nonce is not ours, so the CRL decides.
    const replaying = (async (input: string | URL | Request, init?: RequestInit) =>
      String(input).includes('/ocsp/') ? new Response(recorded!, { headers: { 'content-type': 'application/ocsp-response' } }) : fetch(input, init)) as typeof fetch;
    const replayed = await new CertificateValidator({ trust, fetch: replaying }).validate(holder.certificate);
    assert.equal(replayed.code, 'revoked', replayed.reason);
    assert.equal(replayed.revocation?.source, 'crl');
  });

  test('CRL fallback says good for a good certificate; answers are cached until nextUpdate', async () => {
    const holder = await d.issue('demo-p256');
    const { fetch: f, calls } = routed(/\/ocsp\//, 'http://127.0.0.1:1/');
    const v = new CertificateValidator({ trust, fetch: f });
    const r = await v.validate(holder.certificate);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.revocation?.source, 'crl');
    const n = calls.length;
    assert.equal((await v.validate(holder.certificate)).valid, true);
    // OCSP is still tried (it failed, nothing cached), but the CRLs come from the cache.
    assert.equal(calls.slice(n).filter((u) => u.endsWith('.crl')).length, 0);

    const tiny = await new CertificateValidator({ trust, fetch: f, maxCrlBytes: 100 }).validate(holder.certificate);
    assert.equal(tiny.code, 'revocationUnknown');
    assert.match(tiny.reason!, /limit of 100/);

    const counting = routed(/^$/, '');
    const cached = new CertificateValidator({ trust, fetch: counting.fetch });
    await cached.validate(holder.certificate);
    const first = counting.calls.length;
    assert.equal(first, 2, 'one OCSP request for the holder, one for the issuing CA');
    await cached.validate(holder.certificate);
    assert.equal(counting.calls.length, first, 'the second validation asks nobody');
  });

  test('a cached answer is reused for at most maxCacheAgeMs (default 5 minutes): a revocation is noticed then, not at nextUpdate', async () => {
    const holder = await d.issue('demo-p256');
    let offset = 0;
    const v = new CertificateValidator({ trust, clock: () => new Date(Date.now() + offset) });
    assert.equal((await v.validate(holder.certificate)).valid, true);
    await d.revoke(holder, 'keyCompromise');
    // The CA's responder knows at once (within ~0.2 s); a fresh validator sees it.
    let fresh;
    for (let i = 0; i < 50 && (fresh = await new CertificateValidator({ trust }).validate(holder.certificate)).code !== 'revoked'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(fresh!.code, 'revoked');
    offset = 4 * 60_000;
    assert.equal((await v.validate(holder.certificate)).valid, true, 'within 5 minutes the cached good answer is still used');
    offset = 6 * 60_000;
    const later = await v.validate(holder.certificate);
    assert.equal(later.code, 'revoked', 'after 5 minutes the responder is asked again, although the cached answer runs for an hour');
    // 0: every validation asks.
    const always = new CertificateValidator({ trust, maxCacheAgeMs: 0 });
    assert.equal((await always.validate(holder.certificate)).code, 'revoked');
  });

  test('both unreachable: rejected by default, accepted with a stated warning by policy; a hanging responder times out', async () => {
    const holder = await d.issue('demo-sm2');
    const refused = routed(/./, 'http://127.0.0.1:1/');
    const r = await new CertificateValidator({ trust, fetch: refused.fetch }).validate(holder.certificate);
    assert.equal(r.valid, false);
    assert.equal(r.code, 'revocationUnknown');
    assert.match(r.reason!, /cannot be determined.*OCSP responder .*cannot be used.*CRL .*cannot be used/);
    assert.deepEqual(r.revocation && { source: r.revocation.source, status: r.revocation.status }, { source: 'none', status: 'unknown' });

    const hanging = routed(/./, hangUrl);
    const started = Date.now();
    const lenient = await new CertificateValidator({ trust, fetch: hanging.fetch, timeoutMs: 300, whenUnreachable: 'accept-with-warning' }).validate(holder.certificate);
    assert.ok(Date.now() - started < 5000, 'timeouts end the wait');
    assert.equal(lenient.valid, true);
    assert.equal(lenient.revocation?.status, 'unknown');
    assert.ok(lenient.warnings?.some((w) => /accepted by policy/.test(w) && /timed out/.test(w)), JSON.stringify(lenient.warnings));
  });

  test('a CA not on the trust list, and a CA dropped from it, are refused', async () => {
    await d.createUnadmittedCa('rogue-ca', 'p256');
    const rogue = await d.issue('rogue-ca', { alg: 'p256' });
    const v = new CertificateValidator({ trust });
    const r = await v.validate(rogue.certificate, { chain: rogue.chain });
    assert.equal(r.valid, false);
    assert.equal(r.code, 'untrusted');
    assert.match(r.reason!, /not issued by a CA on the platform's trust list/);

    const holder = await d.issue('demo-p256');
    assert.equal((await v.validate(holder.certificate)).valid, true);
    await d.setPlatformStatus('demo-p256', 'suspend');
    try {
      assert.equal((await trust.refresh()).accepted, true);
      const dropped = await v.validate(holder.certificate);
      assert.equal(dropped.valid, false);
      assert.equal(dropped.code, 'untrusted');
      // Even with its own chain offered: the root is no longer an anchor.
      assert.equal((await v.validate(holder.certificate, { chain: holder.chain })).code, 'untrusted');
      assert.equal((await v.validate((await d.issue('demo-sm2')).certificate)).valid, true, 'the other CA is unaffected');
    } finally {
      await d.setPlatformStatus('demo-p256', 'resume');
      await trust.refresh();
    }
    assert.equal((await v.validate(holder.certificate)).valid, true, 'resumed: trusted again');
  });

  test('wrong usage, not yet valid, a CA certificate, and no trust list are refused with the reason', async () => {
    const holder = await d.issue('demo-sm2');
    const v = new CertificateValidator({ trust });
    const enc = await v.validate(holder.certificate, { usage: 'encryption' });
    assert.equal(enc.code, 'usage');
    assert.match(enc.reason!, /does not allow encryption/);
    const early = await v.validate(holder.certificate, { at: new Date(holder.certificate.notBefore.getTime() - 86_400_000) });
    assert.equal(early.code, 'notYetValid');
    const caCert = holder.chain[0]!;
    assert.equal(caCert.isCa, true);
    const asHolder = await v.validate(caCert);
    assert.equal(asHolder.valid, false);
    const empty = new CertificateValidator({ trust: new TrustStore({ platformCertificate: d.platformCertificate }) });
    const none = await empty.validate(holder.certificate);
    assert.equal(none.code, 'noTrustList');
  });
});

/**
 * The TSA client against the demo deployment's real TSA units (P-256 at /tsa, SM2 at /tsa/sm2)
 * and against small misbehaving servers: a token is handed back only when it verifies (trust list
 * or pinned certificate, our imprint, our nonce); every failure has its code and a clear message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTimeStampRequest, digest, timeStampRejection, verifyTimeStampToken } from '@health-pki/pki';
import { startDeployment, type Deployment } from './helpers/deployment.js';
import { TrustStore } from '../src/trust/index.js';
import { TimestampError, TsaClient } from '../src/timestamp/index.js';

let d: Deployment;
let trust: TrustStore;
const DATA = Buffer.from('the signature value of a record');

/** A local HTTP server answering every POST with `answer(body)`; closed by the returned function. */
async function fakeTsa(answer: (body: Buffer, res: http.ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    assert.ok(e instanceof TimestampError, String(e));
    assert.ok(e.message.length > 20, e.message);
    return e.code;
  }
};

before(async () => {
  d = await startDeployment();
  trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
  assert.ok((await trust.refresh()).accepted);
});
after(async () => {
  await d?.close();
});

const anchors = () => trust.certificates().map((c) => c.certificate);

describe('TsaClient against the demo TSA units', () => {
  for (const [path, hash, ca] of [['/tsa', 'sha256', 'demo-p256'], ['/tsa/sm2', 'sm3', 'demo-sm2']] as const) {
    test(`${path}: a verified token over our imprint, TSA trusted through the trust list`, async () => {
      const before = Date.now();
      const ts = await new TsaClient({ url: d.ca.url + path, trusted: anchors(), hash }).stamp(DATA);
      assert.ok(ts.genTime.getTime() >= before - 1500 && ts.genTime.getTime() <= Date.now() + 1500);
      assert.ok(ts.verification.messageImprint.hashedMessage.equals(digest(hash, DATA)));
      assert.equal(ts.tsaCert.issuerText, trust.certificates().find((c) => c.ca === ca && !c.certificate.isSelfIssued)!.certificate.subjectText);
      // The token stands on its own: verify it again from its bytes.
      const again = verifyTimeStampToken(ts.token, { data: DATA, trusted: anchors() });
      assert.ok(again.valid);
      // Pinned: the same TSA certificate is accepted, another one is refused.
      assert.ok(await new TsaClient({ url: d.ca.url + path, tsaCert: ts.tsaCert, hash }).stamp(DATA));
    });
  }

  test('a pinned certificate of another TSA, or trust in another CA only: refused as invalidToken', async () => {
    const sm2 = await new TsaClient({ url: d.ca.url + '/tsa/sm2', trusted: anchors(), hash: 'sm3' }).stamp(DATA);
    assert.equal(await code(new TsaClient({ url: d.ca.url + '/tsa', tsaCert: sm2.tsaCert }).stamp(DATA)), 'invalidToken');
    const sm2Only = trust.certificates().filter((c) => c.ca === 'demo-sm2').map((c) => c.certificate);
    const e = await new TsaClient({ url: d.ca.url + '/tsa', trusted: sm2Only }).stamp(DATA).catch((x: TimestampError) => x);
    assert.ok(e instanceof TimestampError);
    assert.equal(e.code, 'invalidToken');
    assert.match(e.message, /untrustedTsa/);
  });

  test('an unknown unit (HTTP 404) and an unreachable TSA', async () => {
    assert.equal(await code(new TsaClient({ url: d.ca.url + '/tsa/nope', trusted: anchors() }).stamp(DATA)), 'http');
    const gone = await fakeTsa(() => undefined);
    await gone.close();
    assert.equal(await code(new TsaClient({ url: gone.url, trusted: anchors(), timeoutMs: 2000 }).stamp(DATA)), 'network');
  });

  test('constructing without trust is refused', () => {
    assert.throws(() => new TsaClient({ url: d.ca.url + '/tsa' }), /trusted certificates or a pinned TSA certificate/);
  });
});

describe('TsaClient against misbehaving TSAs', () => {
  test('a replayed response (old nonce) is refused: nonceMismatch', async () => {
    const real = new TsaClient({ url: d.ca.url + '/tsa', trusted: anchors() });
    // A genuine response to an earlier request for the same data, with that request's nonce.
    const earlier = buildTimeStampRequest({ data: DATA, hash: 'sha256', nonce: true, certReq: true });
    const replay = await real.exchange(earlier.der);
    const f = await fakeTsa((_b, res) => res.end(replay));
    try {
      const e = await new TsaClient({ url: f.url, trusted: anchors() }).stamp(DATA).catch((x: TimestampError) => x);
      assert.ok(e instanceof TimestampError);
      assert.equal(e.code, 'invalidToken');
      assert.match(e.message, /nonceMismatch/);
      assert.ok(await real.stamp(DATA));
    } finally {
      await f.close();
    }
  });

  test('garbage, a rejection, and a TSA that never answers', async () => {
    const garbage = await fakeTsa((_b, res) => res.end('<html>proxy error</html>'));
    const rejecting = await fakeTsa((_b, res) => res.end(timeStampRejection('systemFailure', 'HSM offline')));
    const hung = await fakeTsa(() => undefined);
    try {
      assert.equal(await code(new TsaClient({ url: garbage.url, trusted: anchors() }).stamp(DATA)), 'malformedResponse');
      const e = await new TsaClient({ url: rejecting.url, trusted: anchors() }).stamp(DATA).catch((x: TimestampError) => x);
      assert.ok(e instanceof TimestampError);
      assert.equal(e.code, 'notGranted');
      assert.match(e.message, /HSM offline/);
      const t0 = Date.now();
      assert.equal(await code(new TsaClient({ url: hung.url, trusted: anchors(), timeoutMs: 300 }).stamp(DATA)), 'network');
      assert.ok(Date.now() - t0 < 3000);
    } finally {
      await Promise.all([garbage.close(), rejecting.close(), hung.close()]);
    }
  });
});

/**
 * Bad input to the OCSP responder: fuzzed requests (the DER-aware mutators of the pki fuzzer,
 * seeded with real requests: SHA-1, SHA-256, with nonce, for several certificates) over POST and
 * GET, and HTTP-level misuse. Every answer is an OCSP response (malformedRequest, unauthorized,
 * or a signed answer) or a 4xx; never a 5xx, and the responder keeps answering. The store does
 * not matter here, so SQLite only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OcspResponse, buildOcspRequest, certId } from '@health-pki/pki';
import { httpRequest, ocspPost, ocspRequestDer, startOcspDeployment, type OcspDeployment } from './helpers/ocsp.js';

interface Mutate {
  caseRng(seed: number, index: number): unknown;
  mutate(seeds: readonly Buffer[], rng: unknown): { input: Buffer; ops: string[] };
}
const mutateUrl = new URL('../../../pki/dist/test/fuzz/mutate.js', import.meta.url);

const CASES = 600;
const SEED = 0x0c5b;

describe('OCSP responder: bad input', () => {
  let d: OcspDeployment;
  let seeds: Buffer[];

  before(async () => {
    d = await startOcspDeployment('sqlite');
    const { root, issuing } = await d.cas('demo-p256');
    const leaf = await d.issue('demo-p256', 'p256');
    seeds = [
      ocspRequestDer(leaf, issuing),
      ocspRequestDer(leaf, issuing, { hash: 'sha256', nonce: true }),
      ocspRequestDer(issuing, root),
      buildOcspRequest({ certIds: [certId(leaf, issuing), certId(issuing, issuing)], nonce: true }).der,
    ];
  });
  after(async () => {
    await d?.close();
  });

  test(`${CASES} mutated requests over POST and GET: OCSP answers or 4xx, never 5xx`, async () => {
    const m = (await import(mutateUrl.href)) as Mutate;
    const seen = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const { input, ops } = m.mutate(seeds, m.caseRng(SEED, i));
      const r =
        i % 3 === 2
          ? await httpRequest(`${d.url}/ocsp/demo-p256/${encodeURIComponent(input.toString('base64'))}`, 'GET')
          : await httpRequest(`${d.url}/ocsp/demo-p256`, 'POST', input);
      assert.ok(r.status < 500, `case ${i} (${ops.join(' ')}): HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
      let kind = `http ${r.status}`;
      if (r.status === 200) {
        const resp = OcspResponse.parse(r.body);
        kind = resp.status;
        if (resp.isSuccessful) assert.ok(resp.responses.length >= 1);
      }
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
    }
    // The mutations reach the parser and the lookup, not only one kind of refusal.
    assert.ok((seen.get('malformedRequest') ?? 0) > 50, JSON.stringify([...seen]));
    const { root, issuing } = await d.cas('demo-p256');
    assert.equal((await ocspPost(d.url, 'demo-p256', ocspRequestDer(issuing, root))).response.status, 'successful', 'still answering');
  });

  test('HTTP misuse: empty body, garbage, wrong method, oversize body, bad percent-encoding, odd authority names', async () => {
    const ocsp = (b: Buffer) => OcspResponse.parse(b).status;
    let r = await httpRequest(`${d.url}/ocsp/demo-p256`, 'POST', Buffer.alloc(0));
    assert.equal(r.status, 200);
    assert.equal(ocsp(r.body), 'malformedRequest');
    r = await httpRequest(`${d.url}/ocsp/demo-p256`, 'POST', Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.equal(ocsp(r.body), 'malformedRequest');
    r = await httpRequest(`${d.url}/ocsp/demo-p256`, 'PUT', Buffer.from([0x30, 0]));
    assert.equal(r.status, 405);
    r = await httpRequest(`${d.url}/ocsp/demo-p256`, 'POST', Buffer.alloc(64 * 1024, 0x30)).catch((e: Error) => ({ status: 413, headers: {}, body: Buffer.from(e.message) }));
    assert.equal(r.status, 413);
    r = await httpRequest(`${d.url}/ocsp/demo-p256/%E0%A4%A`, 'GET');
    assert.equal(ocsp(r.body), 'malformedRequest');
    r = await httpRequest(`${d.url}/ocsp/demo-p256/!!!!`, 'GET');
    assert.equal(ocsp(r.body), 'malformedRequest');
    for (const name of ['x..y', 'DEMO', '%00', 'a'.repeat(200)]) {
      r = await httpRequest(`${d.url}/ocsp/${name}`, 'POST', seeds[0]!);
      assert.equal(r.status, 200, name);
      assert.equal(ocsp(r.body), 'unauthorized', name);
    }
    r = await httpRequest(`${d.url}/ocsp/demo-p256/extra`, 'POST', seeds[0]!);
    assert.equal(r.status, 404);
    // Through fastify (inject) the same refusals.
    const inj = await d.app.inject({ method: 'POST', url: '/ocsp/demo-p256', headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.from([0x30, 0x03, 0x02, 0x01]) });
    assert.equal(inj.statusCode, 200);
    assert.equal(ocsp(inj.rawPayload), 'malformedRequest');
  });
});

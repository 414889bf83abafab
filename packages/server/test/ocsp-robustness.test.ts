/**
 * What breaks other responders must not stop this one from answering others: clients that
 * connect and close without a request (which hangs `openssl ocsp` for good), slow clients
 * (slowloris: headers or body dripping in), 10,000 idle connections, and request floods (wrk,
 * with nonces so that every answer is signed afresh). Each case runs a few seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import net from 'node:net';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Certificate, OcspResponse } from '@health-pki/pki';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { httpRequest, ocspPost, ocspRequestDer, startOcspDeployment, type OcspDeployment } from './helpers/ocsp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** wrk (scripts/setup.sh installs it) makes the flood. */
const noWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'wrk is not installed' : false;
  }
})();

/** Asks `n` times, one after another; returns the slowest answer's milliseconds. */
async function probe(url: string, authority: string, der: Buffer, n: number): Promise<number> {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const { response } = await ocspPost(url, authority, der);
    assert.equal(response.status, 'successful');
    worst = Math.max(worst, performance.now() - t0);
  }
  return worst;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('OCSP responder: robustness', () => {
  let d: OcspDeployment;
  let request: Buffer;
  let port: number;

  before(async () => {
    d = await startOcspDeployment('sqlite', { http: { timeouts: { headersTimeoutMs: 1500, ocspBodyTimeoutMs: 1500 } } });
    const { root, issuing } = await d.cas('demo-p256');
    request = ocspRequestDer(issuing, root);
    port = Number(new URL(d.url).port);
    await probe(d.url, 'demo-p256', request, 1);
  });
  after(async () => {
    await d?.close();
  });

  test('200 clients that connect and close without a request, or after half a request line: the next client is answered at once', async () => {
    for (let i = 0; i < 200; i++) {
      const s = await connect(port);
      if (i % 2) s.write('POST /ocsp/demo-p2');
      s.destroy();
    }
    assert.ok((await probe(d.url, 'demo-p256', request, 5)) < 1000);
  });

  test('slowloris: 200 clients dripping headers and 50 dripping a body are cut off, others answered meanwhile', async () => {
    const slow: net.Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 250; i++) {
      const s = await connect(port);
      s.on('close', () => closed++);
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.write(i < 200 ? 'POST /ocsp/demo-p256 HTTP/1.1\r\nHost: x\r\n' : `POST /ocsp/demo-p256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${request.length}\r\n\r\n`);
      slow.push(s);
    }
    const drip = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(s.bytesWritten < 200 ? 'X' : '');
    }, 200);
    try {
      const worst = await probe(d.url, 'demo-p256', request, 20);
      assert.ok(worst < 1000, `slowest answer during slowloris ${worst} ms`);
      const t0 = Date.now();
      while (closed < slow.length && Date.now() - t0 < 6000) await sleep(100);
      assert.equal(closed, slow.length, `${closed} of ${slow.length} slow clients cut off`);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.destroy();
    }
  });

  test('flood: wrk hammers nonce requests (each signed afresh) on 128 connections; another client is still answered within 1 s', { skip: noWrk }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpki-ocsp-flood-'));
    try {
      const { issuing } = await d.cas('demo-p256');
      const nonceReq = ocspRequestDer(issuing, (await d.cas('demo-p256')).root, { nonce: true });
      writeFileSync(join(dir, 'body.der'), nonceReq);
      writeFileSync(join(dir, 'post.lua'), `local f = io.open("${join(dir, 'body.der')}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*all")\nf:close()\nwrk.headers["Content-Type"] = "application/ocsp-request"\n`);
      const flood = new Promise<string>((resolve) => execFile('wrk', ['-t1', '-c128', '-d3s', '-s', join(dir, 'post.lua'), `${d.url}/ocsp/demo-p256`], (_e, out) => resolve(out)));
      await sleep(500);
      const worst = await probe(d.url, 'demo-p256', request, 10);
      const out = await flood;
      assert.match(out, /Requests\/sec/, out);
      assert.doesNotMatch(out, /Non-2xx/, out);
      assert.ok(worst < 1000, `slowest answer during the flood ${worst} ms; wrk: ${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('OCSP responder: 10,000 idle connections (service in its own process, `hpki start`)', () => {
  let backend: TestBackend;
  let server: ServerProcess;
  before(async () => {
    backend = await createBackend('sqlite');
    server = await startServerProcess({ dataDir: backend.dataDir });
  });
  after(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  test('10,000 connections that send nothing; another client is answered within 1 s', async (t) => {
    // Each connection is a descriptor here and one in the server; both processes have this limit.
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
    const count = Math.min(10_000, Math.floor((limit - 500) / 200) * 200);
    if (count < 10_000) t.diagnostic(`open-file limit ${limit}: ${count} idle connections instead of 10,000 (raise it with ulimit -n)`);
    const ca = JSON.parse((await httpRequest(`${server.url}/api/v1/cas/demo-p256`, 'GET')).body.toString());
    const [root, issuing] = [Certificate.parse(ca.issuers[0].pem), Certificate.parse(ca.issuers[1].pem)];
    const der = ocspRequestDer(issuing, root);
    assert.equal(OcspResponse.parse((await httpRequest(`${server.url}/ocsp/demo-p256`, 'POST', der)).body).status, 'successful');
    const port = Number(new URL(server.url).port);
    const idle: net.Socket[] = [];
    try {
      for (let batch = 0; batch < count / 200; batch++) {
        const more = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
        for (const s of more) s.on('error', () => undefined);
        idle.push(...more);
      }
      assert.equal(idle.length, count);
      const worst = await probe(server.url, 'demo-p256', der, 10);
      assert.ok(worst < 1000, `slowest answer with 10,000 idle connections ${worst} ms`);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});

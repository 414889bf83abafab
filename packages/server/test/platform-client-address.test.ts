/**
 * The visitor's address behind the /platform/* pass-through: the CA service names it in
 * X-Forwarded-For, the embedded platform believes that header only from the pass-through's
 * loopback address, so the per-address complaint limit keys on each visitor. A header forged by
 * the visitor — through the pass-through, directly at the embedded platform, or at a platform
 * that trusts no proxy — buys no extra submissions.
 *
 * Visitors are told apart by their source address: Linux routes all of 127.0.0.0/8 to loopback,
 * so a client bound to 127.0.0.2 reaches a server on 127.0.0.1 as a different address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../src/index.js';
import { startPlatformServer, type RunningPlatform } from '../src/platform/server.js';

/** The platform's default: 5 complaints per address per 10 minutes. */
const MAX = 5;

/** POSTs a complaint about a CA that does not exist (the limiter counts it before the body is checked) from `from`; the status. */
function complain(base: string, from: string, forwardedFor?: string): Promise<number> {
  const url = new URL('/platform/complaints', base);
  const body = JSON.stringify({ ca: 'no-such-ca' });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `n` submissions from `from` (each with a fresh forged header when `forge`); their statuses. */
async function burst(base: string, from: string, n: number, forge = false): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await complain(base, from, forge ? `198.51.100.${i + 1}` : undefined));
  return out;
}

const REFUSED_AFTER_MAX = [...Array<number>(MAX).fill(400), 429];

describe('the client address behind the /platform/* pass-through', () => {
  const work = mkdtempSync(join(tmpdir(), 'hpki-platform-xff-'));
  let server: RunningServer;
  let bare: RunningPlatform;
  before(async () => {
    server = await startServer({ dataDir: join(work, 'ca'), port: 0, logger: false, platform: 'embedded', bootstrap: false, pkiThreads: 0 });
    bare = await startPlatformServer({ dataDir: join(work, 'bare'), port: 0, logger: false });
  });
  after(async () => {
    await server?.close();
    await bare?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('two visitors through the pass-through get separate limits', async () => {
    assert.deepEqual(await burst(server.url, '127.0.0.2', MAX + 1), REFUSED_AFTER_MAX, 'the first visitor is limited');
    // Before the fix every visitor was the CA service's own address: this one would be refused at once.
    assert.deepEqual(await burst(server.url, '127.0.0.3', MAX + 1), REFUSED_AFTER_MAX, 'the second visitor has a limit of its own');
  });

  test('a visitor forging X-Forwarded-For through the pass-through gets no bypass', async () => {
    assert.deepEqual(await burst(server.url, '127.0.0.4', MAX + 2, true), [...REFUSED_AFTER_MAX, 429]);
  });

  test('a visitor forging X-Forwarded-For directly at the embedded platform (trusting only the pass-through) gets no bypass', async () => {
    assert.deepEqual(await burst(server.platform!.url, '127.0.0.5', MAX + 2, true), [...REFUSED_AFTER_MAX, 429]);
  });

  test('a platform that trusts no proxy ignores X-Forwarded-For', async () => {
    assert.deepEqual(await burst(bare.url, '127.0.0.6', MAX + 2, true), [...REFUSED_AFTER_MAX, 429]);
  });

  test('a standalone platform started with trustProxy believes its configured proxy, and only it', async () => {
    const fronted = await startPlatformServer({ dataDir: join(work, 'fronted'), port: 0, logger: false, trustProxy: ['127.0.0.7'] });
    try {
      // Two clients named by the proxy at 127.0.0.7: separate limits.
      for (const client of ['203.0.113.1', '203.0.113.2']) {
        const got: number[] = [];
        for (let i = 0; i <= MAX; i++) got.push(await complain(fronted.url, '127.0.0.7', client));
        assert.deepEqual(got, REFUSED_AFTER_MAX, client);
      }
      // Anyone else's header is ignored.
      assert.deepEqual(await burst(fronted.url, '127.0.0.8', MAX + 2, true), [...REFUSED_AFTER_MAX, 429]);
    } finally {
      await fronted.close();
    }
  });
});

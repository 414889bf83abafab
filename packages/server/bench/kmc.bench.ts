/**
 * Dual certificates and key recovery through the HTTP API (SM2), against `hpki start` with its
 * embedded KMC (its own database and master key, over loopback HTTP with signed messages), beside
 * single SM2 issuance on the same server and the raw SM2 work of one KMC key request, in one run.
 *
 * - dual issuance: POST /api/v1/cas/demo-sm2/enroll with "dual": true — the signing certificate,
 *   a KMC key request (key generated, sealed, escrowed, enveloped, answer signed and journalled),
 *   the encryption certificate, everything recorded in one transaction;
 * - key recovery latency: request, first approval, and the final approval that fetches the key
 *   from the KMC, measured one after another (an officer's experience), median and p95.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr, buildSm2EnvelopedKey, generateKey, identityExtensions, parseName, signData } from '@health-pki/pki';
import type { Benchmark, BenchRow } from '../../pki/bench/harness.js';
import { startServerProcess } from '../test/helpers/process.js';

const SECONDS = 5;
const CLIENTS = 8;
const RECOVERIES = 30;

interface Harness {
  opsPerSecond(fn: (i: number) => void, seconds?: number): number;
}

async function call(url: string, method: string, path: string, token: string, body?: unknown): Promise<any> {
  const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Requests per second from `clients` concurrent loops over `seconds` (after a one-second warm-up). */
async function rate(op: () => Promise<void>): Promise<number> {
  const run = async (until: number, count: { n: number }) => {
    while (performance.now() < until) {
      await op();
      count.n++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, () => run(performance.now() + 1000, { n: 0 })));
  const count = { n: 0 };
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, () => run(start + SECONDS * 1000, count)));
  return count.n / ((performance.now() - start) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const bench: Benchmark = async () => {
  const harness = (await import(new URL('../../../pki/dist/bench/harness.js', import.meta.url).href)) as Harness;
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
  const notes = [`${CLIENTS} concurrent clients, ${SECONDS} s after a 1 s warm-up, against \`hpki start\` (SQLite, synchronous=FULL) with its embedded KMC (own SQLite database and master key, reached over loopback HTTP). Load average at the start: ${load()}.`];
  const rows: BenchRow[] = [];

  // The SM2 work a dual issuance adds, in this process: a key pair, an envelope, two signatures (request, answer).
  const holder = generateKey('sm2');
  const body = Buffer.alloc(300, 7);
  const raw = harness.opsPerSecond(() => {
    buildSm2EnvelopedKey(generateKey('sm2'), holder.publicKey);
    signData(holder, body);
    signData(holder, body);
  }, 2);
  rows.push({ name: 'raw SM2 work of one KMC key request: key generation + SM2EnvelopedKey + 2 signatures (one core)', value: raw, unit: 'ops/s' });

  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-kmc-'));
  const server = await startServerProcess({ dataDir: dir });
  try {
    const admin = server.adminToken;
    const officers = await Promise.all(['bench-a', 'bench-b', 'bench-c'].map(async (id) => (await call(server.url, 'POST', '/api/v1/officers', admin, { id })).token as string));
    const csrs = Array.from({ length: 200 }, () => buildCsr(parseName('C=CN,O=示例医院,CN=王医生'), generateKey('sm2'), identityExtensions({ residentId: '11010519491231002X' })).toPem());
    let i = 0;
    const enroll = (dual: boolean) => async () => {
      await call(server.url, 'POST', '/api/v1/cas/demo-sm2/enroll', admin, { profile: 'staff-sign', csr: csrs[i++ % csrs.length], applicant: { name: '王医生' }, ...(dual ? { dual: true } : {}) });
    };
    const single = await rate(enroll(false));
    rows.push({ name: `SM2 issuance, one certificate (enroll), ${CLIENTS} clients`, value: single, unit: 'certs/s' });
    const dual = await rate(enroll(true));
    rows.push({ name: `SM2 dual issuance: signing + encryption certificate with the KMC's escrowed key (enroll, "dual": true), ${CLIENTS} clients`, value: dual, unit: 'pairs/s', ratio: { against: 'single SM2 issuance on the same server', value: dual / single } });

    // Recovery latency, one request at a time.
    const pairs: string[] = [];
    for (let k = 0; k < RECOVERIES; k++) {
      const r = await call(server.url, 'POST', '/api/v1/cas/demo-sm2/enroll', admin, { profile: 'staff-sign', csr: csrs[k]!, applicant: { name: '王医生' }, dual: true });
      pairs.push(r.encryption.certificate.serial);
    }
    const finals: number[] = [];
    const wholes: number[] = [];
    for (const serial of pairs) {
      const t0 = performance.now();
      const asked = await call(server.url, 'POST', '/api/v1/cas/demo-sm2/recoveries', officers[0]!, { encSerial: serial, kind: 'holder', recipientCsr: csrs[(pairs.indexOf(serial) + 1) % csrs.length], reason: 'benchmark: token lost' });
      await call(server.url, 'POST', `/api/v1/cas/demo-sm2/recoveries/${asked.id}/approve`, officers[1]!);
      const t1 = performance.now();
      const done = await call(server.url, 'POST', `/api/v1/cas/demo-sm2/recoveries/${asked.id}/approve`, officers[2]!);
      const t2 = performance.now();
      if (done.state !== 'delivered') throw new Error(`recovery ${asked.id} not delivered`);
      finals.push(t2 - t1);
      wholes.push(t2 - t0);
    }
    finals.sort((a, b) => a - b);
    wholes.sort((a, b) => a - b);
    rows.push({ name: 'key recovery: the final approval (KMC restore, envelope, records), median', value: percentile(finals, 50), unit: 'ms' });
    rows.push({ name: 'key recovery: the final approval, p95', value: percentile(finals, 95), unit: 'ms' });
    rows.push({ name: 'key recovery: request + two approvals, one after another, median', value: percentile(wholes, 50), unit: 'ms' });
    notes.push(`Recovery: ${RECOVERIES} recoveries of distinct keys, each entered by one officer and approved by two others. Load average at the end: ${load()}.`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return [{ title: 'Dual certificates and key recovery (SM2, with the KMC)', rows, notes }];
};

export default bench;

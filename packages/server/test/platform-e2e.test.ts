/**
 * Issue 8 end to end, in separate processes talking HTTP: a platform (`hpki platform start`) and
 * two CA services (`hpki start --platform-url … --platform-cert …`, each its own SQLite
 * database), one admitting its SM2 CA and one its P-256 CA through the automated conformance
 * test; thousands of certificates issued and revoked through the enroll API appear in the
 * platform's statistics with exact counts; the platform is stopped while the CAs keep issuing and
 * restarted, and every event arrives once; a rectification order passes its deadline (the
 * platform restarted with a test clock a year ahead), the CA leaves the trust list, and a relying
 * party reading the trust list rejects that CA's certificates while accepting the other's.
 *
 * HPKI_E2E_CERTS sets how many certificates are issued in the bulk step (default 10000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Certificate, PathValidator, trustListCertificates, verifyTrustList } from '@health-pki/pki';
import { admitCa } from '../src/platform-link/admission.js';
import { startPlatformProcess, startServerProcess, type PlatformProcess, type ServerProcess } from './helpers/process.js';
import { httpApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

const TOTAL = Number(process.env.HPKI_E2E_CERTS ?? 10_000);
const CONCURRENCY = 24;
const YEAR_AND_A_DAY_MS = 367 * 86_400_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** One CA service process and the CA it runs for this test. */
interface CaSide {
  proc: ServerProcess;
  api: Api;
  ca: string;
  alg: 'sm2' | 'p256';
  province: string;
  /** Serials issued in this test, in order. */
  serials: string[];
  csrs: string[];
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `n` jobs with at most `width` in flight. */
async function pool(n: number, width: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

/**
 * POST JSON on a fresh connection: the bulk requests are not idempotent, so none may go out on a
 * kept-alive socket the server is closing at that moment (it could not be told apart from a lost
 * answer and retried safely).
 */
function postJson(url: string, body: unknown, token: string): Promise<{ status: number; json: any }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` }, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 60 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function issue(side: CaSide, n: number): Promise<void> {
  await pool(n, CONCURRENCY, async (i) => {
    const r = await postJson(`${side.proc.url}/api/v1/cas/${side.ca}/enroll`, { profile: 'staff-sign', csr: side.csrs[i % side.csrs.length], applicant: { name: `医生${i}` } }, side.proc.adminToken);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    side.serials.push(r.json.certificate.serial as string);
  });
}

async function revoke(side: CaSide, serials: string[]): Promise<void> {
  await pool(serials.length, CONCURRENCY, async (i) => {
    const r = await postJson(`${side.proc.url}/api/v1/cas/${side.ca}/certificates/${serials[i]}/revoke`, { reason: 'keyCompromise' }, side.proc.adminToken);
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
}

async function outbox(side: CaSide): Promise<{ pending: number; sent: number; duplicates: number; conflicts: number; lastSeq: number }> {
  const r = await side.api('GET', `/api/v1/platform-access/${side.ca}/outbox`, undefined, side.proc.adminToken);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

type Counts = { issued: number; renewed: number; revoked: number; active: number };

async function stats(platform: Api, token: string): Promise<Map<string, Counts>> {
  const r = await platform('GET', '/platform/stats?groupBy=ca', undefined, token);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return new Map((r.json.rows as Array<Counts & { ca: string }>).map((row) => [row.ca, { issued: row.issued, renewed: row.renewed, revoked: row.revoked, active: row.active }]));
}

test('platform end to end: admission, 10,000 certificates, platform outage, rectification deadline, trust list', { timeout: 1_800_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hpki-e2e-'));
  const platformDir = join(root, 'platform');
  const port = await freePort();
  let platform: PlatformProcess | undefined;
  const sides: CaSide[] = [];
  const started = Date.now();
  const lap = (what: string) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    platform = await startPlatformProcess({ dataDir: platformDir, port, timeoutMs: 120_000 });
    const platformUrl = platform.url;
    const papi = httpApi(platformUrl);
    const national = platform.nationalToken;
    const certAnswer = await papi('GET', '/platform/trust-list/certificate');
    assert.equal(certAnswer.status, 200);
    const platformCert = Certificate.parse(certAnswer.body);
    const certFile = join(root, 'platform.crt');
    writeFileSync(certFile, platformCert.toPem());

    // Two CA services, each its own database, both pointed at the shared platform.
    for (const [ca, alg, province] of [['demo-sm2', 'sm2', 'BJ'], ['demo-p256', 'p256', 'GD']] as const) {
      const proc = await startServerProcess({ dataDir: join(root, ca), args: ['--no-kmc', '--platform-url', platformUrl, '--platform-cert', certFile, '--province', province], timeoutMs: 180_000 });
      sides.push({ proc, api: httpApi(proc.url), ca, alg, province, serials: [], csrs: Array.from({ length: 16 }, () => makeCsr(alg).pem) });
    }
    const [sm2, p256] = sides as [CaSide, CaSide];
    lap('processes started');

    // Admission, conformance test included, as the offices would do it over HTTP.
    const admitted = await Promise.all(sides.map((s) => admitCa({ platformUrl, nationalToken: national, caUrl: s.proc.url, caAdminToken: s.proc.adminToken, ca: s.ca, province: s.province })));
    for (const a of admitted) {
      assert.equal(a.status, 'connected', JSON.stringify(a));
      assert.equal(a.report?.passed, true, JSON.stringify(a.report));
    }
    lap('both CAs admitted');
    for (const s of sides) await until(`${s.ca}'s outbox drains`, async () => (await outbox(s)).pending === 0);
    const base = await stats(papi, national);

    // Bulk: TOTAL certificates across both CAs, one in ten revoked.
    const half = Math.floor(TOTAL / 2);
    const bulkStart = Date.now();
    await Promise.all([issue(sm2, half), issue(p256, TOTAL - half)]);
    const issueSeconds = (Date.now() - bulkStart) / 1000;
    const revokedOf = (s: CaSide) => s.serials.filter((_, i) => i % 10 === 0);
    await Promise.all(sides.map((s) => revoke(s, revokedOf(s))));
    lap(`issued ${TOTAL} in ${issueSeconds.toFixed(1)} s (${Math.round(TOTAL / issueSeconds)}/s), revoked ${revokedOf(sm2).length + revokedOf(p256).length}`);
    for (const s of sides) await until(`${s.ca}'s outbox drains`, async () => (await outbox(s)).pending === 0, 120_000);
    lap('outboxes drained');
    const afterBulk = await stats(papi, national);
    for (const s of sides) {
      const b = base.get(s.ca)!;
      const a = afterBulk.get(s.ca)!;
      assert.deepEqual([a.issued - b.issued, a.revoked - b.revoked], [s.serials.length, revokedOf(s).length], `${s.ca}: exact counts`);
    }

    // The platform goes away while the CAs keep issuing and revoking; then it comes back.
    await platform.stop();
    platform = undefined;
    const during = 200;
    const beforeOutage = sides.map((s) => s.serials.length);
    await Promise.all(sides.map((s) => issue(s, during)));
    const lateRevoked = sides.map((s, i) => s.serials.slice(beforeOutage[i]!).slice(0, 20));
    await Promise.all(sides.map((s, i) => revoke(s, lateRevoked[i]!)));
    for (const s of sides) assert.ok((await outbox(s)).pending >= during + 20, `${s.ca}: events wait in the outbox`);
    platform = await startPlatformProcess({ dataDir: platformDir, port, timeoutMs: 120_000 });
    for (const s of sides) await until(`${s.ca}'s outbox drains after the outage`, async () => (await outbox(s)).pending === 0, 120_000);
    lap('outage survived');
    const afterOutage = await stats(papi, national);
    for (const [i, s] of sides.entries()) {
      const a = afterOutage.get(s.ca)!;
      const b = afterBulk.get(s.ca)!;
      assert.deepEqual([a.issued - b.issued, a.revoked - b.revoked], [during, lateRevoked[i]!.length], `${s.ca}: exact counts after the outage`);
      // Every event the CA wrote was applied exactly once: the platform's counts equal the CA's seq, nothing conflicted.
      const o = await outbox(s);
      assert.equal(a.issued + a.renewed + a.revoked, o.lastSeq, `${s.ca}: platform events = CA events`);
      assert.equal(o.conflicts, 0);
      assert.equal(o.sent, o.lastSeq);
    }

    // Art. 21: the GD office's evaluation fails the P-256 CA; a year later the order has expired.
    const province = await papi('POST', '/platform/tokens', { id: 'gd-office', role: 'provincial', province: 'GD' }, national);
    assert.equal(province.status, 201, JSON.stringify(province.json));
    const evaluation = await papi('POST', `/platform/cas/${p256.ca}/evaluations`, { passed: false, findings: ['OCSP responder unavailable for 3 days'] }, province.json.token);
    assert.equal(evaluation.status, 201, JSON.stringify(evaluation.json));
    const before = verifyTrustList((await papi('GET', '/platform/trust-list')).body, platformCert);
    assert.ok(before.valid, before.reason);
    assert.deepEqual(before.document!.cas.map((c) => c.name).sort(), ['demo-p256', 'demo-sm2']);
    await platform.stop();
    platform = await startPlatformProcess({ dataDir: platformDir, port, timeoutMs: 120_000, env: { HPKI_TEST_CLOCK_OFFSET_MS: String(YEAR_AND_A_DAY_MS) } });
    assert.match(platform.stderr(), /TEST CLOCK/);
    await until('the sweep terminates the CA', async () => (await papi('GET', `/platform/cas/${p256.ca}`, undefined, national)).json.status === 'terminated', 30_000);
    lap('rectification deadline passed');

    // A relying party reads the trust list and validates certificates against it.
    const list = await papi('GET', '/platform/trust-list');
    const verdict = verifyTrustList(list.body, platformCert, { minVersion: before.document!.version });
    assert.ok(verdict.valid, verdict.reason);
    const trusted = trustListCertificates({ ...verdict.document!, cas: verdict.document!.cas.filter((c) => c.status === 'connected') });
    assert.deepEqual([...new Set(trusted.map((x) => x.ca))], ['demo-sm2']);
    const anchors = trusted.map((x) => x.certificate).filter((c) => c.isSelfIssued);
    const validator = new PathValidator({ anchors, intermediates: trusted.map((x) => x.certificate).filter((c) => !c.isSelfIssued) });
    const certOf = async (s: CaSide, serial: string) => Certificate.parse((await s.api('GET', `/api/v1/cas/${s.ca}/certificates/${serial}`, undefined, s.proc.adminToken)).json.pem as string);
    const accepted = validator.validate(await certOf(sm2, sm2.serials[1]!), { time: new Date(), checkRevocation: false });
    assert.ok(accepted.valid, `the connected CA's certificate is accepted: ${accepted.valid ? '' : accepted.reason.message}`);
    const rejected = validator.validate(await certOf(p256, p256.serials[1]!), { time: new Date(), checkRevocation: false });
    assert.equal(rejected.valid, false, "the terminated CA's certificate is rejected");
    lap('done');
  } catch (e) {
    // What the processes said helps more than the assertion alone.
    for (const s of sides) t.diagnostic(`${s.ca} process stderr:\n${s.proc.stderr().slice(-4000)}`);
    if (platform) t.diagnostic(`platform stderr:\n${platform.stderr().slice(-4000)}`);
    throw e;
  } finally {
    await platform?.stop();
    for (const s of sides) await s.proc.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

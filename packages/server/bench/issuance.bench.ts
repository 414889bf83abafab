/**
 * Certificate issuance through the HTTP API, ECDSA P-256, on SQLite and on PostgreSQL, with
 * several concurrent clients, beside the raw signing rate and beside CFSSL (`cfssl serve` with
 * its SQLite certdb in WAL mode), all in one run on the same machine with the same client code.
 *
 * Our full path per certificate, in both flows: the application is recorded (CSR parsed and
 * verified, profile pre-check, applicant data, RA record, audit entry) and approved (maker-checker
 * rule, the profile engine builds, signs and lints the certificate, CA record, status history,
 * RA record, audit entries); every commit durable (SQLite WAL with synchronous=FULL, group commit).
 * - one request: POST /enroll by the bootstrap administrator, whose self-approval the demo
 *   deployment allows and records (the path of `hpki enroll` with the admin token);
 * - two requests: officer A enters the application, officer B approves it (maker-checker);
 * - an extra row, batch enrollment: POST /enroll/batch with 50 CSRs per request, each
 *   certificate still its own application, checks, transaction, RA record and audit entries
 *   (what a hospital enrolling its staff at once does; not the per-request measure of the target).
 * CFSSL's path is one request: sign the CSR and store it in its certdb.
 *
 * The cryptography alone of our path is one key import (the CSR's), one ECDSA verification (the
 * proof of possession) and one signature: the issuing key passed a pairwise consistency test when
 * the worker received it, so the lint does not verify each new signature again (docs/architecture.md
 * "Decisions"); the "crypto floor" row measures exactly that, as the bound the parsing,
 * checking, HTTP and database work add to. CFSSL (Go's x509.CreateCertificate) verifies each
 * signature it makes in addition. The CPU notes split the server's time between its
 * main thread (HTTP, database, commits) and the worker threads (parse, verify, sign, lint).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { Certificate, CertificationRequestDoc, buildCsr, checkCertificate, generateKey, getProfile, identityExtensions, issueFromProfile, pairwiseConsistent, parseName, publicKeyFromSpki, signData, verifyData } from '@health-pki/pki';
import { defaultPkiThreads } from '../src/work/pki-work.js';
import type { Benchmark, BenchRow, BenchSection } from '../../pki/bench/harness.js';
import { createBackend, postgresOff } from '../test/helpers/backends.js';
import { startServerProcess } from '../test/helpers/process.js';

/** Seconds per measurement; BENCH_QUICK=1 runs one second each, for a sanity check of the module (not for numbers). */
const SECONDS = process.env.BENCH_QUICK === '1' ? 1 : 5;
const CLIENTS = 16;
const TARGET = '>= 1.5x CFSSL (SQLite)';
/** Batch enrollment row: CSRs per request and concurrent clients (BATCH × BATCH_CLIENTS certificates in flight, as 16 clients × 1 elsewhere would be 16). */
const BATCH = 50;
const BATCH_CLIENTS = 4;

interface Harness {
  opsPerSecond(fn: (i: number) => void, seconds?: number): number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** POSTs JSON and resolves with the status and body; keep-alive, no retries. */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': data.length, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A measured rate, with the CPU time the server process and this (client) process spent per operation. */
interface Measured {
  rate: number;
  /** Server process CPU (user + system, all its threads) per operation, µs; undefined without /proc. */
  serverCpuUs?: number;
  /** Of which its main thread (HTTP, database, commits), µs; the rest is worker threads and V8's own. */
  serverMainCpuUs?: number;
  /** This process's CPU (the HTTP clients) per operation, µs. */
  clientCpuUs: number;
}

/** CPU seconds (user + system) a process, or with `thread` one of its threads, has used so far, from /proc; undefined where there is none. */
function processCpuSeconds(pid: number, thread?: number): number | undefined {
  try {
    const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `op` from `clients` concurrent loops for `seconds` (after a one-second warm-up); returns operations per second and CPU per operation. */
async function rate(op: () => Promise<void>, serverPid: number | undefined, seconds = SECONDS, clients = CLIENTS): Promise<Measured> {
  const loop = async (until: number, count: { n: number }) => {
    while (performance.now() < until) {
      await op();
      count.n++;
    }
  };
  const warm = { n: 0 };
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: clients }, () => loop(warmEnd, warm)));
  const count = { n: 0 };
  const server0 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  // The main thread's id is the process id.
  const main0 = serverPid === undefined ? undefined : processCpuSeconds(serverPid, serverPid);
  const client0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, () => loop(start + seconds * 1000, count)));
  const elapsed = (performance.now() - start) / 1000;
  const server1 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const main1 = serverPid === undefined ? undefined : processCpuSeconds(serverPid, serverPid);
  const client = process.cpuUsage(client0);
  return {
    rate: count.n / elapsed,
    ...(server0 !== undefined && server1 !== undefined ? { serverCpuUs: ((server1 - server0) * 1e6) / count.n } : {}),
    ...(main0 !== undefined && main1 !== undefined ? { serverMainCpuUs: ((main1 - main0) * 1e6) / count.n } : {}),
    clientCpuUs: (client.user + client.system) / count.n,
  };
}

function csrPool(n: number): string[] {
  return Array.from({ length: n }, () => buildCsr(parseName('C=CN,O=示例医院,OU=心内科,CN=张三'), generateKey('p256'), identityExtensions({ residentId: '11010519491231002X' })).toPem());
}

/** What one `hpki start` process measured. */
interface OursResult {
  /** One request per certificate (bootstrap administrator, POST /enroll). */
  oneRequest: Measured;
  /** Two requests per certificate (officer A applies, officer B approves). */
  twoRequests: Measured;
  /** Batch enrollment (POST /enroll/batch, BATCH CSRs per request), per certificate; measured when asked for. */
  batch?: Measured;
  /** Transactions per commit during the run (SQLite group commit), from /metrics. */
  perCommit?: number;
}

/** A counter's value in Prometheus text. */
function counter(metrics: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
}

async function metricsText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(`${url}/metrics`, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    }).on('error', reject);
  });
}

/** Issuance rates of one `hpki start` process (SQLite in a fresh data directory, or a fresh PostgreSQL database), both flows. */
async function oursRate(backendName: 'sqlite' | 'postgres', csrs: string[], opts: { batch?: boolean } = {}): Promise<OursResult> {
  const backend = await createBackend(backendName);
  const server = await startServerProcess({ dataDir: backend.dataDir, dbUrl: backend.dbUrl });
  try {
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const admin = auth(server.adminToken);
    const officer = async (id: string) => JSON.parse((await post(`${server.url}/api/v1/officers`, { id }, admin)).body.toString()).token as string;
    const maker = auth(await officer('officer-maker'));
    const checker = auth(await officer('officer-checker'));
    let i = 0;
    const m0 = await metricsText(server.url);
    const oneRequest = await rate(async () => {
      const r = await post(`${server.url}/api/v1/cas/demo-p256/enroll`, { profile: 'staff-sign', csr: csrs[i++ % csrs.length], applicant: { name: '张三' } }, admin);
      if (r.status !== 201) throw new Error(`enroll: ${r.status} ${r.body.toString().slice(0, 200)}`);
    }, server.child.pid);
    const twoRequests = await rate(async () => {
      const a = await post(`${server.url}/api/v1/cas/demo-p256/applications`, { profile: 'staff-sign', csr: csrs[i++ % csrs.length], applicant: { name: '张三' } }, maker);
      if (a.status !== 201) throw new Error(`apply: ${a.status} ${a.body.toString().slice(0, 200)}`);
      const id = JSON.parse(a.body.toString()).id as string;
      const r = await post(`${server.url}/api/v1/cas/demo-p256/applications/${id}/approve`, {}, checker);
      if (r.status !== 200) throw new Error(`approve: ${r.status} ${r.body.toString().slice(0, 200)}`);
    }, server.child.pid);
    const m1 = await metricsText(server.url);
    const commits = counter(m1, 'hpki_db_commits_total') - counter(m0, 'hpki_db_commits_total');
    const operations = counter(m1, 'hpki_db_committed_operations_total') - counter(m0, 'hpki_db_committed_operations_total');
    let batch: Measured | undefined;
    if (opts.batch) {
      // Each certificate of a batch is still its own application, checks, transaction, RA record and audit entries.
      const perRequest = await rate(async () => {
        const applications = Array.from({ length: BATCH }, () => ({ profile: 'staff-sign', csr: csrs[i++ % csrs.length], applicant: { name: '张三' } }));
        const r = await post(`${server.url}/api/v1/cas/demo-p256/enroll/batch`, { applications }, admin);
        if (r.status !== 200) throw new Error(`enroll/batch: ${r.status} ${r.body.toString().slice(0, 200)}`);
        const failed = (JSON.parse(r.body.toString()).results as Array<{ status: number }>).filter((x) => x.status !== 201);
        if (failed.length) throw new Error(`enroll/batch: ${failed.length} of ${BATCH} not issued: ${JSON.stringify(failed[0])}`);
      }, server.child.pid, SECONDS, BATCH_CLIENTS);
      const per = (x: number | undefined) => (x === undefined ? undefined : x / BATCH);
      batch = { rate: perRequest.rate * BATCH, clientCpuUs: perRequest.clientCpuUs / BATCH, ...(perRequest.serverCpuUs !== undefined ? { serverCpuUs: per(perRequest.serverCpuUs) } : {}), ...(perRequest.serverMainCpuUs !== undefined ? { serverMainCpuUs: per(perRequest.serverMainCpuUs) } : {}) };
    }
    return { oneRequest, twoRequests, ...(batch ? { batch } : {}), ...(commits > 0 ? { perCommit: operations / commits } : {}) };
  } finally {
    await server.stop();
    await backend.cleanup();
  }
}

function hasCfssl(): boolean {
  try {
    execFileSync('cfssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CFSSL's issuance rate: `cfssl serve` with a P-256 CA and its certdb on SQLite in WAL mode. */
async function cfsslRate(port: number): Promise<Measured & { version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-cfssl-'));
  let child: ChildProcess | undefined;
  try {
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'ca-key.pem')], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'ca-key.pem'), '-out', join(dir, 'ca.pem'), '-days', '3650', '-subj', '/C=CN/O=bench/CN=bench CA'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['digital signature', 'client auth'] } } }));
    const dbFile = join(dir, 'certs.db');
    writeFileSync(join(dir, 'db.json'), JSON.stringify({ driver: 'sqlite3', data_source: dbFile }));
    // cfssl's own certdb schema (certdb/sqlite/migrations), in WAL mode as the issue asks.
    const db = new SqliteDatabase(dbFile);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL, PRIMARY KEY(serial_number, authority_key_identifier));
      CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier), FOREIGN KEY(serial_number, authority_key_identifier) REFERENCES certificates(serial_number, authority_key_identifier));`);
    db.close();
    const version = execFileSync('cfssl', ['version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^Version:\s*/, '');
    child = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', join(dir, 'ca.pem'), '-ca-key', join(dir, 'ca-key.pem'), '-config', join(dir, 'config.json'), '-db-config', join(dir, 'db.json'), '-loglevel', '4'], { stdio: 'ignore' });
    const csrs = Array.from({ length: 200 }, () =>
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/C=CN/O=Example Hospital/CN=Zhang San'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    const url = `http://127.0.0.1:${port}/api/v1/cfssl/sign`;
    for (let tries = 0; ; tries++) {
      try {
        if ((await post(url, { certificate_request: csrs[0] })).status === 200) break;
      } catch {
        // not listening yet
      }
      if (tries > 50) throw new Error('cfssl serve did not start');
      await sleep(100);
    }
    let i = 0;
    const r = await rate(async () => {
      const res = await post(url, { certificate_request: csrs[i++ % csrs.length] });
      if (res.status !== 200) throw new Error(`cfssl sign: ${res.status} ${res.body.toString().slice(0, 200)}`);
    }, child.pid);
    const check = new SqliteDatabase(dbFile, { readonly: true });
    const stored = (check.prepare('select count(*) as n from certificates').get() as { n: number }).n;
    const mode = (check.pragma('journal_mode', { simple: true }) as string).toLowerCase();
    check.close();
    if (stored === 0 || mode !== 'wal') throw new Error(`cfssl certdb not used as intended: ${stored} rows, journal_mode ${mode}`);
    return { ...r, version };
  } finally {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpuNote = (label: string, m: Measured) =>
  `${label}: ${m.serverCpuUs !== undefined ? `server ${Math.round(m.serverCpuUs)} µs${m.serverMainCpuUs !== undefined ? ` (main thread ${Math.round(m.serverMainCpuUs)} µs)` : ''}` : 'server not measured'}, client ${Math.round(m.clientCpuUs)} µs of CPU per certificate`;

const bench: Benchmark = async () => {
  const harness = (await import(new URL('../../../pki/dist/bench/harness.js', import.meta.url).href)) as Harness;
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
  const notes: string[] = [
    `${CLIENTS} concurrent clients (keep-alive HTTP/1.1, one Node client process for every server measured), ${SECONDS} s after a 1 s warm-up; the server runs as its own process (\`hpki start\`, default settings: ${defaultPkiThreads()} worker thread(s) for parsing, verifying and signing on this ${availableParallelism()}-core machine). Machine load average (1 / 5 / 15 min) at the start: ${load()}.`,
    `Ours, per certificate, both flows: CSR parse + proof of possession, profile check, application record with applicant data, RA record and audit entry; maker-checker rule, profile build + sign + lint, CA record, status history, RA record, audit entries. Parsing, signing and linting happen before the transaction (${defaultPkiThreads() > 0 ? 'in worker threads' : 'in the service thread'}); the transaction holds only the writes. SQLite WAL: concurrent transactions share a commit (group commit), whose WAL is synced with fdatasync off the service's thread; an answer is sent only after its commit is on disk.`,
    'One request: POST /api/v1/cas/demo-p256/enroll by the bootstrap administrator (the demo deployment lets it approve what it enters; the record says "self-approved"). Two requests: POST application by officer A, then POST approve by officer B (maker-checker), the flow for every other officer.',
    'CFSSL: one POST /api/v1/cfssl/sign per certificate, certificate stored in its certdb (SQLite, WAL, the go-sqlite3 default synchronous=FULL).',
  ];
  const rows: BenchRow[] = [];

  // The raw signing rate and the pki steps alone, in this process.
  const caKey = generateKey('p256');
  const tbsLike = Buffer.alloc(400, 1);
  rows.push({ name: 'raw ECDSA P-256 signature (signData, one core)', value: harness.opsPerSecond(() => signData(caKey, tbsLike), 2), unit: 'ops/s' });
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=bench,CN=bench root'), publicKey: caKey.publicKey, issuerKey: caKey });
  // As the service's workers do once per issuing key.
  const issuerKeyTested = pairwiseConsistent(caKey, root.publicKey);
  const holder = generateKey('p256');
  const subject = parseName('C=CN,O=示例医院,CN=张三');
  rows.push({
    name: 'profile issuance without storage or HTTP (issueFromProfile: check, build, sign, lint; one core)',
    value: harness.opsPerSecond(() => issueFromProfile({ profile: 'staff-sign', subject, publicKey: holder.publicKey, issuerCert: root, issuerKey: caKey, identity: { residentId: '11010519491231002X' }, issuerKeyTested }), 2),
    unit: 'certs/s',
  });
  const issued = issueFromProfile({ profile: 'staff-sign', subject, publicKey: holder.publicKey, issuerCert: root, issuerKey: caKey, identity: { residentId: '11010519491231002X' } });
  const staffSign = getProfile('staff-sign');
  rows.push({ name: '… of which the profile lint after signing (checkCertificate on a parsed certificate, signature known good; one core)', value: harness.opsPerSecond(() => checkCertificate(staffSign, Certificate.parse(issued.der), root, { signatureKnownGood: true }), 2), unit: 'certs/s' });
  const csrs = csrPool(300);
  rows.push({ name: 'CSR parse + proof of possession (CertificationRequestDoc.parse + verifySignature; one core)', value: harness.opsPerSecond((i) => CertificationRequestDoc.parse(csrs[i % csrs.length]!).verifySignature(), 2), unit: 'CSRs/s' });
  const requests = csrs.map((c) => {
    const r = CertificationRequestDoc.parse(c);
    return { spki: r.spkiDer, info: r.infoDer, algorithm: r.asn.signatureAlgorithm, signature: Buffer.from(r.asn.signature) };
  });
  const tbs = issued.tbsDer;
  const caSig = issued.signatureValue;
  const floor = harness.opsPerSecond((i) => {
    const r = requests[i % requests.length]!;
    verifyData(publicKeyFromSpki(r.spki), r.algorithm, r.info, r.signature);
    signData(caKey, tbs);
  }, 2);
  rows.push({ name: 'crypto floor per certificate: key import + 1 verification + 1 signature (one core)', value: floor, unit: 'certs/s' });
  rows.push({ name: '… plus verifying the signature just made, as CFSSL does (one core)', value: harness.opsPerSecond(() => verifyData(caKey.publicKey, issued.signatureAlgorithm, tbs, caSig), 2), unit: 'verifications/s' });

  let cfssl: (Measured & { version: string }) | undefined;
  if (hasCfssl()) {
    cfssl = await cfsslRate(18889);
    notes.push(`CFSSL ${cfssl.version} (Debian golang-cfssl).`);
  } else {
    notes.push('CFSSL not measured: `cfssl` is not installed (Debian golang-cfssl; scripts/setup.sh installs it).');
  }
  const vsCfssl = (value: number) => (cfssl ? { ratio: { against: 'CFSSL serve (SQLite certdb, WAL)', value: value / cfssl.rate } } : {});
  const target = (value: number) => (cfssl ? { target: { text: TARGET, met: value / cfssl.rate >= 1.5 } } : {});
  const sqlite = await oursRate('sqlite', csrs, { batch: true });
  rows.push({ name: `issuance via HTTP API, SQLite, ${CLIENTS} clients, one request per certificate (enroll, self-approved bootstrap administrator)`, value: sqlite.oneRequest.rate, unit: 'certs/s', ...vsCfssl(sqlite.oneRequest.rate), ...target(sqlite.oneRequest.rate) });
  rows.push({ name: `issuance via HTTP API, SQLite, ${CLIENTS} clients, two requests per certificate (officer A applies, officer B approves)`, value: sqlite.twoRequests.rate, unit: 'certs/s', ...vsCfssl(sqlite.twoRequests.rate), ...target(sqlite.twoRequests.rate) });
  if (sqlite.batch) {
    rows.push({
      name: `extra: batch enrollment via HTTP API, SQLite, ${BATCH} CSRs per request (POST /enroll/batch), ${BATCH_CLIENTS} clients; each certificate still its own application, checks, transaction, RA record and audit entries (not the one-request-per-certificate measure of the target)`,
      value: sqlite.batch.rate,
      unit: 'certs/s',
      ...vsCfssl(sqlite.batch.rate),
    });
  }
  if (sqlite.perCommit !== undefined) notes.push(`SQLite group commit during these runs: ${sqlite.perCommit.toFixed(1)} transactions per commit (one fsync each), from /metrics.`);
  const cpu = [cpuNote('ours, SQLite, one request', sqlite.oneRequest), cpuNote('ours, SQLite, two requests', sqlite.twoRequests)];
  if (sqlite.batch) cpu.push(cpuNote(`ours, SQLite, batch of ${BATCH}`, sqlite.batch));
  if (!postgresOff) {
    try {
      const pg = await oursRate('postgres', csrs);
      rows.push({ name: `issuance via HTTP API, PostgreSQL, ${CLIENTS} clients, one request per certificate`, value: pg.oneRequest.rate, unit: 'certs/s', ...vsCfssl(pg.oneRequest.rate) });
      rows.push({ name: `issuance via HTTP API, PostgreSQL, ${CLIENTS} clients, two requests per certificate`, value: pg.twoRequests.rate, unit: 'certs/s', ...vsCfssl(pg.twoRequests.rate) });
      cpu.push(cpuNote('ours, PostgreSQL, one request (PostgreSQL\'s own processes not counted)', pg.oneRequest));
    } catch (e) {
      notes.push(`PostgreSQL not measured: ${(e as Error).message}`);
    }
  }
  if (cfssl) {
    rows.push({ name: `CFSSL serve, SQLite certdb (WAL), ${CLIENTS} clients`, value: cfssl.rate, unit: 'certs/s' });
    cpu.push(cpuNote('CFSSL', cfssl));
  }
  notes.push(`CPU time per certificate (from /proc; all threads of the server process): ${cpu.join('; ')}. Machine load average at the end: ${load()}.`);
  const section: BenchSection = { title: 'Certificate issuance through the HTTP API (ECDSA P-256)', rows, notes };
  agent.destroy();
  return [section];
};

export default bench;

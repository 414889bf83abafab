/**
 * Certificate issuance through the HTTP API, ECDSA P-256, on SQLite and on PostgreSQL, with
 * several concurrent clients, beside the raw signing rate and beside CFSSL (`cfssl serve` with
 * its SQLite certdb in WAL mode), all in one run on the same machine with the same client code.
 *
 * Our full path per certificate: an officer enters the application (CSR parsed and verified,
 * profile pre-check, RA record, audit entry), a second officer approves it (maker-checker, the
 * profile engine builds, signs and re-checks the certificate, CA record, status history, RA
 * record, audit entries); every commit durable (SQLite WAL with synchronous=FULL). CFSSL's path
 * is one request: sign the CSR and store it in its certdb.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { buildCsr, generateKey, identityExtensions, issueFromProfile, parseName, signData } from '@health-pki/pki';
import type { Benchmark, BenchRow, BenchSection } from '../../pki/bench/harness.js';
import { createBackend, postgresOff } from '../test/helpers/backends.js';
import { startServerProcess } from '../test/helpers/process.js';

const SECONDS = 5;
const CLIENTS = 16;
const TARGET = '>= 1.5x CFSSL (SQLite)';

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

/** Runs `op` from `clients` concurrent loops for `seconds` (after a one-second warm-up); returns operations per second. */
async function rate(op: () => Promise<void>, seconds = SECONDS, clients = CLIENTS): Promise<number> {
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
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, () => loop(start + seconds * 1000, count)));
  return count.n / ((performance.now() - start) / 1000);
}

function csrPool(n: number): string[] {
  return Array.from({ length: n }, () => buildCsr(parseName('C=CN,O=示例医院,OU=心内科,CN=张三'), generateKey('p256'), identityExtensions({ residentId: '11010519491231002X' })).toPem());
}

/** Issuance rate of one `hpki start` process (SQLite in a fresh data directory, or a fresh PostgreSQL database). */
async function oursRate(backendName: 'sqlite' | 'postgres', csrs: string[]): Promise<number> {
  const backend = await createBackend(backendName);
  const server = await startServerProcess({ dataDir: backend.dataDir, dbUrl: backend.dbUrl });
  try {
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const officer = async (id: string) => JSON.parse((await post(`${server.url}/api/v1/officers`, { id }, auth(server.adminToken))).body.toString()).token as string;
    const maker = auth(await officer('officer-maker'));
    const checker = auth(await officer('officer-checker'));
    let i = 0;
    return await rate(async () => {
      const a = await post(`${server.url}/api/v1/cas/demo-p256/applications`, { profile: 'staff-sign', csr: csrs[i++ % csrs.length], applicant: { name: '张三' } }, maker);
      if (a.status !== 201) throw new Error(`apply: ${a.status} ${a.body.toString().slice(0, 200)}`);
      const id = JSON.parse(a.body.toString()).id as string;
      const r = await post(`${server.url}/api/v1/cas/demo-p256/applications/${id}/approve`, {}, checker);
      if (r.status !== 200) throw new Error(`approve: ${r.status} ${r.body.toString().slice(0, 200)}`);
    });
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
async function cfsslRate(port: number): Promise<{ rate: number; version: string }> {
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
    });
    const check = new SqliteDatabase(dbFile, { readonly: true });
    const stored = (check.prepare('select count(*) as n from certificates').get() as { n: number }).n;
    const mode = (check.pragma('journal_mode', { simple: true }) as string).toLowerCase();
    check.close();
    if (stored === 0 || mode !== 'wal') throw new Error(`cfssl certdb not used as intended: ${stored} rows, journal_mode ${mode}`);
    return { rate: r, version };
  } finally {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Benchmark = async () => {
  const harness = (await import(new URL('../../../pki/dist/bench/harness.js', import.meta.url).href)) as Harness;
  const notes: string[] = [
    `${CLIENTS} concurrent clients (keep-alive HTTP/1.1, one Node client process for every server measured), ${SECONDS} s after a 1 s warm-up; the server runs as its own process (\`hpki start\`).`,
    'Ours, per certificate: POST application (officer A) then POST approve (officer B): CSR parse + proof of possession, profile check, RA record and audit at application; maker-checker, profile build + sign + lint, CA record, status history, RA record, audit at approval. SQLite WAL with synchronous=FULL (a commit is on disk before the answer).',
    'CFSSL: one POST /api/v1/cfssl/sign per certificate, certificate stored in its certdb (SQLite, WAL, the go-sqlite3 default synchronous=FULL).',
  ];
  const rows: BenchRow[] = [];

  // The raw signing rate and the pki issuance step alone, in this process.
  const caKey = generateKey('p256');
  const tbsLike = Buffer.alloc(400, 1);
  rows.push({ name: 'raw ECDSA P-256 signature (signData, one core)', value: harness.opsPerSecond(() => signData(caKey, tbsLike), 2), unit: 'ops/s' });
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=bench,CN=bench root'), publicKey: caKey.publicKey, issuerKey: caKey });
  const holder = generateKey('p256');
  const subject = parseName('C=CN,O=示例医院,CN=张三');
  rows.push({
    name: 'profile issuance without storage or HTTP (issueFromProfile: check, build, sign, lint; one core)',
    value: harness.opsPerSecond(() => issueFromProfile({ profile: 'staff-sign', subject, publicKey: holder.publicKey, issuerCert: root, issuerKey: caKey, identity: { residentId: '11010519491231002X' } }), 2),
    unit: 'certs/s',
  });

  const csrs = csrPool(300);
  let cfssl: { rate: number; version: string } | undefined;
  if (hasCfssl()) {
    cfssl = await cfsslRate(18889);
    notes.push(`CFSSL ${cfssl.version} (Debian golang-cfssl).`);
  } else {
    notes.push('CFSSL not measured: `cfssl` is not installed (Debian golang-cfssl; scripts/setup.sh installs it).');
  }
  const sqlite = await oursRate('sqlite', csrs);
  rows.push({
    name: `issuance via HTTP API, SQLite, ${CLIENTS} clients`,
    value: sqlite,
    unit: 'certs/s',
    ...(cfssl ? { ratio: { against: 'CFSSL serve (SQLite certdb, WAL)', value: sqlite / cfssl.rate }, target: { text: TARGET, met: sqlite / cfssl.rate >= 1.5 } } : {}),
  });
  if (!postgresOff) {
    try {
      const pg = await oursRate('postgres', csrs);
      rows.push({ name: `issuance via HTTP API, PostgreSQL, ${CLIENTS} clients`, value: pg, unit: 'certs/s', ...(cfssl ? { ratio: { against: 'CFSSL serve (SQLite certdb, WAL)', value: pg / cfssl.rate } } : {}) });
    } catch (e) {
      notes.push(`PostgreSQL not measured: ${(e as Error).message}`);
    }
  }
  if (cfssl) rows.push({ name: `CFSSL serve, SQLite certdb (WAL), ${CLIENTS} clients`, value: cfssl.rate, unit: 'certs/s' });
  const section: BenchSection = { title: 'Certificate issuance through the HTTP API (ECDSA P-256)', rows, notes };
  agent.destroy();
  return [section];
};

export default bench;

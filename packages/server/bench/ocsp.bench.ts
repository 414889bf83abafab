/**
 * OCSP responses per second over HTTP, ours beside `openssl ocsp -multi 2` and `cfssl ocspserve`,
 * all in one run, all loaded by the same `wrk` settings with the same kind of request (one
 * certificate, SHA-1 CertID, no nonce: what RFC 5019 clients send), all answering for the same
 * certificate of the same issuing CA (ours: `hpki start`, demo-p256; openssl and cfssl get that
 * CA's certificate, the certificate asked about, and a delegated responder certificate that this
 * CA's key issued). Then the time from a revocation (POST revoke) to the first revoked answer.
 *
 * HPKI_OCSP_BENCH_SECONDS (default 5) sets each wrk run's length; 1 checks that it all works.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Certificate, OcspResponse, buildOcspRequest, certId, generateKey, issueFromProfile, parseName, randomSerial, toPem } from '@health-pki/pki';
import type { Benchmark, BenchRow } from '../../pki/bench/harness.js';
import { openServices } from '../src/index.js';
import { createBackend } from '../test/helpers/backends.js';
import { makeCsr } from '../test/helpers/pki.js';
import { startServerProcess } from '../test/helpers/process.js';

const SECONDS = Number(process.env.HPKI_OCSP_BENCH_SECONDS ?? 5);
const CONNECTIONS = 64;
const WRK_THREADS = 1;
const OPENSSL_PORT = 18961;
const CFSSL_PORT = 18962;

/** POST or GET with a body; resolves with status and body. */
function request(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { 'content-length': body.length, ...headers } : headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

const ocspPost = (url: string, der: Buffer) => request(url, 'POST', der, { 'content-type': 'application/ocsp-request' });

/** The status the response gives for its first certificate. */
function statusOf(body: Buffer): string {
  const r = OcspResponse.parse(body);
  return r.isSuccessful ? r.responses[0]!.status : r.status;
}

/** Runs wrk against `url` and returns requests per second (throws when any answer was not 2xx). */
async function wrk(dir: string, url: string, der: Buffer, method: 'POST' | 'GET'): Promise<number> {
  const body = join(dir, 'request.der');
  writeFileSync(body, der);
  const script = join(dir, `${method}.lua`);
  writeFileSync(
    script,
    method === 'POST'
      ? `local f = io.open("${body}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*all")\nf:close()\nwrk.headers["Content-Type"] = "application/ocsp-request"\n`
      : 'wrk.method = "GET"\n',
  );
  const target = method === 'GET' ? `${url}/${encodeURIComponent(der.toString('base64'))}` : url;
  const out = await new Promise<string>((resolve, reject) =>
    execFile('wrk', [`-t${WRK_THREADS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-s', script, target], (e, stdout, stderr) => (e ? reject(new Error(`wrk: ${e.message} ${stderr}`)) : resolve(stdout))),
  );
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors against ${target}:\n${out}`);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`no rate in wrk output:\n${out}`);
  return Number(m[1]);
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      if (await check()) return;
      last = 'wrong answer';
    } catch (e) {
      last = e; // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not come up: ${last instanceof Error ? last.message : String(last)}`);
}

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a peer server. `openssl ocsp -multi` makes itself a process group leader (so it cannot be
 * spawned detached) and its workers outlive a SIGTERM to it: the whole group is killed.
 */
function stopGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    c.kill('SIGKILL'); // not a group leader
  }
}

/** YYMMDDHHMMSSZ, as the openssl ca index wants it. */
function indexTime(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

const bench: Benchmark = async () => {
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
  const notes: string[] = [
    `wrk ${WRK_THREADS} thread, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per server, one after another on this ${availableParallelism()}-core machine (wrk shares it). Load average at the start: ${load()}.`,
  ];
  const rows: BenchRow[] = [];
  const backend = await createBackend('sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-ocsp-'));
  const server = await startServerProcess({ dataDir: backend.dataDir });
  const children: ChildProcess[] = [];
  try {
    const admin = { authorization: `Bearer ${server.adminToken}` };
    const enroll = async () => {
      const r = await request(`${server.url}/api/v1/cas/demo-p256/enroll`, 'POST', Buffer.from(JSON.stringify({ profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } })), { ...admin, 'content-type': 'application/json' });
      if (r.status !== 201) throw new Error(`enroll: ${r.status} ${r.body.toString()}`);
      return Certificate.parse(JSON.parse(r.body.toString()).certificate.pem);
    };
    const leaf = await enroll();
    // The issuing CA's key, to give openssl and cfssl a responder certificate of the same CA.
    const services = await openServices({ dataDir: backend.dataDir, baseUrl: server.url, pkiThreads: 0 });
    const issuing = (await services.ca.signingIssuers('demo-p256')).find((i) => i.role === 'issuing')!;
    await services.close();
    const der = buildOcspRequest({ certIds: [certId(leaf, issuing.cert)], nonce: false }).der;
    const ours = `${server.url}/ocsp/demo-p256`;
    if (statusOf((await ocspPost(ours, der)).body) !== 'good') throw new Error('our responder does not say good');
    const oursPost = await wrk(dir, ours, der, 'POST');
    const oursGet = await wrk(dir, ours, der, 'GET');
    // With a nonce every response is signed on request (RFC 8954): the cost of a fresh answer.
    const oursNonce = await wrk(dir, ours, buildOcspRequest({ certIds: [certId(leaf, issuing.cert)], nonce: true }).der, 'POST');

    const rKey = generateKey('p256');
    const rCert = issueFromProfile({ profile: 'ocsp-signing', subject: parseName('C=CN,O=bench,CN=bench OCSP responder'), publicKey: rKey.publicKey, issuerCert: issuing.cert, issuerKey: issuing.key, serialNumber: randomSerial() });
    writeFileSync(join(dir, 'ca.pem'), issuing.cert.toPem());
    writeFileSync(join(dir, 'leaf.pem'), leaf.toPem());
    writeFileSync(join(dir, 'rcert.pem'), rCert.toPem());
    writeFileSync(join(dir, 'rkey.pem'), toPem('PRIVATE KEY', rKey.pkcs8));

    let best: { name: string; rate: number } | undefined;
    const opensslVersion = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'index.txt'), `V\t${indexTime(leaf.notAfter)}\t\t${leaf.serialHex.toUpperCase()}\tunknown\t/CN=bench\n`);
    const openssl = spawn('openssl', ['ocsp', '-index', 'index.txt', '-port', String(OPENSSL_PORT), '-rsigner', 'rcert.pem', '-rkey', 'rkey.pem', '-CA', 'ca.pem', '-multi', '2', '-nmin', '60'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(openssl);
    let opensslErr = '';
    for (const out of [openssl.stdout!, openssl.stderr!]) out.on('data', (c: Buffer) => (opensslErr = (opensslErr + c.toString()).slice(-2000)));
    const opensslUrl = `http://127.0.0.1:${OPENSSL_PORT}`;
    await waitFor(async () => statusOf((await ocspPost(opensslUrl, der)).body) === 'good', 'openssl ocsp').catch((e: Error) => {
      throw new Error(`${e.message}\n${opensslErr}`);
    });
    const opensslRate = await wrk(dir, opensslUrl, der, 'POST');
    rows.push({ name: `openssl ocsp -multi 2 (${opensslVersion}), POST`, value: opensslRate, unit: 'responses/s' });
    best = { name: 'openssl ocsp -multi 2', rate: opensslRate };
    stopGroup(openssl);

    if (has('cfssl', ['version'])) {
      const signed = execFileSync('cfssl', ['ocspsign', '-ca', 'ca.pem', '-responder', 'rcert.pem', '-responder-key', 'rkey.pem', '-cert', 'leaf.pem', '-status', 'good'], { cwd: dir, encoding: 'utf8' }).trim();
      // ocspsign prints {"ocspResponse": base64}; ocspserve reads base64 responses, one a line.
      writeFileSync(join(dir, 'responses'), (JSON.parse(signed) as { ocspResponse: string }).ocspResponse + '\n');
      const cfssl = spawn('cfssl', ['ocspserve', '-address', '127.0.0.1', '-port', String(CFSSL_PORT), '-responses', 'responses', '-loglevel', '5'], { cwd: dir, stdio: 'ignore' });
      children.push(cfssl);
      const cfsslUrl = `http://127.0.0.1:${CFSSL_PORT}`;
      await waitFor(async () => statusOf((await ocspPost(cfsslUrl, der)).body) === 'good', 'cfssl ocspserve');
      const cfsslRate = await wrk(dir, cfsslUrl, der, 'POST');
      const version = execFileSync('cfssl', ['version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^Version:\s*/, '');
      rows.push({ name: `cfssl ocspserve ${version} (pre-signed responses from cfssl ocspsign), POST`, value: cfsslRate, unit: 'responses/s' });
      if (cfsslRate > best.rate) best = { name: 'cfssl ocspserve', rate: cfsslRate };
      stopGroup(cfssl);
    } else {
      notes.push('cfssl not measured: `cfssl` is not installed (Debian golang-cfssl).');
    }

    const vs = (rate: number) => ({
      ratio: { against: `best peer (${best!.name})`, value: rate / best!.rate },
      target: { text: '>= 20,000/s and >= 1.5x the best peer', met: rate >= 20_000 && rate / best!.rate >= 1.5 },
    });
    rows.unshift(
      { name: 'ours (hpki start, SQLite), POST, pre-produced response', value: oursPost, unit: 'responses/s', ...vs(oursPost) },
      { name: 'ours, GET (RFC 5019 caching headers), pre-produced response', value: oursGet, unit: 'responses/s', ...vs(oursGet) },
      { name: 'ours, POST with a nonce (signed on request, ECDSA P-256)', value: oursNonce, unit: 'responses/s', ratio: { against: `best peer (${best.name})`, value: oursNonce / best.rate } },
    );

    // Revocation → first revoked answer: revoke through the API, ask every 5 ms.
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const cert = await enroll();
      const q = buildOcspRequest({ certIds: [certId(cert, issuing.cert)], nonce: false }).der;
      if (statusOf((await ocspPost(ours, q)).body) !== 'good') throw new Error('not good before revocation');
      const t0 = performance.now();
      const r = await request(`${server.url}/api/v1/cas/demo-p256/certificates/${cert.serialHex}/revoke`, 'POST', Buffer.from(JSON.stringify({ reason: 'keyCompromise' })), { ...admin, 'content-type': 'application/json' });
      if (r.status !== 200) throw new Error(`revoke: ${r.status} ${r.body.toString()}`);
      while (statusOf((await ocspPost(ours, q)).body) !== 'revoked') {
        if (performance.now() - t0 > 5000) throw new Error('not revoked after 5 s');
        await sleep(5);
      }
      delays.push(performance.now() - t0);
    }
    delays.sort((x, y) => x - y);
    rows.push({ name: 'revocation (POST revoke sent) → first revoked OCSP answer, median of 5', value: delays[2]!, unit: 'ms', target: { text: '<= 1,000 ms', met: delays[4]! <= 1000 } });
    rows.push({ name: '… slowest of 5', value: delays[4]!, unit: 'ms' });
    notes.push(
      'Ours: one process (`hpki start`, default settings), /ocsp/ answered on a node:http listener ahead of fastify; a repeated request is a map lookup of its exact bytes, the response signed once by the CA\'s delegated responder certificate (nextUpdate +1 h, re-signed in its second half). openssl ocsp signs every response (2 worker processes); cfssl ocspserve serves responses signed beforehand by `cfssl ocspsign`.',
      'Revocation delay: the responder polls ca_status_changes every 200 ms (works across processes sharing the database) and drops the certificate\'s pre-produced responses; the next request is signed afresh.',
      `Load average at the end: ${load()}.`,
    );
  } finally {
    for (const c of children) stopGroup(c);
    await server.stop();
    await backend.cleanup();
    if (!process.env.HPKI_OCSP_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
  return [{ title: 'OCSP responder over HTTP (ECDSA P-256)', rows, notes }];
};

export default bench;

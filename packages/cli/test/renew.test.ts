/**
 * `hpki renew` against a real service (in-process, SQLite; the CLI runs as a child process): an
 * SM2 holder re-keys their certificate — certificate login signed by the CLI, the CSR for the new
 * key with the certificate's subject — and a P-256 holder renews with the same key; a certificate
 * outside its renewal window is refused with the service's reason and a negative exit code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate, buildCsr, exportPrivateKey, generateKey, identityExtensions, parseName, type KeyAlgorithm } from '@health-pki/pki';
import { startServer, type RunningServer } from '@health-pki/server';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** Runs hpki asynchronously (the server answers from this same process). */
function hpki(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('hpki renew', () => {
  let dir: string;
  let server: RunningServer;
  let admin: string;
  let n = 0;

  /** Enrolls a staff-sign certificate valid `days` days; writes NAME.pem and NAME.key. */
  async function enroll(alg: KeyAlgorithm, ca: string, days: number): Promise<{ name: string; serial: string; pem: string }> {
    const name = `renew${++n}`;
    const key = generateKey(alg);
    const csr = buildCsr(parseName(`C=CN,O=示例医院,OU=信息科,CN=${name}`), key, identityExtensions({ residentId: '11010519491231002X' }));
    const r = await fetch(`${server.url}/api/v1/cas/${ca}/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'staff-sign', csr: csr.toPem(), applicant: { name }, validityDays: days }),
    });
    const json = (await r.json()) as { certificate: { serial: string; pem: string } };
    assert.equal(r.status, 201, JSON.stringify(json));
    writeFileSync(join(dir, `${name}.pem`), json.certificate.pem);
    writeFileSync(join(dir, `${name}.key`), exportPrivateKey(key, 'pem'));
    return { name, serial: json.certificate.serial, pem: json.certificate.pem };
  }

  async function status(ca: string, serial: string): Promise<{ status: string; reason: string | null }> {
    return (await (await fetch(`${server.url}/api/v1/cas/${ca}/certificates/${serial}`)).json()) as { status: string; reason: string | null };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hpki-renew-'));
    server = await startServer({ dataDir: join(dir, 'data'), port: 0, logger: false, pkiThreads: 0 });
    admin = readFileSync(server.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sm2: re-key with a new key; the old certificate is superseded', async () => {
    const h = await enroll('sm2', 'demo-sm2', 20);
    writeFileSync(join(dir, 'new.key'), exportPrivateKey(generateKey('sm2'), 'pem'));
    const r = await hpki(['renew', '--server', server.url, '--cert', `${h.name}.pem`, '--key', `${h.name}.key`, '--new-key', 'new.key', '--out', 'new.pem', '--chain-out', 'chain.pem'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`re-keyed ${h.serial} → [0-9a-f]+ \\(policy:holder-renewal\\)`));
    const fresh = Certificate.parse(readFileSync(join(dir, 'new.pem')));
    assert.deepEqual(fresh.subjectDer, Certificate.parse(h.pem).subjectDer);
    assert.match(readFileSync(join(dir, 'chain.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    const old = await status('demo-sm2', h.serial);
    assert.deepEqual([old.status, old.reason], ['revoked', 'superseded']);
  });

  test('p256: renewal with the same key keeps the old certificate; outside the window refused', async () => {
    const h = await enroll('p256', 'demo-p256', 20);
    const r = await hpki(['renew', '--server', server.url, '--cert', `${h.name}.pem`, '--key', `${h.name}.key`, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n'))) as { application: { kind: string }; certificate: { serial: string } };
    assert.equal(out.application.kind, 'renewal');
    assert.equal((await status('demo-p256', h.serial)).status, 'valid');

    const early = await enroll('p256', 'demo-p256', 365);
    const refused = await hpki(['renew', '--server', server.url, '--cert', `${early.name}.pem`, '--key', `${early.name}.key`], dir);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /422 renewal\.window.*can be renewed from/);
    const same = await hpki(['renew', '--server', server.url, '--cert', `${early.name}.pem`, '--key', `${early.name}.key`, '--new-key', `${early.name}.key`], dir);
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /same key/);
  });
});

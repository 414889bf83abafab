/**
 * The online `hpki` commands against a real `hpki start` process: a newcomer's first certificate
 * (keygen, req, enroll), `hpki ca list/show/create`, `hpki revoke`, with the certificate checked
 * by `openssl verify`, and clear failures for a wrong server, a wrong token or an unknown CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate } from '@health-pki/pki';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { outside } from './helpers/outside.js';

const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

function hpki(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('hpki online commands', () => {
  let backend: TestBackend;
  let server: ServerProcess;
  let work: string;

  before(async () => {
    backend = await createBackend('sqlite');
    server = await startServerProcess({ dataDir: backend.dataDir });
    work = mkdtempSync(join(tmpdir(), 'hpki-cli-'));
  });

  after(async () => {
    await server?.stop();
    await backend?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('first start prints where it listens and creates the demo CAs and admin.token', () => {
    assert.match(server.stderr(), /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(server.stderr(), /demo-p256 \(created\), demo-sm2 \(created\)/);
    assert.ok(server.adminToken.length >= 40);
  });

  for (const [alg, ca] of [['sm2', 'demo-sm2'], ['p256', 'demo-p256']] as const) {
    test(`${alg}: keygen → req → enroll → openssl verify → revoke`, async () => {
      const token = join(backend.dataDir, 'admin.token');
      assert.equal((await hpki(['keygen', '--alg', alg, '--out', `${alg}.key`], work)).code, 0);
      const req = await hpki(['req', '--key', `${alg}.key`, '--subject', 'C=CN,O=示例医院,CN=张三', '--resident-id', '11010519491231002X', '--out', `${alg}.csr`], work);
      assert.equal(req.code, 0, req.stderr);
      writeFileSync(join(work, 'form.pdf'), '%PDF-1.4\n%%EOF\n');
      const enroll = await hpki(['enroll', '--server', server.url, '--token-file', token, '--ca', ca, '--profile', 'staff-sign', '--csr', `${alg}.csr`, '--material', 'form.pdf', '--out', `${alg}.pem`, '--chain-out', `${alg}-chain.pem`], work);
      assert.equal(enroll.code, 0, enroll.stderr);
      assert.match(enroll.stderr, /issued [0-9a-f]+ by demo-\w+ .*\(self-approved by the bootstrap administrator\)/);
      const cert = Certificate.parse(readFileSync(join(work, `${alg}.pem`)));
      assert.equal(cert.subjectText, 'C=CN, O=示例医院, CN=张三');

      const show = await hpki(['ca', 'show', ca, '--server', server.url, '--root-out', `${alg}-root.pem`], work);
      assert.equal(show.code, 0, show.stderr);
      const chain = readFileSync(join(work, `${alg}-chain.pem`), 'utf8');
      const issuing = chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26);
      const v = await (await outside()).opensslVerifyCert({ leaf: cert.der, chain: [issuing], trusted: readFileSync(join(work, `${alg}-root.pem`), 'utf8') });
      assert.ok(v.ok, v.output);

      const revoke = await hpki(['revoke', '--server', server.url, '--token-file', token, '--ca', ca, '--serial', cert.serialHex.toUpperCase(), '--reason', 'keyCompromise', '--json'], work);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.equal(JSON.parse(revoke.stdout).status, 'revoked');
      const again = await hpki(['revoke', '--server', server.url, '--token-file', token, '--ca', ca, '--serial', cert.serialHex, '--reason', 'keyCompromise'], work);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /409 certificate.revoked/);
    });
  }

  test('ca list, ca create', async () => {
    const token = join(backend.dataDir, 'admin.token');
    const created = await hpki(['ca', 'create', '--server', server.url, '--token-file', token, '--name', 'county-ca', '--org', '县卫生健康局', '--alg', 'sm2'], work);
    assert.equal(created.code, 0, created.stderr);
    const list = await hpki(['ca', 'list', '--server', server.url, '--json'], work);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((c: any) => c.name), ['county-ca', 'demo-p256', 'demo-sm2']);
    const text = await hpki(['ca', 'list', '--server', server.url], work);
    assert.match(text.stdout, /demo-sm2 +sm2/);
  });

  test('clear failures: unreachable server, wrong token, unknown CA, bad reason', async () => {
    writeFileSync(join(work, 'wrong.token'), 'not-the-right-token-0123456789\n');
    const csr = join(work, 'p256.csr');
    const unreachable = await hpki(['ca', 'list', '--server', 'http://127.0.0.1:9'], work);
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    const wrong = await hpki(['enroll', '--server', server.url, '--token-file', 'wrong.token', '--ca', 'demo-p256', '--profile', 'staff-sign', '--csr', csr], work);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /401 auth.required/);
    const unknown = await hpki(['enroll', '--server', server.url, '--token-file', join(backend.dataDir, 'admin.token'), '--ca', 'nope', '--profile', 'staff-sign', '--csr', csr], work);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /404 ca.unknown.*"nope"/);
    const reason = await hpki(['revoke', '--server', server.url, '--token-file', 'wrong.token', '--ca', 'demo-p256', '--serial', '0a', '--reason', 'whim'], work);
    assert.equal(reason.code, 2);
    assert.match(reason.stderr, /--reason "whim"/);
  });
});

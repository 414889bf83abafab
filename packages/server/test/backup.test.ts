/**
 * Business continuity: `hpki backup` of a running service's data directory, `hpki restore` into
 * a new one, and a service started there with the same master key (kept apart from the backup)
 * goes on issuing under the same roots — certificates that `openssl verify` accepts, serials
 * never used before — revokes, and still has every certificate issued before the backup.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate } from '@health-pki/pki';
import { startServer, type RunningServer } from '../src/index.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { httpApi, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';
import { outside } from './helpers/outside.js';

const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

function hpki(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const CAS = [
  ['demo-p256', 'p256'],
  ['demo-sm2', 'sm2'],
] as const;

async function enroll(api: Api, token: string, ca: string, alg: 'p256' | 'sm2'): Promise<Certificate> {
  const r = await api('POST', `/api/v1/cas/${ca}/enroll`, { profile: 'staff-sign', csr: makeCsr(alg).pem, applicant: { name: '张三' } }, token);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return Certificate.parse(r.json.certificate.pem);
}

describe('backup and restore of a SQLite data directory', () => {
  const work = mkdtempSync(join(tmpdir(), 'hpki-backup-test-'));
  let original: ServerProcess | undefined;
  let restored: RunningServer | undefined;
  after(async () => {
    await original?.stop().catch(() => undefined);
    await restored?.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  test('backup while serving → restore elsewhere → the restored CAs issue under the same roots with new serials, revoke, and keep the old certificates', async () => {
    const dirA = join(work, 'a');
    const dirB = join(work, 'b');
    const archive = join(work, 'hpki.tar.gz');
    original = await startServerProcess({ dataDir: dirA });
    const apiA = httpApi(original.url);
    const before: Record<string, { root: Certificate; issuing: Certificate; certs: Certificate[] }> = {};
    for (const [ca, alg] of CAS) {
      const view = (await apiA('GET', `/api/v1/cas/${ca}`)).json;
      const certs = [await enroll(apiA, original.adminToken, ca, alg), await enroll(apiA, original.adminToken, ca, alg)];
      before[ca] = { root: Certificate.parse(view.issuers[0].pem), issuing: Certificate.parse(view.issuers[1].pem), certs };
    }

    // Online: the service keeps running during the backup.
    const b = await hpki(['backup', '--data', dirA, '--out', archive]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /master key [0-9a-f]{16} \(key file\): the master key is not in this archive/);
    assert.equal(statSync(archive).mode & 0o777, 0o600);
    assert.equal((await hpki(['backup', '--data', dirA, '--out', archive])).code, 2, 'an existing archive is not overwritten');
    await original.stop();
    original = undefined;

    // The archive is a plain tar.gz without the master key.
    const listing = await new Promise<string>((resolve, reject) => execFile('tar', ['tzf', archive], (e, out) => (e ? reject(e) : resolve(out))));
    const names = listing.trim().split('\n');
    assert.ok(names.includes('hpki.sqlite') && names.includes('hpki-backup.json') && names.includes('admin.token'), listing);
    assert.ok(!names.includes('master.key'), listing);

    // Refusals: a damaged archive, a non-empty target.
    const damaged = join(work, 'damaged.tar.gz');
    const bytes = readFileSync(archive);
    writeFileSync(damaged, bytes.subarray(0, bytes.length >> 1));
    const bad = await hpki(['restore', '--from', damaged, '--data', join(work, 'c')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a health-pki backup|damaged|truncated/);
    mkdirSync(join(work, 'busy'));
    writeFileSync(join(work, 'busy', 'x'), 'x');
    assert.match((await hpki(['restore', '--from', archive, '--data', join(work, 'busy')])).stderr, /is not empty: restore into a new data directory/);

    const r = await hpki(['restore', '--from', archive, '--data', dirB]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /start it with master key [0-9a-f]{16}/);
    assert.ok(!existsSync(join(dirB, 'master.key')));

    // Without the master key the restored directory does not start, and says which key it needs.
    const refused = await hpki(['start', '--data', dirB, '--port', '0']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /sealed under master key [0-9a-f]{16} .*no master key was given/);

    // The master key comes from where it is kept apart (here: a copy of the demo key file).
    const keyDir = join(work, 'keys');
    mkdirSync(keyDir, { mode: 0o700 });
    copyFileSync(join(dirA, 'master.key'), join(keyDir, 'master.key'));
    restored = await startServer({ dataDir: dirB, port: 0, logger: false, sealing: { masterKey: { kind: 'file', path: join(keyDir, 'master.key') } } });
    const apiB = httpApi(restored.url);
    const token = readFileSync(join(dirB, 'admin.token'), 'utf8').trim();
    const o = await outside();
    for (const [ca, alg] of CAS) {
      const old = before[ca]!;
      const view = (await apiB('GET', `/api/v1/cas/${ca}`)).json;
      assert.equal(view.issuers[0].pem, old.root.toPem(), 'the same root');
      const fresh = [await enroll(apiB, token, ca, alg), await enroll(apiB, token, ca, alg), await enroll(apiB, token, ca, alg)];
      const serials = new Set([...old.certs, ...fresh].map((c) => c.serialHex));
      assert.equal(serials.size, old.certs.length + fresh.length, 'no serial is reused');
      for (const cert of fresh) {
        const v = await o.opensslVerifyCert({ leaf: cert.der, chain: [old.issuing.der], trusted: old.root.der, sm2Id: alg === 'sm2' ? '1234567812345678' : undefined });
        assert.ok(v.ok, v.output);
      }
      for (const cert of old.certs) {
        const got = await apiB('GET', `/api/v1/cas/${ca}/certificates/${cert.serialHex}`);
        assert.equal(got.status, 200);
        assert.equal(got.json.pem, cert.toPem());
      }
      for (const cert of [old.certs[0]!, fresh[0]!]) {
        const rv = await apiB('POST', `/api/v1/cas/${ca}/certificates/${cert.serialHex}/revoke`, { reason: 'keyCompromise' }, token);
        assert.equal(rv.status, 200, JSON.stringify(rv.json));
        assert.equal((await apiB('GET', `/api/v1/cas/${ca}/certificates/${cert.serialHex}`)).json.status, 'revoked');
      }
    }
  });
});

/**
 * Backup and restore of a data directory whose service runs the embedded platform and KMC: the
 * platform's database (registry, sync messages, complaints) and bootstrap token, and the KMC's
 * database, are in the archive; no master key is (the CA's, the platform's, the KMC's); restored
 * and given the kept keys, the platform still has its CAs, sync data and complaints, the demo
 * start finds the CAs connected, and a new issuance reaches the restored platform.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import { restoreDataDir, startServer, type RunningServer } from '../src/index.js';
import { writeTarGz } from '../src/backup/tar.js';
import type { Database } from '../src/store/database.js';
import { httpApi } from './helpers/api.js';
import { createBackend, postgresOff } from './helpers/backends.js';
import { makeCsr } from './helpers/pki.js';

const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
const QUICK = { pollMs: 50, minBackoffMs: 20, maxBackoffMs: 200 };

function hpki(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rows<T>(db: Database, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db.db)).rows;
}

/** What the platform holds that a restore must keep. */
async function platformState(server: RunningServer): Promise<{ cas: string[]; messages: number; certificates: string[]; complaints: string[] }> {
  const db = server.platform!.services.database;
  const cas = await rows(db, sql<{ name: string; status: string }>`select name, status from platform_cas order by name`);
  const messages = await rows(db, sql<{ n: number | string }>`select count(*) as n from platform_sync_messages`);
  const certs = await rows(db, sql<{ serial: string }>`select serial from platform_certificates order by serial`);
  const complaints = await rows(db, sql<{ id: string }>`select id from platform_complaints order by id`);
  return { cas: cas.map((c) => `${c.name}:${c.status}`), messages: Number(messages[0]!.n), certificates: certs.map((c) => c.serial), complaints: complaints.map((c) => c.id) };
}

async function outboxDrained(server: RunningServer): Promise<boolean> {
  const r = await rows(server.services.database, sql<{ n: number | string }>`select count(*) as n from platform_outbox where sent_at is null`);
  return Number(r[0]!.n) === 0;
}

describe('backup and restore with the embedded platform and KMC', () => {
  const work = mkdtempSync(join(tmpdir(), 'hpki-backup-platform-'));
  let server: RunningServer | undefined;
  after(async () => {
    await server?.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  test('a backup taken while the platform has CAs, sync messages and a complaint restores to a deployment whose platform still has them', { timeout: 180_000 }, async () => {
    const dirA = join(work, 'a');
    const dirB = join(work, 'b');
    const archive = join(work, 'hpki.tar.gz');
    server = await startServer({ dataDir: dirA, port: 0, logger: false, platform: 'embedded', kmc: 'embedded', pkiThreads: 0, platformLink: QUICK });
    const admitted = await server.platformAdmission!.done;
    assert.deepEqual(admitted.map((r) => [r.ca, r.status]), [['demo-sm2', 'connected'], ['demo-p256', 'connected']], JSON.stringify(admitted));
    const apiA = httpApi(server.url);
    const token = readFileSync(server.tokenFile, 'utf8').trim();
    const enrolled = await apiA('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } }, token);
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    await until('the outbox drains', () => outboxDrained(server!));
    // A complaint through the pass-through, followed later by its receipt.
    const complaint = await apiA('POST', '/platform/complaints', {
      ca: 'demo-p256',
      category: 'pin-unlock',
      complainantKind: 'holder',
      contact: { name: '李四', phone: '+86 20 1234 5678' },
      subject: 'PIN unblock took three weeks',
      description: 'My USB key locked on 3 March; the CA answered only on 24 March.',
    });
    assert.equal(complaint.status, 201, JSON.stringify(complaint.json));
    const before = await platformState(server);
    assert.deepEqual(before.cas, ['demo-p256:connected', 'demo-sm2:connected']);
    assert.ok(before.messages > 0 && before.certificates.length > 0, JSON.stringify(before));
    assert.equal(before.complaints.length, 1);

    // Online, while the CA service and its platform keep running.
    const b = await hpki(['backup', '--data', dirA, '--out', archive]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /embedded platform's data is sealed under its own master key [0-9a-f]{16}/);
    assert.match(b.stderr, /embedded kmc's data is sealed under its own master key [0-9a-f]{16}/);
    await server.close();
    server = undefined;

    const listing = await new Promise<string>((resolve, reject) => execFile('tar', ['tzf', archive], (e, out) => (e ? reject(e) : resolve(out))));
    const names = listing.trim().split('\n');
    for (const n of ['hpki.sqlite', 'admin.token', 'platform/hpki.sqlite', 'platform/platform-admin.token', 'kmc/hpki.sqlite']) assert.ok(names.includes(n), `${n} in ${listing}`);
    for (const n of ['master.key', 'platform/master.key', 'kmc/master.key']) assert.ok(!names.includes(n), `${n} not in ${listing}`);
    assert.ok(!names.some((n) => n.endsWith('-wal') || n.endsWith('-shm')), listing);
    // Plain tar can unpack it (sub-directories made as needed).
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    await new Promise<void>((resolve, reject) => execFile('tar', ['xzf', archive, '-C', unpacked], (e) => (e ? reject(e) : resolve())));
    assert.ok(existsSync(join(unpacked, 'platform', 'hpki.sqlite')));

    const r = await hpki(['restore', '--from', archive, '--data', dirB]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /embedded platform asks for its master key [0-9a-f]{16}: copy the kept platform\/master.key to .*platform\/master.key/);
    assert.ok(existsSync(join(dirB, 'platform', 'hpki.sqlite')) && !existsSync(join(dirB, 'platform', 'master.key')));

    // The kept keys (here: copies of the demo key files) are put back; the CA's is given as a file.
    const keyDir = join(work, 'keys');
    mkdirSync(keyDir, { mode: 0o700 });
    copyFileSync(join(dirA, 'master.key'), join(keyDir, 'master.key'));
    chmodSync(join(keyDir, 'master.key'), 0o600);
    const sealing = { masterKey: { kind: 'file' as const, path: join(keyDir, 'master.key') } };
    // Without the platform's key the restored deployment does not start (it never makes a new one over sealed data).
    await assert.rejects(startServer({ dataDir: dirB, port: 0, logger: false, platform: 'embedded', pkiThreads: 0, platformLink: QUICK, sealing }), /sealed under master key [0-9a-f]{16}.*no master key was given/);
    for (const dir of ['platform', 'kmc']) {
      copyFileSync(join(dirA, dir, 'master.key'), join(dirB, dir, 'master.key'));
      chmodSync(join(dirB, dir, 'master.key'), 0o600);
    }
    server = await startServer({ dataDir: dirB, port: 0, logger: false, platform: 'embedded', kmc: 'embedded', pkiThreads: 0, platformLink: QUICK, sealing });
    const again = await server.platformAdmission!.done;
    assert.deepEqual(again.map((x) => [x.ca, x.status, 'steps' in x ? x.steps.length : -1]), [['demo-sm2', 'connected', 0], ['demo-p256', 'connected', 0]], 'the restored platform still has both CAs connected');
    assert.deepEqual(await platformState(server), before, 'registry, sync data and complaints are all there');
    const apiB = httpApi(server.url);
    const status = await apiB('GET', `/platform/complaints/${complaint.json.id}/status?receipt=${encodeURIComponent(complaint.json.receipt)}`);
    assert.equal(status.status, 200, JSON.stringify(status.json));
    // The national-office token of the backup still works.
    const national = readFileSync(join(dirB, 'platform', 'platform-admin.token'), 'utf8').trim();
    assert.equal((await apiB('GET', '/platform/whoami', undefined, national)).json.role, 'national');
    // The link goes on: a new issuance reaches the restored platform.
    const tokenB = readFileSync(join(dirB, 'admin.token'), 'utf8').trim();
    const fresh = await apiB('POST', '/api/v1/cas/demo-p256/enroll', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '王五' } }, tokenB);
    assert.equal(fresh.status, 201, JSON.stringify(fresh.json));
    await until('the restored outbox drains', () => outboxDrained(server!));
    const afterState = await platformState(server);
    assert.ok(afterState.messages > before.messages && afterState.certificates.length > before.certificates.length, JSON.stringify(afterState));
  });

  test('a CA service on PostgreSQL: the backup holds everything but its database, the embedded KMC\'s escrowed keys above all', { skip: postgresOff && 'PostgreSQL is off', timeout: 120_000 }, async () => {
    const backend = await createBackend('postgres');
    const dir = join(backend.dataDir, 'data');
    const archive = join(work, 'pg.tar.gz');
    let pg: RunningServer | undefined;
    try {
      pg = await startServer({ dataDir: dir, dbUrl: backend.dbUrl, port: 0, logger: false, kmc: 'embedded', pkiThreads: 0 });
      const token = readFileSync(pg.tokenFile, 'utf8').trim();
      const dual = await httpApi(pg.url)('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '张三' }, dual: true }, token);
      assert.equal(dual.status, 201, JSON.stringify(dual.json));
      const b = await hpki(['backup', '--data', dir, '--out', archive]);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stderr, /own database is in PostgreSQL and NOT in this archive: back it up with pg_dump/);
    } finally {
      await pg?.close();
    }
    const target = join(work, 'pg-restored');
    const r = await hpki(['restore', '--from', archive, '--data', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /was in PostgreSQL: restore its pg_dump/);
    assert.ok(!existsSync(join(target, 'hpki.sqlite')), 'no CA database: it is in PostgreSQL');
    assert.ok(existsSync(join(target, 'admin.token')));
    // The escrowed encryption key is in the restored KMC database (sealed, as it was).
    const kmc = new SqliteDatabase(join(target, 'kmc', 'hpki.sqlite'), { readonly: true });
    try {
      assert.equal((kmc.prepare('select count(*) as n from kmc_keys').get() as { n: number }).n, 1);
    } finally {
      kmc.close();
    }
    await backend.cleanup();
    // A directory with neither database is still refused.
    assert.match((await hpki(['backup', '--data', join(work, 'pg-restored', 'kmc', 'none'), '--out', join(work, 'x.tar.gz')])).stderr, /not a health-pki data directory/);
  });

  test('restore takes a v1 archive (top level only) and refuses entries outside platform/ and kmc/', () => {
    const dbFile = join(work, 'plain.sqlite');
    const db = new SqliteDatabase(dbFile);
    db.exec('create table t (x integer)');
    db.close();
    const archive = (format: string, files: Array<{ name: string; data: Buffer }>) => {
      const manifest = { format, createdAt: new Date().toISOString(), source: '/x', masterKey: null, files: files.map((f) => ({ name: f.name, bytes: f.data.length, sha256: createHash('sha256').update(f.data).digest('hex') })) };
      return writeTarGz([{ name: 'hpki-backup.json', data: Buffer.from(JSON.stringify(manifest)) }, ...files]);
    };
    const sqlite = { name: 'hpki.sqlite', data: readFileSync(dbFile) };
    assert.equal(restoreDataDir(archive('health-pki-backup-v1', [sqlite]), join(work, 'v1')).format, 'health-pki-backup-v1');
    assert.ok(existsSync(join(work, 'v1', 'hpki.sqlite')));
    assert.throws(() => restoreDataDir(archive('health-pki-backup-v2', [sqlite, { name: 'evil/x', data: Buffer.from('x') }]), join(work, 'evil')), /"evil\/x" is not in a known sub-directory/);
    assert.ok(!existsSync(join(work, 'evil', 'evil')));
    // A damaged component database is refused and nothing is left behind.
    assert.throws(() => restoreDataDir(archive('health-pki-backup-v2', [sqlite, { name: 'platform/hpki.sqlite', data: Buffer.from('not a database') }]), join(work, 'bad')), /not a database|integrity/);
    assert.ok(!existsSync(join(work, 'bad', 'platform')) && !existsSync(join(work, 'bad', 'hpki.sqlite')));
  });
});

/**
 * The audit chain under the conditions it must survive: hundreds of appends sharing SQLite group
 * commits with some operations rolled back to their savepoint, two connection pools (two service
 * processes' worth) appending to one PostgreSQL at once with rollbacks, the migration of rows
 * written before the chain existed, checkpoint signatures checked by OpenSSL, and the auditors'
 * routes (read with filters, export, verify), each read itself audited and refused to others.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { SYSTEM_PRINCIPAL, bootstrap, buildHttpApp, migrate, openDatabase, verifyAuditLog, type Database, type Principal, type Services, openServices } from '../src/index.js';
import { appendAudit, auditMigrations } from '../src/audit/log.js';
import { AuditCheckpointer, checkpointEncoding, listCheckpoints } from '../src/audit/checkpoints.js';
import { plaintextCustody } from '../src/ca/key-custody.js';
import { orderedId } from '../src/store/ids.js';
import { BACKENDS, createBackend, postgresOff, type TestBackend } from './helpers/backends.js';
import { injectApi, type Api } from './helpers/api.js';
import { lifecycle } from './helpers/audit.js';
import { outside } from './helpers/outside.js';

const ACTOR: Principal = { id: 'tester', role: 'admin', bootstrap: false };

/** `n` concurrent transactions, each appending `per` entries; every `failEvery`-th one throws after appending. */
async function burst(database: Database, n: number, per: number, failEvery: number, tag: string): Promise<number> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      database.transaction(async (tx) => {
        for (let j = 0; j < per; j++) await appendAudit(tx, { actor: ACTOR, action: 'test.append', target: `test:${tag}:${i}:${j}` });
        if ((i + 1) % failEvery === 0) throw new Error('rolled back on purpose');
      }),
    ),
  );
  return results.filter((r) => r.status === 'fulfilled').length * per;
}

async function seqs(database: Database): Promise<number[]> {
  const rows = await sql<{ seq: number | string }>`select seq from audit_log order by seq`.execute(database.db);
  return rows.rows.map((r) => Number(r.seq));
}

describe('audit chain', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function fresh(name: TestBackend['name']): Promise<{ backend: TestBackend; database: Database }> {
    const backend = await createBackend(name);
    const database = await openDatabase({ dataDir: backend.dataDir, url: backend.dbUrl });
    cleanups.push(async () => {
      await database.close();
      await backend.cleanup();
    });
    return { backend, database };
  }

  test('SQLite group commit: concurrent appends share batches, rolled-back ones leave no gap, the chain verifies', async () => {
    const { database } = await fresh('sqlite');
    await migrate(database, [auditMigrations]);
    const committed = await burst(database, 300, 2, 7, 'gc');
    const stats = database.groupCommitStats()!;
    assert.ok(stats.largestBatch > 1, `appends were batched (largest batch ${stats.largestBatch})`);
    assert.ok(stats.failed > 0, 'some operations were rolled back to their savepoint');
    assert.deepEqual(await seqs(database), Array.from({ length: committed }, (_, i) => i + 1));
    const report = await verifyAuditLog(database.db);
    assert.equal(report.ok, true, JSON.stringify(report.faults));
    assert.equal(report.head?.seq, committed);
  });

  test('PostgreSQL: two pools (as two service processes) append at once with rollbacks; one gapless chain', { skip: postgresOff }, async () => {
    const { backend, database: one } = await fresh('postgres');
    await migrate(one, [auditMigrations]);
    const two = await openDatabase({ url: backend.dbUrl });
    cleanups.push(() => two.close());
    const [a, b] = await Promise.all([burst(one, 150, 2, 5, 'one'), burst(two, 150, 2, 6, 'two')]);
    assert.deepEqual(await seqs(one), Array.from({ length: a + b }, (_, i) => i + 1));
    const report = await verifyAuditLog(two.db);
    assert.equal(report.ok, true, JSON.stringify(report.faults));
    assert.equal(report.entries, a + b);
  });

  for (const name of BACKENDS) {
    test(`${name}: rows written before the chain existed are chained by the migration, in the order they were written`, async () => {
      const { database } = await fresh(name);
      const only0001 = { module: 'audit', migrations: (d: Parameters<typeof auditMigrations.migrations>[0]) => ({ '0001_log': auditMigrations.migrations(d)['0001_log']! }) };
      await migrate(database, [only0001]);
      const ids = Array.from({ length: 5 }, () => orderedId());
      for (const [i, id] of [...ids].reverse().entries()) {
        await sql`insert into audit_log (id, at, actor, action, target, details) values (${id}, ${new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString()}, ${'old'}, ${'legacy.event'}, ${`legacy:${id}`}, ${'{}'})`.execute(database.db);
      }
      await migrate(database, [auditMigrations]);
      await database.transaction((tx) => appendAudit(tx, { actor: ACTOR, action: 'test.after-migration', target: 'test' }));
      const rows = await sql<{ id: string; seq: number | string }>`select id, seq from audit_log order by seq`.execute(database.db);
      assert.deepEqual(rows.rows.map((r) => [r.id, Number(r.seq)]), [...ids.map((id, i) => [id, i + 1]), [rows.rows[5]!.id, 6]]);
      const report = await verifyAuditLog(database.db);
      assert.equal(report.ok, true, JSON.stringify(report.faults));
    });
  }

  for (const algorithm of ['sm2', 'p256'] as const) {
    test(`${algorithm} checkpoint: OpenSSL verifies its signature with the audit certificate; verify accepts it and rejects a pin to another key`, async () => {
      const { backend, database } = await fresh('sqlite');
      await migrate(database, [auditMigrations]);
      const checkpointer = new AuditCheckpointer({ database, custody: plaintextCustody, algorithm, dataDir: backend.dataDir });
      assert.equal(await checkpointer.checkpoint(), undefined, 'an empty log has nothing to sign');
      await burst(database, 5, 1, 1000, 'cp');
      const cp = (await checkpointer.stop())!;
      assert.equal(cp.seq, 5);
      const [stored] = await listCheckpoints(database.db);
      const pem = readFileSync(`${backend.dataDir}/audit-signing.crt`, 'utf8');
      const o = await outside();
      const digest = algorithm === 'sm2' ? ['-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678'] : ['-digest', 'sha256'];
      const r = await o.openssl(['pkeyutl', '-verify', '-certin', '-inkey', 'audit.crt', '-rawin', ...digest, '-in', 'data', '-sigfile', 'sig'], {
        files: { 'audit.crt': pem, data: checkpointEncoding(stored!), sig: stored!.signature },
      });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /Signature Verified Successfully/);
      const ok = await verifyAuditLog(database.db, { trusted: [(await import('@health-pki/pki')).Certificate.parse(pem)] });
      assert.equal(ok.ok, true, JSON.stringify(ok.faults));
      assert.equal(ok.keys[0]!.trusted, true);
      const elsewhere = (await fresh('sqlite')).database;
      await migrate(elsewhere, [auditMigrations]);
      const otherKey = await new AuditCheckpointer({ database: elsewhere, custody: plaintextCustody }).init();
      const pinnedElsewhere = await verifyAuditLog(database.db, { trusted: [otherKey.certificate] });
      assert.deepEqual(pinnedElsewhere.faults.map((f) => f.kind), ['bad-checkpoint', 'untrusted-key']);
    });
  }
});

for (const backendName of BACKENDS) {
  describe(`auditors' routes on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let api: Api;
    let admin: string;
    let auditor: string;
    let officer: string;
    let raw: (url: string, token: string) => Promise<{ status: number; type: string; text: string }>;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, crl: { start: false } });
      const boot = await bootstrap(services, backend.dataDir);
      const app = await buildHttpApp(services, { logger: false });
      api = injectApi(app);
      // Exports are not JSON documents: read them as text.
      raw = async (url, token) => {
        const r = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
        return { status: r.statusCode, type: String(r.headers['content-type']), text: r.payload };
      };
      admin = readFileSync(boot.tokenFile, 'utf8').trim();
      const a = await api('POST', '/api/v1/officers', { id: 'auditor-wang', role: 'auditor' }, admin);
      assert.equal(a.status, 201, JSON.stringify(a.json));
      auditor = a.json.token;
      officer = (await api('POST', '/api/v1/officers', { id: 'officer-li', role: 'officer' }, admin)).json.token;
      await lifecycle(api, admin, 'demo-p256');
    });

    after(async () => {
      await services?.close();
      await backend?.cleanup();
    });

    test('read with filters and pages; every read is itself audited', async () => {
      const page1 = await api('GET', '/api/v1/audit?action=ca.*&limit=2', undefined, auditor);
      assert.equal(page1.status, 200, JSON.stringify(page1.json));
      assert.equal(page1.json.entries.length, 2);
      assert.ok(page1.json.entries.every((e: any) => e.action.startsWith('ca.')));
      const page2 = await api('GET', `/api/v1/audit?action=ca.*&limit=2&after=${page1.json.next}`, undefined, auditor);
      assert.ok(page2.json.entries[0].seq > page1.json.entries[1].seq);
      const revoked = await api('GET', '/api/v1/audit?action=ca.revoke', undefined, auditor);
      assert.equal(revoked.json.entries.length, 1);
      assert.equal(revoked.json.entries[0].actor, 'bootstrap-admin');
      const future = await api('GET', `/api/v1/audit?from=${encodeURIComponent('2999-01-01T00:00:00Z')}`, undefined, auditor);
      assert.deepEqual(future.json.entries, []);
      const reads = await api('GET', '/api/v1/audit?action=audit.read&actor=auditor-wang', undefined, auditor);
      assert.equal(reads.json.entries.length, 4, 'the four reads before this one were recorded');
      assert.deepEqual(reads.json.entries[0].details, { action: 'ca.*', returned: 2 });
    });

    test('export as JSON lines and CSV, audited', async () => {
      const jsonl = await raw('/api/v1/audit/export?format=jsonl&target=ra:application:*', auditor);
      assert.equal(jsonl.status, 200);
      assert.match(jsonl.type, /ndjson/);
      const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= 2 && lines.every((e) => e.target.startsWith('ra:application:')));
      const csv = await raw('/api/v1/audit/export?format=csv', auditor);
      assert.equal(csv.status, 200);
      assert.match(csv.type, /text\/csv/);
      const rows = csv.text.trim().split('\r\n');
      assert.equal(rows[0], 'seq,id,at,actor,action,target,details,prev_hash,hash');
      assert.match(rows[1]!, /^"1","[0-9a-f-]{36}",/);
      const exports = await api('GET', '/api/v1/audit?action=audit.export', undefined, auditor);
      assert.deepEqual(exports.json.entries.map((e: any) => e.details.format), ['jsonl', 'csv']);
    });

    test('verify through the API: OK, and audited', async () => {
      const r = await api('GET', '/api/v1/audit/verify', undefined, auditor);
      assert.equal(r.status, 200);
      assert.equal(r.json.ok, true, JSON.stringify(r.json.faults));
      const cp = await api('POST', '/api/v1/audit/checkpoints', undefined, auditor);
      assert.equal(cp.json.signed, true);
      const again = await api('GET', '/api/v1/audit/verify', undefined, admin);
      assert.equal(again.json.ok, true);
      assert.equal(again.json.checkpoints.valid, again.json.checkpoints.count);
      assert.ok((await api('GET', '/api/v1/audit?action=audit.verify', undefined, auditor)).json.entries.length >= 2);
    });

    test('officers, anonymous callers and bad filters are refused; nothing is written for them', async () => {
      assert.equal((await api('GET', '/api/v1/audit', undefined, officer)).status, 403);
      assert.equal((await api('GET', '/api/v1/audit/export', undefined, officer)).status, 403);
      assert.equal((await api('GET', '/api/v1/audit/verify')).status, 401);
      const bad = await api('GET', '/api/v1/audit?from=yesterday', undefined, auditor);
      assert.equal(bad.status, 400);
      assert.equal((await api('GET', '/api/v1/audit?limit=100000', undefined, auditor)).status, 400);
      assert.equal((await api('GET', '/api/v1/audit?sort=desc', undefined, auditor)).status, 400);
      await assert.rejects(services.audit.read({ ...SYSTEM_PRINCIPAL, id: 'x', role: 'officer', grants: [{ role: 'officer', ca: '*' }] }, {}), /auditor/);
    });
  });
}

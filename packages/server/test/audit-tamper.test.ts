/**
 * Tampering with the audit log directly in the database, as someone with the owner's rights
 * would (the product itself refuses to change an entry), on SQLite and PostgreSQL, after a full
 * lifecycle (create CA, apply, approve, revoke): `hpki audit verify`, run as a child process on
 * a copy of the database, finds each change and says where — edited, deleted, inserted,
 * reordered, a changed checkpoint, a rehashed rewrite, a cut-back tail — and finds nothing in
 * the untouched log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { SYSTEM_PRINCIPAL, bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { entryHash } from '../src/audit/chain.js';
import type { AuditTables } from '../src/audit/log.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi } from './helpers/api.js';
import { hpkiAuditVerify, lifecycle, type VerifyRun } from './helpers/audit.js';

/** An entry as stored. */
type Entry = AuditTables['audit_log'];

/** A copy of the deployment's database to tamper with: raw SQL (with ? placeholders) and the CLI's arguments. */
interface Copy {
  sql(text: string, params?: unknown[]): Promise<any[]>;
  /** Drops the triggers that make audit_log append-only (the owner can). */
  unguard(): Promise<void>;
  verify(): Promise<VerifyRun>;
  drop(): Promise<void>;
}

async function copyOf(backend: TestBackend): Promise<Copy> {
  if (backend.name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hpki-audit-copy-'));
    for (const f of readdirSync(backend.dataDir)) if (f.startsWith('hpki.sqlite')) copyFileSync(join(backend.dataDir, f), join(dir, f));
    const db = new SqliteDatabase(join(dir, 'hpki.sqlite'));
    return {
      async sql(text, params = []) {
        const stmt = db.prepare(text);
        return stmt.reader ? stmt.all(...params) : (stmt.run(...params), []);
      },
      async unguard() {
        db.exec('drop trigger audit_log_no_update; drop trigger audit_log_no_delete');
      },
      async verify() {
        return hpkiAuditVerify(['--data', dir]);
      },
      async drop() {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const source = new URL(backend.dbUrl!);
  const name = `${source.pathname.slice(1)}_t${randomBytes(3).toString('hex')}`;
  const admin = new URL(source);
  admin.pathname = '/postgres';
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  await a.query(`create database ${name} template ${source.pathname.slice(1)}`);
  await a.end();
  const url = new URL(source);
  url.pathname = `/${name}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  return {
    async sql(text, params = []) {
      let i = 0;
      return (await c.query(text.replace(/\?/g, () => `$${++i}`), params)).rows;
    },
    async unguard() {
      await c.query('drop trigger audit_log_no_change on audit_log');
    },
    async verify() {
      return hpkiAuditVerify(['--db', url.toString()]);
    },
    async drop() {
      await c.end();
      const d = new pg.Client({ connectionString: admin.toString() });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

async function entries(copy: Copy): Promise<Entry[]> {
  return (await copy.sql('select seq, id, at, actor, action, target, details, prev_hash, hash from audit_log order by seq')).map((r: any) => ({ ...r, seq: Number(r.seq) }));
}

function faultsOf(run: VerifyRun): Array<[string, number | undefined]> {
  return run.report.faults.map((f) => [f.kind, f.seq]);
}

for (const backendName of BACKENDS) {
  describe(`audit log tampering on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services | undefined;
    /** seq of the entry the tampering aims at: the approval of the second lifecycle (after the first checkpoint). */
    let k = 0;
    let firstCheckpoint = 0;
    let lastCheckpoint = 0;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, crl: { start: false } });
      const boot = await bootstrap(services, backend.dataDir);
      const app = await buildHttpApp(services, { logger: false });
      const api = injectApi(app);
      const admin = readFileSync(boot.tokenFile, 'utf8').trim();
      await lifecycle(api, admin, 'audit-ca', { createCa: true });
      firstCheckpoint = (await services.audit.checkpoint(SYSTEM_PRINCIPAL))!.seq;
      const second = await lifecycle(api, admin, 'audit-ca');
      await lifecycle(api, admin, 'audit-ca');
      await app.close();
      await services.close(); // signs the shutdown checkpoint
      services = undefined;
      const copy = await copyOf(backend);
      try {
        const all = await entries(copy);
        k = all.find((e) => e.action === 'ra.approve' && e.target === `ra:application:${second.application}`)!.seq;
        const cps = await copy.sql('select seq from audit_checkpoints order by seq');
        lastCheckpoint = Number(cps[cps.length - 1].seq);
        assert.ok(k > firstCheckpoint && k + 1 < lastCheckpoint, `target ${k} lies between the checkpoints ${firstCheckpoint} and ${lastCheckpoint}`);
        assert.equal(lastCheckpoint, all[all.length - 1]!.seq, 'the shutdown checkpoint signs the head');
      } finally {
        await copy.drop();
      }
    });

    after(async () => {
      await services?.close();
      await backend?.cleanup();
    });

    async function tampered(change: (copy: Copy, all: Entry[]) => Promise<void>): Promise<VerifyRun> {
      const copy = await copyOf(backend);
      try {
        await change(copy, await entries(copy));
        return await copy.verify();
      } finally {
        await copy.drop();
      }
    }

    test('the untouched log verifies: OK, exit code 0', async () => {
      const run = await tampered(async () => undefined);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.report.ok, true, JSON.stringify(run.report.faults));
      assert.ok(run.report.entries > 10);
      assert.ok(run.report.checkpoints.count >= 2 && run.report.checkpoints.valid === run.report.checkpoints.count);
    });

    test('the product cannot change or remove an entry: the database refuses', async () => {
      await tampered(async (copy) => {
        await assert.rejects(copy.sql('update audit_log set details = ? where seq = ?', ['{}', k]), /append-only/);
        await assert.rejects(copy.sql('delete from audit_log where seq = ?', [k]), /append-only/);
      });
    });

    test('an edited entry is reported as edited at its seq', async () => {
      const run = await tampered(async (copy) => {
        await copy.unguard();
        await copy.sql('update audit_log set details = ? where seq = ?', ['{"ca":"audit-ca","serial":"00","selfApproved":false}', k]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(faultsOf(run), [['edited', k]]);
    });

    test('a deleted entry is reported as deleted at its seq', async () => {
      const run = await tampered(async (copy) => {
        await copy.unguard();
        await copy.sql('delete from audit_log where seq = ?', [k]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(faultsOf(run), [['deleted', k]]);
    });

    test('a forged entry inserted into the chain (well hashed, linked to its predecessor) is reported as inserted', async () => {
      const forgedId = randomUUID();
      const run = await tampered(async (copy, all) => {
        await copy.unguard();
        await copy.sql('drop index audit_log_seq');
        const prev = all.find((e) => e.seq === k - 1)!;
        const forged = { seq: k, id: forgedId, at: prev.at, actor: 'officer-x', action: 'ra.approve', target: 'ra:application:forged', details: '{}', prevHash: prev.hash };
        await copy.sql('insert into audit_log (id, seq, at, actor, action, target, details, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
          forged.id, forged.seq, forged.at, forged.actor, forged.action, forged.target, forged.details, forged.prevHash, entryHash(forged),
        ]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(run.report.faults.map((f) => [f.kind, f.seq, f.id]), [['inserted', k, forgedId]]);
    });

    test('two entries swapped in order are reported as reordered, each with the seq it was written as', async () => {
      const run = await tampered(async (copy) => {
        await copy.unguard();
        await copy.sql('update audit_log set seq = ? where seq = ?', [-1, k]);
        await copy.sql('update audit_log set seq = ? where seq = ?', [k, k + 1]);
        await copy.sql('update audit_log set seq = ? where seq = ?', [k + 1, -1]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(run.report.faults.map((f) => [f.kind, f.seq, f.originalSeq]), [['reordered', k, k + 1], ['reordered', k + 1, k]]);
    });

    test('a changed checkpoint is reported as a bad checkpoint signature at its seq', async () => {
      const run = await tampered(async (copy) => {
        await copy.sql('update audit_checkpoints set at = ? where seq = ?', ['2020-01-01T00:00:00.000Z', firstCheckpoint]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(faultsOf(run), [['bad-checkpoint', firstCheckpoint]]);
    });

    test('an entry edited and the whole chain after it rehashed is caught by the signed checkpoint after it', async () => {
      const run = await tampered(async (copy, all) => {
        await copy.unguard();
        let prevHash = all.find((e) => e.seq === k - 1)!.hash;
        for (const e of all.filter((x) => x.seq >= k)) {
          const details = e.seq === k ? '{"rewritten":true}' : e.details;
          const hash = entryHash({ seq: e.seq, id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, details, prevHash });
          await copy.sql('update audit_log set details = ?, prev_hash = ?, hash = ? where seq = ?', [details, prevHash, hash, e.seq]);
          prevHash = hash;
        }
        await copy.sql('update audit_head set hash = ? where id = 1', [prevHash]);
      });
      assert.equal(run.code, 1);
      const f = run.report.faults[0]!;
      assert.equal(f.kind, 'rewritten');
      assert.ok(f.seq! <= k && k <= f.toSeq!, `the fault ${f.seq}..${f.toSeq} contains ${k}`);
      assert.equal(f.seq, firstCheckpoint + 1, 'located after the last checkpoint the chain still reaches');
    });

    test('the tail cut back (head rewound too) is caught by the shutdown checkpoint', async () => {
      const run = await tampered(async (copy, all) => {
        await copy.unguard();
        await copy.sql('delete from audit_log where seq > ?', [lastCheckpoint - 2]);
        const last = all.find((e) => e.seq === lastCheckpoint - 2)!;
        await copy.sql('update audit_head set seq = ?, hash = ? where id = 1', [last.seq, last.hash]);
      });
      assert.equal(run.code, 1);
      assert.deepEqual(faultsOf(run), [['deleted', lastCheckpoint]]);
    });
  });
}

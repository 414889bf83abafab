/**
 * The store's transactions under concurrency, on SQLite (group commit: one COMMIT and fsync for
 * every transaction requested while the previous batch was written) and on PostgreSQL (one
 * transaction each): a failing transaction is rolled back alone; a later one sees the earlier
 * ones' writes but never a rolled-back one; reads outside a transaction never see uncommitted
 * writes; and, with kill -9 in the middle of a burst, every acknowledged transaction is on disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { GroupCommit } from '../src/store/group-commit.js';
import { openDatabase, type Database } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';

const BURST_SCRIPT = fileURLToPath(new URL('./helpers/commit-burst.js', import.meta.url));

async function ids(database: Database): Promise<string[]> {
  const r = await sql<{ id: string }>`select id from burst order by id`.execute(database.db);
  return r.rows.map((x) => x.id);
}

for (const backendName of BACKENDS) {
  describe(`transactions under concurrency on ${backendName}`, () => {
    let backend: TestBackend;
    let database: Database;

    before(async () => {
      backend = await createBackend(backendName);
      database = await openDatabase({ url: backend.dbUrl, dataDir: backend.dataDir });
      await sql`create table burst (id text primary key, note text)`.execute(database.db);
    });

    after(async () => {
      await database?.close();
      await backend?.cleanup();
    });

    test('transactions requested together commit together; a failing one is rolled back alone and gets its own error', async () => {
      await sql`delete from burst`.execute(database.db);
      await sql`insert into burst (id, note) values (${'taken'}, ${'before'})`.execute(database.db);
      const before = database.groupCommitStats();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          database.transaction(async (tx) => {
            await sql`insert into burst (id, note) values (${`op-${String(i).padStart(2, '0')}`}, ${'batch'})`.execute(tx);
            if (i === 7) throw new Error('operation 7 changed its mind');
            // Operation 12 breaks the primary key after its first insert: a database error mid-transaction.
            if (i === 12) await sql`insert into burst (id, note) values (${'taken'}, ${'again'})`.execute(tx);
            return i;
          }),
        ),
      );
      assert.deepEqual(
        outcomes.map((o) => o.status),
        Array.from({ length: 20 }, (_, i) => (i === 7 || i === 12 ? 'rejected' : 'fulfilled')),
      );
      assert.match(String((outcomes[7] as PromiseRejectedResult).reason), /operation 7 changed its mind/);
      assert.match(String((outcomes[12] as PromiseRejectedResult).reason), /UNIQUE|duplicate key/i);
      const expected = ['taken', ...Array.from({ length: 20 }, (_, i) => `op-${String(i).padStart(2, '0')}`).filter((x) => x !== 'op-07' && x !== 'op-12')].sort();
      assert.deepEqual(await ids(database), expected, 'the 18 others committed; nothing of 7 and 12 remains');
      if (backendName === 'sqlite') {
        const after = database.groupCommitStats()!;
        assert.ok(before, 'SQLite reports group-commit counters');
        assert.equal(after.committed - before.committed, 18);
        assert.equal(after.failed - before.failed, 2);
        assert.ok(after.batches - before.batches < 20, `20 transactions took ${after.batches - before.batches} commits`);
        assert.equal(after.batches - before.batches, 1, 'requested in one turn of the event loop, they shared one commit');
      } else {
        assert.equal(database.groupCommitStats(), undefined);
      }
    });

    test('a transaction sees the writes of those before it, never those of one that was rolled back', async () => {
      await sql`delete from burst`.execute(database.db);
      const seen: string[][] = [];
      const results = await Promise.allSettled([
        database.transaction(async (tx) => {
          await sql`insert into burst (id, note) values (${'a'}, ${'kept'})`.execute(tx);
        }),
        database.transaction(async (tx) => {
          await sql`insert into burst (id, note) values (${'b'}, ${'rolled back'})`.execute(tx);
          throw new Error('b fails');
        }),
        database.transaction(async (tx) => {
          seen.push((await sql<{ id: string }>`select id from burst order by id`.execute(tx)).rows.map((r) => r.id));
          await sql`insert into burst (id, note) values (${'c'}, ${'kept'})`.execute(tx);
        }),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      // On PostgreSQL the three run side by side, so the third may or may not see "a" yet; it never sees "b".
      assert.ok(!seen[0]!.includes('b'), `the rolled-back write was visible: ${seen[0]}`);
      if (backendName === 'sqlite') assert.deepEqual(seen[0], ['a'], 'in a batch, transactions run in order');
      assert.deepEqual(await ids(database), ['a', 'c']);
    });

    test('a read outside any transaction never sees writes that are not committed yet', async () => {
      await sql`delete from burst`.execute(database.db);
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let readResult: string[] | undefined;
      let read: Promise<void> | undefined;
      const tx = database.transaction(async (t) => {
        await sql`insert into burst (id, note) values (${'pending'}, ${'not yet committed'})`.execute(t);
        read = ids(database).then((r) => {
          readResult = r;
        });
        // Hold the transaction open across several turns of the event loop (never do this in service code).
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(readResult === undefined || !readResult.includes('pending'), 'the read saw an uncommitted row');
        await gate;
      });
      await new Promise((r) => setTimeout(r, 80));
      assert.ok(readResult === undefined || !readResult.includes('pending'), 'the read saw an uncommitted row');
      open();
      await tx;
      await read;
      // SQLite: the read waited for the commit and sees the row. PostgreSQL: it ran at once and saw nothing.
      assert.deepEqual(readResult, backendName === 'sqlite' ? ['pending'] : []);
    });
  });
}

describe('group commit and kill -9 (SQLite)', () => {
  let backend: TestBackend;

  after(async () => {
    await backend?.cleanup();
  });

  /** Runs the burst process on the data directory, kills it with SIGKILL at a random moment once it is acknowledging, and returns what it acknowledged. */
  async function burstUntilKilled(dataDir: string): Promise<{ acked: string[]; batches: number; committed: number }> {
    const child = spawn(process.execPath, [BURST_SCRIPT, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let stats = { batches: 0, committed: 0 };
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Every line is read, also those still in the pipe when the process dies.
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'ack') acked.push(a!);
        if (kind === 'stats') stats = { batches: Number(a), committed: Number(b) };
      }
      timer ??= setTimeout(() => child.kill('SIGKILL'), 300 + Math.random() * 600);
    });
    await exited;
    clearTimeout(timer);
    assert.equal(child.signalCode, 'SIGKILL', `the burst process ended on its own: ${stderr}`);
    return { acked, ...stats };
  }

  test('processes killed in the middle of bursts lose no acknowledged transaction and keep no failed one', async () => {
    backend = await createBackend('sqlite');
    const acked: string[] = [];
    let shared = 0;
    // Several kills at random moments: a kill lands between acknowledgments and commits in some of them if ever an acknowledgment came first.
    for (let round = 0; round < 4; round++) {
      const r = await burstUntilKilled(backend.dataDir);
      acked.push(...r.acked);
      if (r.committed > r.batches * 2) shared++;
      const database = await openDatabase({ dataDir: backend.dataDir });
      try {
        const stored = new Set(await ids(database));
        const missing = acked.filter((id) => !stored.has(id));
        assert.deepEqual(missing.slice(0, 5), [], `round ${round}: ${missing.length} of ${acked.length} acknowledged transactions are missing after kill -9`);
        assert.deepEqual([...stored].filter((id) => id.startsWith('fail-')), [], 'rows of transactions that failed were committed');
        const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(database.db);
        assert.equal(check.rows[0]!.integrity_check, 'ok');
      } finally {
        await database.close();
      }
    }
    assert.ok(acked.length > 500, `${acked.length} transactions acknowledged`);
    assert.ok(shared >= 3, 'the bursts ran through group commit (several transactions per commit)');
  });
});

describe('group commit with the sync after COMMIT (wal-sync.ts)', () => {
  let backend: TestBackend;
  let raw: SqliteDatabase.Database;
  let db: Kysely<any>;

  before(async () => {
    backend = await createBackend('sqlite');
    raw = new SqliteDatabase(join(backend.dataDir, 'sync.sqlite'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
    await sql`create table t (id text primary key)`.execute(db);
  });

  after(async () => {
    await db?.destroy();
    await backend?.cleanup();
  });

  test('nothing is acknowledged, and no reader sees the batch, before the sync returned; a failed sync fails the batch', async () => {
    let release!: () => void;
    let fail: Error | undefined;
    let syncs = 0;
    const batches = new GroupCommit(db, {
      inTransaction: () => raw.inTransaction,
      durability: {
        relax: () => raw.pragma('synchronous = NORMAL'),
        restore: () => raw.pragma('synchronous = FULL'),
        sync: () => {
          syncs++;
          return fail ? Promise.reject(fail) : new Promise<void>((r) => (release = r));
        },
      },
    });
    let acknowledged = false;
    const op = batches.run(async (tx) => {
      await sql`insert into t (id) values (${'a'})`.execute(tx);
      // Relaxed for the batch's own COMMIT only (set before its BEGIN: SQLite refuses the change inside a transaction).
      assert.equal((await sql<{ synchronous: number }>`pragma synchronous`.execute(tx)).rows[0]!.synchronous, 1);
      return 'done';
    }).then((v) => ((acknowledged = true), v));
    while (syncs === 0) await new Promise((r) => setImmediate(r));
    let read: string[] | undefined;
    const reader = sql<{ id: string }>`select id from t`.execute(db).then((r) => (read = r.rows.map((x) => x.id)));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(acknowledged, false, 'acknowledged before its commit was synced');
    assert.equal(read, undefined, 'a reader got in before the commit was synced');
    release();
    assert.equal(await op, 'done');
    await reader;
    assert.deepEqual(read, ['a']);
    assert.equal(raw.pragma('synchronous', { simple: true }), 2, 'FULL again outside the batch');

    fail = new Error('EIO: i/o error, fdatasync');
    await assert.rejects(batches.run((tx) => sql`insert into t (id) values (${'b'})`.execute(tx)), /could not be made durable \(EIO: i\/o error, fdatasync\)/);
    assert.equal(batches.stats.failed + batches.stats.committed, 1, 'the failed batch is not counted as committed');
  });

  test('the service database stays synchronous=FULL outside group commits, and its group commits are kept', async () => {
    const database = await openDatabase({ dataDir: backend.dataDir });
    try {
      const mode = async () => (await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db)).rows[0]!.synchronous;
      assert.equal(await mode(), 2);
      await database.transaction(async (tx) => assert.equal((await sql<{ synchronous: number }>`pragma synchronous`.execute(tx)).rows[0]!.synchronous, 1));
      assert.equal(await mode(), 2, 'FULL again after a group commit');
      await sql`create table if not exists s (id text primary key)`.execute(database.db);
      await Promise.all(Array.from({ length: 10 }, (_, i) => database.transaction((tx) => sql`insert into s (id) values (${String(i)})`.execute(tx))));
      const stored = await sql<{ n: number }>`select count(*) as n from s`.execute(database.db);
      assert.equal(stored.rows[0]!.n, 10);
    } finally {
      await database.close();
    }
  });
});

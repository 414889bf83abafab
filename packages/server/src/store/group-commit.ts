/**
 * Group commit for SQLite. SQLite has one writer and every durable COMMIT waits for an fsync (on
 * these machines about 0.3 ms for a tiny transaction and 2-7 ms for a batch of certificates;
 * wal-sync.ts moves that wait off the service's thread): one transaction per operation
 * caps a service at a few hundred certificates per second. Here every transaction that is
 * requested while the previous batch is being written joins the next batch: ONE transaction
 * and ONE fsync for the whole batch, each operation inside its own SAVEPOINT.
 *
 * The guarantees callers rely on are those of one transaction per operation:
 * - an operation's promise settles only after the COMMIT of its batch returned and its WAL was
 *   synced (`durability`): acknowledged means durable, exactly as before;
 * - an operation that throws is rolled back to its savepoint and rejects with its own error;
 *   the other operations of the batch are unaffected and commit;
 * - operations of a batch run one after the other, so each sees the effects of the earlier ones
 *   (as if they had committed in that order) and never a rolled-back one;
 * - if SQLite abandons the whole transaction (I/O error, disk full) or the COMMIT fails, every
 *   operation of the batch rejects: nothing of it was acknowledged and nothing of it remains.
 *
 * Operations must only talk to the database inside their function: the batch holds the
 * connection while they run, so slow pure work (parsing, signing, linting) belongs before the
 * call. Reads outside a transaction wait for the batch to end, its sync included (they share
 * the connection and its lock), so they never see data that is not committed and durable yet.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import { bindDirect, unbindDirect, type DirectSql } from './sql.js';

/** Counters for operators: how well batching works. */
export interface GroupCommitStats {
  /** Transactions committed (one fsync each). */
  batches: number;
  /** Operations that committed. */
  committed: number;
  /** Operations that were rolled back to their savepoint (their caller got the error). */
  failed: number;
  /** Largest number of operations in one batch so far. */
  largestBatch: number;
}

interface Pending {
  fn: (tx: Kysely<any>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** Options of a group committer. */
export interface GroupCommitOptions {
  /** Most operations in one batch: bounds how long one batch holds the connection. */
  maxBatch?: number;
  /** True while the connection is inside a transaction (better-sqlite3's `inTransaction`). */
  inTransaction: () => boolean;
  /**
   * How many operations are on their way to a transaction right now (e.g. being signed in a
   * worker thread). While there are some, a batch waits up to `maxDelayMs` for them, as
   * PostgreSQL's commit_delay waits for commit_siblings: without it, answers arriving one by one
   * from worker threads would each pay for a commit of their own.
   */
  siblings?: () => number;
  /** Longest wait for siblings, in milliseconds (default 2). */
  maxDelayMs?: number;
  /** Runs SQL synchronously on the connection: `hot` statements of the batch's operations use it (sql.ts). */
  direct?: DirectSql;
  /**
   * Waits for the disk off the thread (wal-sync.ts): `relax` just before the batch's BEGIN makes
   * its COMMIT return without waiting for the disk (synchronous=NORMAL), `restore` right after
   * the transaction puts the connection's own setting back for statements outside batches, and
   * `sync` then makes the commit durable. The batch keeps the connection until `sync` resolves and is acknowledged
   * only then.
   */
  durability?: { relax(): void; restore(): void; sync(): Promise<void> };
}

const statement = (text: string) => CompiledQuery.raw(text, []);
const BEGIN = statement('begin immediate');
const COMMIT = statement('commit');
const ROLLBACK = statement('rollback');
const SAVEPOINT = statement('savepoint hpki_op');
const RELEASE = statement('release hpki_op');
const ROLLBACK_TO = statement('rollback to hpki_op');

/** Batches transactions on one SQLite connection into group commits. */
export class GroupCommit {
  readonly stats: GroupCommitStats = { batches: 0, committed: 0, failed: 0, largestBatch: 0 };
  private queue: Pending[] = [];
  private scheduled = false;
  private running = false;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private siblings: () => number;

  constructor(
    private readonly db: Kysely<any>,
    private readonly opts: GroupCommitOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxDelayMs = opts.maxDelayMs ?? 2;
    this.siblings = opts.siblings ?? (() => 0);
  }

  /** Tells the committer how to count operations on their way (see GroupCommitOptions.siblings). */
  watchSiblings(siblings: () => number): void {
    this.siblings = siblings;
  }

  /** Resolves once every operation requested so far has settled (for an orderly close). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running || this.scheduled) await new Promise((r) => setImmediate(r));
  }

  /** Runs `fn` as one transaction of the next batch; settles after that batch committed (or failed). */
  run<T>(fn: (tx: Kysely<any>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * The next batch starts after the current event-loop turn (setImmediate runs after the poll
   * phase), so every request that arrived meanwhile and reached its transaction joins it. Only
   * while siblings are on their way does it wait longer, at most maxDelayMs: under light load an
   * operation waits for nothing but its own commit.
   */
  private schedule(): void {
    if (this.scheduled || this.running || this.queue.length === 0) return;
    this.scheduled = true;
    const since = performance.now();
    const go = () => {
      // Wait (briefly) for operations that are about to arrive, unless the batch is full.
      if (this.queue.length < this.maxBatch && this.siblings() > 0 && performance.now() - since < this.maxDelayMs) {
        setTimeout(go, 0);
        return;
      }
      this.scheduled = false;
      void this.flush();
    };
    setImmediate(go);
  }

  private async flush(): Promise<void> {
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      await this.db.connection().execute(async (conn) => {
        // While the batch holds the connection, its operations' hot statements run on it directly.
        if (this.opts.direct) bindDirect(conn, this.opts.direct);
        try {
          await this.commitBatch(conn, batch);
        } finally {
          unbindDirect(conn);
        }
      });
    } catch (e) {
      // Acquiring the connection failed (closed database): nothing of the batch ran.
      for (const p of batch) p.outcome ??= { ok: false, error: e };
    } finally {
      this.running = false;
    }
    for (const p of batch) {
      const o = p.outcome ?? { ok: false, error: new Error('group commit: operation was not run') };
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    }
    this.schedule();
  }

  /** Runs a statement of the batch's own (savepoints), directly when the connection allows it. */
  private async control(conn: Kysely<any>, q: CompiledQuery): Promise<void> {
    if (this.opts.direct) this.opts.direct.exec(q.sql, []);
    else await conn.executeQuery(q);
  }

  private async commitBatch(conn: Kysely<any>, batch: Pending[]): Promise<void> {
    const durability = this.opts.durability;
    // The safety level can change only outside a transaction: relaxed for this batch's, then restored.
    durability?.relax();
    let committed: boolean;
    try {
      committed = await this.runBatch(conn, batch);
    } finally {
      if (!this.opts.inTransaction()) durability?.restore();
    }
    if (!committed) return;
    if (durability) {
      try {
        await durability.sync();
      } catch (e) {
        // Committed but maybe not on disk: nothing of the batch may be acknowledged.
        const error = new Error(`the commit could not be made durable (${e instanceof Error ? e.message : String(e)}); it may or may not have been kept`, { cause: e });
        for (const p of batch) p.outcome = { ok: false, error };
        return;
      }
    }
    let ok = 0;
    for (const p of batch) if (p.outcome?.ok) ok++;
    this.stats.batches++;
    this.stats.committed += ok;
    this.stats.failed += batch.length - ok;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
  }

  /** BEGIN, each operation in its savepoint, COMMIT; false when the batch failed as a whole (every operation then has its error). */
  private async runBatch(conn: Kysely<any>, batch: Pending[]): Promise<boolean> {
    await conn.executeQuery(BEGIN);
    try {
      for (const p of batch) {
        await this.control(conn, SAVEPOINT);
        try {
          p.outcome = { ok: true, value: await p.fn(conn) };
          await this.control(conn, RELEASE);
        } catch (error) {
          p.outcome = { ok: false, error };
          // Some errors (I/O, full disk) make SQLite abandon the whole transaction: then the
          // operations before this one are gone too, and the batch must fail as a whole.
          if (!this.opts.inTransaction()) throw new BatchAbandoned(error);
          await this.control(conn, ROLLBACK_TO);
          await this.control(conn, RELEASE);
        }
      }
      await conn.executeQuery(COMMIT);
      return true;
    } catch (e) {
      await this.failAll(conn, batch, e);
      return false;
    }
  }

  /** After a failed batch: rolls back what is left and fails every operation that had not failed on its own. */
  private async failAll(conn: Kysely<any>, batch: Pending[], e: unknown): Promise<void> {
    const cause = e instanceof BatchAbandoned ? e.reason : e;
    if (this.opts.inTransaction()) await conn.executeQuery(ROLLBACK).catch(() => undefined);
    const error = new Error(`the transaction was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    for (const p of batch) {
      if (p.outcome === undefined || p.outcome.ok) p.outcome = { ok: false, error };
    }
  }
}

class BatchAbandoned extends Error {
  constructor(readonly reason: unknown) {
    super('SQLite abandoned the transaction');
  }
}

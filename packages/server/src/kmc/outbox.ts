/**
 * The durable outbox of the CA's notices to its KMC: today one kind, "the key of certificate N
 * is retired" (RevokeKeyReq). A notice is written in the transaction of the act that causes it
 * (the revocation of an encryption certificate), so the act and its notice commit together; the
 * sender delivers pending notices with retry and backoff, oldest first and one at a time per key,
 * and marks a notice delivered only after the KMC answered. The KMC answers a repeated retire as
 * the first, so a notice delivered twice (an answer lost, two processes sharing the database)
 * does no harm; a crash or a KMC outage only delays it.
 */
import { sql } from 'kysely';
import { KMC_MAX_REQUESTS } from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { all, first, run } from '../store/sql.js';
import { OutboxLoop } from '../store/outbox-loop.js';
import type { KmcLink } from './link.js';

/** Row type of the outbox (kmcLinkMigrations, kmc/link.ts). */
export interface KmcOutboxTables {
  kmclink_outbox: {
    /** Time-ordered (store/ids.ts): the order notices are sent in. */
    id: string;
    /** The certificate's serial as the KMC keys it: lower-case hex, no leading zeros. */
    cert_no: string;
    kind: 'retire';
    created_at: string;
    sent_at: string | null;
    /** 'retired', or 'refused' when the KMC refused it (an unknown key): either way it is not sent again. */
    outcome: string | null;
    attempts: number;
    last_error: string | null;
  };
}

/** A serial (hex) as the KMC keys it. */
function certNoOf(serial: string): string {
  return BigInt('0x' + serial).toString(16);
}

/** Sender tuning (tests make it quick). */
export interface KmcOutboxOptions {
  /** How often to look for notices when idle (default 5 s; a revocation wakes the sender at once). */
  pollMs?: number;
  /** Backoff after a failure: doubles from minBackoffMs up to maxBackoffMs, with jitter (defaults 500 ms, 60 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Notices per request (default and most: the protocol's 64). */
  batchSize?: number;
  clock?: () => Date;
}

/** What the outbox holds. */
export interface KmcOutboxState {
  pending: number;
  retired: number;
  refused: number;
  lastError?: string;
}

/** Delivers the outbox to the KMC in the background, and at once after a revocation. */
export class KmcOutbox {
  private readonly loop: OutboxLoop;
  private readonly batchSize: number;
  private readonly clock: () => Date;
  /** Passes run one after another, never side by side, so this process sends a notice once. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastError?: string;
  /**
   * Keys whose notice this process queued and has not delivered yet: `deliver(serial)` sends only
   * for them, so the revocation of any other certificate costs no query, and a background pass that
   * ran before the queuing transaction committed cannot make the revocation skip its own delivery.
   */
  private readonly queuedHere = new Set<string>();

  constructor(
    private readonly database: Database,
    private readonly link: KmcLink,
    opts: KmcOutboxOptions = {},
  ) {
    this.batchSize = Math.min(Math.max(1, opts.batchSize ?? KMC_MAX_REQUESTS), KMC_MAX_REQUESTS);
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new OutboxLoop(() => this.exclusive(() => this.sendOnce()), { pollMs: opts.pollMs ?? 5000, minBackoffMs: opts.minBackoffMs ?? 500, maxBackoffMs: opts.maxBackoffMs ?? 60_000 });
  }

  /** Queues, in the caller's transaction, the notice that the key of certificate `serial` (hex) is retired; `deliver()` after the commit sends it. */
  async queueRetire(tx: Executor, serial: string): Promise<void> {
    await run(tx, sql`insert into kmclink_outbox (id, cert_no, kind, created_at, sent_at, outcome, attempts, last_error) values (${orderedId()}, ${certNoOf(serial)}, ${'retire'}, ${nowIso(this.clock())}, ${null}, ${null}, ${0}, ${null})`);
    // Rolled-back transactions leave their key here; past this many, delivery falls back to the sender alone.
    if (this.queuedHere.size >= 10_000) this.queuedHere.clear();
    this.queuedHere.add(certNoOf(serial));
  }

  /** Starts the background sender when a KMC is configured (without one, notices wait in the outbox). */
  start(): void {
    if (this.link.configured) this.loop.start();
  }

  /** Stops the sender after the pass in flight. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.queue;
  }

  /**
   * After a commit that may have queued the notice of certificate `serial` (`queueRetire`): one
   * pass now, so that the usual notice has arrived when the caller answers; nothing when this
   * process queued none for it. Never throws. While the KMC is failing the notice is left to the
   * sender's backoff, so revocations do not wait on an unreachable KMC.
   */
  async deliver(serial: string): Promise<void> {
    if (!this.queuedHere.delete(certNoOf(serial)) || !this.loop.started || this.lastError !== undefined) return;
    try {
      const sent = await this.exclusive(() => this.sendOnce());
      if (sent === this.batchSize) this.loop.wake();
    } catch {
      // Still pending: the sender retries it.
    }
  }

  /** Sends one request with the oldest pending notices (one per key); returns how many the KMC answered (0: nothing pending). Throws when the KMC cannot be reached. */
  async sendOnce(): Promise<number> {
    const rows = await all<{ id: string; cert_no: string }>(this.database.db, sql`select id, cert_no from kmclink_outbox where sent_at is null and kind = ${'retire'} order by id limit ${this.batchSize}`);
    if (rows.length === 0) return 0;
    // A key's later notice waits until its earlier one is answered: notices of a key keep their order.
    const seen = new Set<string>();
    const batch = rows.filter((r) => !seen.has(r.cert_no) && seen.add(r.cert_no));
    const ids = batch.map((r) => r.id);
    let answers: Awaited<ReturnType<KmcLink['revokeKeys']>>;
    try {
      answers = await this.link.revokeKeys(batch.map((r) => BigInt('0x' + r.cert_no)));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.lastError = message;
      await run(this.database.db, sql`update kmclink_outbox set attempts = attempts + 1, last_error = ${message.slice(0, 1000)} where id in (${sql.join(ids)}) and sent_at is null`);
      throw e;
    }
    const now = nowIso(this.clock());
    for (const r of batch) this.queuedHere.delete(r.cert_no);
    const retired = ids.filter((_, i) => answers[i]!.retired);
    await this.database.transaction(async (tx) => {
      if (retired.length > 0) await run(tx, sql`update kmclink_outbox set sent_at = ${now}, outcome = ${'retired'}, attempts = attempts + 1, last_error = ${null} where id in (${sql.join(retired)}) and sent_at is null`);
      for (const [i, a] of answers.entries()) {
        if (a.retired) continue;
        // A refusal (no such key at the KMC) is final: sending it again would be refused again.
        await run(tx, sql`update kmclink_outbox set sent_at = ${now}, outcome = ${'refused'}, attempts = attempts + 1, last_error = ${`KMC error ${a.code}: ${a.description}`.slice(0, 1000)} where id = ${ids[i]!} and sent_at is null`);
      }
    });
    this.lastError = undefined;
    return batch.length;
  }

  /** Notices not yet delivered. */
  async pending(): Promise<number> {
    const r = await first<{ n: number | string }>(this.database.db, sql`select count(*) as n from kmclink_outbox where sent_at is null`);
    return Number(r?.n ?? 0);
  }

  /** Counts of the outbox, and the last error when the last attempt failed. */
  async state(): Promise<KmcOutboxState> {
    type Row = { pending: number | string | null; retired: number | string | null; refused: number | string | null };
    const r = await first<Row>(
      this.database.db,
      sql`select sum(case when sent_at is null then 1 else 0 end) as pending, sum(case when outcome = 'retired' then 1 else 0 end) as retired, sum(case when outcome = 'refused' then 1 else 0 end) as refused from kmclink_outbox`,
    );
    return { pending: Number(r?.pending ?? 0), retired: Number(r?.retired ?? 0), refused: Number(r?.refused ?? 0), ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }
}

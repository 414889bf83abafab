/**
 * The CA's side of sync: a durable outbox in the CA's own database. The CA writes each event in
 * the transaction of the act itself (`enqueueSyncEvent`), so an issuance or revocation and its
 * event commit together; the sender posts unsent events in seq order as signed batches and marks
 * them sent only after the platform answered. A lost answer means the batch is sent again, which
 * the platform answers "duplicate": platform downtime or a network cut loses nothing.
 */
import { sql } from 'kysely';
import type { Certificate, PrivateKey } from '@health-pki/pki';
import type { Database, Executor } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { all, first, run } from '../../store/sql.js';
import { OutboxLoop } from '../../store/outbox-loop.js';
import { signSyncBatch, type SyncMessage } from './message.js';
import type { ApplyResult } from './applier.js';

/** An event to send: a message without its seq, which the outbox assigns. */
export type SyncEvent = Omit<SyncMessage, 'seq'>;

/**
 * Queues an event of CA `ca` in the caller's transaction; returns its seq. Each CA has its own
 * seq stream (the platform keys applied messages by CA and seq). The CA's head row serialises
 * concurrent enqueuers (as the audit head does), so seqs have no gaps and follow commit order;
 * the upsert makes the head at the CA's first event, so an event costs two statements.
 */
export async function enqueueSyncEvent(tx: Executor, ca: string, event: SyncEvent, at: Date = new Date()): Promise<number> {
  const head = await first<{ seq: number | string }>(
    tx,
    sql`insert into platform_outbox_head (ca, seq) values (${ca}, ${1}) on conflict (ca) do update set seq = platform_outbox_head.seq + 1 returning seq`,
  );
  if (!head) throw new Error('the platform outbox head did not answer: its migrations have not run');
  const seq = Number(head.seq);
  await run(tx, sql`insert into platform_outbox (ca, seq, body, created_at, sent_at, outcome, attempts, last_error) values (${ca}, ${seq}, ${JSON.stringify({ ...event, seq })}, ${nowIso(at)}, ${null}, ${null}, ${0}, ${null})`);
  return seq;
}

/** Options of the sender. */
export interface OutboxSenderOptions {
  database: Database;
  /** The CA's name as the platform registered it; the sender sends this CA's events only. */
  ca: string;
  /** The CA's platform-access key and certificate. */
  key: PrivateKey;
  certificate: Certificate;
  /** The platform's base URL, e.g. "http://platform:8100". */
  platformUrl: string;
  /** Messages per batch (default 500). */
  batchSize?: number;
  /** Backoff after a failure: doubles from minBackoffMs up to maxBackoffMs, with jitter (defaults 200 ms, 60 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to look for new events when idle (default 1 s; `wake()` sends at once). */
  pollMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  clock?: () => Date;
}

/** What the outbox holds. */
export interface OutboxState {
  pending: number;
  sent: number;
  conflicts: number;
  lastError?: string;
}

/** Sends the outbox to the platform, in order, with retry and backoff. */
export class OutboxSender {
  private readonly o: Required<Omit<OutboxSenderOptions, 'clock'>> & { clock: () => Date };
  private readonly loop: OutboxLoop;
  private lastError?: string;

  constructor(opts: OutboxSenderOptions) {
    this.o = { batchSize: 500, minBackoffMs: 200, maxBackoffMs: 60_000, pollMs: 1000, timeoutMs: 30_000, clock: () => new Date(), ...opts, platformUrl: opts.platformUrl.replace(/\/+$/, '') };
    this.loop = new OutboxLoop(() => this.sendOnce(), this.o);
  }

  /** Sends one batch of the oldest unsent events; returns how many the platform acknowledged (0: nothing to send). Throws when the platform cannot be reached or refuses. */
  async sendOnce(): Promise<number> {
    const rows = await all<{ seq: number | string; body: string }>(this.o.database.db, sql`select seq, body from platform_outbox where ca = ${this.o.ca} and sent_at is null order by seq limit ${this.o.batchSize}`);
    if (rows.length === 0) return 0;
    const messages = rows.map((r) => JSON.parse(r.body) as SyncMessage);
    const der = signSyncBatch({ ca: this.o.ca, messages }, this.o.key, this.o.certificate, this.o.clock());
    let answer: ApplyResult;
    try {
      const res = await fetch(`${this.o.platformUrl}/platform/sync/messages`, { method: 'POST', headers: { 'content-type': 'application/cms' }, body: der, signal: AbortSignal.timeout(this.o.timeoutMs) });
      const text = await res.text();
      if (!res.ok) throw new Error(`platform answered ${res.status}: ${text.slice(0, 300)}`);
      answer = JSON.parse(text) as ApplyResult;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const seqs = rows.map((r) => Number(r.seq));
      await run(this.o.database.db, sql`update platform_outbox set attempts = attempts + 1, last_error = ${message.slice(0, 1000)} where ca = ${this.o.ca} and sent_at is null and seq >= ${Math.min(...seqs)} and seq <= ${Math.max(...seqs)}`);
      this.lastError = message;
      throw e;
    }
    const now = nowIso(this.o.clock());
    // One statement per outcome rather than per event: the CA's issuance shares this database.
    const byStatus = new Map<string, number[]>();
    for (const r of answer.results) byStatus.set(r.status, [...(byStatus.get(r.status) ?? []), r.seq]);
    await this.o.database.transaction(async (tx) => {
      for (const [status, seqs] of byStatus) {
        await run(tx, sql`update platform_outbox set sent_at = ${now}, outcome = ${status}, attempts = attempts + 1, last_error = ${null} where ca = ${this.o.ca} and seq in (${sql.join(seqs)}) and sent_at is null`);
      }
    });
    this.lastError = undefined;
    return answer.results.length;
  }

  /** Starts sending in the background until stop(). */
  start(): void {
    this.loop.start();
  }

  /** Sends at once instead of at the next poll (after enqueueing, say). */
  wake(): void {
    this.loop.wake();
  }

  /** Stops after the batch in flight. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** The error of the last attempt, when it failed. */
  get lastFailure(): string | undefined {
    return this.lastError;
  }

  /** Counts of this CA's part of the outbox. */
  async state(): Promise<OutboxState> {
    const r = await first<{ pending: number | string | null; sent: number | string | null; conflicts: number | string | null }>(
      this.o.database.db,
      sql`select sum(case when sent_at is null then 1 else 0 end) as pending, sum(case when sent_at is null then 0 else 1 end) as sent, sum(case when outcome = 'conflict' then 1 else 0 end) as conflicts from platform_outbox where ca = ${this.o.ca}`,
    );
    return { pending: Number(r?.pending ?? 0), sent: Number(r?.sent ?? 0), conflicts: Number(r?.conflicts ?? 0), ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** The delay before the next attempt after `failures` failures in a row: exponential with jitter. */
  backoffMs(failures: number): number {
    return this.loop.backoffMs(failures);
  }
}

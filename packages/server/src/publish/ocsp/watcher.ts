/**
 * Sees status changes (revocation, hold, release, issuance) by polling ca_status_changes, which
 * works the same for any number of processes on one database. `at` is whole seconds and a row
 * becomes visible only at its commit, a moment after its `at`, so each poll reads an
 * overlapping window and changes are deduplicated by (authority, serial, version). A poll that
 * fails or is late widens the next window back to the last poll that succeeded.
 */
import type { Database } from '../../store/database.js';
import { statusChangesSince, type StatusChangeKey } from './ca-reads.js';

/** Options of the watcher. */
export interface WatcherOptions {
  database: Database;
  /** The authorities to watch (those the responder has answered for). */
  authorities: () => ReadonlyArray<{ id: string }>;
  /** Called once per new (authority, serial, version). */
  onChange: (change: StatusChangeKey) => void;
  clock: () => Date;
  /** Poll period (default 200 ms: a revocation shows within about a quarter second). */
  intervalMs?: number;
  /** How far back each poll reads beyond the last successful poll (default 3 s). */
  overlapMs?: number;
}

/** Polls for status changes until stopped. */
export class StatusWatcher {
  private readonly seen = new Map<string, { version: number; at: string }>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastOk: number;
  private stopped = true;
  private readonly intervalMs: number;
  private readonly overlapMs: number;

  constructor(private readonly opts: WatcherOptions) {
    this.intervalMs = opts.intervalMs ?? 200;
    this.overlapMs = opts.overlapMs ?? 3000;
    this.lastOk = opts.clock().getTime();
  }

  /** Starts polling. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One poll now (tests; also what the timer runs). */
  async poll(): Promise<void> {
    const started = this.opts.clock().getTime();
    const since = new Date(Math.min(started, this.lastOk) - this.overlapMs).toISOString();
    for (const a of this.opts.authorities()) {
      for (const c of await statusChangesSince(this.opts.database.db, a.id, since)) {
        const k = `${c.authorityId}/${c.serial}`;
        const had = this.seen.get(k);
        if (had && had.version >= c.version) continue;
        this.seen.set(k, { version: c.version, at: c.at });
        this.opts.onChange(c);
      }
    }
    this.lastOk = started;
    // Changes older than every window still to come cannot be read again: forget them.
    for (const [k, v] of this.seen) if (v.at < since) this.seen.delete(k);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .catch(() => undefined) // the database may be briefly away; the next window covers the gap
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }
}

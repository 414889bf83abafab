/**
 * The background loop of a durable outbox's sender (the platform's sync outbox, the KMC's
 * notices): one pass at a time; another at once while passes send something, one every
 * `pollMs` when idle, and after a failure a backoff that doubles (with jitter) up to
 * `maxBackoffMs`. `wake()` cuts a wait short; `stop()` returns after the pass in flight.
 */

/** Timing of the loop. */
export interface OutboxLoopOptions {
  pollMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

/** Runs `pass` (which returns how many items it sent, and throws when it could not send) until stopped. */
export class OutboxLoop {
  private running = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly pass: () => Promise<number>,
    private readonly o: OutboxLoopOptions,
  ) {}

  /** Failed passes in a row (0 after a pass that did not throw). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Whether the loop runs. */
  get started(): boolean {
    return this.running;
  }

  /** Starts the loop in the background; its first pass runs at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Runs the next pass at once instead of after the wait. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops after the pass in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** The delay before the next attempt after `failures` failures in a row: exponential with jitter. */
  backoffMs(failures: number): number {
    const ceiling = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay: number;
      try {
        const sent = await this.pass();
        this.failures = 0;
        delay = sent > 0 ? 0 : this.o.pollMs;
      } catch {
        this.failures++;
        delay = this.backoffMs(this.failures);
      }
      if (delay > 0 && this.running) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

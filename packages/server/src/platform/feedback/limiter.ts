/**
 * Throttles public complaint submissions: at most `max` per client address within `windowMs`.
 * In memory and per process, like the login limiter: it blunts floods from one address; the
 * size limits bound what any one submission costs.
 */
import { ServiceError } from '../../errors.js';

/** Too many submissions from one address (429); `retryAfter` in seconds. */
export class SubmissionRateError extends ServiceError {
  constructor(message: string, readonly retryAfter: number) {
    super(429, 'platform.complaint.rate-limited', message);
  }
}

/** A sliding-window counter per key. */
export class SubmissionLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    readonly max = 5,
    readonly windowMs = 10 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts one submission for `key`, or throws SubmissionRateError if the key has used up its window. */
  take(key: string): void {
    const now = this.clock();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.max) {
      const retryAfter = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
      throw new SubmissionRateError(`too many complaints from this address; try again in ${retryAfter} s`, retryAfter);
    }
    // A flood of distinct addresses must not grow the map without bound.
    if (this.hits.size > 50_000) this.hits.clear();
    recent.push(now);
    this.hits.set(key, recent);
  }
}

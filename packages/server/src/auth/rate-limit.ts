/**
 * Failed-login throttling: after `max` failures within `windowMs` for one key (a client address,
 * a certificate, an account), further attempts for that key are refused until the window passes.
 * In memory, per process: it slows guessing down; the audit log keeps every failure.
 */
import { ServiceError } from '../errors.js';

/** Too many failed attempts (429); `retryAfter` in seconds. */
export class RateLimitedError extends ServiceError {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(429, 'auth.rate-limited', message);
  }
}

/** Counts failures per key in a sliding window. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly max = 10,
    private readonly windowMs = 10 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const since = this.clock() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** Throws RateLimitedError when any of the keys has used up its failures. */
  check(keys: string[]): void {
    for (const key of keys) {
      const list = this.recent(key);
      if (list.length >= this.max) {
        const retryAfter = Math.max(1, Math.ceil((list[0]! + this.windowMs - this.clock()) / 1000));
        throw new RateLimitedError(`too many failed logins for ${key}; try again in ${retryAfter} s`, retryAfter);
      }
    }
  }

  /** Forgets every failure (tests, or an operator after an incident). */
  clear(): void {
    this.failures.clear();
  }

  /** Records one failure against every key. */
  fail(keys: string[]): void {
    if (this.failures.size > 50_000) this.failures.clear();
    for (const key of keys) this.failures.set(key, [...this.recent(key), this.clock()]);
  }
}

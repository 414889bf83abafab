/**
 * Certification path building (in the manner of RFC 4158): depth-first from the target towards
 * the trust anchors, trying the most promising issuer first and backtracking when a complete path
 * fails validation. Candidate issuers are found by subject name (RFC 5280 §7.1 comparison) and
 * ordered by key identifier match, validity at the validation time, and recency. A certificate
 * whose (subject name, key) pair is already on the path is never added again, so cross-certified
 * loops terminate; a depth limit and a work budget bound the search on hostile inputs.
 */
import type { PreparedCert } from './prepared.js';
import type { PathFailure, PreparedAnchor } from './validate-path.js';

/** A shared allowance of work units; every candidate edge and every path validation spends some. */
export class WorkBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  /** Spends `n` units; false once the budget is exhausted. */
  spend(n = 1): boolean {
    this.used += n;
    return this.used <= this.limit;
  }
  get exhausted(): boolean {
    return this.used > this.limit;
  }
  get spent(): number {
    return this.used;
  }
}

/** What the builder asks of its caller. */
export interface BuildHooks<S> {
  /** Anchors whose name matches the certificate's issuer, best first. */
  anchorsFor(cert: PreparedCert): PreparedAnchor[];
  /** Untrusted certificates whose subject matches the certificate's issuer, best first. */
  issuersFor(cert: PreparedCert): PreparedCert[];
  /** Validates a complete path (target first); a success ends the search. */
  validate(chain: PreparedCert[], anchor: PreparedAnchor): S | PathFailure;
  /** Whether a validate() result is a success. */
  isSuccess(r: S | PathFailure): r is S;
}

/** The outcome of a search. */
export type BuildOutcome<S> =
  | { found: true; chain: PreparedCert[]; anchor: PreparedAnchor; result: S }
  | {
      found: false;
      /** Complete paths that were validated and failed, in the order tried. */
      failures: Array<{ chain: PreparedCert[]; anchor: PreparedAnchor; failure: PathFailure }>;
      depthLimitHit: boolean;
      budgetExhausted: boolean;
      /** The first certificate for which no issuer at all was found. */
      deadEnd?: PreparedCert;
    };

/** Searches for a valid path from `target` to one of the anchors the hooks offer. */
export function buildPath<S>(target: PreparedCert, hooks: BuildHooks<S>, maxDepth: number, budget: WorkBudget): BuildOutcome<S> {
  const failures: Array<{ chain: PreparedCert[]; anchor: PreparedAnchor; failure: PathFailure }> = [];
  let depthLimitHit = false;
  let deadEnd: PreparedCert | undefined;
  const onPath = new Set<string>();
  const chain: PreparedCert[] = [];
  const keyOf = (p: PreparedCert) => `${p.subject.key}#${p.spkiHash}`;

  const extend = (cert: PreparedCert): { chain: PreparedCert[]; anchor: PreparedAnchor; result: S } | undefined => {
    chain.push(cert);
    onPath.add(keyOf(cert));
    try {
      for (const anchor of hooks.anchorsFor(cert)) {
        if (!budget.spend(1 + chain.length)) return undefined;
        const r = hooks.validate([...chain], anchor);
        if (hooks.isSuccess(r)) return { chain: [...chain], anchor, result: r };
        failures.push({ chain: [...chain], anchor, failure: r });
      }
      const issuers = hooks.issuersFor(cert);
      if (issuers.length === 0 && hooks.anchorsFor(cert).length === 0) deadEnd ??= cert;
      for (const issuer of issuers) {
        if (!budget.spend()) return undefined;
        if (onPath.has(keyOf(issuer))) continue;
        // The chain may not grow past maxDepth certificates below the anchor.
        if (chain.length >= maxDepth) {
          depthLimitHit = true;
          break;
        }
        const found = extend(issuer);
        if (found || budget.exhausted) return found;
      }
      return undefined;
    } finally {
      chain.pop();
      onPath.delete(keyOf(cert));
    }
  };

  const found = extend(target);
  if (found) return { found: true, ...found };
  return { found: false, failures, depthLimitHit, budgetExhausted: budget.exhausted, deadEnd };
}

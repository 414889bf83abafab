/**
 * The shape every benchmark module shares. `npm run bench` (scripts/bench.mjs) imports each
 * compiled `packages/*\/dist/bench/*.bench.js`, calls its default export and writes the sections
 * to docs/benchmarks.md with the machine and the date.
 */
import { execFileSync } from 'node:child_process';

/** One measured quantity. `ratio` compares it with a reference measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What this row is compared against and the ratio value/reference (e.g. "vs openssl speed sm2"). */
  ratio?: { against: string; value: number };
  /** A target from the issue, e.g. ">= 1.0x openssl"; `met` says whether the measurement meets it. */
  target?: { text: string; met: boolean };
}

/** A titled group of rows, with notes saying how it was measured. */
export interface BenchSection {
  title: string;
  rows: BenchRow[];
  notes?: string[];
}

/** A benchmark module's default export. */
export type Benchmark = () => Promise<BenchSection[]>;

/** Runs `fn` repeatedly for about `seconds` (after a short warm-up) and returns operations per second. */
export function opsPerSecond(fn: (i: number) => void, seconds = 2): number {
  const warmEnd = performance.now() + Math.min(300, seconds * 200);
  let i = 0;
  while (performance.now() < warmEnd) fn(i++);
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let j = 0; j < 16; j++) fn(i + n + j);
    n += 16;
  }
  return n / ((performance.now() - start) / 1000);
}

/** Like opsPerSecond for async operations, with `concurrency` in flight at once. */
export async function opsPerSecondAsync(fn: (i: number) => Promise<unknown>, seconds = 2, concurrency = 1): Promise<number> {
  let i = 0;
  let done = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await fn(i++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - start) / 1000);
}

/** Runs `openssl speed` for one algorithm and returns its sign and verify rates per second. */
export function opensslSpeed(alg: string, seconds = 3): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), alg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const line = out.split('\n').reverse().find((l) => /\d+\.\d+\s*$/.test(l));
  const nums = line?.trim().split(/\s+/).slice(-2).map(Number) ?? [];
  if (nums.length !== 2 || nums.some((x) => !Number.isFinite(x))) throw new Error(`cannot read openssl speed ${alg} output`);
  return { sign: nums[0]!, verify: nums[1]! };
}

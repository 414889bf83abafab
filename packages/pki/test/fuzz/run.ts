/**
 * Fuzz runner: feeds mutated inputs to each target's parser and checks that every failure is an
 * expected (typed) error, that no case takes over a second, and that nothing hangs.
 *
 *   npm run fuzz                                  100,000 cases per target, random seed (printed)
 *   npm run fuzz -- --cases 5000 --seed 42        fewer cases, fixed seed
 *   npm run fuzz -- --target key --seed 42 --case 1234   replay one case, print its input and error
 *
 * Targets live in targets.ts. The cases run in a worker thread so that a true hang (an endless
 * loop) is caught by a watchdog and reported with its case number instead of stalling forever.
 * Exit code: 0 clean, 1 unexpected errors or slow cases, 2 a hang.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { caseRng, mutate } from './mutate.js';

/** A parser under test. */
export interface FuzzTarget {
  name: string;
  /** Valid inputs to start mutating from. */
  seeds: Buffer[];
  /** Parses one input; may return anything or throw. */
  parse(input: Buffer): unknown;
  /** Whether a thrown value is one the parser is allowed to throw (e.g. `e instanceof PkiError`). */
  isExpectedError(e: unknown): boolean;
}

/** An unexpected exception, with the first case that produced it and how often its kind occurred. */
export interface Finding {
  caseIndex: number;
  error: string;
  stack: string;
  input: Buffer;
  ops: string[];
  count: number;
}

/** A case that finished but took longer than the slow limit. */
export interface SlowCase {
  caseIndex: number;
  ms: number;
  ops: string[];
  inputLength: number;
}

/** The outcome of fuzzing one target. */
export interface TargetReport {
  target: string;
  seed: number;
  cases: number;
  accepted: number;
  rejected: number;
  unexpectedCount: number;
  /** One entry per distinct kind of unexpected exception (name, message start, first frame). */
  unexpected: Finding[];
  slow: SlowCase[];
  maxMs: number;
  totalMs: number;
}

/** Options of one fuzzing run. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** A case slower than this is reported (default 1000 ms). */
  slowMs?: number;
  /** Called before each case, e.g. to feed a watchdog. */
  onCase?: (index: number) => void;
}

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(name)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/** The input of case `index`, exactly as `fuzzTarget` builds it. */
export function caseInput(target: FuzzTarget, seed: number, index: number): { input: Buffer; ops: string[] } {
  return mutate(target.seeds, caseRng((seed ^ nameHash(target.name)) >>> 0, index));
}

function describe(e: unknown): { kind: string; error: string; stack: string } {
  if (e instanceof Error) {
    const frame = (e.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
    const error = `${e.constructor?.name ?? e.name}: ${e.message}`;
    return { kind: `${e.constructor?.name ?? e.name}|${e.message.slice(0, 60)}|${frame.trim()}`, error, stack: e.stack ?? error };
  }
  return { kind: `non-Error ${typeof e}`, error: `thrown non-Error: ${String(e)}`, stack: String(e) };
}

/** Runs `cases` mutated inputs through one target, in this thread. */
export function fuzzTarget(target: FuzzTarget, o: FuzzOptions): TargetReport {
  const slowMs = o.slowMs ?? 1000;
  const report: TargetReport = {
    target: target.name, seed: o.seed, cases: 0, accepted: 0, rejected: 0, unexpectedCount: 0, unexpected: [], slow: [], maxMs: 0, totalMs: 0,
  };
  const kinds = new Map<string, Finding>();
  const started = performance.now();
  for (let i = 0; i < o.cases; i++) {
    o.onCase?.(i);
    const { input, ops } = caseInput(target, o.seed, i);
    const t0 = performance.now();
    try {
      target.parse(input);
      report.accepted++;
    } catch (e) {
      if (target.isExpectedError(e)) report.rejected++;
      else {
        report.unexpectedCount++;
        const d = describe(e);
        const seen = kinds.get(d.kind);
        if (seen) seen.count++;
        else kinds.set(d.kind, { caseIndex: i, error: d.error, stack: d.stack, input, ops, count: 1 });
      }
    }
    const ms = performance.now() - t0;
    report.maxMs = Math.max(report.maxMs, ms);
    if (ms > slowMs) report.slow.push({ caseIndex: i, ms, ops, inputLength: input.length });
    report.cases++;
  }
  report.totalMs = performance.now() - started;
  report.unexpected = [...kinds.values()];
  return report;
}

/** Formats a report as text lines for people. */
export function formatReport(r: TargetReport, slowMs = 1000): string {
  const lines = [
    `${r.target}: ${r.cases} cases (seed ${r.seed}) in ${(r.totalMs / 1000).toFixed(1)} s: ${r.rejected} rejected with expected errors, ` +
      `${r.accepted} accepted, ${r.unexpectedCount} UNEXPECTED, ${r.slow.length} slow (> ${slowMs} ms), slowest ${r.maxMs.toFixed(1)} ms`,
  ];
  for (const f of r.unexpected) {
    lines.push(`  UNEXPECTED ×${f.count}, first at case ${f.caseIndex} [${f.ops.join(' ')}]: ${f.error}`);
    lines.push(`    replay: npm run fuzz -- --target ${r.target} --seed ${r.seed} --case ${f.caseIndex}`);
    lines.push(...f.stack.split('\n').slice(1, 6).map((l) => `    ${l.trim()}`));
  }
  for (const s of r.slow.slice(0, 10)) {
    lines.push(`  SLOW case ${s.caseIndex}: ${s.ms.toFixed(0)} ms, ${s.inputLength} bytes [${s.ops.join(' ')}]`);
  }
  if (r.slow.length > 10) lines.push(`  … and ${r.slow.length - 10} more slow cases`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Command line: parent thread (arguments, watchdog, report) and worker thread (the cases).

interface CliOptions {
  cases: number;
  seed: number;
  target?: string;
  replay?: number;
  slowMs: number;
  hangMs: number;
}

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { cases: 100_000, seed: (Math.random() * 2 ** 32) >>> 0, slowMs: 1000, hangMs: 30_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    const num = Number(value);
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--target') o.target = value;
    else if (!Number.isInteger(num) || num < 0) throw new Error(`${flag} needs a non-negative integer, got ${value}`);
    else if (flag === '--cases') o.cases = num;
    else if (flag === '--seed') o.seed = num >>> 0;
    else if (flag === '--case') o.replay = num;
    else if (flag === '--slow-ms') o.slowMs = num;
    else if (flag === '--hang-ms') o.hangMs = num;
    else throw new Error(`unknown option ${flag} (use --cases N, --seed S, --target NAME, --case I, --slow-ms, --hang-ms)`);
  }
  return o;
}

async function loadTargets(filter?: string): Promise<FuzzTarget[]> {
  const { targets } = (await import('./targets.js')) as { targets: FuzzTarget[] };
  const chosen = targets.filter((t) => !filter || t.name.includes(filter));
  if (chosen.length === 0) throw new Error(`no fuzz target matches "${filter}"; targets: ${targets.map((t) => t.name).join(', ')}`);
  return chosen;
}

async function replay(o: CliOptions): Promise<number> {
  const [target] = await loadTargets(o.target);
  const { input, ops } = caseInput(target!, o.seed, o.replay!);
  console.log(`${target!.name} seed ${o.seed} case ${o.replay}: ${ops.join(' ')}; ${input.length} bytes`);
  console.log(input.subarray(0, 512).toString('hex') + (input.length > 512 ? '…' : ''));
  try {
    const r = target!.parse(input);
    console.log('accepted:', r);
    return 0;
  } catch (e) {
    const expected = target!.isExpectedError(e);
    console.log(expected ? 'rejected with an expected error:' : 'UNEXPECTED error:');
    console.log(e);
    return expected ? 0 : 1;
  }
}

function saveFinding(r: TargetReport, f: Finding): string {
  const dir = join(tmpdir(), 'hpki-fuzz');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.target}-seed${r.seed}-case${f.caseIndex}.bin`);
  writeFileSync(file, f.input);
  return file;
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (o.replay !== undefined) return replay(o);
  const targets = await loadTargets(o.target);
  console.log(`fuzz: ${targets.length} target(s), ${o.cases} cases each, seed ${o.seed}`);

  // The worker writes [target number, case number] here before each case; the watchdog reads it.
  const progress = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { hpkiFuzz: true, cases: o.cases, seed: o.seed, target: o.target, slowMs: o.slowMs, progress },
  });
  let failed = false;
  let hung = false;
  let last = '';
  let lastChange = Date.now();
  const watchdog = setInterval(() => {
    const now = `${Atomics.load(progress, 0)}:${Atomics.load(progress, 1)}`;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > o.hangMs) {
      const t = targets[Atomics.load(progress, 0)]!;
      const c = Atomics.load(progress, 1);
      console.log(`HANG: ${t.name} case ${c} ran over ${o.hangMs / 1000} s; replay: npm run fuzz -- --target ${t.name} --seed ${o.seed} --case ${c}`);
      hung = true;
      clearInterval(watchdog);
      void worker.terminate();
    }
  }, 500);

  const code = await new Promise<number>((done) => {
    worker.on('message', (msg: { report?: TargetReport; progress?: string }) => {
      if (msg.progress) console.error(msg.progress);
      if (msg.report) {
        const r = msg.report;
        for (const f of r.unexpected) f.input = Buffer.from(f.input);
        console.log(formatReport(r, o.slowMs));
        for (const f of r.unexpected) console.log(`    input saved: ${saveFinding(r, f)}`);
        if (r.unexpectedCount > 0 || r.slow.length > 0) failed = true;
      }
    });
    worker.on('error', (e) => {
      console.log('fuzz worker crashed:', e);
      done(1);
    });
    worker.on('exit', (exitCode) => done(hung ? 2 : exitCode !== 0 || failed ? 1 : 0));
  });
  clearInterval(watchdog);
  return code;
}

async function workerMain(): Promise<void> {
  const d = workerData as { cases: number; seed: number; target?: string; slowMs: number; progress: Int32Array };
  const targets = await loadTargets(d.target);
  for (let t = 0; t < targets.length; t++) {
    const target = targets[t]!;
    Atomics.store(d.progress, 0, t);
    const report = fuzzTarget(target, {
      cases: d.cases,
      seed: d.seed,
      slowMs: d.slowMs,
      onCase: (i) => {
        Atomics.store(d.progress, 1, i);
        if (i > 0 && i % 10_000 === 0) parentPort!.postMessage({ progress: `  ${target.name}: ${i} cases` });
      },
    });
    parentPort!.postMessage({ report });
  }
}

if (!isMainThread && (workerData as { hpkiFuzz?: boolean } | undefined)?.hpkiFuzz) {
  await workerMain();
} else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}

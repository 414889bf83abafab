/**
 * A small pool of worker threads for CPU-heavy pure work, so that parsing, verifying and signing
 * use the other cores while the service's thread answers HTTP and writes the database. Each call
 * goes to the least busy worker; a worker that dies takes only its own calls down (they reject)
 * and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { errorFromWire, type WireError } from './wire-errors.js';

interface Call {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** One worker of the pool, with per-worker state its callers keep (e.g. which keys it holds). */
export class PoolWorker {
  readonly state = new Map<string, unknown>();
  private readonly calls = new Map<number, Call>();
  private nextId = 0;
  private readonly worker: Worker;
  private dead = false;

  constructor(file: URL, onExit: (w: PoolWorker) => void) {
    this.worker = new Worker(file);
    this.worker.unref();
    this.worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: WireError }) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (this.calls.size === 0) this.worker.unref();
      if (m.ok) call.resolve(m.result);
      else call.reject(errorFromWire(m.error!));
    });
    const fail = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      for (const call of this.calls.values()) call.reject(new Error(`worker thread stopped: ${why}`));
      this.calls.clear();
      onExit(this);
    };
    this.worker.on('error', (e) => fail(e.message));
    this.worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  /** Calls in flight. */
  get load(): number {
    return this.calls.size;
  }

  /** Sends one task; resolves with the worker's answer or rejects with its (typed) error. */
  call<T>(task: object, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(new Error('worker thread stopped'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Keep the process alive only while work is outstanding.
      if (this.calls.size === 1) this.worker.ref();
      this.worker.postMessage({ id, task }, transfer);
    });
  }

  /** Stops the worker; calls in flight reject. */
  async terminate(): Promise<void> {
    this.dead = true;
    for (const call of this.calls.values()) call.reject(new Error('worker thread stopped: pool closed'));
    this.calls.clear();
    await this.worker.terminate();
  }

  /** Terminates without marking the worker dead first, as a crash would (tests). */
  crashForTest(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Worker threads running one script. */
export class WorkerPool {
  private workers: PoolWorker[] = [];
  private closed = false;

  constructor(
    private readonly file: URL,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** How many workers run. */
  get size(): number {
    return this.workers.length;
  }

  /** The worker with the fewest calls in flight. */
  pick(): PoolWorker {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.load < best.load) best = w;
    return best;
  }

  /** Every worker (tests). */
  all(): readonly PoolWorker[] {
    return this.workers;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private spawn(): PoolWorker {
    return new PoolWorker(this.file, (dead) => {
      // A crashed worker is replaced by a fresh one (which holds no keys yet).
      if (this.closed) return;
      const i = this.workers.indexOf(dead);
      if (i >= 0) this.workers[i] = this.spawn();
    });
  }
}

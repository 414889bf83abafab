/**
 * Background WAL checkpoints for SQLite. By default SQLite copies the write-ahead log into the
 * database file (and fsyncs it) inside the COMMIT that pushes the log past 1,000 pages: that
 * commit, and every transaction of its group-commit batch, then waits for a second write and
 * fsync of everything in the log — about 0.8 s after a million-entry CRL, milliseconds on every
 * few hundred certificates. Durability does not depend on it (a commit is durable once the log is
 * synced, wal-sync.ts), so the service's connection turns automatic checkpoints off
 * and a worker thread with its own connection checkpoints every `intervalMs`; closing the
 * database checkpoints what is left, so a cleanly closed database is one self-contained file.
 */
import { Worker } from 'node:worker_threads';

/** A running background checkpointer. */
export interface WalCheckpoints {
  stop(): Promise<void>;
}

/** Starts checkpointing `file` in a worker thread every `intervalMs`. */
export function startWalCheckpoints(file: string, intervalMs = 1000, onError: (message: string) => void = () => undefined): WalCheckpoints {
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file, intervalMs } });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) onError(m.error);
  });
  worker.on('error', (e) => onError(e.message));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('exit', done);
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.postMessage('stop');
        // A worker that died already never answers.
        setTimeout(() => void worker.terminate().then(done, done), 2000).unref();
      }),
  };
}

/**
 * Copies SQLite's write-ahead log back into the database file on a connection of its own, in a
 * thread of its own (see wal-checkpoints.ts): the service's connection never does it on the path
 * of a commit. A PASSIVE checkpoint never blocks writers or readers; it copies what it can.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new SqliteDatabase(file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');

let timer: NodeJS.Timeout | undefined;
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
  timer = setTimeout(tick, intervalMs);
};
timer = setTimeout(tick, intervalMs);

parentPort?.on('message', (m: string) => {
  if (m !== 'stop') return;
  if (timer) clearTimeout(timer);
  db.close();
  parentPort?.postMessage({ stopped: true });
});

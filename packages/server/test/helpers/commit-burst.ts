/**
 * Child process of the group-commit crash test: opens the SQLite store in the data directory
 * given as argument and runs transactions from many concurrent loops until it is killed. It
 * writes "ack ID" the moment a transaction's promise resolves (the caller's acknowledgment; a
 * synchronous write, so an acknowledgment given too early, before the COMMIT, would reach the
 * parent before the data reached the file), and "stats BATCHES COMMITTED" now and then. Every
 * tenth transaction inserts its row and then fails, so its row must never be found.
 */
import { sql } from 'kysely';
import { openDatabase } from '../../src/index.js';

const LOOPS = 48;

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: commit-burst.js DATA_DIR');
const database = await openDatabase({ dataDir });
await sql`create table if not exists burst (id text primary key, note text)`.execute(database.db);

const run = `${process.pid}.${Date.now()}`;
let next = 0;
// process.stdout is synchronous for pipes on Linux: the line is in the pipe when write returns.
const say = (line: string) => process.stdout.write(line + '\n');
setInterval(() => {
  const s = database.groupCommitStats()!;
  say(`stats ${s.batches} ${s.committed}`);
}, 20);

async function loop(): Promise<void> {
  for (;;) {
    const n = next++;
    const fails = n % 10 === 9;
    // Ids stay unique across restarts on the same data directory.
    const id = `${fails ? 'fail' : 'ok'}-${run}-${String(n).padStart(8, '0')}`;
    try {
      await database.transaction(async (tx) => {
        await sql`insert into burst (id, note) values (${id}, ${'burst'})`.execute(tx);
        if (fails) throw new Error('this transaction fails after its insert');
      });
      say(`ack ${id}`);
    } catch (e) {
      if (!fails) throw e;
    }
  }
}

await Promise.all(Array.from({ length: LOOPS }, loop));

/**
 * Durability of SQLite commits without blocking the service's thread. With synchronous=FULL,
 * better-sqlite3's COMMIT waits for the WAL's fsync on the calling thread: the whole service
 * stops for every group commit (0.3-7 ms each). Here a group commit's COMMIT runs with
 * synchronous=NORMAL (it writes the WAL frames and returns; the connection is FULL again right
 * after, for statements outside batches) and the group commit calls `sync()`: fdatasync of the
 * WAL file on a libuv thread, while the service's thread goes on with other requests. An operation is acknowledged only after that returns, and
 * the group commit keeps the connection until then, so no reader sees a commit that is not on
 * disk yet: the guarantees of synchronous=FULL, with the wait moved off the thread.
 *
 * Why this is enough: committed WAL frames are all SQLite needs to recover a transaction after a
 * power loss (it replays the frames up to the last valid commit frame); fdatasync of the WAL file
 * makes every frame written so far durable, header included. Checkpoints run on their own
 * connection (wal-checkpoints.ts); in WAL mode SQLite syncs the WAL before and the database after
 * each checkpoint, with NORMAL as with FULL, so a checkpoint never loses a frame. The WAL file's directory entry is synced once, when the
 * file is first opened here (SQLite would sync it at its own first WAL sync).
 */
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const fdatasyncAsync = promisify(fdatasync);

/** Syncs one SQLite database's WAL file. */
export class WalSync {
  private fd: number | undefined;

  constructor(private readonly databaseFile: string) {}

  /** Makes every WAL frame written so far durable (call after COMMIT returned). */
  async sync(): Promise<void> {
    await fdatasyncAsync(this.open());
  }

  /** Releases the file (the connection itself is closed by its owner). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd === undefined) {
      // The WAL exists once the connection wrote in WAL mode; it keeps its inode while the connection is open.
      this.fd = openSync(`${this.databaseFile}-wal`, 'r');
      const dir = openSync(dirname(this.databaseFile), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.fd;
  }
}

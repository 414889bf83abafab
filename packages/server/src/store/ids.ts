/** Identifiers for rows. */
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Random bytes are drawn 4 KiB at a time: one call to the CSPRNG per 512 ids instead of one per
// id (several ids are written per certificate, and each call costs more than the bytes).
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function random8(): string {
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + 8);
  poolOffset += 8;
  return hex;
}

/**
 * A time-ordered identifier (in the spirit of UUIDv7): 48-bit milliseconds, a 16-bit counter
 * that keeps ids from one process strictly increasing within a millisecond, then 64 random bits.
 * Sorting by id therefore sorts records in the order they were written (across processes, to the
 * millisecond), which the RA's record and the audit log rely on.
 */
export function orderedId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter++;
    if (counter > 0xffff) {
      // More than 65,536 ids in one millisecond: borrow the next millisecond.
      lastMs++;
      counter = 0;
    }
  }
  const hex = lastMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0') + random8();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Identifiers for rows. */
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

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
  const hex = lastMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0') + randomBytes(8).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

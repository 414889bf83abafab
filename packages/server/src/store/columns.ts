/**
 * Column types that differ between the dialects. Everything else is portable: ids are random
 * text, timestamps are ISO-8601 UTC text (they sort as text and read the same on both engines),
 * flags are integers 0/1, structured data is JSON text.
 */
import type { DialectName } from './database.js';

/** The column type names a migration uses, for one dialect. */
export interface ColumnTypes {
  /** Raw bytes: BLOB in SQLite, BYTEA in PostgreSQL (both come back as a Buffer). */
  bytes: 'blob' | 'bytea';
}

/** Column type names for a dialect. */
export function columnTypes(dialect: DialectName): ColumnTypes {
  return { bytes: dialect === 'sqlite' ? 'blob' : 'bytea' };
}

/** The current time as ISO-8601 UTC with milliseconds (fixed width, so text order is time order). */
export function nowIso(at: Date = new Date()): string {
  return at.toISOString();
}

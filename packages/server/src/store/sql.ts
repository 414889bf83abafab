/**
 * Running hand-written SQL on either dialect. Kysely's `sql` template turns `${value}` into the
 * dialect's placeholder (`?` or `$n`), so one text serves SQLite and PostgreSQL. The statements
 * run on every issuance and status change use it instead of the query builder, which costs
 * several times more per statement than the statement itself (measured: builder insert ≈ 14 µs
 * and more while cold, template ≈ 8 µs, better-sqlite3 alone ≈ 5 µs); everything else keeps the
 * builder. Keep the SQL portable: no dialect-only syntax.
 */
import type { RawBuilder } from 'kysely';
import type { Executor } from './database.js';

/** Runs a statement that changes rows; returns how many it changed. */
export async function run(ex: Executor, statement: RawBuilder<unknown>): Promise<number> {
  const r = await statement.execute(ex);
  return Number(r.numAffectedRows ?? 0n);
}

/** The first row a query returns, or undefined. */
export async function first<T>(ex: Executor, query: RawBuilder<unknown>): Promise<T | undefined> {
  return (await query.execute(ex)).rows[0] as T | undefined;
}

/** Every row a query returns. */
export async function all<T>(ex: Executor, query: RawBuilder<unknown>): Promise<T[]> {
  return (await query.execute(ex)).rows as T[];
}

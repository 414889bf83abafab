/**
 * Running hand-written SQL on either dialect. Kysely's `sql` template turns `${value}` into the
 * dialect's placeholder (`?` or `$n`), so one text serves SQLite and PostgreSQL. The statements
 * run on every issuance and status change use it instead of the query builder, which costs
 * several times more per statement than the statement itself (measured: builder insert ≈ 14 µs
 * and more while cold, template ≈ 8 µs, better-sqlite3 alone ≈ 5 µs); everything else keeps the
 * builder. Keep the SQL portable: no dialect-only syntax.
 *
 * The very hottest statements (an issuance runs about a dozen) use the `hot` template instead:
 * its SQL text is fixed per call site (only values vary), so it is built once and never compiled
 * by Kysely; inside an SQLite group-commit transaction it runs straight on better-sqlite3's
 * prepared statement, synchronously (`bindDirect`), skipping Kysely's connection hand-over and
 * promise hops. The batch holds the connection while its operations run, so this is the same
 * connection and transaction Kysely would have used.
 */
import { CompiledQuery, PostgresAdapter, type RawBuilder } from 'kysely';
import type { Executor } from './database.js';

/** A statement of the `hot` template: portable SQL text with `?` placeholders and its values. */
export interface HotStatement {
  readonly kind: 'hot';
  /** The SQL with `?` placeholders (turned into `$n` for PostgreSQL). */
  readonly text: string;
  readonly params: readonly unknown[];
}

type Statement = RawBuilder<unknown> | HotStatement;

/** Runs SQL synchronously on the connection of the transaction in progress (SQLite). */
export interface DirectSql {
  /** Runs `text` with `params`: the rows of a statement that returns rows, else the number of rows changed. */
  exec(text: string, params: readonly unknown[]): { rows: unknown[]; changes: number };
}

const texts = new WeakMap<TemplateStringsArray, string>();

/**
 * A statement whose SQL text is fixed by its call site: `hot\`insert into t (a, b) values (${a}, ${b})\``.
 * Only values may be interpolated (never SQL); the text is built once per call site. The SQL
 * itself must not contain `?` (PostgreSQL numbers every `?` as a placeholder).
 */
export function hot(fragments: TemplateStringsArray, ...values: unknown[]): HotStatement {
  let text = texts.get(fragments);
  if (text === undefined) texts.set(fragments, (text = fragments.join('?')));
  return { kind: 'hot', text, params: values };
}

/** A statement from portable SQL text with `?` placeholders (for texts built once, e.g. a multi-row insert of n rows). */
export function statement(text: string, params: readonly unknown[]): HotStatement {
  return { kind: 'hot', text, params };
}

const direct = new WeakMap<object, DirectSql>();

/** Lets `hot` statements on `ex` run synchronously through `d` (group-commit.ts, while its batch holds the connection). */
export function bindDirect(ex: Executor, d: DirectSql): void {
  direct.set(ex, d);
}

/** Ends `bindDirect` (when the batch lets the connection go). */
export function unbindDirect(ex: Executor): void {
  direct.delete(ex);
}

const postgresTexts = new Map<string, string>();
const isPostgres = new WeakMap<object, boolean>();

/** The text for the executor's dialect: PostgreSQL numbers its placeholders. */
function dialectText(ex: Executor, text: string): string {
  const adapter = ex.getExecutor().adapter;
  let pg = isPostgres.get(adapter);
  if (pg === undefined) isPostgres.set(adapter, (pg = adapter instanceof PostgresAdapter));
  if (!pg) return text;
  let out = postgresTexts.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    if (postgresTexts.size > 1000) postgresTexts.clear();
    postgresTexts.set(text, out);
  }
  return out;
}

function isHot(s: Statement): s is HotStatement {
  return (s as Partial<HotStatement>).kind === 'hot';
}

async function execute(ex: Executor, s: Statement): Promise<{ rows: unknown[]; changes: number }> {
  if (!isHot(s)) {
    const r = await s.execute(ex);
    return { rows: r.rows as unknown[], changes: Number(r.numAffectedRows ?? 0n) };
  }
  const d = direct.get(ex);
  if (d) return d.exec(s.text, s.params);
  const r = await ex.executeQuery(CompiledQuery.raw(dialectText(ex, s.text), s.params as unknown[]));
  return { rows: r.rows as unknown[], changes: Number(r.numAffectedRows ?? 0n) };
}

/** Runs a statement that changes rows; returns how many it changed. */
export async function run(ex: Executor, statement: Statement): Promise<number> {
  return (await execute(ex, statement)).changes;
}

/** The first row a query returns, or undefined. */
export async function first<T>(ex: Executor, query: Statement): Promise<T | undefined> {
  return (await execute(ex, query)).rows[0] as T | undefined;
}

/** Every row a query returns. */
export async function all<T>(ex: Executor, query: Statement): Promise<T[]> {
  return (await execute(ex, query)).rows as T[];
}

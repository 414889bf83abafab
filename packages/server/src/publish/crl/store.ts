/**
 * Storing published CRLs: allocating CRL numbers (strictly increasing per CA, across restarts and
 * across processes sharing one database), reading the newest CRL of a scope, and pruning old ones.
 */
import { sql } from 'kysely';
import type { Database, Executor } from '../../store/database.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, first, run } from '../../store/sql.js';
import { nowIso } from '../../store/columns.js';
import type { CrlKind, CrlTables } from './tables.js';
import type { SignedCrl } from './build.js';

/** A published CRL as stored. */
export interface StoredCrl extends SignedCrl {
  issuerId: string;
  partition: number;
}

type Row = CrlTables['crl_published'];

function fromRow(r: Row): StoredCrl {
  return {
    issuerId: r.issuer_id,
    kind: r.kind,
    partition: Number(r.partition),
    number: BigInt(r.number),
    baseNumber: r.base_number === null ? undefined : BigInt(r.base_number),
    thisUpdate: new Date(r.this_update),
    nextUpdate: new Date(r.next_update),
    snapshotAt: new Date(r.snapshot_at),
    entries: Number(r.entries),
    der: Buffer.from(r.der),
    sha256: r.sha256,
  };
}

/** The highest CRL number a CA has used (0 when none). */
export async function lastNumber(ex: Executor, issuerId: string): Promise<bigint> {
  const r = await first<{ n: string | number | null }>(ex, sql`select max(number) as n from crl_published where issuer_id = ${issuerId}`);
  return r?.n === null || r?.n === undefined ? 0n : BigInt(r.n);
}

/** The newest CRL of one kind for a scope, or undefined. */
export async function latest(ex: Executor, issuerId: string, partition: number, kind: CrlKind): Promise<StoredCrl | undefined> {
  const r = await first<Row>(
    ex,
    sql`select * from crl_published where issuer_id = ${issuerId} and partition = ${partition} and kind = ${kind} order by number desc limit 1`,
  );
  return r ? fromRow(r) : undefined;
}

/** The number of the newest CRL of every (CA, partition, kind), to notice what other processes published. */
export async function latestNumbers(ex: Executor): Promise<Array<{ issuerId: string; partition: number; kind: CrlKind; number: bigint }>> {
  const rows = await all<{ issuer_id: string; partition: number; kind: CrlKind; n: string | number }>(
    ex,
    sql`select issuer_id, partition, kind, max(number) as n from crl_published group by issuer_id, partition, kind`,
  );
  return rows.map((r) => ({ issuerId: r.issuer_id, partition: Number(r.partition), kind: r.kind, number: BigInt(r.n) }));
}

/** What `publish` did: stored the CRL, or dropped it because one built from newer data was there first. */
export type PublishOutcome = { stored: true; crl: StoredCrl } | { stored: false; reason: 'newer' };

/**
 * Stores a CRL signed with `number`, in one transaction that checks the number is still above
 * every number of the CA and that no CRL of the same scope and kind was built from newer data.
 * Returns undefined when the number was taken meanwhile (the caller signs again with a new one).
 */
export async function publish(database: Database, issuerId: string, partition: number, crl: SignedCrl): Promise<PublishOutcome | undefined> {
  try {
    return await database.transaction(async (tx) => {
      if ((await lastNumber(tx, issuerId)) >= crl.number) return undefined;
      const newest = await first<{ s: string | null }>(
        tx,
        sql`select max(snapshot_at) as s from crl_published where issuer_id = ${issuerId} and partition = ${partition} and kind = ${crl.kind}`,
      );
      if (newest?.s && newest.s > crl.snapshotAt.toISOString()) return { stored: false as const, reason: 'newer' as const };
      await run(
        tx,
        sql`insert into crl_published (issuer_id, number, kind, partition, base_number, this_update, next_update, snapshot_at, entries, der, sha256, created_at)
            values (${issuerId}, ${crl.number.toString()}, ${crl.kind}, ${partition}, ${crl.baseNumber === undefined ? null : crl.baseNumber.toString()},
                    ${crl.thisUpdate.toISOString()}, ${crl.nextUpdate.toISOString()}, ${crl.snapshotAt.toISOString()}, ${crl.entries}, ${crl.der}, ${crl.sha256}, ${nowIso()})`,
      );
      return { stored: true as const, crl: { issuerId, partition, ...crl } };
    });
  } catch (e) {
    if (isUniqueViolation(e)) return undefined; // another process took the number first
    throw e;
  }
}

/**
 * Deletes the CRLs of a scope older than the `keep` newest complete CRLs (and the deltas based on
 * them). The newest number always stays, so numbering goes on after a restart.
 */
export async function prune(database: Database, issuerId: string, partition: number, keep: number): Promise<number> {
  const fulls = await all<{ number: string | number }>(
    database.db,
    sql`select number from crl_published where issuer_id = ${issuerId} and partition = ${partition} and kind = 'full' order by number desc limit ${keep}`,
  );
  if (fulls.length < keep) return 0;
  const oldestKept = fulls[fulls.length - 1]!.number.toString();
  return database.transaction((tx) => run(tx, sql`delete from crl_published where issuer_id = ${issuerId} and partition = ${partition} and number < ${oldestKept}`));
}

/** The partitions announced for a CA: partition n ≥ 1 holds certificates issued from starts_at on. */
export async function partitionsOf(ex: Executor, issuerId: string): Promise<Array<{ partition: number; startsAt: string }>> {
  const rows = await all<{ partition: number; starts_at: string }>(ex, sql`select partition, starts_at from crl_partitions where issuer_id = ${issuerId} order by partition`);
  return rows.map((r) => ({ partition: Number(r.partition), startsAt: r.starts_at }));
}

/** Announces partition `partition` of a CA starting at `startsAt`; false when another process announced it first. */
export async function announcePartition(database: Database, issuerId: string, partition: number, startsAt: string): Promise<boolean> {
  try {
    return (await database.transaction((tx) => run(tx, sql`insert into crl_partitions (issuer_id, partition, starts_at) values (${issuerId}, ${partition}, ${startsAt})`))) === 1;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

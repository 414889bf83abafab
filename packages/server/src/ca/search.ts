/**
 * Read-only search over the certificates the CA recorded, for the public query API
 * (publish/query) and the directory (publish/directory). It lives in the CA module because only
 * the CA module touches the ca_* tables; it never writes anything but the identity numbers of a
 * certificate being recorded (insertIdentityNumbers, called from authority.ts).
 *
 * Every value reaches the database as a bound parameter; LIKE patterns are escaped. Pages are
 * ordered by (authority_id, serial), the primary key, and continue after the last row returned
 * (keyset pagination), so a page costs the same at row 10 and at row 10,000,000.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import { all, run, statement } from '../store/sql.js';
import type { CertificateStatus } from './tables.js';
import type { IdentityNumber } from './holder.js';

/** What to look for; every criterion given must hold. */
export interface CertificateCriteria {
  /** Authority name. */
  ca?: string;
  /** CA label within the authority ("issuing-1"); only with `ca`. */
  issuer?: string;
  /** Canonical serial (lower-case hex, see normalizeSerial). */
  serial?: string;
  /** Case-insensitive substrings of the subject text ("C=CN, O=…, CN=…"); all must occur. */
  subjectContains?: string[];
  /** A normalised identity number (normalizeIdentityNumber), matched exactly. */
  identity?: string;
  /** The holder's organisation, matched exactly. */
  org?: string;
  /** The holder's e-mail address (lower case), matched exactly. */
  email?: string;
  /** A case-insensitive substring of the holder's e-mail address. */
  emailContains?: string;
  status?: CertificateStatus;
  /** Leave out certificates of these profiles (e.g. the CA certificates of a hierarchy). */
  excludeProfiles?: readonly string[];
  /** ISO-8601 instants (UTC, milliseconds, as stored). */
  validAt?: string;
  notAfterBefore?: string;
  notAfterAfter?: string;
}

/** Where a page starts: after this certificate in (authority id, serial) order, or in the sort's order when the search is sorted. */
export interface SearchPosition {
  authorityId: string;
  serial: string;
  /** With a sort: the sort column's value of that certificate. */
  key?: string;
}

/** The columns a search can be sorted by (API name → column), then by (authority, serial); anything else is refused by the route's schema. */
export const CERTIFICATE_SORT_COLUMNS = { issuedAt: 'issued_at', notAfter: 'not_after', subject: 'subject' } as const;
/** A sort of the search: a column of CERTIFICATE_SORT_COLUMNS and a direction. */
export interface CertificateSort {
  key: keyof typeof CERTIFICATE_SORT_COLUMNS;
  dir: 'asc' | 'desc';
}

/** One certificate as a search returns it. */
export interface CertificateHit {
  authorityId: string;
  ca: string;
  issuer: string;
  serial: string;
  profile: string;
  subject: string;
  holderOrg: string | null;
  holderEmail: string | null;
  notBefore: string;
  notAfter: string;
  status: CertificateStatus;
  revokedAt: string | null;
  reason: string | null;
  invalidityDate: string | null;
  issuedAt: string;
  /** The certificate, when asked for (`withDer`). */
  der?: Buffer;
}

/** One page of hits and where the next one starts (undefined on the last page). */
export interface SearchPage {
  hits: CertificateHit[];
  next?: SearchPosition;
}

interface HitRow {
  authority_id: string;
  ca: string;
  issuer: string;
  serial: string;
  profile: string;
  subject: string;
  holder_org: string | null;
  holder_email: string | null;
  not_before: string;
  not_after: string;
  status: CertificateStatus;
  revoked_at: string | null;
  reason: string | null;
  invalidity_date: string | null;
  issued_at: string;
  der?: Buffer | Uint8Array;
}

/** Escapes `%`, `_` and the escape character itself, so user text matches literally in `LIKE … ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

function contains(column: RawBuilder<unknown>, text: string): RawBuilder<unknown> {
  return sql`lower(${column}) like ${'%' + escapeLike(text.toLowerCase()) + '%'} escape '\\'`;
}

/** The conditions of a search, as SQL fragments with bound values. */
function conditions(c: CertificateCriteria, after: SearchPosition | undefined, sort?: CertificateSort): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (c.ca !== undefined) where.push(sql`c.authority_id = (select id from ca_authorities where name = ${c.ca})`);
  if (c.issuer !== undefined) where.push(sql`i.label = ${c.issuer}`);
  if (c.serial !== undefined) where.push(sql`c.serial = ${c.serial}`);
  for (const s of c.subjectContains ?? []) where.push(contains(sql.ref('c.subject'), s));
  if (c.identity !== undefined) {
    where.push(sql`(c.authority_id, c.serial) in (select x.authority_id, x.serial from ca_certificate_identities x where x.number = ${c.identity})`);
  }
  if (c.org !== undefined) where.push(sql`c.holder_org = ${c.org}`);
  if (c.email !== undefined) where.push(sql`c.holder_email = ${c.email}`);
  if (c.emailContains !== undefined) where.push(contains(sql.ref('c.holder_email'), c.emailContains));
  if (c.status !== undefined) where.push(sql`c.status = ${c.status}`);
  if (c.excludeProfiles?.length) where.push(sql`c.profile not in (${sql.join([...c.excludeProfiles])})`);
  if (c.validAt !== undefined) where.push(sql`c.not_before <= ${c.validAt} and c.not_after >= ${c.validAt}`);
  if (c.notAfterBefore !== undefined) where.push(sql`c.not_after < ${c.notAfterBefore}`);
  if (c.notAfterAfter !== undefined) where.push(sql`c.not_after > ${c.notAfterAfter}`);
  if (after && sort) {
    // Keyset paging in the sort's order: past the last row's (column, authority, serial).
    const col = sql.ref(`c.${CERTIFICATE_SORT_COLUMNS[sort.key]}`);
    const op = sql.raw(sort.dir === 'asc' ? '>' : '<');
    where.push(
      sql`(${col} ${op} ${after.key ?? ''} or (${col} = ${after.key ?? ''} and (c.authority_id ${op} ${after.authorityId} or (c.authority_id = ${after.authorityId} and c.serial ${op} ${after.serial}))))`,
    );
  } else if (after) where.push(sql`(c.authority_id > ${after.authorityId} or (c.authority_id = ${after.authorityId} and c.serial > ${after.serial}))`);
  return where;
}

function toHit(r: HitRow): CertificateHit {
  return {
    authorityId: r.authority_id,
    ca: r.ca,
    issuer: r.issuer,
    serial: r.serial,
    profile: r.profile,
    subject: r.subject,
    holderOrg: r.holder_org,
    holderEmail: r.holder_email,
    notBefore: r.not_before,
    notAfter: r.not_after,
    status: r.status,
    revokedAt: r.revoked_at,
    reason: r.reason,
    invalidityDate: r.invalidity_date,
    issuedAt: r.issued_at,
    ...(r.der ? { der: Buffer.from(r.der) } : {}),
  };
}

/** Searches the recorded certificates of every authority. */
export class CertificateSearch {
  constructor(private readonly database: Database) {}

  /** One page of the certificates that meet every criterion, in (authority, serial) order or by `page.sort` then (authority, serial). */
  async search(criteria: CertificateCriteria, page: { limit: number; after?: SearchPosition; withDer?: boolean; sort?: CertificateSort }): Promise<SearchPage> {
    const sort = page.sort;
    const where = conditions(criteria, page.after, sort);
    const dir = sql.raw(sort?.dir === 'desc' ? 'desc' : 'asc');
    const order = sort ? sql`order by ${sql.ref(`c.${CERTIFICATE_SORT_COLUMNS[sort.key]}`)} ${dir}, c.authority_id ${dir}, c.serial ${dir}` : sql`order by c.authority_id, c.serial`;
    const der = page.withDer ? sql`, c.der` : sql``;
    const rows = await all<HitRow>(
      this.database.db,
      sql`select c.authority_id, a.name as ca, i.label as issuer, c.serial, c.profile, c.subject, c.holder_org, c.holder_email,
                 c.not_before, c.not_after, c.status, c.revoked_at, c.reason, c.invalidity_date, c.issued_at${der}
          from ca_certificates c
          join ca_authorities a on a.id = c.authority_id
          join ca_issuers i on i.id = c.issuer_id
          ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
          ${order}
          limit ${page.limit + 1}`,
    );
    const hits = rows.slice(0, page.limit).map(toHit);
    const last = hits[hits.length - 1];
    const key = (h: CertificateHit): string => (sort?.key === 'issuedAt' ? h.issuedAt : sort?.key === 'notAfter' ? h.notAfter : h.subject);
    return rows.length > page.limit && last ? { hits, next: { authorityId: last.authorityId, serial: last.serial, ...(sort ? { key: key(last) } : {}) } } : { hits };
  }
}

/** Records the identity numbers of a certificate being recorded, inside the caller's transaction. */
export async function insertIdentityNumbers(tx: Executor, authorityId: string, serial: string, numbers: readonly IdentityNumber[]): Promise<void> {
  // On every issuance: SQL text built once per row count, no query builder (store/sql.ts `statement`).
  const text = (identityInserts[numbers.length] ??= `insert into ca_certificate_identities (authority_id, serial, kind, number) values ${numbers.map(() => '(?, ?, ?, ?)').join(', ')}`);
  await run(tx, statement(text, numbers.flatMap((n) => [authorityId, serial, n.kind, n.number])));
}

const identityInserts: string[] = [];

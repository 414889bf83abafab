/**
 * The public certificate search's parameters: their JSON schema (fastify refuses anything else
 * with a 400 before our code runs) and their translation into search criteria. Free text is
 * bounded and free of control characters (PostgreSQL refuses NUL in text, which must be a 400,
 * not a 500); identity numbers match only exactly, so the API cannot enumerate ID numbers.
 */
import { normalizeSerial } from '../../ca/authority.js';
import { normalizeIdentityNumber } from '../../ca/holder.js';
import { CERTIFICATE_SORT_COLUMNS, type CertificateCriteria, type CertificateSort, type SearchPosition } from '../../ca/search.js';
import type { CertificateStatus } from '../../ca/tables.js';
import { InvalidRequestError } from '../../errors.js';

/** The largest page the search returns. */
export const MAX_PAGE = 100;
/** The page size when none is asked for. */
export const DEFAULT_PAGE = 20;

/** Printable text: no C0/C1 control characters, no lone surrogates' replacement trouble. */
const TEXT = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';
const text = (maxLength: number, description: string) => ({ type: 'string', minLength: 1, maxLength, pattern: TEXT, description }) as const;
const instant = (description: string) => ({ type: 'string', format: 'date-time', maxLength: 40, description }) as const;

/** JSON schema of the search's query string. */
export const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ca: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'CA (authority) name, e.g. demo-sm2' },
    serial: { type: 'string', minLength: 1, maxLength: 130, pattern: '^(0[xX])?[0-9A-Fa-f:]+$', description: 'serial number, hex (colons and 0x allowed)' },
    subject: text(128, 'case-insensitive part of the subject, e.g. "CN=张三" or "心内科"'),
    identity: { type: 'string', minLength: 4, maxLength: 64, pattern: '^[0-9A-Za-z -]+$', description: 'an identity number of the GB/T 20518 extensions (resident ID, social credit code, organisation code, …), matched exactly' },
    org: text(128, "the holder's organisation (the subject's O), matched exactly"),
    status: { type: 'string', enum: ['valid', 'hold', 'revoked'] },
    validAt: instant('only certificates within their validity period at this instant (RFC 3339)'),
    notAfterBefore: instant('only certificates that expire before this instant'),
    notAfterAfter: instant('only certificates that expire after this instant'),
    // A sorted page's cursor carries the last row's sort value (a subject can be long).
    cursor: { type: 'string', minLength: 1, maxLength: 2000, pattern: '^[A-Za-z0-9_-]+$', description: 'the "next" value of the previous page (of the same sort)' },
    sort: { type: 'string', enum: Object.keys(CERTIFICATE_SORT_COLUMNS), description: 'order by issue time, expiry or subject (then CA and serial); default: CA and serial' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'asc', description: 'direction of sort' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: `page size, at most ${MAX_PAGE}` },
  },
} as const;

/** The query string as validated by the schema. */
export interface SearchQuery {
  ca?: string;
  serial?: string;
  subject?: string;
  identity?: string;
  org?: string;
  status?: CertificateStatus;
  validAt?: string;
  notAfterBefore?: string;
  notAfterAfter?: string;
  cursor?: string;
  limit?: number;
  sort?: CertificateSort['key'];
  order?: 'asc' | 'desc';
}

/** An RFC 3339 instant as stored (ISO-8601 UTC with milliseconds); 400 when it is no real instant. */
function instantOf(value: string, name: string): string {
  const d = new Date(value);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1 || year > 9999) throw new InvalidRequestError('query.time', `${name} is not a date and time such as 2026-01-31T00:00:00Z`);
  return d.toISOString();
}

/** The search criteria of a validated query string. */
export function criteriaOf(q: SearchQuery): CertificateCriteria {
  const identity = q.identity === undefined ? undefined : normalizeIdentityNumber(q.identity);
  if (identity === '') throw new InvalidRequestError('query.identity', 'identity must contain letters or digits');
  return {
    ca: q.ca,
    serial: q.serial === undefined ? undefined : normalizeSerial(q.serial),
    subjectContains: q.subject === undefined ? undefined : [q.subject],
    identity,
    org: q.org,
    status: q.status,
    validAt: q.validAt === undefined ? undefined : instantOf(q.validAt, 'validAt'),
    notAfterBefore: q.notAfterBefore === undefined ? undefined : instantOf(q.notAfterBefore, 'notAfterBefore'),
    notAfterAfter: q.notAfterAfter === undefined ? undefined : instantOf(q.notAfterAfter, 'notAfterAfter'),
  };
}

const CURSOR = /^([0-9a-f-]{36})\/(-?[0-9a-f]{1,130})(?:\/(issuedAt|notAfter|subject)\.(asc|desc)\/([^]*))?$/;

/** The sort a query asks for, if any. */
export function sortOf(q: SearchQuery): CertificateSort | undefined {
  return q.sort === undefined ? undefined : { key: q.sort, dir: q.order === 'desc' ? 'desc' : 'asc' };
}

/** The opaque cursor of a position (of a sorted search: with the sort and the last row's sort value). */
export function encodeCursor(p: SearchPosition, sort?: CertificateSort): string {
  const tail = sort ? `/${sort.key}.${sort.dir}/${p.key ?? ''}` : '';
  return Buffer.from(`${p.authorityId}/${p.serial}${tail}`, 'utf8').toString('base64url');
}

/** The position a cursor names; 400 when it is not one this service made for this same sort. */
export function decodeCursor(cursor: string, sort?: CertificateSort): SearchPosition {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidRequestError('query.cursor', 'cursor is not the "next" value of a previous page');
  const same = sort ? m[3] === sort.key && m[4] === sort.dir : m[3] === undefined;
  if (!same) throw new InvalidRequestError('query.cursor', 'cursor belongs to a page of another sort order; start again without a cursor');
  return { authorityId: m[1]!, serial: m[2]!, ...(sort ? { key: m[5]! } : {}) };
}

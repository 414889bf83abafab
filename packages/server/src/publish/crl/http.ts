/**
 * Serving CRLs at the URLs certificates carry (/ca/<ca>/<label>[-p<n>][-delta].crl) as
 * application/pkix-crl, with the cache headers relying parties and HTTP caches use: an ETag from
 * the DER's hash (304 on If-None-Match), Last-Modified from thisUpdate, and max-age no later than
 * nextUpdate (shorter for delta CRLs, which change with every revocation).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors.js';
import type { CrlService, PublishedCrl } from './publisher.js';
import type { CrlKind } from './tables.js';

/** Which CRL a file name under /ca/<ca>/ asks for. */
export interface CrlFile {
  label: string;
  kind: CrlKind;
  partition: number;
}

const CRL_FILE = /^([a-z0-9][a-z0-9-]{0,63}?)(?:-p([1-9][0-9]{0,5}))?(-delta)?\.crl$/;

/** Reads "<label>[-p<n>][-delta].crl"; undefined when the name is not a CRL's. */
export function parseCrlFile(file: string): CrlFile | undefined {
  const m = CRL_FILE.exec(file);
  if (!m) return undefined;
  return { label: m[1]!, partition: m[2] ? Number(m[2]) : 0, kind: m[3] ? 'delta' : 'full' };
}

/** Longest max-age for a delta CRL, s: a cache must come back soon to see new revocations. */
const DELTA_MAX_AGE = 60;
/** Longest max-age for a complete CRL, s: it is regenerated about hourly. */
const FULL_MAX_AGE = 3_600;

/** Answers a request for a CRL: 200 with the DER, or 304 when the client's copy is current. */
export async function serveCrl(crls: CrlService, authority: string, file: CrlFile, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const crl = await crls.current(authority, file.label, file.kind, file.partition);
  if (!crl) throw new NotFoundError('crl.partition.unknown', `CA "${authority}/${file.label}" has no CRL partition ${file.partition}`);
  const etag = `"${crl.sha256}"`;
  reply
    .header('etag', etag)
    .header('last-modified', crl.thisUpdate.toUTCString())
    .header('expires', crl.nextUpdate.toUTCString())
    .header('cache-control', `public, max-age=${maxAge(crl, file.kind)}`);
  if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type('application/pkix-crl').send(crl.der);
}

function maxAge(crl: PublishedCrl, kind: CrlKind): number {
  const untilNext = Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000);
  return Math.max(0, Math.min(untilNext, kind === 'delta' ? DELTA_MAX_AGE : FULL_MAX_AGE));
}

/** RFC 9110 §13.1.2: weak comparison, a list of tags or "*". */
function matches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

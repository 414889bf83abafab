/**
 * The trust list over HTTP, public (relying parties fetch it without credentials):
 *   GET /platform/trust-list              the newest list, CMS SignedData DER
 *   GET /platform/trust-list/history      every version (JSON, without the bytes)
 *   GET /platform/trust-list/certificate  the signer certificate to pin (DER)
 *   GET /platform/trust-list/:version     one version, DER
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidRequestError, NotFoundError } from '../../errors.js';
import type { PublishedTrustList, TrustListPublisher } from './publisher.js';

/** What the routes need. */
export interface TrustListRouteDeps {
  trustList: TrustListPublisher;
}

/** The media type of a CMS SignedData (RFC 8551). */
export const TRUST_LIST_TYPE = 'application/pkcs7-mime; smime-type=signed-data';

/** Adds the trust list routes to the platform's app. */
export function registerTrustListRoutes(app: FastifyInstance, deps: TrustListRouteDeps): void {
  const config = { access: 'public' as const };
  app.get('/platform/trust-list', { config }, async (_req, reply) => sendList(reply, await deps.trustList.current(), 'no-cache'));
  app.get('/platform/trust-list/history', { config }, async () => ({ versions: await deps.trustList.history() }));
  app.get('/platform/trust-list/certificate', { config }, async (_req, reply) => reply.type('application/pkix-cert').send((await deps.trustList.certificate()).der));
  app.get<{ Params: { version: string } }>('/platform/trust-list/:version', { config }, async (req, reply) => {
    const raw = req.params.version;
    if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new InvalidRequestError('platform.trust-list.version', `"${raw}" is not a trust list version (a positive integer)`);
    const list = await deps.trustList.version(Number(raw));
    if (!list) throw new NotFoundError('platform.trust-list.unknown', `there is no trust list version ${raw}`);
    // A published version never changes.
    return sendList(reply, list, 'public, max-age=31536000, immutable');
  });
}

function sendList(reply: FastifyReply, list: PublishedTrustList, cacheControl: string): FastifyReply {
  return reply
    .type(TRUST_LIST_TYPE)
    .header('cache-control', cacheControl)
    .header('etag', `"${list.sha256}"`)
    .header('x-trust-list-version', String(list.version))
    .send(list.der);
}

/**
 * The OCSP responder as fastify routes: what the API document lists and what in-process tests
 * (`inject`) reach. Over a socket the node:http fast path of http.ts answers /ocsp/ first; both
 * produce their replies with ocspHttpReply, so they cannot differ.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_OCSP_REQUEST, ocspHttpReply } from './http.js';
import type { OcspResponder } from './responder.js';

const ocspParams = { type: 'object', required: ['ca'], properties: { ca: { type: 'string', maxLength: 64 } } } as const;
const binary = { description: 'DER OCSPResponse (application/ocsp-response)', type: 'string', format: 'binary' } as const;

/** Registers POST /ocsp/:ca and GET /ocsp/:ca/<base64 request>. */
export function ocspRoutes(app: FastifyInstance, responder: OcspResponder): void {
  const reply = async (req: FastifyRequest, res: FastifyReply) => {
    const r = await ocspHttpReply(responder, req.method, req.url, req.body instanceof Buffer ? req.body : undefined, req.headers['if-none-match'], (e) =>
      req.log.error({ err: e }, 'OCSP responder failure (answered tryLater)'),
    );
    return res.code(r.status).headers(r.headers).send(r.body);
  };
  void app.register(async (scope) => {
    // OCSP clients send application/ocsp-request; some send none or another type: the body is the request either way.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST }, (_req, body, done) => done(null, body));
    scope.post(
      '/ocsp/:ca',
      {
        config: { access: 'public' },
        schema: {
          tags: ['publication'],
          summary: 'OCSP responder of a CA (RFC 6960/5019): POST a DER OCSPRequest (application/ocsp-request)',
          description: 'Answers for the root and issuing CAs of this CA; nonce echoed when asked (then signed fresh). OCSP errors (malformedRequest, unauthorized) are HTTP 200 with the OCSP error response.',
          params: ocspParams,
          response: { 200: binary },
        },
      },
      reply,
    );
    scope.get(
      '/ocsp/:ca/*',
      {
        config: { access: 'public' },
        schema: {
          tags: ['publication'],
          summary: 'OCSP responder of a CA, GET form: the base64 DER request (URL-encoded) after the CA name',
          description: 'Pre-produced responses carry Cache-Control (max-age up to nextUpdate, public, no-transform), ETag, Last-Modified and Expires (RFC 5019 §6).',
          response: { 200: binary },
        },
      },
      reply,
    );
  });
}

/**
 * One place that turns every failure into an HTTP answer. Bad input is always a 4xx with a code
 * and a sentence: schema violations 400, unparseable certificates and CSRs 400, broken profile
 * rules 422 naming the rule, state conflicts 409, oversize bodies 413. Only our own bugs are 500,
 * and those are logged with their stack but answered without detail.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ParseError, PkiError, ProfileError, UnsupportedError } from '@health-pki/pki';
import { ServiceError } from '../errors.js';

/** The body of every error answer. */
export interface ErrorBody {
  /** Stable code, e.g. "ca.unknown", "profile.identity.required", "bad-request". */
  error: string;
  message: string;
  /** For broken profile rules: the rule's name, and the sentence in Chinese. */
  rule?: string;
  messageZh?: string;
}

/** JSON schema of ErrorBody, for the OpenAPI document. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    rule: { type: 'string' },
    messageZh: { type: 'string' },
  },
  required: ['error', 'message'],
} as const;

/** Status and body for an error. */
export function describeHttpError(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof ServiceError) return { status: e.status, body: { error: e.code, message: e.message } };
  if (e instanceof ProfileError) {
    const zh = (e as ProfileError & { messageZh?: string }).messageZh;
    return { status: 422, body: { error: e.code, message: e.message, rule: e.rule, ...(zh ? { messageZh: zh } : {}) } };
  }
  if (e instanceof ParseError) return { status: 400, body: { error: e.code, message: e.message } };
  if (e instanceof UnsupportedError) return { status: 422, body: { error: e.code, message: e.message } };
  if (e instanceof PkiError) return { status: 400, body: { error: e.code, message: e.message } };
  const fe = e as FastifyError;
  if (fe?.validation) {
    return { status: 400, body: { error: 'bad-request', message: fe.message } };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body.too-large' : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'body.media-type' : 'bad-request';
    return { status: fe.statusCode, body: { error: code, message: fe.message } };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error; the service log has the details' } };
}

/** The fastify error handler. */
export function handleError(e: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = describeHttpError(e);
  if (status >= 500) req.log.error({ err: e }, 'request failed');
  else req.log.info({ status, error: body.error }, body.message);
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="hpki"');
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * OCSP over HTTP (RFC 6960 appendix A, RFC 5019 §5-6) at /ocsp/<authority>: POST with the DER
 * request as body, GET with it base64 (or base64url) in the path. OCSP-level outcomes, even
 * malformedRequest and unauthorized, are HTTP 200 with the OCSP error response, as clients
 * expect; HTTP-level misuse is 4xx (wrong method 405, oversize 413, slow body 408); a database
 * that is away is 503 with tryLater. Pre-produced responses to GET carry the RFC 5019 caching
 * headers, so that any HTTP cache can serve them until nextUpdate.
 *
 * This is served on a plain node:http listener consulted before fastify (see ocspServerFactory):
 * measured here, fastify's routing, hooks and reply handling cost about a quarter of the
 * responder's throughput, which is a pre-produced buffer lookup. The same replies are also
 * routed through fastify (routes.ts) for the API document and in-process tests.
 */
import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { OCSP_ERRORS, requestKey, type OcspAnswer, type OcspResponder } from './responder.js';

/** The path prefix of the responder (ca/urls.ts). */
export const OCSP_PREFIX = '/ocsp/';
/** OCSP requests are a few hundred bytes; signed ones with certificates a few KB. */
export const MAX_OCSP_REQUEST = 16 * 1024;
const AUTHORITY = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** An HTTP answer, independent of the server that sends it. */
export interface OcspHttpReply {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
}

const TEXT = (status: number, message: string, extra: Record<string, string> = {}): OcspHttpReply => {
  const body = Buffer.from(message + '\n');
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...extra }, body };
};

function ocspReply(a: OcspAnswer, get: boolean, ifNoneMatch: string | undefined, now: number): OcspHttpReply {
  const headers: Record<string, string | number> = { 'content-type': 'application/ocsp-response', 'content-length': a.der.length };
  const c = a.cached;
  if (get && c) {
    headers['cache-control'] = `max-age=${Math.max(0, Math.floor((c.nextUpdate - now) / 1000))}, public, no-transform, must-revalidate`;
    headers.etag = c.etag;
    headers['last-modified'] = c.lastModified;
    headers.expires = c.expires;
    if (ifNoneMatch === c.etag) return { status: 304, headers: { etag: c.etag, 'cache-control': headers['cache-control'] as string }, body: Buffer.alloc(0) };
  } else {
    // Nonce and error responses are for this request only.
    headers['cache-control'] = 'no-store';
  }
  return { status: a.status === 'tryLater' ? 503 : 200, headers, body: a.der };
}

/** Where the request goes: the authority and, for GET, the encoded request. */
function route(path: string): { authority: string; encoded: string } {
  const q = path.indexOf('?');
  const rest = (q < 0 ? path : path.slice(0, q)).slice(OCSP_PREFIX.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  return { authority, encoded: slash < 0 ? '' : rest.slice(slash + 1) };
}

/**
 * The reply to one request for `path` (starting with /ocsp/); `body` is the POST body. Returns
 * synchronously when the answer is pre-produced. Never throws: a failure (the database away) is
 * answered tryLater and handed to `onError`.
 */
export function ocspHttpReply(
  responder: OcspResponder,
  method: string,
  path: string,
  body: Buffer | undefined,
  ifNoneMatch?: string,
  onError?: (e: unknown) => void,
): OcspHttpReply | Promise<OcspHttpReply> {
  const r = route(path);
  const get = method === 'GET' || method === 'HEAD';
  if (!get && method !== 'POST') return TEXT(405, 'OCSP requests are POST (DER body) or GET (base64 in the path)', { allow: 'GET, HEAD, POST' });
  // Only URL-safe names are authorities: anything else is answered without a lookup.
  if (!AUTHORITY.test(r.authority)) return ocspReply(OCSP_ERRORS.unauthorized, false, undefined, 0);
  let key: string;
  let der: Buffer;
  if (get) {
    if (r.encoded === '') return TEXT(400, 'OCSP GET needs the base64 DER request after /ocsp/<authority>/ (RFC 6960 appendix A.1)');
    key = requestKey(r.authority, 'G', r.encoded);
    const hit = responder.cachedAnswer(key);
    if (hit) return ocspReply(hit, true, ifNoneMatch, Date.now());
    try {
      der = Buffer.from(decodeURIComponent(r.encoded), 'base64');
    } catch {
      return ocspReply(OCSP_ERRORS.malformedRequest, false, undefined, 0);
    }
  } else {
    if (r.encoded !== '') return TEXT(404, 'OCSP POST requests go to /ocsp/<authority>');
    der = body ?? Buffer.alloc(0);
    key = requestKey(r.authority, 'P', der.toString('latin1'));
    const hit = responder.cachedAnswer(key);
    if (hit) return ocspReply(hit, false, undefined, 0);
  }
  return responder.answer(r.authority, der, key).then(
    (a) => ocspReply(a, get, ifNoneMatch, Date.now()),
    (e: unknown) => {
      onError?.(e);
      return ocspReply(OCSP_ERRORS.tryLater, false, undefined, 0);
    },
  );
}

function send(res: ServerResponse, r: OcspHttpReply): void {
  if (res.destroyed) return;
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

/** Serves one /ocsp/ request on node:http; the POST body must arrive within `bodyTimeoutMs` of the headers. */
export function handleOcsp(responder: OcspResponder, req: IncomingMessage, res: ServerResponse, bodyTimeoutMs = 5000, onError?: (e: unknown) => void): void {
  const url = req.url ?? '/';
  const method = req.method ?? 'GET';
  req.on('error', () => undefined);
  res.on('error', () => undefined);
  const finish = (body?: Buffer) => {
    const r = ocspHttpReply(responder, method, url, body, req.headers['if-none-match'], onError);
    if (r instanceof Promise) r.then((x) => send(res, x), () => send(res, TEXT(500, 'internal error')));
    else send(res, r);
  };
  if (method !== 'POST') {
    req.resume();
    finish();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_OCSP_REQUEST) {
    res.setHeader('connection', 'close');
    send(res, TEXT(413, `an OCSP request is at most ${MAX_OCSP_REQUEST} bytes`));
    req.destroy();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => {
    res.setHeader('connection', 'close');
    send(res, TEXT(408, 'the OCSP request body did not arrive in time'));
    req.destroy();
  }, bodyTimeoutMs);
  let answered = false;
  const complete = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  };
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_OCSP_REQUEST) {
      clearTimeout(timer);
      res.setHeader('connection', 'close');
      send(res, TEXT(413, `an OCSP request is at most ${MAX_OCSP_REQUEST} bytes`));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size <= MAX_OCSP_REQUEST) complete();
  });
  req.on('close', () => clearTimeout(timer));
}

/** Connection limits of the HTTP server: what keeps slow or idle clients from holding it. */
export interface ServerTimeouts {
  /** Time for a client to send its complete headers (default 10 s; slowloris). */
  headersTimeoutMs?: number;
  /** Time for a whole request (default 120 s; the API takes uploads). */
  requestTimeoutMs?: number;
  /** Idle time between keep-alive requests (default 10 s). */
  keepAliveTimeoutMs?: number;
  /** Time for an OCSP request body once its headers are in (default 5 s). */
  ocspBodyTimeoutMs?: number;
}

/**
 * A fastify `serverFactory`: the node:http server whose listener sends /ocsp/ requests to the
 * responder and everything else to fastify, with timeouts that close slow and idle clients.
 * `onError` hears of responder failures (answered tryLater).
 */
export function ocspServerFactory(responder: OcspResponder, t: ServerTimeouts = {}, onError?: (e: unknown) => void) {
  return (fastifyHandler: RequestListener): Server => {
    const headersTimeout = t.headersTimeoutMs ?? 10_000;
    const server = http.createServer(
      {
        headersTimeout,
        requestTimeout: Math.max(t.requestTimeoutMs ?? 120_000, headersTimeout + 1),
        keepAliveTimeout: t.keepAliveTimeoutMs ?? 10_000,
        // How often the timeouts above are checked (default 30 s would let slow clients linger).
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      },
      (req, res) => {
        if (req.url?.startsWith(OCSP_PREFIX)) handleOcsp(responder, req, res, t.ocspBodyTimeoutMs, onError);
        else fastifyHandler(req, res);
      },
    );
    // A client that connects and closes, or sends garbage, must not surface as an error.
    server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      const status = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable && e.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    });
    return server;
  };
}

/**
 * HTTPS with client certificates: wraps the plain HTTP server factory (which answers /ocsp/
 * before fastify) so the same request listener and timeouts serve TLS connections.
 */
import https from 'node:https';
import type { RequestListener, Server } from 'node:http';

/** A fastify serverFactory serving HTTPS with `tls`, reusing the listener and timeouts of `plain`. */
export function httpsServerFactory(plain: (handler: RequestListener) => Server, tls: https.ServerOptions) {
  return (handler: RequestListener): Server => {
    const model = plain(handler);
    const listener = model.listeners('request')[0] as RequestListener;
    const server = https.createServer({ ...tls, headersTimeout: model.headersTimeout, requestTimeout: model.requestTimeout, keepAliveTimeout: model.keepAliveTimeout }, listener);
    // A failed handshake (no or bad client certificate is not one: it is only requested) is the client's problem.
    server.on('tlsClientError', () => undefined);
    for (const l of model.listeners('clientError')) server.on('clientError', l as (...args: unknown[]) => void);
    return server as unknown as Server;
  };
}

/** A small client for the service's HTTP API, over fastify's inject (in-process) or real HTTP. */
import type { FastifyInstance } from 'fastify';

/** An answer: status, parsed JSON (when JSON), raw body and headers. */
export interface Answer<T = any> {
  status: number;
  json: T;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** Calls the API. */
export type Api = <T = any>(method: string, path: string, body?: unknown, token?: string) => Promise<Answer<T>>;

function parse(body: Buffer, type: string | undefined): any {
  if (!type?.includes('json') || body.length === 0) return undefined;
  return JSON.parse(body.toString('utf8'));
}

/** A client that injects requests into an app without a socket. */
export function injectApi(app: FastifyInstance): Api {
  return async (method, path, body, token) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await app.inject({ method: method as 'GET', url: path, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const raw = r.rawPayload;
    return { status: r.statusCode, json: parse(raw, r.headers['content-type'] as string | undefined), body: raw, headers: r.headers as Answer['headers'] };
  };
}

/** A client over real HTTP (fetch). */
export function httpApi(baseUrl: string): Api {
  return async (method, path, body, token) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // A hung server must fail the test, not stall it.
    const r = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const raw = Buffer.from(await r.arrayBuffer());
    const h: Record<string, string> = {};
    r.headers.forEach((v, k) => (h[k] = v));
    return { status: r.status, json: parse(raw, h['content-type']), body: raw, headers: h };
  };
}

/**
 * The holder's local signing agent: a small HTTP service on 127.0.0.1 over the holder's software
 * tokens (packages/token), the way Chinese certificate USB keys work with web applications today
 * (the vendor's local service the page calls). It belongs to the holder's machine, not to the EMR:
 * the EMR server never sees a key or a PIN, only signatures.
 *
 *   GET  /v1/certificates   the signing certificates of every token it serves (readable without a PIN)
 *   POST /v1/sign           {id, pin, data (base64), hash?} → {signature (base64), algorithm}
 *
 * Each signature needs the user PIN (the token's retry counter applies; a locked token stays
 * locked). Only pages of the configured origins may call it (CORS with an exact allow-list, checked
 * on every request, not only preflights), and the Host header must name the loopback address, so a
 * web site cannot reach it by DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Certificate, type HashName } from '@health-pki/pki';
import { PinIncorrectError, PinLockedError, SoftToken, TokenError } from '@health-pki/token';

/** One token file the agent serves. */
export interface AgentToken {
  file: string;
  /** Application (default HPKI). */
  application?: string;
}

/** Options of the agent. */
export interface AgentOptions {
  tokens: AgentToken[];
  /** Origins (scheme://host:port) whose pages may use the agent. */
  allowedOrigins: string[];
  port?: number;
}

/** A certificate the agent offers. */
export interface AgentCertificate {
  id: string;
  label: string;
  container: string;
  subject: string;
  issuer: string;
  serial: string;
  notAfter: string;
  algorithm: string;
  certificate: string;
}

/** A running agent. */
export interface RunningAgent {
  url: string;
  server: Server;
  /** Adds an origin to the allow-list (e.g. once the EMR's port is known). */
  allowOrigin(origin: string): void;
  close(): Promise<void>;
}

const HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512', 'sm3'];

/** Lists the signing certificates of the tokens (token id / application / container). */
export function listCertificates(tokens: AgentToken[]): AgentCertificate[] {
  const out: AgentCertificate[] = [];
  for (const t of tokens) {
    const token = SoftToken.open(t.file);
    const info = token.info();
    for (const app of info.applications) {
      if (t.application && app.name !== t.application) continue;
      for (const c of app.containers) {
        const cert = token.exportCertificate(app.name, c.name, 'signing');
        if (!cert) continue;
        out.push({
          id: `${info.tokenId}/${app.name}/${c.name}`,
          label: info.label,
          container: c.name,
          subject: cert.subjectText,
          issuer: cert.issuerText,
          serial: cert.serialHex,
          notAfter: cert.notAfter.toISOString(),
          algorithm: c.signing.keyAlgorithm ?? 'unknown',
          certificate: cert.toPem(),
        });
      }
    }
  }
  return out;
}

/** Starts the agent on 127.0.0.1. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const origins = new Set(opts.allowedOrigins);
  let port = 0;
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { error: `agent error: ${(e as Error).message}` }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 still sends Host: evil.example.
    if (req.headers.host !== `127.0.0.1:${port}` && req.headers.host !== `localhost:${port}`) return send(res, 421, { error: 'wrong Host' });
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) return send(res, 403, { error: `origin ${origin} may not use this signing agent` });
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'GET, POST');
      res.setHeader('access-control-allow-headers', 'content-type');
      res.setHeader('access-control-max-age', '600');
      res.writeHead(204).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://agent');
    if (req.method === 'GET' && url.pathname === '/v1/certificates') return send(res, 200, { certificates: listCertificates(opts.tokens) });
    if (req.method === 'POST' && url.pathname === '/v1/sign') {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return send(res, 415, { error: 'send JSON' });
      const body = await readJson(req, 64 * 1024);
      if (!body) return send(res, 400, { error: 'the body is not JSON' });
      const { id, pin, data, hash } = body as Record<string, unknown>;
      if (typeof id !== 'string' || typeof pin !== 'string' || typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return send(res, 400, { error: 'id, pin and data (base64) are required' });
      if (hash !== undefined && !HASHES.includes(hash as HashName)) return send(res, 400, { error: `hash must be one of ${HASHES.join(', ')}` });
      const [tokenId, application, container] = id.split('/');
      const t = opts.tokens.find((x) => SoftToken.open(x.file).info().tokenId === tokenId);
      if (!t || !application || !container) return send(res, 404, { error: 'no such certificate on the inserted tokens' });
      try {
        const session = SoftToken.open(t.file).login(application, pin);
        try {
          const r = session.sign(container, Buffer.from(data, 'base64'), { hash: hash as HashName | undefined });
          return send(res, 200, { signature: r.signature.toString('base64'), algorithm: r.algorithm });
        } finally {
          session.logout();
        }
      } catch (e) {
        if (e instanceof PinLockedError) return send(res, 423, { error: 'PIN 已锁定，请联系证书机构解锁 (the PIN is locked)' });
        if (e instanceof PinIncorrectError) return send(res, 403, { error: `PIN 错误，还可尝试 ${e.remaining} 次 (wrong PIN)`, remaining: e.remaining });
        if (e instanceof TokenError) return send(res, 400, { error: e.message });
        throw e;
      }
    }
    return send(res, 404, { error: 'not found' });
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    allowOrigin: (o) => void origins.add(o),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The certificate of an agent entry (for callers that want it parsed). */
export function parseAgentCertificate(c: AgentCertificate): Certificate {
  return Certificate.parse(c.certificate);
}

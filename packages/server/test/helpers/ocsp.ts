/**
 * For the OCSP tests: a deployment listening on a real socket (so the node:http fast path is
 * what answers), certificates issued through the API, and OCSP over HTTP with our client code.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Certificate, buildOcspRequest, certId, type HashName, type KeyAlgorithm, OcspResponse } from '@health-pki/pki';
import { bootstrap, buildHttpApp, openServices, type HttpOptions, type ServiceOptions, type Services } from '../../src/index.js';
import { createBackend, type TestBackend } from './backends.js';
import { injectApi, type Api } from './api.js';
import { makeCsr } from './pki.js';

/** A running deployment for OCSP tests. */
export interface OcspDeployment {
  backend: TestBackend;
  services: Services;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  api: Api;
  admin: string;
  /** The CA certificates of an authority: root and issuing-1. */
  cas(name: string): Promise<{ root: Certificate; issuing: Certificate }>;
  /** Issues a staff-sign certificate from the authority's issuing CA. */
  issue(name: string, alg: KeyAlgorithm): Promise<Certificate>;
  close(): Promise<void>;
}

/** Opens services on `backend` (created unless given), bootstraps the demo CAs and listens on 127.0.0.1. */
export async function startOcspDeployment(
  backendName: TestBackend['name'],
  opts: { backend?: TestBackend; services?: Partial<ServiceOptions>; http?: HttpOptions; bootstrap?: boolean } = {},
): Promise<OcspDeployment> {
  const backend = opts.backend ?? (await createBackend(backendName));
  const services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, ...opts.services });
  const boot = opts.bootstrap === false ? undefined : await bootstrap(services, backend.dataDir);
  const app = await buildHttpApp(services, { logger: false, ...opts.http });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const api = injectApi(app);
  const admin = boot ? readFileSync(boot.tokenFile, 'utf8').trim() : '';
  return {
    backend,
    services,
    app,
    url,
    api,
    admin,
    async cas(name) {
      const ca = (await api('GET', `/api/v1/cas/${name}`)).json;
      return { root: Certificate.parse(ca.issuers[0].pem), issuing: Certificate.parse(ca.issuers[1].pem) };
    },
    async issue(name, alg) {
      const r = await api('POST', `/api/v1/cas/${name}/enroll`, { profile: 'staff-sign', csr: makeCsr(alg).pem, applicant: { name: '张三' } }, admin);
      if (r.status !== 201) throw new Error(`enroll: ${r.status} ${JSON.stringify(r.json)}`);
      return Certificate.parse(r.json.certificate.pem);
    },
    async close() {
      await app.close();
      await services.close();
      if (!opts.backend) await backend.cleanup();
    },
  };
}

/** An HTTP answer. */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request with a timeout; keep-alive. */
export function httpRequest(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { 'content-type': 'application/ocsp-request', 'content-length': body.length, ...headers } : headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${method} ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A DER OCSP request for `cert` (issued by `issuer`). */
export function ocspRequestDer(cert: Certificate | { serialNumber: Uint8Array }, issuer: Certificate, opts: { hash?: HashName; nonce?: boolean | Uint8Array } = {}): Buffer {
  return buildOcspRequest({ certIds: [certId(cert, issuer, opts.hash ?? 'sha1')], nonce: opts.nonce ?? false }).der;
}

/** POSTs a request to /ocsp/<authority> and parses the answer. */
export async function ocspPost(base: string, authority: string, der: Buffer): Promise<{ http: RawAnswer; response: OcspResponse }> {
  const r = await httpRequest(`${base}/ocsp/${authority}`, 'POST', der);
  return { http: r, response: OcspResponse.parse(r.body) };
}

/** GETs /ocsp/<authority>/<url-encoded base64 request> and parses the answer. */
export async function ocspGet(base: string, authority: string, der: Buffer, headers: Record<string, string> = {}): Promise<{ http: RawAnswer; response?: OcspResponse }> {
  const r = await httpRequest(`${base}/ocsp/${authority}/${encodeURIComponent(der.toString('base64'))}`, 'GET', undefined, headers);
  return { http: r, response: r.status === 200 ? OcspResponse.parse(r.body) : undefined };
}

/** Polls until `check` holds (every 20 ms), returning the milliseconds it took; throws after `limitMs`. */
export async function until(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

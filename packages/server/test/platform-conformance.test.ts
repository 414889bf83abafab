/**
 * The platform's automated conformance test (issue 8) against live endpoints, on SQLite:
 * (1) a real CA service (demo CAs, issuing and revoking through its API, its own CRLs and OCSP
 *     responder) passes once its sample events have arrived, and can then be approved;
 * (2) a deliberately broken CA (a sample outside its profile, a CRL signed by another key, OCSP
 *     saying good for a revoked certificate) fails with a report naming each fault, and approval
 *     stays refused;
 * (3) hostile endpoints — unreachable, garbage, oversized, never answering — become faults within
 *     the time limit, never a crash or a hang;
 * plus the offices' certificate query route, its scope, and the query client refusing forged,
 * replayed, stale, foreign and malformed answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import {
  addDays,
  buildCertificate,
  buildCrl,
  buildOcspResponse,
  Certificate,
  EXT,
  generateKey,
  issueFromProfile,
  OcspRequest,
  parseName,
  selfSignedSigningCertificate,
  signCmsDer,
  SignedDataDoc,
  verifyCms,
  type PrivateKey,
} from '@health-pki/pki';
import { startServer, type RunningServer } from '../src/server.js';
import { buildPlatformApp } from '../src/platform/server.js';
import { openPlatformServices, type PlatformServices } from '../src/platform/service.js';
import { signSyncBatch, type SyncMessage } from '../src/platform/sync/message.js';
import { application } from './helpers/platform.js';
import { makeCsr } from './helpers/pki.js';

type Json = any;

/** A platform-access identity (the CA's key that signs sync batches and query answers). */
function accessIdentity(cn: string): { key: PrivateKey; cert: Certificate } {
  const key = generateKey('p256');
  return { key, cert: selfSignedSigningCertificate(key, parseName(`C=CN,O=Test,CN=${cn}`), { notBefore: addDays(new Date(), -1), days: 365 }) };
}

/** Starts an HTTP server on 127.0.0.1 with a handler; answers its URL and a close function. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ------------------------------------------------------------------------------------------------
// The CA side of the platform protocol for the broken CA (test 2): a CA made with the pki library
// has no CA service, so these two functions play its query interface and its outbox. The real CA
// (test 1) uses the CA service's own query route and outbox sender (platform-link/).
// ------------------------------------------------------------------------------------------------

/** One certificate as the query answer states it. */
type Lookup = (serial: string) => Promise<Record<string, unknown>>;

/** Serves the CA side of the certificate query protocol: checks the platform's signature, answers signed by the access key. */
async function standInQueryInterface(platformCert: () => Promise<Certificate>, access: { key: PrivateKey; cert: Certificate }, lookup: Lookup) {
  return serve(async (req, res) => {
    try {
      const doc = SignedDataDoc.parse(await readBody(req));
      const verdict = verifyCms(doc, { certificates: [await platformCert()] });
      if (!verdict.valid || !verdict.signerCertificate?.der.equals((await platformCert()).der)) throw new Error('not signed by the platform');
      const q = JSON.parse(doc.content!.toString('utf8')) as { ca: string; serials: string[]; nonce: string; at: string };
      if (Math.abs(Date.parse(q.at) - Date.now()) > 300_000) throw new Error('stale');
      const certificates = await Promise.all(q.serials.map(lookup));
      const content = Buffer.from(JSON.stringify({ ca: q.ca, nonce: q.nonce, at: new Date().toISOString(), certificates }));
      res.writeHead(200, { 'content-type': 'application/cms' }).end(signCmsDer({ content, signer: access.key, cert: access.cert }));
    } catch (e) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
    }
  });
}

/** Delivers sync events as a CA's outbox would: one signed batch to POST /platform/sync/messages. */
async function standInSync(app: FastifyInstance, ca: string, access: { key: PrivateKey; cert: Certificate }, messages: SyncMessage[]): Promise<void> {
  const r = await app.inject({ method: 'POST', url: '/platform/sync/messages', headers: { 'content-type': 'application/cms' }, payload: signSyncBatch({ ca, messages }, access.key, access.cert) });
  assert.equal(r.statusCode, 200, r.body);
}

/** Waits until `check` holds (polling), failing after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------------------------------------------

/** A CA made with the pki library (root → issuing), issuing staff-sign samples with the given URLs. */
function libraryCa(name: string) {
  const rootKey = generateKey('p256');
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName(`C=CN,O=${name},CN=${name} Root`), publicKey: rootKey.publicKey, issuerKey: rootKey });
  const issuingKey = generateKey('p256');
  const issuing = issueFromProfile({ profile: 'sub-ca', subject: parseName(`C=CN,O=${name},CN=${name} Issuing`), publicKey: issuingKey.publicKey, issuerCert: root, issuerKey: rootKey });
  const sample = (cn: string, urls: { crl: string; ocsp: string }) =>
    issueFromProfile({
      profile: 'staff-sign',
      subject: parseName(`C=CN,O=示例医院,CN=${cn}`),
      publicKey: generateKey('p256').publicKey,
      issuerCert: issuing,
      issuerKey: issuingKey,
      identity: { residentId: '11010519491231002X' },
      urls: { crlUrls: [urls.crl], ocspUrls: [urls.ocsp] },
    });
  return { root, issuing, issuingKey, sample };
}

describe('platform conformance test', () => {
  let caDir: string;
  let platformDir: string;
  let ca: RunningServer;
  let caToken: string;
  let platform: PlatformServices;
  let app: FastifyInstance;
  const tok: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];

  const call = async (who: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const r = await app.inject({ method, url, headers: who ? { authorization: `Bearer ${tok[who] ?? who}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.headers['content-type']?.toString().startsWith('application/json') ? (r.json() as Json) : r.body };
  };
  const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const r = await call(who, method, url, payload);
    assert.ok(r.status < 300, `${method} ${url} as ${who}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Json;
  };
  const caApi = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const r = await fetch(ca.url + path, { method, headers: { authorization: `Bearer ${caToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(20_000) });
    const json = (await r.json()) as Json;
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** Files an application, forwards it through the province and answers the CA record. */
  const fileAndForward = async (name: string, extra: Record<string, unknown>) => {
    await ok('national', 'POST', '/platform/cas', { ...application(name, 'GD'), ...extra });
    return ok('prov-GD', 'POST', `/platform/cas/${name}/province-review`, { approve: true });
  };

  before(async () => {
    caDir = mkdtempSync(join(tmpdir(), 'hpki-conf-ca-'));
    platformDir = mkdtempSync(join(tmpdir(), 'hpki-conf-platform-'));
    platform = await openPlatformServices({ dataDir: platformDir, identityAlgorithm: 'p256', fetchTimeoutMs: 1500 });
    app = await buildPlatformApp(platform, { logger: false });
    // Listening too: the real CA service's outbox sender posts its batches here.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const platformUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    ca = await startServer({ dataDir: caDir, port: 0, logger: false, pkiThreads: 0, platform: { url: platformUrl, certificate: await platform.trustList.certificate() }, province: 'GD', platformLink: { pollMs: 50, minBackoffMs: 20, maxBackoffMs: 200 } });
    // The senders are held back until test 1 has seen a run without the CA's sync events.
    await ca.services.platform.stop();
    caToken = readFileSync(ca.tokenFile, 'utf8').trim();
    tok.national = readFileSync(platform.adminTokenFile, 'utf8').trim();
    for (const [id, spec] of [
      ['prov-GD', { role: 'provincial', province: 'GD' }],
      ['prov-BJ', { role: 'provincial', province: 'BJ' }],
      ['auditor', { role: 'auditor' }],
      ['demo-sm2', { role: 'ca', ca: 'demo-sm2' }],
    ] as const) {
      tok[id] = (await ok('national', 'POST', '/platform/tokens', { id, ...spec })).token;
    }
  });
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await ca?.close(); // first: its senders post to the platform
    await app?.close();
    await platform?.close();
    rmSync(caDir, { recursive: true, force: true });
    rmSync(platformDir, { recursive: true, force: true });
  });

  test('a real CA service passes once its sample events have arrived, and is then approved; offices query it', async () => {
    // Samples issued and revoked through the CA service's API; its CRL and OCSP are the real ones.
    const issue = async (cn: string) => Certificate.parse((await caApi('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: makeCsr('sm2', `C=CN,O=示例医院,CN=${cn}`).pem, applicant: { name: cn } })).certificate.pem);
    const good = [await issue('张三'), await issue('李四')];
    const revoked = await issue('王五');
    await caApi('POST', `/api/v1/cas/demo-sm2/certificates/${revoked.serialHex}/revoke`, { reason: 'keyCompromise' });
    // The complete CRL is rebuilt hourly; a CA applying for admission revoked its sample long before.
    const [, authority, label] = /\/ca\/([^/]+)\/([^/]+)\.crl$/.exec(new URL(revoked.crlUrls[0]!).pathname)!;
    await ca.services.crls.refreshNow(authority!, label!, 'full');

    // What the CA files: its certificates, its platform-access certificate and its own query route.
    const filed = await caApi('GET', '/api/v1/platform-access/demo-sm2');
    assert.equal(filed.endpoints.query, `${ca.url}/api/v1/platform-access/demo-sm2/query`);

    await fileAndForward('demo-sm2', {
      certificates: filed.certificates,
      platformAccessCertificate: filed.platformAccessCertificate,
      endpoints: filed.endpoints,
      samples: { good: good.map((c) => c.toPem()), revoked: [revoked.toPem()] },
    });

    // Before the CA's sync events arrive: every check passes but sync, which names each sample.
    const first = await ok('national', 'POST', '/platform/cas/demo-sm2/conformance/run');
    assert.equal(first.report.passed, false);
    assert.deepEqual([...new Set(first.report.faults.map((f: Json) => f.check))], ['sync'], JSON.stringify(first.report.faults, null, 1));
    assert.equal(first.report.faults.length, 4); // three "issued", one "revoked"
    assert.ok(first.report.faults.some((f: Json) => f.message.includes(`no "revoked" sync event for serial ${revoked.serialHex}`)));
    assert.equal(first.ca.status, 'province-reviewed');
    assert.equal(first.ca.conformanceReport.source, 'automated');
    assert.equal((await call('national', 'POST', '/platform/cas/demo-sm2/approve', {})).status, 409);
    const seen = first.report.samples.find((s: Json) => s.serial === revoked.serialHex);
    assert.deepEqual([seen.ocsp, seen.crl, seen.query, seen.profile], ['revoked', 'listed', 'revoked', 'staff-sign']);

    // The CA's outbox sender starts and delivers its events; the test passes, the CA is admitted.
    await ca.services.platform.start();
    await until("the CA's outbox drains", async () => {
      const r = await sql<{ n: number }>`select count(*) as n from platform_outbox where ca = ${'demo-sm2'} and sent_at is null`.execute(ca.services.database.db);
      return Number(r.rows[0]!.n) === 0;
    });
    const second = await ok('national', 'POST', '/platform/cas/demo-sm2/conformance/run');
    assert.deepEqual(second.report.faults, []);
    assert.equal(second.report.passed, true);
    assert.equal(second.ca.status, 'tested');
    assert.deepEqual(second.ca.conformanceReport.faults, []);

    // Offices ask the CA about certificates through the platform.
    const asked = await ok('prov-GD', 'POST', '/platform/cas/demo-sm2/certificates/query', { serials: [revoked.serialHex, good[0]!.serialHex, 'abcdef'] });
    assert.deepEqual(
      asked.certificates.map((c: Json) => [c.serial, c.status]),
      [
        [revoked.serialHex, 'revoked'],
        [good[0]!.serialHex, 'good'],
        ['abcdef', 'unknown'],
      ],
    );
    assert.equal((await ok('auditor', 'POST', '/platform/cas/demo-sm2/certificates/query', { serials: [good[1]!.serialHex] })).certificates[0].status, 'good');
    const audited = await sql<{ n: number }>`select count(*) as n from audit_log where action = ${'platform.ca.query'} and target = ${'platform:ca:demo-sm2'}`.execute(platform.database.db);
    assert.equal(Number(audited.rows[0]!.n), 2, 'each office query is audited');
    const foreign = await call('prov-BJ', 'POST', '/platform/cas/demo-sm2/certificates/query', { serials: ['01'] });
    assert.equal(foreign.status, 404); // a CA the province may not see
    assert.equal((await call('demo-sm2', 'POST', '/platform/cas/demo-sm2/certificates/query', { serials: ['01'] })).status, 403);
    for (const bad of [{}, { serials: [] }, { serials: ['xyz'] }, { serials: Array.from({ length: 101 }, (_, i) => i.toString(16)) }, { serials: [42] }]) {
      const r = await call('national', 'POST', '/platform/cas/demo-sm2/certificates/query', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }

    await ok('national', 'POST', '/platform/cas/demo-sm2/approve', { note: 'conformance test passed' });
    // A connected CA is not tested again through this route.
    assert.equal((await call('national', 'POST', '/platform/cas/demo-sm2/conformance/run')).status, 409);
  });

  test('a broken CA (wrong profile, CRL signed by another key, OCSP good for a revoked certificate) fails with each fault named', async () => {
    const broken = libraryCa('Broken CA');
    const access = accessIdentity('broken-ca platform access');
    let base = '';
    const urls = () => ({ crl: `${base}/issuing.crl`, ocsp: `${base}/ocsp` });
    // Placeholders until the server's port is known: the samples carry its URLs.
    const server = await serve(async (req, res) => {
      const body = await readBody(req);
      if (req.url === '/issuing.crl') {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl.der);
      } else if (req.url === '/ocsp') {
        // Fault 3: "good" for every certificate, the revoked one included.
        const request = OcspRequest.parse(body);
        const resp = buildOcspResponse({ responderCert: broken.issuing, signer: broken.issuingKey, producedAt: new Date(), nonce: request, responses: request.requests.map((i) => ({ certId: i.certId, status: 'good' as const, thisUpdate: new Date(), nextUpdate: addDays(new Date(), 1) })) });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(resp.der);
      } else res.writeHead(404).end();
    });
    closers.push(server.close);
    base = server.url;
    // Fault 1: a staff-sign "sample" valid for ten years without its extended key usage (the profile allows two years, and needs it).
    const proper = broken.sample('赵六', urls());
    const wrongProfile = buildCertificate(
      { subject: proper.subject, issuer: broken.issuing.subjectDer, notBefore: proper.notBefore, notAfter: addDays(proper.notBefore, 3650), publicKey: proper.publicKey, extensions: proper.extensions.filter((e) => e.extnID !== EXT.extKeyUsage) },
      broken.issuingKey,
    );
    const revoked = broken.sample('钱七', urls());
    // Fault 2: the CRL lists the revoked sample, but is signed by a key that is not the CA's.
    const crl = buildCrl({ issuer: broken.issuing, signer: generateKey('p256'), thisUpdate: new Date(), nextUpdate: addDays(new Date(), 1), crlNumber: 1n, entries: [{ serial: revoked.serialNumber, revocationDate: new Date(), reason: 'keyCompromise' }] });
    const truth: Record<string, Record<string, unknown>> = { [wrongProfile.serialHex]: { status: 'good' }, [revoked.serialHex]: { status: 'revoked', reason: 'keyCompromise' } };
    const query = await standInQueryInterface(() => platform.trustList.certificate(), access, async (serial) => ({ serial, ...(truth[serial] ?? { status: 'unknown' }) }));
    closers.push(query.close);

    await fileAndForward('broken-ca', {
      certificates: [broken.root.toPem(), broken.issuing.toPem()],
      platformAccessCertificate: access.cert.toPem(),
      endpoints: { query: query.url },
      samples: { good: [wrongProfile.toPem()], revoked: [revoked.toPem()] },
    });
    const now = new Date().toISOString();
    await standInSync(app, 'broken-ca', access, [
      { seq: 1, kind: 'issued', serial: wrongProfile.serialHex, profile: 'staff-sign', class: 'staff', at: now },
      { seq: 2, kind: 'issued', serial: revoked.serialHex, profile: 'staff-sign', class: 'staff', at: now },
      { seq: 3, kind: 'revoked', serial: revoked.serialHex, at: now, reason: 'keyCompromise' },
    ]);

    const run = await ok('national', 'POST', '/platform/cas/broken-ca/conformance/run');
    const faults = run.report.faults as Array<{ check: string; subject: string; message: string }>;
    const text = JSON.stringify(faults, null, 1);
    assert.equal(run.report.passed, false);
    assert.deepEqual([...new Set(faults.map((f) => f.check))].sort(), ['crl', 'ocsp', 'profile'], text);
    assert.ok(faults.some((f) => f.check === 'profile' && f.subject.includes(wrongProfile.serialHex) && /extKeyUsage\.missing/.test(f.message)), text);
    assert.ok(faults.some((f) => f.check === 'profile' && f.subject.includes(wrongProfile.serialHex) && /validity/.test(f.message)), text);
    assert.ok(faults.some((f) => f.check === 'crl' && f.subject === `${base}/issuing.crl` && f.message.includes('is not signed by the CA')), text);
    assert.ok(faults.some((f) => f.check === 'ocsp' && f.message === `OCSP says good for serial ${revoked.serialHex}, which the CRL lists as revoked (keyCompromise)`), text);
    assert.ok(!faults.some((f) => f.subject.includes(revoked.serialHex) && f.check === 'profile'), 'the proper sample conforms');
    // Stored, named in the record, and admission stays refused.
    const record = await ok('national', 'GET', '/platform/cas/broken-ca');
    assert.equal(record.status, 'province-reviewed');
    assert.equal(record.conformanceReport.passed, false);
    assert.equal(record.conformanceReport.faults.length, faults.length);
    assert.ok(record.conformanceReport.faults.some((f: string) => f.startsWith('[ocsp]') && f.includes('OCSP says good')));
    const approve = await call('national', 'POST', '/platform/cas/broken-ca/approve', {});
    assert.equal(approve.status, 409);
    // Only the national office runs the test.
    assert.equal((await call('prov-GD', 'POST', '/platform/cas/broken-ca/conformance/run')).status, 403);
    assert.equal((await call('auditor', 'POST', '/platform/cas/broken-ca/conformance/run')).status, 403);
  });

  test('unreachable, garbage, oversized and silent endpoints are faults within the time limit, never a crash', async () => {
    const hostile = libraryCa('Hostile CA');
    const access = accessIdentity('hostile-ca platform access');
    const hanging: http.ServerResponse[] = [];
    const server = await serve((req, res) => {
      req.resume();
      if (req.url === '/garbage.crl') res.writeHead(200).end(Buffer.from('this is not a CRL'));
      else if (req.url === '/ocsp') res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.alloc(200_000, 0x30)); // beyond the 64 KB limit
      else if (req.url === '/query') hanging.push(res); // never answers
      else res.writeHead(404).end();
    });
    closers.push(async () => {
      for (const r of hanging) r.destroy();
      await server.close();
    });
    const gone = await serve((_req, res) => res.end());
    await gone.close();
    const closed = gone.url; // nothing listens there any more
    const good = hostile.sample('孙八', { crl: `${server.url}/garbage.crl`, ocsp: `${server.url}/ocsp` });
    const revoked = hostile.sample('周九', { crl: `${closed}/issuing.crl`, ocsp: `${closed}/ocsp` });
    await fileAndForward('hostile-ca', {
      certificates: [hostile.root.toPem(), hostile.issuing.toPem()],
      platformAccessCertificate: access.cert.toPem(),
      endpoints: { query: `${server.url}/query` },
      samples: { good: [good.toPem()], revoked: [revoked.toPem()] },
    });
    const t0 = Date.now();
    const run = await ok('national', 'POST', '/platform/cas/hostile-ca/conformance/run');
    assert.ok(Date.now() - t0 < 10_000, `the run took ${Date.now() - t0} ms`);
    const faults = run.report.faults as Array<{ check: string; subject: string; message: string }>;
    const text = JSON.stringify(faults, null, 1);
    assert.ok(faults.some((f) => f.check === 'crl' && f.subject === `${server.url}/garbage.crl` && f.message.includes('is not a CRL')), text);
    assert.ok(faults.some((f) => f.check === 'crl' && f.subject === `${closed}/issuing.crl` && f.message.includes('could not be reached')), text);
    assert.ok(faults.some((f) => f.check === 'ocsp' && f.message.includes('more than the 65536 bytes allowed')), text);
    assert.ok(faults.some((f) => f.check === 'ocsp' && f.message.includes(`${closed}/ocsp`) && f.message.includes('could not be reached')), text);
    assert.ok(faults.some((f) => f.check === 'query' && f.message.includes('did not answer within 1.5 s')), text);
    assert.equal((await ok('national', 'GET', '/platform/cas/hostile-ca')).status, 'province-reviewed');
    // The office's query of a silent CA is a 502 naming the problem.
    const q = await call('national', 'POST', '/platform/cas/hostile-ca/certificates/query', { serials: ['01'] });
    assert.equal(q.status, 502);
    assert.match(q.body.message, /did not answer within/);
  });

  test('the query client refuses forged, replayed, stale, foreign and malformed answers (502 naming the fault)', async () => {
    const access = accessIdentity('query-ca platform access');
    const forger = accessIdentity('query-ca platform access'); // same name, other key
    let mode = 'honest';
    const server = await serve(async (req, res) => {
      const q = JSON.parse(SignedDataDoc.parse(await readBody(req)).content!.toString('utf8')) as { ca: string; serials: string[]; nonce: string };
      const answer = {
        ca: q.ca,
        nonce: mode === 'replayed' ? 'ab'.repeat(16) : q.nonce,
        at: new Date(Date.now() - (mode === 'stale' ? 600_000 : 0)).toISOString(),
        certificates: mode === 'foreign' ? [{ serial: '0bad', status: 'good' }] : q.serials.map((serial) => ({ serial, status: 'good' })),
      };
      if (mode === 'refused') return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"platform.query.signature","message":"not the platform"}');
      if (mode === 'garbage') return res.writeHead(200, { 'content-type': 'application/cms' }).end('garbage');
      const signer = mode === 'forged' ? forger : access;
      res.writeHead(200, { 'content-type': 'application/cms' }).end(signCmsDer({ content: Buffer.from(mode === 'not-json' ? '{' : JSON.stringify(answer)), signer: signer.key, cert: signer.cert }));
    });
    closers.push(server.close);
    await ok('national', 'POST', '/platform/cas', { ...application('query-ca', 'GD'), platformAccessCertificate: access.cert.toPem(), endpoints: { query: server.url } });
    const ask = () => call('national', 'POST', '/platform/cas/query-ca/certificates/query', { serials: ['0A:1B'] });
    const honest = await ask();
    assert.equal(honest.status, 200, JSON.stringify(honest.body));
    assert.deepEqual(honest.body.certificates, [{ serial: '0a1b', status: 'good' }]);
    for (const [m, pattern] of [
      ['forged', /not signed by the CA's registered platform-access certificate/],
      ['replayed', /does not carry the nonce of the query/],
      ['stale', /more than 5 minutes from the platform's clock/],
      ['foreign', /describes serial 0bad, which was not asked about/],
      ['refused', /answered HTTP 401 .*not the platform/],
      ['garbage', /not a CMS SignedData/],
      ['not-json', /not JSON/],
    ] as const) {
      mode = m;
      const r = await ask();
      assert.equal(r.status, 502, `${m}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'platform.query.upstream');
      assert.match(r.body.message, pattern, m);
    }
  });

  test('applications: missing inputs are faults; bad endpoints and samples are refused; inputs can be replaced before admission', async () => {
    const bare = await fileAndForward('bare-ca', {});
    assert.deepEqual(bare.samples, { good: [], revoked: [] });
    const run = await ok('national', 'POST', '/platform/cas/bare-ca/conformance/run');
    assert.deepEqual(
      run.report.faults.filter((f: Json) => f.check === 'inputs').map((f: Json) => f.message),
      ['the application gives no good sample certificate', 'the application gives no revoked sample certificate', 'the application gives no certificate query interface (endpoints.query)'],
    );
    const root = libraryCa('Some CA').root.toPem();
    for (const [body, status] of [
      [{ endpoints: { query: 'ftp://x' } }, 400],
      [{ endpoints: { query: 'not a url' } }, 400],
      [{ endpoints: { ocsp: 'http://x' } }, 400],
      [{ samples: { good: ['garbage'] } }, 400],
      [{ samples: { good: [root] } }, 422],
      [{ samples: 'x' }, 400],
    ] as const) {
      const r = await call('national', 'POST', '/platform/cas', { ...application('bad-inputs', 'GD'), ...body });
      assert.equal(r.status, status, JSON.stringify(body));
    }
    const updated = await ok('prov-GD', 'POST', '/platform/cas/bare-ca/conformance-inputs', { endpoints: { query: 'https://ca.example/query' } });
    assert.equal(updated.endpoints.query, 'https://ca.example/query');
    assert.equal((await call('prov-BJ', 'POST', '/platform/cas/bare-ca/conformance-inputs', { endpoints: {} })).status, 403);
    assert.equal((await call('national', 'POST', '/platform/cas/bare-ca/conformance-inputs', { samples: { good: ['x'] } })).status, 400);
  });
});

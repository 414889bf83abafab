/**
 * What the browser tests run against, started in before() and stopped in after(): a real CA
 * service (startServer in-process, port 0, the demo CAs, SQLite) in a fresh data directory, with
 * its officers and a holder's certificate, or with a national platform it reports to; and chromium.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startPlatformServer, startServer, type RunningPlatform, type RunningServer } from '@health-pki/server';
import { admitCa } from '@health-pki/server/dist/src/platform-link/admission.js';
import { bundleBuilt, launchBrowser, type TestBrowser } from './browser.js';
import { CA, call, csrFor, must } from './flows.js';

/** Closers run last first, each once: what a set-up started is undone even when it failed halfway. */
class Teardown {
  private readonly steps: Array<() => unknown> = [];

  /** Remembers how to undo what was just started. */
  add(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Undoes everything, newest first. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) await step();
  }
}

/** Runs `start`; if it throws, undoes what it had started before passing the error on. */
async function startOrUndo<T>(undo: () => Promise<void>, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    await undo();
    throw e;
  }
}

/** A fresh data directory (`prefix` names it) for a test file, removed on teardown. */
function dataDirFor(prefix: string, teardown: Teardown): string {
  assert.ok(bundleBuilt(), 'the web bundle is missing: run `npm run build -w @health-pki/web` first');
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  teardown.add(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

/** Chromium, closed on teardown. */
async function browserFor(teardown: Teardown): Promise<TestBrowser> {
  const browser = await launchBrowser();
  teardown.add(() => browser.close());
  return browser;
}

/** A CA service and chromium, for one test file. */
export interface WebServer {
  dataDir: string;
  server: RunningServer;
  /** The service's URL, where the pages are. */
  base: string;
  /** The bootstrap administrator's token. */
  admin: string;
  browser: TestBrowser;
  page: Page;
  /** Closes the browser and the service and removes the data directory. */
  stop(): Promise<void>;
}

/** Starts a CA service on a fresh data directory (named from `prefix`) and chromium. */
export async function startWebServer(prefix: string): Promise<WebServer> {
  const teardown = new Teardown();
  return startOrUndo(() => teardown.run(), async () => {
    const dataDir = dataDirFor(prefix, teardown);
    const server = await startServer({ dataDir, port: 0, logger: false, pkiThreads: 0 });
    teardown.add(() => server.close());
    const admin = readFileSync(server.tokenFile, 'utf8').trim();
    const browser = await browserFor(teardown);
    return { dataDir, server, base: server.url, admin, browser, page: browser.page, stop: () => teardown.run() };
  });
}

/** A holder's certificate and the key the browser logs in with. */
export interface Holder {
  serial: string;
  pem: string;
  keyPem: string;
}

/** Issues `name` a staff-sign certificate (P-256, with the resident ID) through the administrator. */
export async function enrollHolder(d: WebServer, name: string, extra: { validityDays?: number } = {}): Promise<Holder> {
  const h = csrFor(name);
  const r = await call(d.server, 'POST', `/api/v1/cas/${CA}/enroll`, { profile: 'staff-sign', csr: h.pem, applicant: { name }, ...extra }, d.admin);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { serial: r.json.certificate.serial, pem: r.json.certificate.pem, keyPem: h.keyPem };
}

/** The roles' flows' deployment: two RA officers and an auditor, and 李四 holding a certificate. */
export interface WebDeployment extends WebServer {
  tokens: Record<'clerk' | 'checker' | 'auditor', string>;
  holder: Holder;
}

/**
 * Starts what the roles' flows start from (web.test.ts, english.test.ts): the service and chromium,
 * officers clerk and checker and auditor auditor, and 李四's certificate issued by the bootstrap
 * administrator. Revocation and loss reports ask for confirmation: the page says yes, as a person would.
 */
export async function startWebDeployment(prefix: string): Promise<WebDeployment> {
  const d = await startWebServer(prefix);
  return startOrUndo(d.stop, async () => {
    const tokens: WebDeployment['tokens'] = { clerk: '', checker: '', auditor: '' };
    for (const [id, role] of [['clerk', 'officer'], ['checker', 'officer'], ['auditor', 'auditor']] as const) {
      const r = await call(d.server, 'POST', '/api/v1/officers', { id, roles: [role] }, d.admin);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      tokens[id] = r.json.token;
    }
    const holder = await enrollHolder(d, '李四');
    d.page.on('dialog', (dialog) => void dialog.accept());
    return { ...d, tokens, holder };
  });
}

/** Polling settings that let the CA service report to the platform without waiting. */
const QUICK = { pollMs: 50, minBackoffMs: 20, maxBackoffMs: 200 };

/** A national platform, a CA service reporting to it, and chromium, for one test file. */
export interface PlatformDeployment<K extends string> {
  dataDir: string;
  platform: RunningPlatform;
  server: RunningServer;
  /** The CA service's URL: the pages, and /platform/* passed through to the platform. */
  base: string;
  /** The CA service's bootstrap administrator's token. */
  caAdmin: string;
  /** The national office's token and the platform tokens asked for. */
  tokens: Record<K | 'national', string>;
  browser: TestBrowser;
  page: Page;
  /** Closes the browser, the service and the platform and removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts a national platform and a CA service (province BJ) that reports to it and passes
 * /platform/* through to it, as the embedded deployment does; mints the platform tokens `specs`
 * names; admits demo-sm2 all the way to connected over the APIs; and starts chromium, whose
 * page gives up waiting after 10 s.
 */
export async function startPlatformDeployment<K extends string>(prefix: string, specs: Record<K, object>): Promise<PlatformDeployment<K>> {
  const teardown = new Teardown();
  return startOrUndo(() => teardown.run(), async () => {
    const dataDir = dataDirFor(prefix, teardown);
    const platform = await startPlatformServer({ dataDir: join(dataDir, 'platform'), port: 0, host: '127.0.0.1', logger: false, probeIntervalMs: 0 });
    teardown.add(() => platform.close());
    const server = await startServer({
      dataDir: join(dataDir, 'ca'),
      port: 0,
      logger: false,
      pkiThreads: 0,
      platform: { url: platform.url, certificate: await platform.services.trustList.certificate(), province: 'BJ' },
      platformLink: QUICK,
    });
    teardown.add(() => server.close());
    server.services.platform.proxyTarget = platform.url;
    const base = server.url;
    const national = readFileSync(platform.services.adminTokenFile, 'utf8').trim();
    const tokens = { national } as Record<K | 'national', string>;
    for (const [k, spec] of Object.entries(specs) as Array<[K, object]>) tokens[k] = (await must(platform, 'POST', '/platform/tokens', spec, national)).token;
    const caAdmin = readFileSync(server.tokenFile, 'utf8').trim();
    const admitted = await admitCa({ platformUrl: platform.url, nationalToken: national, caUrl: base, caAdminToken: caAdmin, ca: 'demo-sm2', province: 'BJ' });
    assert.equal(admitted.status, 'connected', JSON.stringify(admitted));
    const browser = await browserFor(teardown);
    browser.page.setDefaultTimeout(10_000);
    return { dataDir, platform, server, base, caAdmin, tokens, browser, page: browser.page, stop: () => teardown.run() };
  });
}

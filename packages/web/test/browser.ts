/**
 * Browser tests' helpers: Debian's chromium driven by playwright-core, headless, with a fresh
 * empty profile each run; screenshots into docs/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The chromium the tests drive (HPKI_CHROMIUM overrides). */
export const CHROMIUM = process.env.HPKI_CHROMIUM ?? '/usr/bin/chromium';

/** The flags of the brief: quiet, no network of its own, no sandbox (containers). */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where screenshots go: the repository's docs/screenshots/ (from packages/web/dist/test/). */
export const SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));

/** The built bundle the server serves (from packages/web/dist/test/). */
export const BUNDLE_INDEX = fileURLToPath(new URL('../app/index.html', import.meta.url));

/** A running browser with its own profile directory. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Starts chromium with a new empty --user-data-dir. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'hpki-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir (launch() refuses that flag).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 860 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a PNG of the page as docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** Whether the bundle has been built (npm run build -w @health-pki/web). */
export function bundleBuilt(): boolean {
  return existsSync(BUNDLE_INDEX);
}

/**
 * Set-up shared by the browser tests that walk the roles' flows (web.test.ts, english.test.ts):
 * JSON calls to the server to prepare data, a CSR for an applicant, token sign-in and sign-out
 * through the pages, the navigation's link texts.
 */
import type { Page } from 'playwright-core';
import { buildCsr, exportPrivateKey, generateKey, identityExtensions, parseName } from '@health-pki/pki';
import type { RunningServer } from '@health-pki/server';

/** The demo CA the flows use. */
export const CA = 'demo-p256';

/** A resident ID number with a correct check digit. */
export const RESIDENT_ID = '11010519491231002X';

/** A JSON call to the server, for setting up what the browser flows start from. */
export async function call(server: RunningServer, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json };
}

/** A new P-256 key and its CSR for `name` (with the resident ID extension unless told not to). */
export function csrFor(name: string, withIdentity = true) {
  const key = generateKey('p256');
  const csr = buildCsr(parseName(`C=CN,O=示例医院,OU=心内科,CN=${name}`), key, withIdentity ? identityExtensions({ residentId: RESIDENT_ID }) : []);
  return { key, pem: csr.toPem(), keyPem: exportPrivateKey(key, 'pem').toString() };
}

/** Signs in through the login page with a token, the way a person pastes it. */
export async function tokenLogin(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/app/login`);
  await page.locator('input[name=token]').fill(token);
  await page.locator('form button[type=submit]').click();
  await page.getByTestId('who').waitFor();
}

/** Signs out with the header's button and waits for the login page. */
export async function signOut(page: Page): Promise<void> {
  await page.locator('header button').click();
  await page.locator('input[name=token]').waitFor();
}

/** The navigation's link texts. */
export async function navLinks(page: Page): Promise<string[]> {
  return page.locator('nav.side a').allInnerTexts();
}

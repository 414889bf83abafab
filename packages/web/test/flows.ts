/**
 * Steps shared by the browser tests: JSON calls to the service or the platform to prepare data, a
 * CSR for an applicant, token sign-in and sign-out through the pages (the CA service's and the
 * platform's), the navigation's link texts, a field's error as a screen reader reads it.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildCsr, exportPrivateKey, generateKey, identityExtensions, parseName } from '@health-pki/pki';

/** The demo CA the flows use. */
export const CA = 'demo-p256';

/** A resident ID number with a correct check digit. */
export const RESIDENT_ID = '11010519491231002X';

/** A JSON call to the service or the platform (`to.url`), for setting up what the browser flows start from. */
export async function call(to: { url: string }, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(to.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json };
}

/** A JSON call that must succeed (status below 300); its answer. */
export async function must(to: { url: string }, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const r = await call(to, method, path, body, token);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
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

/** Signs in to the platform pages the way a person pastes a token, landing on `next`. */
export async function platformLogin(page: Page, base: string, token: string, next = '/app/platform/dashboard'): Promise<void> {
  await page.goto(`${base}/app/platform/login?next=${encodeURIComponent(next)}`);
  await page.locator('input[name=platform-token]').fill(token);
  await page.locator('form button[type=submit]').click();
  await page.waitForURL(base + next);
  await page.getByTestId('platform-who').first().waitFor();
}

/** The error text tied by aria-describedby to the field labelled `label` (the last one it names). */
export async function fieldErrorByLabel(page: Page, label: string | RegExp): Promise<string> {
  const field = page.getByLabel(label);
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `${String(label)} is marked invalid`);
  const ids = (await field.getAttribute('aria-describedby'))!.split(' ');
  return (await page.locator(`[id="${ids[ids.length - 1]}"]`).innerText()).trim();
}

/**
 * Every role's main flow in English (issue 10's proof: both languages), chromium against a real
 * server (startServer in-process, port 0, the demo CAs, SQLite): the RA officer (bad input answered
 * next to the field in English, then a proper application a second officer approves), the CA
 * administrator (CAs with CRL status, creating an officer), the auditor (filtered log, integrity
 * check); and the holder's certificate login and certificates in Chinese (web.test.ts walks it in
 * English). On each English page no CJK character may appear in the interface's own texts
 * (navigation, headings, labels, buttons, table headers, messages); data such as names may.
 * Screenshots docs/screenshots/<page>.en.png. Needs the built bundle.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { RunningServer } from '@health-pki/server';
import { screenshot } from './browser.js';
import { startWebDeployment, type Holder, type WebDeployment } from './deployment.js';
import { CA, RESIDENT_ID, call, csrFor, navLinks, signOut, tokenLogin } from './flows.js';

/** Han ideographs, CJK punctuation and full-width forms: none belongs in an English interface text. */
const CJK = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/;

/**
 * Data, not interface texts, shown as they are in either language: each CA's organisation (one
 * string, in its certificates' subjects; demo-sm2's is Chinese), filled from GET /api/v1/cas before
 * the tests, and the applicant's name and organisation the officer types. CAs' display names are
 * not data here: English pages show their English names (displayNames.en), so a Chinese one fails.
 */
const DATA: string[] = ['王五', '示例医院', '心内科'];

/**
 * Fails listing every line of the page (navigation, headings, labels, buttons, table cells,
 * messages) that still has a CJK character once the data is taken out. The language switcher's
 * options name each language in itself ("中文"), as they should, and are left out.
 */
async function assertNoChineseUi(page: Page, where: string): Promise<void> {
  assert.equal(await page.locator('html').getAttribute('lang'), 'en', `${where}: <html lang>`);
  const ownNames = await page.locator('select[name=language] option').allInnerTexts();
  const lines = (await page.locator('body').innerText()).split('\n').map((l) => l.trim());
  const left = lines.filter((l) => !ownNames.includes(l)).filter((l) => CJK.test(DATA.reduce((rest, d) => rest.split(d).join(''), l)));
  assert.deepEqual(left, [], `${where}: untranslated interface texts`);
}

/** The text of the error tied to a field (aria-describedby), as a screen reader reads it. */
async function fieldError(page: Page, name: string): Promise<string> {
  const field = page.locator(`[name=${name}]`);
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `${name} is marked invalid`);
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  const texts = await Promise.all(ids.split(/\s+/).filter(Boolean).map((id) => page.locator(`[id="${id}"]`).innerText()));
  return texts.join(' ').trim();
}

describe('every role in English (chromium)', { timeout: 120_000 }, () => {
  let d: WebDeployment;
  let server: RunningServer;
  let page: Page;
  let base: string;
  let admin: string;
  let tokens: WebDeployment['tokens'];
  let holder: Holder;

  before(async () => {
    d = await startWebDeployment('hpki-web-en-');
    ({ server, page, base, admin, tokens, holder } = d);
    const cas = await call(server, 'GET', '/api/v1/cas');
    assert.equal(cas.status, 200);
    for (const ca of cas.json.cas) DATA.push(ca.organization);
    assert.deepEqual(
      cas.json.cas.map((ca: { name: string; displayNames: Record<string, string> }) => [ca.name, ca.displayNames.en]),
      [
        ['demo-p256', 'Demo CA (ECDSA P-256)'],
        ['demo-sm2', 'Demo CA (SM2)'],
      ],
    );
  });

  after(async () => {
    await d?.stop();
  });

  test('RA officer: errors next to the fields in English, then an application a second officer approves', async () => {
    // The browser asks for zh-CN: the person picks English on the switcher, and it is remembered.
    await page.goto(`${base}/app/login`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await assertNoChineseUi(page, 'login');
    await tokenLogin(page, base, tokens.clerk);
    const links = await navLinks(page);
    assert.ok(links.includes('Enter application') && links.includes('Application queue'), links.join(', '));
    await page.getByRole('link', { name: 'Enter application' }).click();
    await page.getByRole('heading', { name: 'Enter a certificate application' }).waitFor();
    await page.locator('input[name=residentId]').fill('110105194912310021');
    await page.locator('input[name=email]').fill('not-an-address');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('The form has 4 error(s); see the marked fields').waitFor();
    assert.equal(await fieldError(page, 'name'), 'Please fill in Name');
    assert.equal(await fieldError(page, 'residentId'), 'A resident ID number has 18 characters and a correct check digit');
    assert.equal(await fieldError(page, 'email'), 'The e-mail address is not valid');
    assert.equal(await fieldError(page, 'csr'), 'Please fill in Certificate request (PKCS#10, PEM)');
    await assertNoChineseUi(page, 'new application (errors)');
    await screenshot(page, 'ra-new-application-errors.en');

    const csr = csrFor('王五');
    await page.locator('input[name=name]').fill('王五');
    await page.locator('input[name=organization]').fill('示例医院');
    await page.locator('input[name=email]').fill('wangwu@example.cn');
    await page.locator('input[name=residentId]').fill(RESIDENT_ID);
    await page.locator('textarea[name=csr]').fill(csr.pem);
    await page.locator('input[name=materials]').setInputFiles({ name: 'id-card-scan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% scan of an identity card\n') });
    await page.getByRole('button', { name: 'Submit' }).click();
    const done = page.getByText(/Application submitted, ID/);
    await done.waitFor();
    const applicationId = /ID (\S+)/.exec(await done.innerText())![1]!;
    await signOut(page);

    await tokenLogin(page, base, tokens.checker);
    await page.getByRole('link', { name: 'Application queue' }).click();
    await page.getByRole('heading', { name: 'Application queue' }).waitFor();
    await page.getByRole('cell', { name: '王五', exact: true }).waitFor();
    await assertNoChineseUi(page, 'queue');
    await screenshot(page, 'ra-queue.en');
    await page.getByRole('link', { name: 'Review 王五' }).click();
    await page.getByRole('heading', { name: `Application ${applicationId}` }).waitFor();
    await page.getByRole('button', { name: 'id-card-scan.pdf' }).waitFor();
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByText('Please fill in Reason for rejection').waitFor();
    await page.getByLabel('Review note').fill('Identity checked against the card');
    await page.getByRole('button', { name: 'Approve and issue' }).click();
    const issued = page.getByText(/Certificate issued, serial/);
    await issued.waitFor();
    const serial = /serial ([0-9a-f]+)/.exec(await issued.innerText())![1]!;
    assert.equal(await page.getByTestId('app-state').innerText(), 'Issued');
    await assertNoChineseUi(page, 'application approved');
    await screenshot(page, 'ra-application-approved.en');
    assert.equal((await call(server, 'GET', `/api/v1/cas/${CA}/certificates/${serial}`)).json.status, 'valid');
    await signOut(page);
  });

  test('CA administrator: CAs with CRL status; officers (bad account refused in English, then created)', async () => {
    await tokenLogin(page, base, admin);
    await page.getByRole('link', { name: 'CAs and keys' }).click();
    await page.getByRole('heading', { name: 'CAs and keys' }).waitFor();
    await page.getByText(/^Published /).first().waitFor();
    // Each CA under its English display name (the SM2 demo CA's Chinese one would fail the check below).
    await page.getByRole('heading', { name: 'Demo CA (SM2) (demo-sm2)' }).waitFor();
    await page.getByRole('heading', { name: 'Demo CA (ECDSA P-256) (demo-p256)' }).waitFor();
    await assertNoChineseUi(page, 'CAs');
    await screenshot(page, 'admin-cas.en');
    await page.getByRole('link', { name: 'Officers and roles' }).click();
    await page.getByRole('heading', { name: 'Officers and roles' }).waitFor();
    await page.getByRole('cell', { name: 'checker', exact: true }).first().waitFor();
    await page.locator('input[name=officerId]').fill('Zhang San');
    await page.getByRole('button', { name: 'Create officer' }).click();
    assert.equal(await fieldError(page, 'officerId'), 'Use letters, digits, dots, dashes and underscores only');
    await page.locator('input[name=officerId]').fill('officer-3');
    await page.locator('select[name=role]').selectOption('officer');
    await page.getByRole('button', { name: 'Create officer' }).click();
    await page.getByText('Officer officer-3 created').waitFor();
    assert.match(await page.getByTestId('new-token').innerText(), /^[A-Za-z0-9._~+/=-]{16,}$/);
    await assertNoChineseUi(page, 'officers');
    await screenshot(page, 'admin-officers.en');
    await signOut(page);
  });

  test('auditor: the audit log filtered on the server, integrity check, in English', async () => {
    await tokenLogin(page, base, tokens.auditor);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const links = await navLinks(page);
    assert.ok(links.includes('Audit log') && !links.includes('Application queue') && !links.includes('Officers and roles'), links.join(', '));
    await page.getByLabel('Action', { exact: true }).fill('ra.*');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('cell', { name: /^ra\./ }).first().waitFor();
    const actions = await page.locator('tbody td:nth-child(4)').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('ra.')), `only ra.* entries: ${actions.join(', ')}`);
    await page.getByRole('button', { name: 'Integrity check' }).click();
    await page.getByText(/^Intact: \d+ entries, hash chain unbroken/).waitFor();
    await assertNoChineseUi(page, 'audit log');
    await screenshot(page, 'audit-log.en');
    await signOut(page);
  });

  test('holder (Chinese): certificate login, my certificates', async () => {
    await page.getByLabel('Language').selectOption('zh-CN');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByLabel('使用证书登录').check();
    await page.locator('textarea[name=certificate]').fill(holder.pem);
    await page.locator('textarea[name=privateKey]').fill(holder.keyPem);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.waitForURL(/\/app\/me$/);
    await page.getByRole('heading', { name: '我的证书' }).first().waitFor();
    await page.locator('td code', { hasText: holder.serial }).waitFor();
    await page.getByText('有效', { exact: true }).first().waitFor();
    const links = await navLinks(page);
    assert.ok(links.includes('我的证书') && !links.includes('申请队列') && !links.includes('审计日志'), links.join(', '));
    // The English texts are gone: the navigation and headings are Chinese again.
    assert.ok(!links.some((l) => /^[A-Za-z ]+$/.test(l)), `no English link left: ${links.join(', ')}`);
    await page.getByRole('button', { name: `挂失 ${holder.serial}` }).waitFor();
    await page.locator('header button').click();
    await page.locator('input[name=token]').waitFor();
  });
});

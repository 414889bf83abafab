/**
 * The holder's self-service in chromium against a real server (SQLite): after a certificate
 * login, ask for a PIN unblock of the token (an officer authorises; the answer downloaded from the
 * page unblocks the real software token), then renew — a new P-256 key made by WebCrypto in the
 * page, saved first, the CSR sent — and log in again with the new certificate and key. The
 * screenshot docs/screenshots/holder-renew.png shows the renewal done. Needs the built bundle.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { Certificate, importPrivateKey } from '@health-pki/pki';
import type { RunningServer } from '@health-pki/server';
import { SoftToken, generateAdminPin } from '@health-pki/token';
import { screenshot } from './browser.js';
import { enrollHolder, startWebServer, type Holder, type WebServer } from './deployment.js';
import { CA, call } from './flows.js';

/** The text of a file the page offers for download, after `click`. */
async function downloaded(page: Page, click: () => Promise<void>): Promise<string> {
  const [d] = (await Promise.all([page.waitForEvent('download'), click()])) as [Download, void];
  const path = await d.path();
  return readFileSync(path, 'utf8');
}

/** Certificate login through the login page (zh-CN). */
async function certLogin(page: Page, base: string, pem: string, keyPem: string): Promise<void> {
  await page.goto(`${base}/app/login`);
  await page.getByLabel('使用证书登录').check();
  await page.locator('textarea[name=certificate]').fill(pem);
  await page.locator('textarea[name=privateKey]').fill(keyPem);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(/\/app\/me$/);
}

describe('holder self-service in chromium', { timeout: 120_000 }, () => {
  let d: WebServer;
  let dataDir: string;
  let server: RunningServer;
  let page: Page;
  let officer: string;
  let holder: Holder;

  before(async () => {
    d = await startWebServer('hpki-web-holder-');
    ({ dataDir, server, page } = d);
    officer = (await call(server, 'POST', '/api/v1/officers', { id: 'desk' }, d.admin)).json.token;
    // 20 days of validity: inside the default renewal window from the start.
    holder = await enrollHolder(d, '王五', { validityDays: 20 });
  });

  after(async () => {
    await d?.stop();
  });

  test('PIN unblock: pasted request, officer authorises, the downloaded answer unblocks the token', async () => {
    const adminPin = generateAdminPin();
    const token = SoftToken.init(join(dataDir, 'wang.tok'), { userPin: 'pin-123456', adminPin, kdf: { alg: 'pbkdf2-sm3', iterations: 1000 }, userMaxRetries: 3 });
    const tokenId = token.info().tokenId;
    assert.equal((await call(server, 'POST', `/api/v1/cas/${CA}/tokens`, { tokenId, adminPin, holder: '王五' }, officer)).status, 204);
    for (let i = 0; i < 3; i++) assert.throws(() => token.login('HPKI', 'wrong-000'));

    await certLogin(page, server.url, holder.pem, holder.keyPem);
    await page.getByRole('heading', { name: '申请 PIN 解锁' }).waitFor();
    // Not JSON: said next to the field, nothing sent.
    await page.locator('textarea[name=unblockRequest]').fill('not json');
    await page.getByRole('button', { name: '提交解锁请求' }).click();
    await page.getByText('请求应为 hpki token unblock-request 生成的 JSON').waitFor();
    await page.locator('textarea[name=unblockRequest]').fill(JSON.stringify(token.requestUnblock('HPKI')));
    await page.getByRole('button', { name: '提交解锁请求' }).click();
    await page.getByText('已提交，等待审核员处理').waitFor();
    await page.getByRole('cell', { name: '待审核' }).waitFor();

    const queue = (await call(server, 'GET', `/api/v1/cas/${CA}/unblocks`, undefined, officer)).json.unblocks;
    assert.equal(queue.length, 1);
    assert.equal(queue[0].requestedBy, `holder:${CA}/${holder.serial}`);
    assert.equal((await call(server, 'POST', `/api/v1/cas/${CA}/unblocks/${queue[0].id}/authorise`, undefined, officer)).status, 200);

    await page.reload();
    await page.getByRole('cell', { name: '已授权' }).waitFor();
    const answer = await downloaded(page, () => page.getByRole('button', { name: '下载应答' }).click());
    token.applyUnblock('HPKI', JSON.parse(answer), 'new-pin-7788');
    token.login('HPKI', 'new-pin-7788').logout();
  });

  test('renewal: a WebCrypto key made in the page, saved first, then the new certificate; log in with it', async () => {
    await page.goto(`${server.url}/app/me`);
    await page.getByRole('heading', { name: '证书更新' }).waitFor();
    await page.getByRole('button', { name: '生成新密钥' }).click();
    const submit = page.getByRole('button', { name: '提交更新' });
    assert.equal(await submit.isDisabled(), true, 'nothing is sent before the key is saved');
    const keyPem = await downloaded(page, () => page.getByRole('button', { name: '保存新私钥（PKCS#8 PEM）' }).click());
    assert.match(keyPem, /-----BEGIN PRIVATE KEY-----/);
    await submit.click();
    await page.getByText(/新证书已签发，序列号 [0-9a-f]+/).waitFor();
    await page.locator('#renew-title').scrollIntoViewIfNeeded();
    await screenshot(page, 'holder-renew');
    const certPem = await downloaded(page, () => page.getByRole('button', { name: '保存新证书（PEM）' }).click());

    const fresh = Certificate.parse(certPem);
    const old = Certificate.parse(holder.pem);
    assert.deepEqual(fresh.subjectDer, old.subjectDer, 'same subject');
    assert.deepEqual(fresh.identity, old.identity, 'same identity numbers');
    assert.equal(importPrivateKey(keyPem).bits, 256, 'a P-256 key (the login below proves it is the certificate\'s)');
    const status = await call(server, 'GET', `/api/v1/cas/${CA}/certificates/${holder.serial}`);
    assert.deepEqual([status.json.status, status.json.reason], ['revoked', 'superseded']);

    await certLogin(page, server.url, certPem, keyPem);
    await page.locator('td code', { hasText: fresh.serialHex }).waitFor();
    // The new certificate is fresh: the page says when it can be renewed instead of offering it.
    await page.getByText(/该证书自 .+ 起可以更新/).waitFor();
  });
});

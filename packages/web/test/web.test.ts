/**
 * The web interface end to end: chromium (headless, playwright-core) against a real server
 * (startServer in-process, port 0, the demo CAs, SQLite). Each role's main flow, both languages,
 * bad input answered next to the field in the user's language, one flow by keyboard only, and
 * screenshots of the main pages into docs/screenshots/. Needs the built bundle
 * (`npm run build -w @health-pki/web`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildHttpApp, type RunningServer } from '@health-pki/server';
import { screenshot } from './browser.js';
import { startWebDeployment, type Holder, type WebDeployment } from './deployment.js';
import { CA, RESIDENT_ID, call, csrFor, navLinks, signOut, tokenLogin } from './flows.js';

describe('web interface in chromium', { timeout: 180_000 }, () => {
  let d: WebDeployment;
  let server: RunningServer;
  let page: Page;
  let base: string;
  let admin: string;
  let tokens: WebDeployment['tokens'];
  let holder: Holder;

  before(async () => {
    d = await startWebDeployment('hpki-web-');
    ({ server, page, base, admin, tokens, holder } = d);
  });

  after(async () => {
    await d?.stop();
  });

  test('serving: the app at / and /app/*, JSON 404 for unknown API routes, 503 without a bundle', async () => {
    const root = await fetch(`${base}/`);
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /text\/html/);
    const app = await fetch(`${base}/app/ra/queue`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const api404 = await fetch(`${base}/api/v1/no-such-route`);
    assert.equal(api404.status, 404);
    assert.match(api404.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await api404.json()) as { error: string }).error, 'route.unknown');
    assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
    const doc = (await call(server, 'GET', '/openapi.json')).json;
    assert.ok(!Object.keys(doc.paths).some((p: string) => p === '/' || p.startsWith('/app') || p.startsWith('/assets')), 'the pages stay out of the API document');
    // Without a bundle: a 503 page that says what to do.
    const empty = mkdtempSync(join(tmpdir(), 'hpki-noweb-'));
    process.env.HPKI_WEB_ROOT = empty;
    const bare = await buildHttpApp(server.services, { logger: false });
    delete process.env.HPKI_WEB_ROOT;
    try {
      const r = await bare.inject({ method: 'GET', url: '/app/search' });
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /npm run build/);
      assert.equal((await bare.inject({ method: 'GET', url: '/api/v1/cas' })).statusCode, 200);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('public: search, download, CRLs; Chinese by default, English on request; bad input next to the field', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/app\/search$/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByRole('heading', { name: '证书查询与下载' }).waitFor();
    await page.getByLabel('主题').fill('李四');
    await page.getByRole('button', { name: '查询' }).click();
    await page.getByRole('cell', { name: holder.serial, exact: true }).waitFor();
    await screenshot(page, 'public-search.zh-CN');
    const pem = await page.getByRole('link', { name: `PEM ${holder.serial}` }).getAttribute('href');
    const got = await fetch(base + pem!);
    assert.equal(got.status, 200);
    assert.equal((await got.text()).trim(), holder.pem.trim());
    // A serial with letters outside hex: the message is next to the field, tied to it for screen readers.
    await page.getByLabel('序列号').fill('xyz');
    await page.getByRole('button', { name: '查询' }).click();
    const field = page.getByLabel('序列号');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    const described = await field.getAttribute('aria-describedby');
    assert.equal((await page.locator(`[id="${described}"]`).innerText()).trim(), '序列号只能包含十六进制数字');
    // CSV export of the results.
    await page.getByLabel('序列号').fill('');
    const dl = page.waitForEvent('download');
    await page.getByRole('button', { name: '导出 CSV' }).click();
    const csv = readFileSync((await (await dl).path())!, 'utf8');
    assert.match(csv, /^\ufeff认证机构,序列号/);
    assert.ok(csv.includes(holder.serial));
    // The CRL page: every CA's lists, the published ones dated.
    await page.getByRole('link', { name: '证书撤销列表下载' }).click();
    await page.getByRole('heading', { name: '证书撤销列表（黑名单）下载' }).waitFor();
    await page.getByText('发布于').first().waitFor();
    await screenshot(page, 'public-crls.zh-CN');
    // English, remembered across pages; the same bad input answered in English.
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('link', { name: 'Certificate search' }).click();
    await page.getByRole('heading', { name: 'Search and download certificates' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByLabel('Serial number').fill('xyz');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('A serial number has hexadecimal digits only').waitFor();
    await screenshot(page, 'public-search.en');
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '证书查询与下载' }).waitFor();
  });

  let applicationId = '';
  let issuedSerial = '';

  test('RA officer: enter an application with materials; a second officer approves it; maker-checker holds', async () => {
    await tokenLogin(page, base, tokens.clerk);
    const links = await navLinks(page);
    assert.ok(links.includes('录入申请') && links.includes('申请队列'));
    assert.ok(!links.includes('审计日志') && !links.includes('操作员与角色'), `an officer sees no audit or admin pages: ${links.join(', ')}`);
    await page.getByRole('link', { name: '录入申请' }).click();
    await page.getByRole('heading', { name: '录入证书申请' }).waitFor();
    // Bad input first: no name, a wrong check digit, no CSR — each said next to its field, in Chinese.
    await page.locator('input[name=residentId]').fill('110105194912310021');
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('请填写姓名').waitFor();
    await page.getByText('居民身份证号码应为 18 位，且校验位正确').waitFor();
    await page.getByText('请填写证书请求（PKCS#10，PEM）').waitFor();
    await screenshot(page, 'ra-new-application-errors.zh-CN');
    const csr = csrFor('王五', true);
    await page.locator('input[name=name]').fill('王五');
    await page.locator('input[name=organization]').fill('示例医院');
    await page.locator('input[name=department]').fill('心内科');
    await page.locator('input[name=email]').fill('wangwu@example.cn');
    await page.locator('input[name=residentId]').fill(RESIDENT_ID);
    await page.locator('textarea[name=csr]').fill(csr.pem);
    await page.locator('input[name=materials]').setInputFiles({ name: '身份证扫描.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% scan of an identity card\n') });
    await page.getByRole('button', { name: '提交' }).click();
    const done = page.getByText(/申请已提交，编号/);
    await done.waitFor();
    applicationId = /编号 (\S+)/.exec(await done.innerText())![1]!;
    await screenshot(page, 'ra-new-application.zh-CN');
    // The one who entered it cannot approve it: the API refuses, the page says so in Chinese.
    await page.getByRole('link', { name: '详情' }).click();
    await page.getByRole('button', { name: '批准并签发' }).click();
    await page.getByText('您没有执行此操作的权限').waitFor();
    await signOut(page);

    await tokenLogin(page, base, tokens.checker);
    await page.getByRole('link', { name: '申请队列' }).click();
    await page.getByRole('cell', { name: '王五', exact: true }).waitFor();
    await screenshot(page, 'ra-queue.zh-CN');
    await page.getByRole('link', { name: '审核 王五' }).click();
    await page.getByRole('heading', { name: `申请 ${applicationId}` }).waitFor();
    await page.getByRole('button', { name: '身份证扫描.pdf' }).waitFor();
    // Rejecting needs a reason: said next to the field.
    await page.getByRole('button', { name: '拒绝' }).click();
    await page.getByText('请填写拒绝原因').waitFor();
    await page.getByLabel('审核意见').fill('身份已核验');
    await page.getByRole('button', { name: '批准并签发' }).click();
    const issued = page.getByText(/证书已签发，序列号/);
    await issued.waitFor();
    issuedSerial = /序列号 ([0-9a-f]+)/.exec(await issued.innerText())![1]!;
    assert.equal(await page.getByTestId('app-state').innerText(), '已签发');
    await screenshot(page, 'ra-application-approved.zh-CN');
  });

  test('RA officer: hold, release and revoke a certificate', async () => {
    assert.ok(issuedSerial, 'the previous test issued a certificate');
    await page.getByRole('link', { name: '证书状态管理' }).click();
    await page.locator('input[name=serial]').fill(issuedSerial);
    await page.getByRole('button', { name: '查找' }).click();
    await page.getByTestId('cert-status').filter({ hasText: '有效' }).waitFor();
    await page.getByRole('button', { name: '冻结' }).click();
    await page.getByTestId('cert-status').filter({ hasText: '冻结' }).waitFor();
    await page.getByRole('button', { name: '解冻' }).click();
    await page.getByTestId('cert-status').filter({ hasText: '有效' }).waitFor();
    await page.locator('select[name=revokeReason]').selectOption('superseded');
    await page.getByRole('button', { name: '撤销' }).click();
    await page.getByTestId('cert-status').filter({ hasText: '已撤销' }).waitFor();
    await screenshot(page, 'ra-certificate-revoked.zh-CN');
    const r = await call(server, 'GET', `/api/v1/cas/${CA}/certificates/${issuedSerial}`);
    assert.equal(r.json.status, 'revoked');
    assert.equal(r.json.reason, 'superseded');
    await signOut(page);
  });

  test('holder (English): certificate login in the browser, my certificates, report loss; the officer then handles it', async () => {
    await page.getByLabel('语言').selectOption('en');
    await page.getByLabel('With a certificate').check();
    await page.locator('textarea[name=certificate]').fill(holder.pem);
    await page.locator('textarea[name=privateKey]').fill(holder.keyPem);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/app\/me$/);
    await page.getByRole('heading', { name: 'My certificates' }).first().waitFor();
    await page.locator('td code', { hasText: holder.serial }).waitFor();
    const links = await navLinks(page);
    assert.ok(!links.includes('Application queue') && !links.includes('Audit log'), `a holder sees no officer pages: ${links.join(', ')}`);
    await screenshot(page, 'holder-my-certificates.en');
    await page.getByRole('button', { name: `Report loss ${holder.serial}` }).click();
    await page.locator('input[name=lossComment]').fill('USB key lost on the train');
    await page.locator('form.inline-form button[type=submit]').click();
    await page.getByText('Loss reported; the certificate is on hold').waitFor();
    await page.getByText('On hold (loss reported)').waitFor();
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByText('冻结（挂失）').waitFor();
    await screenshot(page, 'holder-my-certificates.zh-CN');
    await page.locator('header button').click();

    await tokenLogin(page, base, tokens.checker);
    await page.getByRole('link', { name: '挂失处理' }).click();
    await page.getByRole('cell', { name: holder.serial, exact: true }).waitFor();
    await screenshot(page, 'ra-loss-reports.zh-CN');
    await page.getByRole('button', { name: `已找回，解冻 ${holder.serial}` }).click();
    await page.getByText('证书已解冻').waitFor();
    assert.equal((await call(server, 'GET', `/api/v1/cas/${CA}/certificates/${holder.serial}`)).json.status, 'valid');
    await page.getByRole('link', { name: 'PIN 解锁请求' }).click();
    await page.getByRole('heading', { name: 'PIN 解锁请求' }).waitFor();
    await page.getByRole('link', { name: '密钥恢复请求' }).click();
    await page.getByRole('heading', { name: '密钥恢复请求' }).waitFor();
    await signOut(page);
  });

  test('CA administrator: CAs and keys with CRL status, profiles, officers (bad id refused next to the field)', async () => {
    await tokenLogin(page, base, admin);
    await page.getByRole('link', { name: 'CA 与密钥' }).click();
    await page.getByRole('heading', { name: 'CA 与密钥' }).waitFor();
    await page.getByText('发布于').first().waitFor();
    await screenshot(page, 'admin-cas.zh-CN');
    await page.getByRole('link', { name: '证书模板' }).click();
    await page.getByRole('cell', { name: 'staff-sign', exact: true }).waitFor();
    await page.getByRole('link', { name: '操作员与角色' }).click();
    await page.getByRole('cell', { name: 'checker', exact: true }).first().waitFor();
    await page.locator('input[name=officerId]').fill('张 三');
    await page.getByRole('button', { name: '新建操作员' }).click();
    await page.getByText('账号只能包含字母、数字、点、横线和下划线').waitFor();
    await page.locator('input[name=officerId]').fill('auditor-2');
    await page.locator('select[name=role]').selectOption('auditor');
    await page.getByRole('button', { name: '新建操作员' }).click();
    await page.getByText('已创建操作员 auditor-2').waitFor();
    assert.match(await page.getByTestId('new-token').innerText(), /^[A-Za-z0-9._~+/=-]{16,}$/);
    await screenshot(page, 'admin-officers.zh-CN');
    await signOut(page);
  });

  test('auditor: the audit log filtered on the server, integrity check, CSV export; no other pages', async () => {
    await tokenLogin(page, base, tokens.auditor);
    const links = await navLinks(page);
    assert.ok(links.includes('审计日志') && links.includes('证书查询'), links.join(', '));
    for (const hidden of ['申请队列', '录入申请', '证书状态管理', 'CA 与密钥', '操作员与角色', '我的证书']) assert.ok(!links.includes(hidden), `an auditor does not see ${hidden}`);
    await page.getByRole('heading', { name: '审计日志' }).waitFor();
    await page.getByLabel('操作', { exact: true }).fill('ra.*');
    await page.getByRole('button', { name: '查询' }).click();
    await page.getByRole('cell', { name: /^ra\./ }).first().waitFor();
    const actions = await page.locator('tbody td:nth-child(4)').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('ra.')), `only ra.* entries: ${actions.join(', ')}`);
    await page.getByRole('button', { name: '完整性校验' }).click();
    await page.getByText(/校验通过：\d+ 条记录/).waitFor();
    await screenshot(page, 'audit-log.zh-CN');
    const dl = page.waitForEvent('download');
    await page.getByRole('button', { name: '导出 CSV' }).click();
    const csv = readFileSync((await (await dl).path())!, 'utf8');
    assert.match(csv, /ra\./);
    await signOut(page);
  });

  test('RA officer: a re-key names the certificate it follows (refused next to the field without it)', async () => {
    await tokenLogin(page, base, tokens.checker);
    await page.getByRole('link', { name: '录入申请' }).click();
    await page.locator('select[name=kind]').selectOption('rekey');
    await page.locator('input[name=name]').fill('李四');
    await page.locator('textarea[name=csr]').fill(csrFor('李四').pem);
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('请填写原证书序列号').waitFor();
    await page.locator('input[name=previousSerial]').fill(holder.serial);
    await page.getByRole('button', { name: '提交' }).click();
    const done = page.getByText(/申请已提交，编号/);
    await done.or(page.locator('.notice-error')).first().waitFor();
    assert.ok(await done.isVisible(), await page.locator('.notice-error').allInnerTexts().then((x) => x.join(' ')));
    const id = /编号 (\S+)/.exec(await done.innerText())![1]!;
    const r = await call(server, 'GET', `/api/v1/cas/${CA}/applications/${id}`, undefined, tokens.clerk);
    assert.equal(r.json.kind, 'rekey');
    assert.equal(r.json.previousSerial, holder.serial);
    // The other officer approves it (through the API here; the page flow is the test above).
    assert.equal((await call(server, 'POST', `/api/v1/cas/${CA}/applications/${id}/approve`, {}, tokens.clerk)).status, 200);
    await signOut(page);
  });

  test('keyboard only: sign in and reach the queue without a pointer', async () => {
    await page.goto(`${base}/app/login`);
    const focused = () => page.evaluate('document.activeElement && (document.activeElement.getAttribute("name") || document.activeElement.textContent)');
    let found = false;
    for (let i = 0; i < 30 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await focused()) === 'token';
    }
    assert.ok(found, 'the token field is reachable with Tab');
    await page.keyboard.type(tokens.checker);
    await page.keyboard.press('Enter');
    await page.getByTestId('who').waitFor();
    found = false;
    for (let i = 0; i < 30 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await focused()) === '申请队列';
    }
    assert.ok(found, 'the queue link is reachable with Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '申请队列' }).waitFor();
    // From a fresh load, the first Tab reaches the skip link, which leads past the navigation.
    await page.reload();
    await page.getByRole('heading', { name: '申请队列' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focused(), '跳到主要内容');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'main');
    await signOut(page);
  });
});

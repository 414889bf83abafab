/**
 * The platform pages end to end: chromium (headless, playwright-core) against a real national
 * platform (startPlatformServer, SQLite) and a real CA service (startServer, the demo CAs) that
 * reports to it and passes /platform/* through to it, as the embedded deployment does. demo-sm2
 * is admitted beforehand over the APIs (admitCa); demo-p256 has only applied, in Guangdong.
 * The national office's main flow in Chinese — the province forwards the application, the
 * conformance test runs against the CA's live CRL/OCSP/query interface and its report is read,
 * approval, an inspection planned and recorded, an evaluation opening a rectification order, a
 * complaint handled, the dashboard's charts — then English; a provincial office sees only its
 * province; bad input is answered next to the field in the user's language. Screenshots go to
 * docs/screenshots/platform-*.png. Needs the built bundle (`npm run build -w @health-pki/web`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { RunningPlatform, RunningServer } from '@health-pki/server';
import { screenshot } from './browser.js';
import { startPlatformDeployment, type PlatformDeployment } from './deployment.js';
import { fieldErrorByLabel, must, platformLogin } from './flows.js';

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A yyyy-mm-dd date `days` from today (the browser runs in the same time zone). */
function dayFromNow(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

describe('platform pages in chromium', { timeout: 180_000 }, () => {
  let d: PlatformDeployment<'gd' | 'bj' | 'auditor' | 'ca'>;
  let platform: RunningPlatform;
  let server: RunningServer;
  let page: Page;
  let base: string;
  let caAdmin: string;
  let tokens: typeof d.tokens;

  async function platformLogout(): Promise<void> {
    await page.locator('.platform-bar button').first().click();
    await page.locator('input[name=platform-token]').waitFor();
  }

  before(async () => {
    d = await startPlatformDeployment('hpki-web-platform-', {
      gd: { id: 'gd-office', role: 'provincial', province: 'GD' },
      bj: { id: 'bj-office', role: 'provincial', province: 'BJ' },
      auditor: { id: 'inspector', role: 'auditor' },
      ca: { id: 'sm2-ops', role: 'ca', ca: 'demo-sm2' },
    });
    ({ platform, server, page, base, caAdmin, tokens } = d);
    // demo-p256 only applies, based in Guangdong: the browser takes it from there.
    const info = await must(server, 'GET', '/api/v1/platform-access/demo-p256', undefined, caAdmin);
    const samples = await must(server, 'POST', '/api/v1/platform-access/demo-p256/samples', {}, caAdmin);
    const now = Date.now();
    await must(platform, 'POST', '/platform/cas', {
      name: 'demo-p256',
      displayName: '岭南数字证书认证中心',
      homeProvince: 'GD',
      provinces: ['GD'],
      licence: { number: 'ECP-GD-2026-017', notBefore: new Date(now - 86_400_000).toISOString(), notAfter: new Date(now + 3 * 365 * 86_400_000).toISOString() },
      company: { name: '岭南数字认证有限公司', creditCode: '91440000000000000X' },
      servicePlan: '面向广东省医疗卫生机构的电子认证服务。',
      materials: [{ title: '电子认证服务许可证' }, { title: '电子认证业务规则' }],
      certificates: info.certificates,
      platformAccessCertificate: info.platformAccessCertificate,
      endpoints: info.endpoints,
      samples: { good: samples.good, revoked: samples.revoked },
    }, tokens.national);
    // Availability for the dashboard, and a complaint from the public about demo-sm2.
    await must(platform, 'POST', '/platform/probes/run', {}, tokens.national);
    await must(platform, 'POST', '/platform/complaints', {
      ca: 'demo-sm2',
      category: 'pin-unlock',
      complainantKind: 'unit',
      contact: { name: '王五', organisation: '北京市第一医院', phone: '010-12345678' },
      subject: '密码解锁等待过久',
      description: '本院医生的 USB Key 锁定后三天未获解锁。',
    });
    page.on('dialog', (dialog) => void dialog.accept());
  });

  after(async () => {
    await d?.stop();
  });

  test('sign-in: platform pages send a visitor to the platform sign-in; a wrong token is answered next to the field', async () => {
    await page.goto(`${base}/app/platform/cas`);
    await page.waitForURL(/\/app\/platform\/login\?next=/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await page.getByRole('button', { name: '登录' }).click();
    assert.equal(await fieldErrorByLabel(page, /平台访问令牌/), '请填写平台访问令牌');
    await page.getByLabel(/平台访问令牌/).fill('not-a-token');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('平台不认识此令牌；请核对后重试').waitFor();
    assert.equal(await fieldErrorByLabel(page, /平台访问令牌/), '平台不认识此令牌；请核对后重试');
    // No platform page is linked to a visitor without a platform session, except the sign-in.
    const links = await page.locator('nav.side a').allInnerTexts();
    assert.ok(links.includes('平台登录'));
    for (const l of ['全国统计', '认证机构', '检查与评估', '投诉处理']) assert.ok(!links.includes(l), `${l} hidden`);
    await screenshot(page, 'platform-login.zh-CN');
  });

  test('admission: the province forwards, the national office runs the conformance test, reads the report and approves', async () => {
    // Guangdong sees only its own CA, and may review it but not approve or test it.
    await platformLogin(page, base, tokens.gd, '/app/platform/cas');
    await page.getByRole('link', { name: '查看 demo-p256' }).waitFor();
    assert.equal(await page.getByRole('link', { name: '查看 demo-sm2' }).count(), 0, 'a province sees only the CAs serving it');
    await page.getByRole('link', { name: '查看 demo-p256' }).click();
    await page.getByRole('heading', { name: '省级审核' }).waitFor();
    assert.equal(await page.getByRole('button', { name: '批准接入' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: '运行接入测试' }).count(), 0);
    await page.getByLabel('审核意见').fill('材料齐全，同意报送');
    await page.getByRole('button', { name: '审核通过并报送国家办公室' }).click();
    await page.getByText('已完成：省级已审核').waitFor();
    await platformLogout();

    // The samples' sync events reach the platform once it accepts the reviewed CA's batches.
    await until('demo-p256 outbox drained', async () => {
      const s = await must(server, 'GET', '/api/v1/platform-access/demo-p256/outbox', undefined, caAdmin);
      return Number(s.pending) === 0 && Number(s.sent) > 0;
    });

    await platformLogin(page, base, tokens.national, '/app/platform/cas');
    await page.getByRole('link', { name: '查看 demo-sm2' }).waitFor();
    await screenshot(page, 'platform-cas.zh-CN');
    await page.getByRole('link', { name: '查看 demo-p256' }).click();
    // Approval is not offered before a passing test.
    await page.getByRole('button', { name: '运行接入测试' }).waitFor();
    assert.equal(await page.getByRole('button', { name: '批准接入' }).count(), 0);
    // The run takes seconds: a progress line says what is being tested while it lasts (recorded by an observer, however short the run).
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__progress = [];
      new w.MutationObserver(() => {
        for (const el of w.document.querySelectorAll('[role=status] progress')) w.__progress.push(el.getAttribute('aria-label'));
      }).observe(w.document.body, { subtree: true, childList: true });
    });
    await page.getByRole('button', { name: '运行接入测试' }).click();
    await page.getByRole('button', { name: '批准接入' }).waitFor({ timeout: 30_000 });
    const progress: string[] = await page.evaluate(() => (globalThis as any).__progress);
    assert.ok(progress.some((p) => /^正在测试 demo-p256 的 CRL、OCSP、查询接口和同步数据……已用 \d+ 秒$/.test(p)), JSON.stringify(progress));
    const report = page.getByTestId('conformance-report');
    await report.getByText('测试通过').first().waitFor();
    for (const check of ['证书链', '证书格式', 'CRL', 'OCSP', '查询接口', '数据同步']) await report.getByRole('cell', { name: check, exact: true }).waitFor();
    // Each sample with what the CRL, OCSP and the query interface said about it.
    const sampleRows = report.getByRole('table', { name: '样本证书' }).locator('tbody tr');
    const cells = async (i: number) => (await sampleRows.nth(i).locator('td').allInnerTexts()).map((c) => c.trim());
    const [good, revoked] = [await cells(0), await cells(1)];
    assert.deepEqual([good[0], good[3], good[4], good[5]], ['正常', '未列入', '正常', '正常']);
    assert.deepEqual([revoked[0], revoked[3], revoked[4], revoked[5]], ['已吊销', '已列入', '已吊销', '已吊销']);
    await screenshot(page, 'platform-ca.zh-CN');
    await page.getByLabel('决定说明').fill('接入测试通过，批准接入');
    await page.getByRole('button', { name: '批准接入' }).click();
    await page.getByText('已完成：已接入').waitFor();
    // Now connected: the national office's remaining decisions are suspend and terminate.
    await page.getByRole('button', { name: '暂停' }).waitFor();
    assert.equal(await page.getByRole('button', { name: '驳回' }).count(), 0);
    const status = await must(platform, 'GET', '/platform/cas/demo-p256', undefined, tokens.national);
    assert.equal(status.status, 'connected');
    assert.deepEqual(status.history.map((h: { to: string }) => h.to), ['applied', 'province-reviewed', 'tested', 'connected']);
  });

  test('supervision: an inspection planned and recorded, an evaluation opening a rectification order with its deadline', async () => {
    // The national office (still signed in) plans an inspection of demo-sm2: a date is required, not in the past.
    await page.goto(`${base}/app/platform/cas/demo-sm2`);
    await page.getByRole('button', { name: '计划检查' }).click();
    assert.equal(await fieldErrorByLabel(page, /计划日期/), '请填写计划日期');
    await page.getByLabel(/计划日期/).fill(dayFromNow(-3));
    await page.getByRole('button', { name: '计划检查' }).click();
    assert.equal(await fieldErrorByLabel(page, /计划日期/), '计划日期不能早于今天');
    await page.getByLabel(/计划日期/).fill(dayFromNow(7));
    await page.getByRole('button', { name: '计划检查' }).click();
    await page.getByText('检查已计划').waitFor();
    // A province does not evaluate: the national office sees no evaluation form.
    assert.equal(await page.getByRole('heading', { name: '年度评估' }).count(), 0);

    await page.goto(`${base}/app/platform/supervision`);
    await page.getByRole('button', { name: '记录检查结果' }).click();
    assert.equal(await fieldErrorByLabel(page, /检查发现/), '请填写发现');
    await page.getByLabel(/检查发现/).fill('证书受理记录缺少两份身份证明复印件\n应急预案未按季度演练');
    await page.getByRole('button', { name: '记录检查结果' }).click();
    await page.getByText('检查结果已记录').waitFor();
    await page.getByRole('cell', { name: /应急预案未按季度演练/ }).waitFor();
    await platformLogout();

    // Guangdong evaluates its CA: a failing evaluation must name its findings.
    await platformLogin(page, base, tokens.gd, '/app/platform/cas/demo-p256');
    await page.getByRole('heading', { name: '年度评估' }).waitFor();
    await page.getByLabel(/不符合要求/).check();
    await page.getByRole('button', { name: '年度评估' }).click();
    assert.equal(await fieldErrorByLabel(page, /评估发现/), '不符合要求的评估必须写明发现');
    await page.getByLabel(/评估发现/).fill('OCSP 服务夜间中断超过 2 小时');
    await page.getByRole('button', { name: '年度评估' }).click();
    await page.getByText('评估已记录').waitFor();
    await page.goto(`${base}/app/platform/supervision`);
    await page.getByRole('cell', { name: /OCSP 服务夜间中断/ }).waitFor();
    const deadline = page.getByRole('table', { name: '整改通知' }).getByRole('row').nth(1);
    await deadline.getByText('整改中').waitFor();
    assert.match(await deadline.innerText(), /剩余 36[56] 天/);
    // Guangdong does not see Beijing's inspection of demo-sm2 (a CA not serving it).
    assert.equal(await page.getByRole('cell', { name: /应急预案未按季度演练/ }).count(), 0);
    await screenshot(page, 'platform-supervision.zh-CN');
    await platformLogout();
  });

  test('complaints: the handling office takes a complaint up and resolves it; the outcome is required', async () => {
    // Guangdong sees no complaint about a Beijing CA.
    await platformLogin(page, base, tokens.gd, '/app/platform/complaints');
    await page.getByRole('table', { name: '投诉（0 件）' }).waitFor();
    await platformLogout();

    await platformLogin(page, base, tokens.bj, '/app/platform/complaints');
    await page.getByLabel('状态').selectOption('received');
    await page.getByRole('button', { name: '查询' }).click();
    await page.getByRole('button', { name: '处理: 密码解锁等待过久' }).click();
    await page.getByRole('button', { name: '受理', exact: true }).click();
    await page.getByRole('region', { name: '密码解锁等待过久' }).getByText('处理中').first().waitFor();
    await platformLogout();

    // The CA itself sees only itself and its complaint (without the complainant's contact) and answers with a note.
    await platformLogin(page, base, tokens.ca, '/app/platform/cas');
    await page.getByRole('link', { name: '查看 demo-sm2' }).waitFor();
    assert.equal(await page.getByRole('link', { name: '查看 demo-p256' }).count(), 0);
    await page.getByRole('link', { name: '投诉处理' }).click();
    await page.getByRole('button', { name: '处理: 密码解锁等待过久' }).click();
    const panel = page.getByRole('region', { name: '密码解锁等待过久' });
    await panel.getByRole('button', { name: '添加备注' }).waitFor();
    for (const b of ['受理', '办结', '不予受理']) assert.equal(await panel.getByRole('button', { name: b, exact: true }).count(), 0, `${b} hidden from the CA`);
    assert.equal(await panel.getByText('北京市第一医院').count(), 0, 'the CA does not see the contact');
    await panel.getByRole('button', { name: '添加备注' }).click();
    assert.equal(await fieldErrorByLabel(page, '备注'), '请填写备注');
    await page.getByLabel('备注').fill('已于当日为该医生解锁');
    await panel.getByRole('button', { name: '添加备注' }).click();
    await panel.getByText(/认证机构回复 · .*已于当日为该医生解锁/).waitFor();
    await platformLogout();

    await platformLogin(page, base, tokens.bj, '/app/platform/complaints');
    await page.getByRole('button', { name: '处理: 密码解锁等待过久' }).click();
    await page.getByRole('button', { name: '办结' }).click();
    assert.equal(await fieldErrorByLabel(page, /处理结果/), '请填写处理结果');
    await page.getByLabel(/处理结果/).fill('已督促认证机构当日解锁，并要求其缩短处理时限');
    await page.getByRole('button', { name: '办结' }).click();
    await page.getByRole('region', { name: '密码解锁等待过久' }).getByText('已办结').first().waitFor();
    await screenshot(page, 'platform-complaints.zh-CN');
    const c = (await must(platform, 'GET', '/platform/complaints', undefined, tokens.national)).complaints[0];
    assert.equal(c.status, 'resolved');
    assert.equal(c.outcome, '已督促认证机构当日解锁，并要求其缩短处理时限');
    await platformLogout();
  });

  test('dashboard: charts of issuance over time, by CA, province and class, and availability; CSV export; a province sees its own', async () => {
    await platformLogin(page, base, tokens.national);
    await page.getByTestId('dash-totals').waitFor();
    for (const id of ['over-time', 'by-ca', 'by-province', 'by-class', 'availability']) {
      const canvas = page.getByTestId(`chart-${id}`).locator('canvas');
      await canvas.waitFor();
      // chart.js drew something: the canvas is not blank.
      const drawn = await canvas.evaluate((c: any) => {
        const ctx = c.getContext('2d')!;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
        return false;
      });
      assert.ok(drawn, `chart ${id} drawn`);
    }
    const byCa = await page.getByTestId('chart-by-ca').locator('table').textContent();
    assert.match(byCa ?? '', /demo-sm2/);
    assert.match(byCa ?? '', /demo-p256/);
    assert.match((await page.getByTestId('chart-availability').locator('table').textContent()) ?? '', /demo-sm2/);
    const totals = await page.getByTestId('dash-totals').innerText();
    assert.match(totals, /合计：签发 [1-9]\d*/);
    await screenshot(page, 'platform-dashboard.zh-CN');
    // Bad period: the message is next to the field.
    await page.getByLabel('起始日期').fill(dayFromNow(5));
    await page.getByLabel('截止日期').fill(dayFromNow(-5));
    await page.getByRole('button', { name: '更新' }).click();
    assert.equal(await fieldErrorByLabel(page, '起始日期'), '起始日期不能晚于截止日期');
    await page.getByLabel('起始日期').fill('');
    await page.getByLabel('截止日期').fill('');
    // CSV of the statistics, from the platform's route.
    const dl = page.waitForEvent('download');
    await page.getByRole('button', { name: '导出统计 CSV' }).click();
    const csv = readFileSync((await (await dl).path())!, 'utf8');
    assert.match(csv.split(/\r?\n/)[0]!, /^ca,province,class,/);
    assert.match(csv, /demo-sm2,BJ/);
    await platformLogout();

    // Beijing's dashboard counts only Beijing.
    await platformLogin(page, base, tokens.bj);
    await page.getByTestId('dash-totals').waitFor();
    const provinces = await page.getByTestId('chart-by-province').locator('tbody th').allTextContents();
    assert.deepEqual(provinces, ['BJ']);
    await platformLogout();
  });

  test('English: the pages, statuses, dates and messages switch; the auditor sees no controls', async () => {
    await page.goto(`${base}/app/platform/login`);
    await page.locator('select[name=language]').selectOption('en');
    await page.getByRole('heading', { name: 'Sign in to the certificate service management platform' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal(await fieldErrorByLabel(page, /Platform access token/), 'Please fill in Platform access token');
    await screenshot(page, 'platform-login.en');

    await platformLogin(page, base, tokens.national);
    await page.getByRole('heading', { name: 'National certificate statistics' }).waitFor();
    await page.getByTestId('dash-totals').getByText(/^Total: \d+ issued/).waitFor();
    await screenshot(page, 'platform-dashboard.en');
    await page.getByRole('link', { name: 'Certification agencies' }).click();
    await page.getByRole('table', { name: 'Certification agencies (2)' }).waitFor();
    await screenshot(page, 'platform-cas.en');
    await page.getByRole('link', { name: 'Open demo-p256' }).click();
    await page.getByTestId('conformance-report').getByText('Test passed').first().waitFor();
    await page.getByRole('cell', { name: 'Data sync', exact: true }).waitFor();
    // Dates in the English form (e.g. "Nov 28, 2026, 11:05 AM").
    assert.match(await page.getByRole('table', { name: 'Status history' }).innerText(), /[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    await page.getByRole('button', { name: 'Plan an inspection' }).click();
    assert.equal(await fieldErrorByLabel(page, /Planned for/), 'Please fill in Planned for');
    await screenshot(page, 'platform-ca.en');
    await page.getByRole('link', { name: 'Inspections & evaluations' }).click();
    await page.getByRole('table', { name: 'Rectification orders' }).getByText('Rectifying').waitFor();
    await screenshot(page, 'platform-supervision.en');
    await page.getByRole('link', { name: 'Complaints' }).click();
    await page.getByRole('cell', { name: 'Resolved', exact: true }).waitFor();
    await screenshot(page, 'platform-complaints.en');
    await platformLogout();

    // The auditor reads everything and is offered no decision.
    await platformLogin(page, base, tokens.auditor, '/app/platform/cas/demo-p256');
    await page.getByTestId('conformance-report').waitFor();
    for (const b of ['Suspend', 'Terminate', 'Approve connection', 'Run the conformance test', 'Plan an inspection', 'Annual evaluation']) {
      assert.equal(await page.getByRole('button', { name: b }).count(), 0, `${b} hidden from the auditor`);
    }
    await page.goto(`${base}/app/platform/complaints`);
    await page.getByRole('button', { name: /^Handle: / }).first().click();
    assert.equal(await page.getByRole('button', { name: 'Add note' }).count(), 0);
    await platformLogout();
    await page.locator('select[name=language]').selectOption('zh-CN');
  });
});

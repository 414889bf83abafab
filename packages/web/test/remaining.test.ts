/**
 * The remaining web pieces end to end in chromium: the public complaint form with its receipt and
 * the lookup by receipt (Art. 11); the platform's information systems and fees (Art. 15, 19) —
 * registration, a fee schedule, a statement with its CSV; the administrator's CRL rebuild with its
 * state; the RA's bulk import of a CSV (rows checked with their row numbers, a progress bar,
 * applications entered) and the queue sorted by the server. Against a real platform (startPlatformServer) and a real CA service (startServer, the demo
 * CAs) that passes /platform/* through to it; demo-sm2 is admitted over the APIs beforehand. Bad
 * input is answered next to the field, in Chinese and in English. Screenshots go to
 * docs/screenshots/{complaint,platform-systems,platform-fees,admin-crl-rebuild,ra-bulk}.<lang>.png.
 * Needs the built bundle (`npm run build -w @health-pki/web`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { buildCsr, generateKey, identityExtensions, parseName } from '@health-pki/pki';
import type { RunningPlatform, RunningServer } from '@health-pki/server';
import { screenshot } from './browser.js';
import { startPlatformDeployment, type PlatformDeployment } from './deployment.js';
import { fieldErrorByLabel, must, platformLogin } from './flows.js';

/** A GB 11714 organisation code: 8 characters and their check character. */
function orgCode(body: string): string {
  const w = [3, 7, 9, 10, 5, 8, 4, 2];
  const v = (c: string) => (/\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55);
  const c = 11 - ([...body].reduce((a, ch, i) => a + v(ch) * w[i]!, 0) % 11);
  return body + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
}

/** A GB 11643 resident ID: 17 digits and their check character. */
function residentId(body: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  return body + '10X98765432'[[...body].reduce((a, d, i) => a + Number(d) * w[i]!, 0) % 11];
}

/** Retries an assertion for up to 5 s (the table refreshes after the API answers). */
async function eventually(check: () => Promise<void>): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A PEM PKCS#10 request of a staff member with a resident ID extension. */
function csrPem(name: string, id: string): string {
  return buildCsr(parseName(`C=CN,O=示例医院,OU=心内科,CN=${name}`), generateKey('p256'), identityExtensions({ residentId: id })).toPem();
}

describe('remaining web pages in chromium', { timeout: 180_000 }, () => {
  let d: PlatformDeployment<'auditor'>;
  let platform: RunningPlatform;
  let server: RunningServer;
  let page: Page;
  let base: string;
  let caAdmin: string;
  let tokens: PlatformDeployment<'auditor'>['tokens'];

  before(async () => {
    d = await startPlatformDeployment('hpki-web-remaining-', { auditor: { id: 'inspector', role: 'auditor' } });
    ({ platform, server, page, base, caAdmin, tokens } = d);
  });

  after(async () => {
    await d?.stop();
  });

  test('public complaint: bad input next to the fields, a receipt, the lookup by receipt; then English', async () => {
    await page.goto(`${base}/app/complaint`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    assert.ok((await page.locator('nav.side a').allInnerTexts()).includes('服务投诉'), 'linked for visitors');
    await page.getByRole('button', { name: '提交投诉' }).click();
    assert.equal(await fieldErrorByLabel(page, /被投诉的认证机构/), '请填写被投诉的认证机构');
    assert.equal(await fieldErrorByLabel(page, /联系人姓名/), '请填写联系人姓名');
    assert.equal(await fieldErrorByLabel(page, /联系电话/), '电话和电子邮箱至少填写一项');
    await page.getByLabel(/被投诉的认证机构/).fill('no-such-ca');
    await page.getByLabel(/投诉人身份/).selectOption('unit');
    await page.getByLabel(/联系人姓名/).fill('王五');
    await page.getByLabel(/电子邮箱/).fill('not-an-address');
    await page.getByLabel(/^主题/).fill('密码解锁等待过久');
    await page.getByLabel(/投诉内容/).fill('本院医生的 USB Key 锁定后三天未获解锁。');
    await page.getByLabel(/相关证书序列号/).fill('ABC');
    await page.getByRole('button', { name: '提交投诉' }).click();
    assert.equal(await fieldErrorByLabel(page, /电子邮箱/), '请输入有效的电子邮箱');
    assert.equal(await fieldErrorByLabel(page, /单位名称/), '以单位身份投诉时须填写单位名称');
    assert.equal(await fieldErrorByLabel(page, /相关证书序列号/), '序列号只能是十六进制小写字母和数字');
    await page.getByLabel(/电子邮箱/).fill('wang@hospital.example.cn');
    await page.getByLabel(/单位名称/).fill('北京市第一医院');
    await page.getByLabel(/相关证书序列号/).fill('');
    // The platform refuses an unknown CA: said next to the CA field.
    await page.getByRole('button', { name: '提交投诉' }).click();
    await page.locator('[name="c-ca"][aria-invalid="true"]').waitFor();
    assert.match(await fieldErrorByLabel(page, /被投诉的认证机构/), /^平台上没有这个已接入的认证机构/);
    await page.getByLabel(/被投诉的认证机构/).fill('demo-sm2');
    await page.getByRole('button', { name: '提交投诉' }).click();
    const id = (await page.getByTestId('complaint-id').innerText()).trim();
    const receipt = (await page.getByTestId('complaint-receipt').innerText()).trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.match(receipt, /^[0-9a-f]{32}$/);
    await page.getByText('处理办公室：BJ').waitFor();
    await page.locator('#receipt').scrollIntoViewIfNeeded();
    await screenshot(page, 'complaint.zh-CN');
    // The platform has it, for demo-sm2, from a unit with its contact.
    const listed = await must(platform, 'GET', `/platform/complaints/${id}`, undefined, tokens.national);
    assert.deepEqual([listed.ca, listed.complainantKind, listed.contact.organisation, listed.status], ['demo-sm2', 'unit', '北京市第一医院', 'received']);

    // Lookup: a malformed code next to the field; a wrong code is "no such complaint"; the right one the status.
    await page.getByLabel(/^受理编号/).fill(id);
    await page.getByLabel(/^查询码/).fill('xyz');
    await page.getByRole('button', { name: '查询', exact: true }).click();
    assert.equal(await fieldErrorByLabel(page, /^查询码/), '查询码是 32 位十六进制字符');
    await page.getByLabel(/^查询码/).fill('0'.repeat(32));
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await page.getByText('没有与此受理编号和查询码相符的投诉').waitFor();
    await must(platform, 'POST', `/platform/complaints/${id}/take`, { note: '已联系认证机构' }, tokens.national);
    await page.getByLabel(/^查询码/).fill(receipt);
    await page.getByRole('button', { name: '查询', exact: true }).click();
    assert.match(await page.getByTestId('complaint-status').innerText(), /处理中/);

    // English: the same page and messages.
    await page.locator('select[name=language]').selectOption('en');
    await page.getByRole('heading', { name: 'Complaint about a certification service' }).waitFor();
    await page.getByRole('button', { name: 'Send the complaint' }).click();
    assert.equal(await fieldErrorByLabel(page, /Certification agency/), 'Please fill in Certification agency');
    assert.equal(await fieldErrorByLabel(page, /Telephone/), 'Give a telephone number or an e-mail address');
    await page.getByLabel(/Telephone/).fill('12');
    await page.getByRole('button', { name: 'Send the complaint' }).click();
    assert.equal(await fieldErrorByLabel(page, /Telephone/), 'Enter a valid telephone number');
    await page.getByLabel(/^Complaint number/).fill(id);
    await page.getByLabel(/^Receipt code/).fill(receipt);
    await page.getByRole('button', { name: 'Look up' }).click();
    assert.match(await page.getByTestId('complaint-status').innerText(), /Being handled/);
    await page.locator('#look-up').scrollIntoViewIfNeeded();
    await screenshot(page, 'complaint.en');
    await page.locator('select[name=language]').selectOption('zh-CN');
  });

  test('platform: register an information system, set a fee schedule, read a statement and its CSV', async () => {
    const operator = orgCode('12110000');
    await platformLogin(page, base, tokens.national, '/app/platform/systems');
    await page.getByRole('heading', { name: '信息系统', level: 1 }).waitFor();
    // Bad input next to the fields (checked here), then the platform's refusals next to theirs.
    await page.getByRole('button', { name: '登记信息系统' }).click();
    assert.equal(await fieldErrorByLabel(page, /^系统标识/), '请填写系统标识');
    assert.equal(await fieldErrorByLabel(page, /^运营单位组织机构代码/), '请填写运营单位组织机构代码');
    assert.equal(await fieldErrorByLabel(page, /^认可的认证机构/), '请至少填写一个认证机构');
    assert.equal(await page.locator('#sys-groups-err').innerText(), '请至少选择一个用户群体');
    await page.getByLabel(/^系统标识/).fill('BJ EMR');
    await page.getByRole('button', { name: '登记信息系统' }).click();
    assert.match(await fieldErrorByLabel(page, /^系统标识/), /^系统标识只能是小写字母/);
    await page.getByLabel(/^系统标识/).fill('bj-emr');
    await page.getByLabel(/^系统名称/).fill('北京市电子病历共享平台');
    await page.getByLabel(/^登记范围/).fill('BJ');
    await page.getByLabel(/^运营单位组织机构代码/).fill(operator.slice(0, 8) + (operator[8] === '0' ? '1' : '0'));
    await page.getByLabel(/^运营单位名称/).fill('北京市卫生健康委员会信息中心');
    await page.getByLabel('内部人员', { exact: true }).check();
    await page.getByLabel(/^认可的认证机构/).fill('demo-p256');
    await page.getByRole('button', { name: '登记信息系统' }).click();
    await page.locator('[name="sys-operatorCode"][aria-invalid="true"]').waitFor();
    assert.match(await fieldErrorByLabel(page, /^运营单位组织机构代码/), /^组织机构代码或统一社会信用代码的校验位不正确/);
    await page.getByLabel(/^运营单位组织机构代码/).fill(operator);
    await page.getByRole('button', { name: '登记信息系统' }).click();
    await page.locator('[name="sys-acceptedCas"][aria-invalid="true"]').waitFor();
    assert.match(await fieldErrorByLabel(page, /^认可的认证机构/), /^信息系统只能认可已接入平台的认证机构/);
    await page.getByLabel(/^认可的认证机构/).fill('demo-sm2');
    await page.getByRole('button', { name: '登记信息系统' }).click();
    await page.getByText('已登记信息系统 bj-emr').waitFor();
    await page.getByRole('cell', { name: '北京市电子病历共享平台' }).waitFor();
    const sys = await must(platform, 'GET', '/platform/systems/bj-emr', undefined, tokens.national);
    assert.deepEqual([sys.scope, sys.operator.code, sys.acceptedCas, sys.userGroups, sys.publicFacing], ['BJ', operator, ['demo-sm2'], ['internal-staff'], false]);
    await page.locator('h1').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'platform-systems.zh-CN');

    // A fee schedule from today (UTC); a bad price and a past date are refused next to their fields.
    await page.getByRole('link', { name: '收费标准与结算' }).click();
    await page.getByText('收费标准（0 个，单位：元）').waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await page.locator('input[name=fee-from]').fill('2020-01-01');
    await page.locator('input[name="fee-internal-staff.firstIssuance"]').fill('12.345');
    await page.getByRole('button', { name: '发布收费标准' }).click();
    assert.equal(await fieldErrorByLabel(page, /^生效日期/), '生效日期不能早于今天');
    assert.equal(await fieldErrorByLabel(page, /^内部人员证书首次签发费/), '金额是不超过 100000 元的数字，最多两位小数');
    await page.locator('input[name=fee-from]').fill(today);
    const prices: Record<string, string> = { 'internal-staff': '120', 'internal-organization': '300.5', 'external-person': '80', 'external-organization': '200' };
    for (const [cls, p] of Object.entries(prices)) {
      await page.locator(`input[name="fee-${cls}.firstIssuance"]`).fill(p);
      await page.locator(`input[name="fee-${cls}.annualService"]`).fill('50');
    }
    await page.getByRole('button', { name: '发布收费标准' }).click();
    await page.getByText(`已发布自 ${today} 起生效的收费标准`).waitFor();
    await page.getByText('收费标准（1 个，单位：元）').waitFor();
    const schedules = await must(platform, 'GET', '/platform/fees/schedules', undefined, tokens.national);
    assert.deepEqual(schedules.schedules[0].prices['internal-organization'], { firstIssuance: 30050, annualService: 5000 });

    // Two staff certificates used by the system → a statement of 240 yuan, and its CSV.
    const holders = [residentId('11010519800101123'), residentId('11010519900202234')];
    await must(platform, 'POST', '/platform/systems/bj-emr/usage', { records: holders.map((value) => ({ holder: { kind: 'resident-id', value }, ca: 'demo-sm2', class: 'internal-staff' })) }, tokens.national);
    await page.getByLabel(/^信息系统/).selectOption('bj-emr');
    await page.getByLabel(/^截止日期/).fill('2000-01-01');
    await page.getByRole('button', { name: '查询结算单' }).click();
    assert.equal(await fieldErrorByLabel(page, /^截止日期/), '起始日期必须早于截止日期');
    await page.getByLabel(/^截止日期/).fill(`${new Date().getFullYear() + 1}-01-01`);
    await page.getByRole('button', { name: '查询结算单' }).click();
    assert.equal(await page.getByTestId('statement-totals').innerText(), '合计 240.00 元：首次签发 240.00 元，年服务 0.00 元');
    assert.equal(await page.locator('table').last().locator('tbody tr').count(), 2);
    assert.ok(!(await page.locator('table').last().innerText()).includes(holders[0]!), 'resident IDs are masked');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'fees-system-bj-emr.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    assert.match(csv, /^date,kind,system,holder/);
    assert.match(csv, /\r\ntotal,.*,240\.00,/);
    await page.getByText('已导出 fees-system-bj-emr.csv').waitFor();
    // A unit's statement: a malformed code next to the field.
    await page.getByLabel(/^结算对象/).selectOption('unit');
    await page.getByLabel(/^单位组织机构代码/).fill('12');
    await page.getByRole('button', { name: '查询结算单' }).click();
    assert.equal(await fieldErrorByLabel(page, /^单位组织机构代码/), '组织机构代码是 9 位，统一社会信用代码是 18 位（字母或数字）');
    await page.getByLabel(/^单位组织机构代码/).fill(operator);
    await page.getByRole('button', { name: '查询结算单' }).click();
    await page.getByText('合计 240.00 元：首次签发 240.00 元，年服务 0.00 元').waitFor();
    await page.locator('#statement').scrollIntoViewIfNeeded();
    await screenshot(page, 'platform-fees.zh-CN');

    // English, as the auditor: the lists and a statement, no registration and no schedule form.
    await page.locator('.platform-bar button').first().click();
    await page.locator('select[name=language]').selectOption('en');
    await platformLogin(page, base, tokens.auditor, '/app/platform/systems');
    await page.getByRole('cell', { name: '北京市电子病历共享平台' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Register the system' }).count(), 0);
    await page.locator('h1').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'platform-systems.en');
    await page.getByRole('link', { name: 'Statement', exact: true }).click();
    await page.getByText('Total 240.00 yuan: first issuance 240.00 yuan, annual service 0.00 yuan').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Publish the schedule' }).count(), 0);
    await page.getByLabel(/^To date/).fill('2000-01-01');
    await page.getByRole('button', { name: 'Show the statement' }).click();
    assert.equal(await fieldErrorByLabel(page, /^To date/), 'The start date must be before the end date');
    await page.getByLabel(/^To date/).fill(`${new Date().getFullYear() + 1}-01-01`);
    await page.locator('#statement').scrollIntoViewIfNeeded();
    await screenshot(page, 'platform-fees.en');
    await page.locator('.platform-bar button').first().click();
    await page.locator('select[name=language]').selectOption('zh-CN');
  });

  test('administrator: rebuild a CRL now, the state shown, the new CRL served', async () => {
    const before = await fetch(`${base}/api/v1/cas/demo-p256/crls/issuing-1`);
    assert.equal(before.status, 200);
    await page.goto(`${base}/app/login`);
    await page.locator('input[name=token]').fill(caAdmin);
    await page.locator('form button[type=submit]').click();
    await page.getByTestId('who').waitFor();
    await page.goto(`${base}/app/admin/cas`);
    await page.locator('select[name=language]').selectOption('zh-CN');
    const button = page.getByRole('button', { name: '重建 demo-p256/issuing-1 的 CRL' });
    await button.click();
    const done = page.getByText(/^已发布 CRL 第 \d+ 号（0 条吊销记录，分区 0）/);
    await done.waitFor();
    const n = /第 (\d+) 号/.exec(await done.innerText())![1]!;
    const etag = (await fetch(`${base}/api/v1/cas/demo-p256/crls/issuing-1`)).headers.get('etag');
    assert.equal(etag, `"${n}-full"`, 'the rebuilt CRL is the one served');
    await page.locator('h1').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-crl-rebuild.zh-CN');
    await page.locator('header button').click();
    await page.locator('input[name=token]').waitFor();
  });
  test('RA bulk import: rows checked with their numbers, entered with progress; the queue sorted by the server', async () => {
    await page.goto(`${base}/app/login`);
    await page.locator('input[name=token]').fill(caAdmin);
    await page.locator('form button[type=submit]').click();
    await page.getByTestId('who').waitFor();
    await page.locator('select[name=language]').selectOption('zh-CN');
    await page.getByRole('link', { name: '批量导入申请' }).click();
    await page.getByRole('heading', { name: '批量导入申请' }).waitFor();
    // A header problem is said next to the file field.
    await page.locator('input[name=bulk-csv]').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('name,profile,csr,shoe_size\r\nx,staff-sign,y,42\r\n') });
    await page.locator('input[name=bulk-csv][aria-invalid=true]').waitFor();
    assert.equal(await fieldErrorByLabel(page, /^CSV 文件/), '不认识的列：shoe_size');
    const ok1 = residentId('11010519800101123');
    const ok2 = residentId('11010519900202234');
    const csv = [
      'name,resident_id,organization,department,profile,email,phone,csr',
      `bulk-bert,${ok1},示例医院,心内科,staff-sign,bert@hospital.example.cn,,"${csrPem('bulk-bert', ok1)}"`,
      `bulk-anna,${ok2},示例医院,放射科,staff-sign,,010-12345678,anna.csr`,
      `,110105198001011230,示例医院,,staff-sign,,,anna.csr`,
      `bulk-cleo,,示例医院,,no-such-profile,not-mail,,missing.csr`,
    ].join('\r\n');
    await page.locator('input[name=bulk-csv]').setInputFiles({ name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from('\uFEFF' + csv) });
    await page.locator('input[name=bulk-csrs]').setInputFiles({ name: 'anna.csr', mimeType: 'application/pkcs10', buffer: Buffer.from(csrPem('bulk-anna', ok2)) });
    await page.getByText('2 条有效，2 条有误').first().waitFor();
    const lines = await page.locator('ul.row-errors li').allInnerTexts();
    assert.deepEqual(lines, [
      '第 4 行：缺少姓名；居民身份证号校验位不正确',
      '第 5 行：证书模板“no-such-profile”不存在；电子邮箱格式不正确；没有选择名为“missing.csr”的 CSR 文件',
    ]);
    await page.getByRole('button', { name: '录入 2 条有效申请' }).click();
    await page.getByText('已录入 2 条申请，2 条未录入').waitFor();
    assert.equal(await page.getByRole('link', { name: /^查看申请/ }).count(), 2);
    await page.locator('h1').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'ra-bulk.zh-CN');
    const listed = await must(server, 'GET', '/api/v1/cas/demo-p256/applications?state=submitted', undefined, caAdmin);
    assert.deepEqual(listed.applications.map((a: any) => a.applicant.name), ['bulk-bert', 'bulk-anna']);
    assert.equal(listed.applications[1].applicant.phone, '010-12345678');

    // English: the same row messages in English.
    await page.locator('select[name=language]').selectOption('en');
    await page.locator('input[name=bulk-csv]').setInputFiles({ name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByText('Row 4: name is missing; the resident ID\'s check character is wrong').waitFor();
    await page.locator('select[name=language]').selectOption('zh-CN');

    // The queue: entry order by default; the subject header sorts on the server.
    await page.getByRole('link', { name: '申请队列' }).click();
    const names = async () => (await page.locator('table tbody tr td:nth-child(2)').allInnerTexts()).map((x) => x.trim());
    await page.getByRole('cell', { name: 'bulk-anna', exact: true }).waitFor();
    assert.deepEqual(await names(), ['bulk-bert', 'bulk-anna']);
    const subject = page.locator('th', { hasText: '主题' });
    await subject.locator('button').click();
    await page.locator('th[aria-sort=ascending]', { hasText: '主题' }).waitFor();
    await eventually(async () => assert.deepEqual(await names(), ['bulk-anna', 'bulk-bert']));
    await subject.locator('button').click();
    await page.locator('th[aria-sort=descending]', { hasText: '主题' }).waitFor();
    await eventually(async () => assert.deepEqual(await names(), ['bulk-bert', 'bulk-anna']));

    // The public search: the subject header sorts on the server, both ways.
    await page.getByRole('link', { name: '证书查询' }).click();
    const subjects = async () => (await page.locator('table tbody tr td:nth-child(2)').allInnerTexts()).map((x) => x.trim());
    await page.locator('table tbody tr td:nth-child(2)').first().waitFor();
    await page.locator('th', { hasText: '主题' }).locator('button').click();
    await page.locator('th[aria-sort=ascending]', { hasText: '主题' }).waitFor();
    await eventually(async () => {
      const got = await subjects();
      assert.ok(got.length >= 2, 'certificates listed');
      assert.deepEqual(got, [...got].sort());
    });
    await page.locator('th', { hasText: '主题' }).locator('button').click();
    await page.locator('th[aria-sort=descending]', { hasText: '主题' }).waitFor();
    await eventually(async () => {
      const got = await subjects();
      assert.deepEqual(got, [...got].sort().reverse());
    });
    await page.locator('header button').click();
    await page.locator('input[name=token]').waitFor();
  });
});

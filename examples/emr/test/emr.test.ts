/**
 * The EMR end to end (issue 9): a real deployment (CA service with demo-sm2 and demo-p256, OCSP,
 * CRLs, TSA; the national platform with both CAs admitted), holders' software tokens with keys made
 * on the token and certificates from each CA, their local signing agent, the EMR built on the SDK,
 * and Debian's Chromium driven by playwright-core: a doctor (SM2, demo-sm2) logs in with the
 * certificate, writes and signs a record; a nurse (P-256, demo-p256) countersigns; an auditor sees
 * who signed what and when; the doctor's certificate is revoked and the signatures still hold.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { generateKey, signData } from '@health-pki/pki';
import { MemoryAccountStorage, TrustStore } from '@health-pki/sdk';
import { SoftToken } from '@health-pki/token';
import { buildEmr } from '../src/app.js';
import { RecordStore } from '../src/records.js';
import { startAgent, type RunningAgent } from '../src/agent/agent.js';
import { equipHolder, residentIdCheck, type EquippedHolder } from '../src/demo/holders.js';
import type { Deployment } from '../../../packages/sdk/test/helpers/deployment.js';

// The SDK's shared deployment helper, compiled in its own package (its path differs between source and dist).
const { startDeployment } = (await import(new URL('../../../../packages/sdk/dist/test/helpers/deployment.js', import.meta.url).href)) as typeof import('../../../packages/sdk/test/helpers/deployment.js');

const SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PIN = '246810';
const CHEAP_KDF = { alg: 'scrypt', N: 1024, r: 8, p: 1 } as const; // tests only: the token's PIN check in milliseconds

let dep: Deployment;
let agent: RunningAgent;
let emrUrl: string;
let adminToken: string;
let closeEmr: () => Promise<void>;
let records: RecordStore;
let trust: TrustStore;
const people: Record<'doctor' | 'nurse' | 'auditor', EquippedHolder & { tokenId: string }> = {} as never;
let profile: string;
let context: BrowserContext;
let page: Page;

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(emrUrl + path, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

async function shot(name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Logs in through the page as the holder of `who`'s certificate. */
async function loginAs(who: keyof typeof people, screenshotName?: string): Promise<void> {
  await page.goto(emrUrl + '/');
  await page.click('#load-certs');
  await page.waitForSelector(`#cert option[value="${people[who].tokenId}/HPKI/staff"]`, { state: 'attached' });
  await page.selectOption('#cert', `${people[who].tokenId}/HPKI/staff`);
  await page.fill('#pin', PIN);
  if (screenshotName) await shot(screenshotName);
  await page.click('#login');
  await page.waitForSelector('#workspace:not([hidden])');
}

async function logout(): Promise<void> {
  await page.click('#logout');
  await page.waitForSelector('#login-card:not([hidden])');
}

describe('EMR on the SDK: sign, countersign, audit, revoke', { timeout: 180_000 }, () => {
  before(async () => {
    dep = await startDeployment();
    const tokens = join(dep.tmpDir, 'tokens');
    mkdirSync(tokens);
    const target = { caUrl: dep.ca.url, adminToken: dep.adminToken, kdf: CHEAP_KDF };
    const make = async (key: keyof typeof people, ca: string, alg: 'sm2' | 'p256', name: string, id17: string) => {
      const e = await equipHolder({ file: join(tokens, `${key}.tok`), ca, alg, name, residentId: id17 + residentIdCheck(id17), pin: PIN }, target);
      people[key] = { ...e, tokenId: SoftToken.open(e.file).info().tokenId };
    };
    await make('doctor', 'demo-sm2', 'sm2', '张医生', '11010519800101001');
    await make('nurse', 'demo-p256', 'p256', '李护士', '44010619900202002');
    await make('auditor', 'demo-p256', 'p256', '王审计', '31010119850303003');

    trust = await TrustStore.open({ platformUrl: dep.platformUrl, platformCertificate: dep.platformCertificate });
    assert.equal((await trust.refresh()).accepted, true);
    agent = await startAgent({ tokens: Object.values(people).map((p) => ({ file: p.file })), allowedOrigins: [] });
    adminToken = 'emr-admin-token-for-tests';
    records = RecordStore.open();
    const { app } = buildEmr({ trust, records, accounts: new MemoryAccountStorage(), tsaUrl: `${dep.ca.url}/tsa`, adminToken, agentUrl: agent.url });
    await app.listen({ port: 0, host: '127.0.0.1' });
    emrUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    agent.allowOrigin(emrUrl);
    closeEmr = () => app.close();
    for (const [account, p] of Object.entries(people)) {
      const r = await api('POST', '/api/admin/accounts', { certificate: p.certificatePem, account, roles: [account] }, { authorization: `Bearer ${adminToken}` });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }

    profile = mkdtempSync(join(tmpdir(), 'emr-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: process.env.HPKI_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: FLAGS, viewport: { width: 1360, height: 820 }, locale: 'zh-CN' });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await closeEmr?.().catch(() => undefined);
    await agent?.close().catch(() => undefined);
    trust?.stop();
    await dep?.close();
  });

  it('refuses the unauthenticated, the unauthorised and bad input with 4xx and a reason', async () => {
    assert.equal((await api('GET', '/api/records')).status, 401);
    assert.equal((await api('GET', '/api/audit')).status, 401);
    assert.equal((await api('POST', '/api/records', { patient: 'x', content: 'y' })).status, 401);
    // Administration needs the EMR administrator's token.
    const reg = { certificate: people.doctor.certificatePem, account: 'x', roles: ['doctor'] };
    assert.equal((await api('POST', '/api/admin/accounts', reg)).status, 401);
    assert.equal((await api('POST', '/api/admin/accounts', reg, { authorization: 'Bearer wrong-token-of-same-length!' })).status, 401);
    const bad = await api('POST', '/api/admin/accounts', { ...reg, certificate: 'not a certificate' }, { authorization: `Bearer ${adminToken}` });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /cannot be read/);
    // One identity, one account: the doctor cannot be registered again under another account.
    const again = await api('POST', '/api/admin/accounts', reg, { authorization: `Bearer ${adminToken}` });
    assert.equal(again.status, 409);
    assert.equal((await api('POST', '/api/admin/accounts', { ...reg, roles: ['surgeon'] }, { authorization: `Bearer ${adminToken}` })).status, 400);
    assert.equal((await api('POST', '/api/session/login', '{not json')).status, 400);

    // Login: a signature over the challenge by another key is refused.
    const ch = await api('POST', '/api/session/challenge', {});
    assert.equal(ch.status, 200);
    const cookie = ch.headers.get('set-cookie')!.split(';')[0]!;
    const other = generateKey('p256');
    const forged = signData(other, Buffer.from(ch.json.toBeSigned, 'base64')).signature.toString('base64');
    const refused = await api('POST', '/api/session/login', { certificate: people.nurse.certificatePem, signature: forged }, { cookie });
    assert.equal(refused.status, 401);
    assert.match(refused.json.error, /证书登录失败/);
    // The nurse's real token signs the next challenge: logged in, but a nurse may not write records.
    const ch2 = await api('POST', '/api/session/challenge', {}, { cookie });
    const session = SoftToken.open(people.nurse.file).login('HPKI', PIN);
    const sig = session.sign('staff', Buffer.from(ch2.json.toBeSigned, 'base64')).signature.toString('base64');
    session.logout();
    const ok = await api('POST', '/api/session/login', { certificate: people.nurse.certificatePem, signature: sig }, { cookie });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.roles, ['nurse']);
    assert.equal(ok.json.ca, 'demo-p256');
    assert.equal((await api('POST', '/api/records', { patient: 'x', content: 'y' }, { cookie })).status, 403);
    assert.equal((await api('GET', '/api/audit', undefined, { cookie })).status, 403);
    assert.equal((await api('POST', '/api/records/nope/countersign/prepare', { certificate: people.nurse.certificatePem }, { cookie })).status, 404);
    assert.equal((await api('POST', '/api/records/nope/approve/prepare', { certificate: people.nurse.certificatePem }, { cookie })).status, 404);
    await api('POST', '/api/session/logout', {}, { cookie });
    assert.equal((await api('GET', '/api/records', undefined, { cookie })).status, 401);
  });

  it('the signing agent serves only allowed origins on the loopback name, and counts wrong PINs', async () => {
    const certs = await fetch(`${agent.url}/v1/certificates`, { headers: { origin: emrUrl } });
    assert.equal(certs.status, 200);
    assert.equal(certs.headers.get('access-control-allow-origin'), emrUrl);
    assert.equal(((await certs.json()) as any).certificates.length, 3);
    assert.equal((await fetch(`${agent.url}/v1/certificates`, { headers: { origin: 'http://evil.example' } })).status, 403);
    const body = JSON.stringify({ id: `${people.auditor.tokenId}/HPKI/staff`, pin: 'wrong-pin', data: Buffer.from('x').toString('base64') });
    const wrong = await fetch(`${agent.url}/v1/sign`, { method: 'POST', headers: { origin: emrUrl, 'content-type': 'application/json' }, body });
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as any).remaining, 5);
    // A right PIN resets the counter (the token's rule).
    const right = await fetch(`${agent.url}/v1/sign`, { method: 'POST', headers: { origin: emrUrl, 'content-type': 'application/json' }, body: body.replace('wrong-pin', PIN) });
    assert.equal(right.status, 200);
    assert.equal(SoftToken.open(people.auditor.file).pinStatus('HPKI', 'user').remaining, 6);
    // DNS rebinding: the right port under another host name is refused.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${agent.url}/v1/certificates`, { headers: { host: 'evil.example' } }, (res) => resolve(res.statusCode!)).on('error', reject).end();
    });
    assert.equal(status, 421);
  });

  it('in Chromium: the doctor signs, the nurse countersigns, the auditor verifies — also after the doctor is revoked', async () => {
    // Doctor (SM2 certificate from demo-sm2) writes and signs.
    await loginAs('doctor', 'emr-login');
    assert.match(await page.textContent('#who-name') ?? '', /张医生（医生） · demo-sm2/);
    await page.fill('#sign-pin', PIN);
    await page.fill('#patient', '陈某某');
    await page.fill('#content', '主诉：胸闷两天。诊断：稳定型心绞痛。处理：阿司匹林 100mg 每日一次，复查心电图。');
    await page.click('#create-sign');
    await page.waitForSelector('#msg.ok');
    assert.match(await page.textContent('#msg') ?? '', /签名成功.*验证通过/);
    await page.waitForSelector('#records tr td:has-text("已签名 · 待会签")');
    await shot('emr-doctor-signed');
    await logout();

    // Nurse (P-256 certificate from the other CA, demo-p256) countersigns.
    await loginAs('nurse');
    await page.fill('#sign-pin', PIN);
    await page.click('#records tr button:has-text("会签")');
    await page.waitForSelector('#msg.ok');
    assert.match(await page.textContent('#msg') ?? '', /会签成功.*验证通过/);
    await page.waitForSelector('#records tr td:has-text("已签名 · 已会签")');
    await logout();

    // Auditor: who signed what and when.
    await loginAs('auditor');
    await page.waitForSelector('#audit tr');
    const rows = async () =>
      page.$$eval('#audit tr', (trs) => trs.map((tr) => ({ role: (tr as any).dataset.role as string, cells: [...(tr as any).querySelectorAll('td')].map((td: any) => td.textContent as string) })));
    let audit = await rows();
    assert.equal(audit.length, 2);
    const doctorRow = audit.find((r) => r.role === 'author')!;
    const nurseRow = audit.find((r) => r.role === 'countersign')!;
    assert.match(doctorRow.cells[0]!, /^陈某某：主诉：胸闷两天/);
    assert.deepEqual(doctorRow.cells.slice(1, 5), ['医生签名', '张医生', 'demo-sm2', 'SM2']);
    assert.deepEqual(nurseRow.cells.slice(1, 5), ['护士会签', '李护士', 'demo-p256', 'ECDSA P-256']);
    for (const r of audit) {
      assert.match(r.cells[6]!, /✔ 签名有效/);
      assert.match(r.cells[7]!, /^有效/);
    }
    await shot('emr-audit');

    // The doctor's certificate is revoked (e.g. left the hospital) after signing.
    const revoke = await dep.caApi('POST', `/api/v1/cas/demo-sm2/certificates/${people.doctor.serial}/revoke`, { reason: 'affiliationChanged' });
    assert.ok(revoke.status < 300, JSON.stringify(revoke.json));
    // The auditor re-verifies (fresh OCSP each time) until the revocation shows: OCSP drops its answer within a second.
    const deadline = Date.now() + 20_000;
    for (;;) {
      await page.click('#audit-refresh');
      await page.waitForTimeout(300);
      audit = await rows();
      if (/已吊销/.test(audit.find((r) => r.role === 'author')!.cells[7]!) || Date.now() > deadline) break;
    }
    const after = audit.find((r) => r.role === 'author')!;
    assert.match(after.cells[7]!, /已吊销.*晚于签名时间，隶属关系变更/);
    assert.match(after.cells[6]!, /✔ 签名有效/, 'signed before the revocation: still valid');
    assert.match(audit.find((r) => r.role === 'countersign')!.cells[6]!, /✔ 签名有效/);
    await shot('emr-audit-after-revocation');

    // A tampered record is caught: the stored content no longer matches the signed bytes.
    const rec = records.list()[0]!;
    const original = rec.bytes;
    rec.bytes = original.replace('100mg', '1000mg');
    await page.click('#audit-refresh');
    await page.waitForSelector('#audit tr[data-role="author"] td.invalid');
    assert.match((await page.textContent('#audit tr[data-role="author"] td.verdict')) ?? '', /签名无效/);
    assert.match((await page.textContent('#audit tr[data-role="countersign"] td.verdict')) ?? '', /签名无效/);
    rec.bytes = original;
    await logout();
  });

  it('after the revocation the doctor can sign nothing new', async () => {
    // Through the API with the doctor's token (the login may still pass on the validator's cached OCSP answer).
    const ch = await api('POST', '/api/session/challenge', {});
    const cookie = ch.headers.get('set-cookie')!.split(';')[0]!;
    const s = SoftToken.open(people.doctor.file).login('HPKI', PIN);
    const loginSig = s.sign('staff', Buffer.from(ch.json.toBeSigned, 'base64')).signature.toString('base64');
    const login = await api('POST', '/api/session/login', { certificate: people.doctor.certificatePem, signature: loginSig }, { cookie });
    if (login.status === 401) {
      assert.match(login.json.error, /revoked/);
      s.logout();
      return;
    }
    assert.equal(login.status, 200);
    const rec = await api('POST', '/api/records', { patient: '赵某', content: '复诊' }, { cookie });
    assert.equal(rec.status, 201);
    const prep = await api('POST', `/api/records/${rec.json.id}/sign/prepare`, { certificate: people.doctor.certificatePem }, { cookie });
    if (prep.status === 403) {
      assert.match(prep.json.error, /revoked/);
    } else {
      assert.equal(prep.status, 200);
      const sig = s.sign('staff', Buffer.from(prep.json.toBeSigned, 'base64'), { hash: prep.json.hash }).signature.toString('base64');
      const done = await api('POST', `/api/records/${rec.json.id}/sign/${prep.json.pendingId}`, { signature: sig }, { cookie });
      assert.equal(done.status, 422, JSON.stringify(done.json));
      assert.equal(done.json.code, 'revokedBeforeSigning');
    }
    s.logout();
    assert.equal(records.get(rec.json.id)!.signatures.length, 0);
    // A signature by another key than the certificate's is refused before anything is stored.
    const prep2 = await api('POST', `/api/records/${rec.json.id}/sign/prepare`, { certificate: people.doctor.certificatePem }, { cookie });
    if (prep2.status === 200) {
      const junk = signData(generateKey('sm2'), Buffer.from(prep2.json.toBeSigned, 'base64')).signature.toString('base64');
      const done = await api('POST', `/api/records/${rec.json.id}/sign/${prep2.json.pendingId}`, { signature: junk }, { cookie });
      assert.equal(done.status, 400);
      assert.match(done.json.error, /签名无效/);
    }
    // One pending signature per session: a newer request replaces the older one.
    const first = await api('POST', `/api/records/${rec.json.id}/sign/prepare`, { certificate: people.doctor.certificatePem }, { cookie });
    const second = await api('POST', `/api/records/${rec.json.id}/sign/prepare`, { certificate: people.doctor.certificatePem }, { cookie });
    if (first.status === 200 && second.status === 200) {
      const late = await api('POST', `/api/records/${rec.json.id}/sign/${first.json.pendingId}`, { signature: 'AAAA' }, { cookie });
      assert.equal(late.status, 404);
      assert.equal((await api('POST', `/api/records/${rec.json.id}/sign/${second.json.pendingId}`, { signature: 'not base64!' }, { cookie })).status, 400);
    }
    assert.equal(records.get(rec.json.id)!.signatures.length, 0);
  });
});

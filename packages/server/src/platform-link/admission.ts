/**
 * Admits a CA of a CA service to a platform, over both services' HTTP APIs, the way the offices
 * and the CA would: the CA issues and revokes one sample certificate each (enroll + revoke, with
 * the CA service's administrator token), files its application (licence, company, plan,
 * materials, CA certificates, platform-access certificate, query endpoint, samples), the home
 * province forwards it, the platform runs the automated conformance test once the samples' sync
 * events have arrived, and the national office approves. Each step is taken only when the CA is
 * in the status before it, so a second run (a restart) continues where the first stopped and
 * does nothing for a connected CA. The demo start (server.ts) and the end-to-end test use it.
 */
import { randomBytes } from 'node:crypto';

/** Who admits what. */
export interface AdmissionParams {
  /** The platform's base URL and a national-office token. */
  platformUrl: string;
  nationalToken: string;
  /** The CA service's base URL and its administrator (bootstrap) token. */
  caUrl: string;
  caAdminToken: string;
  /** The CA's name, in the CA service and on the platform. */
  ca: string;
  /** Home province (the platform's two-letter code). */
  province: string;
  /** How long to wait for the samples' sync events before the conformance run (default 60 s). */
  syncWaitMs?: number;
  /** Conformance runs before giving up (default 3): a run whose fetches timed out on a busy machine is tried again. */
  conformanceAttempts?: number;
  log?: (message: string) => void;
  /** Checked between steps: true stops the admission (the service is closing). */
  cancelled?: () => boolean;
}

/** The CA's platform status after admission, and the conformance report when one ran. */
export interface AdmissionResult {
  ca: string;
  status: string;
  steps: string[];
  report?: { passed: boolean; faults: Array<{ check: string; subject: string; message: string }> };
}

/** The admission failed: a refusal, a failing conformance report, an unreachable service. */
export class AdmissionError extends Error {}

type Json = Record<string, any>;

async function call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = text ? (JSON.parse(text) as Json) : {};
  } catch {
    json = { message: text.slice(0, 300) };
  }
  return { status: res.status, json };
}

async function must(method: string, url: string, token: string, body?: unknown): Promise<Json> {
  const r = await call(method, url, token, body);
  if (r.status >= 300) throw new AdmissionError(`${method} ${url} answered ${r.status}: ${r.json.message ?? JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

/** Runs the admission steps the CA still needs; idempotent. */
export async function admitCa(p: AdmissionParams): Promise<AdmissionResult> {
  const platform = p.platformUrl.replace(/\/+$/, '');
  const caUrl = p.caUrl.replace(/\/+$/, '');
  const steps: string[] = [];
  const log = (m: string) => {
    steps.push(m);
    p.log?.(`platform admission of ${p.ca}: ${m}`);
  };
  const national = p.nationalToken;
  const record = async () => call('GET', `${platform}/platform/cas/${p.ca}`, national);
  let current = await record();
  let report: AdmissionResult['report'];
  if (current.status === 404) {
    await apply(p, platform, caUrl);
    log('applied');
    current = await record();
  } else if (current.status !== 200) {
    throw new AdmissionError(`the platform answered ${current.status} about CA ${p.ca}: ${current.json.message ?? ''}`);
  }
  for (let guard = 0; guard < 6; guard++) {
    if (p.cancelled?.()) throw new AdmissionError('the admission was stopped: the service is closing');
    const status = current.json.status as string;
    if (status === 'applied') {
      // The home province's office forwards it (a token minted by the national office for the demo).
      const minted = await must('POST', `${platform}/platform/tokens`, national, { id: `province-${p.province.toLowerCase()}-${randomBytes(3).toString('hex')}`, role: 'provincial', province: p.province });
      await must('POST', `${platform}/platform/cas/${p.ca}/province-review`, minted.token as string, { approve: true, note: 'forwarded: materials complete (automated admission)' });
      log('forwarded by the province');
    } else if (status === 'province-reviewed') {
      await waitForSync(p, caUrl);
      const attempts = Math.max(1, p.conformanceAttempts ?? 3);
      for (let attempt = 1; ; attempt++) {
        const run = await must('POST', `${platform}/platform/cas/${p.ca}/conformance/run`, national, {});
        report = { passed: Boolean(run.report?.passed), faults: (run.report?.faults ?? []) as NonNullable<AdmissionResult['report']>['faults'] };
        if (report.passed || attempt >= attempts || p.cancelled?.()) break;
        log(`conformance test failed (attempt ${attempt} of ${attempts}), trying again: ${report.faults.map((f) => `[${f.check}] ${f.message}`).join('; ')}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (!report.passed) {
        log(`conformance test failed: ${report.faults.map((f) => `[${f.check}] ${f.subject}: ${f.message}`).join('; ')}`);
        return { ca: p.ca, status: 'province-reviewed', steps, report };
      }
      log('conformance test passed');
    } else if (status === 'tested') {
      await must('POST', `${platform}/platform/cas/${p.ca}/approve`, national, { note: 'approved after a passing conformance test (automated admission)' });
      log('approved: connected');
    } else {
      // connected (done), or rejected, suspended, terminated: an office's decision, not ours to undo.
      return { ca: p.ca, status, steps, ...(report ? { report } : {}) };
    }
    current = await record();
  }
  return { ca: p.ca, status: current.json.status as string, steps, ...(report ? { report } : {}) };
}

/** Issues the two samples (one revoked) and files the application. */
async function apply(p: AdmissionParams, platform: string, caUrl: string): Promise<void> {
  const info = await must('GET', `${caUrl}/api/v1/platform-access/${p.ca}`, p.caAdminToken);
  const ca = await must('GET', `${caUrl}/api/v1/cas/${p.ca}`, p.caAdminToken);
  const organization = String(ca.organization ?? p.ca).slice(0, 64);
  const samples = await must('POST', `${caUrl}/api/v1/platform-access/${p.ca}/samples`, p.caAdminToken, {});
  const now = Date.now();
  await must('POST', `${platform}/platform/cas`, p.nationalToken, {
    name: p.ca,
    displayName: String(ca.displayName ?? p.ca),
    homeProvince: p.province,
    provinces: [p.province],
    licence: { number: `ECP-DEMO-${p.ca}`, notBefore: new Date(now - 86_400_000).toISOString(), notAfter: new Date(now + 5 * 365 * 86_400_000).toISOString() },
    company: { name: organization, creditCode: '91110000000000000X' },
    servicePlan: `Demonstration certification service of ${organization} for the health sector (health-pki demo).`,
    materials: [{ title: 'MIIT electronic certification licence (demonstration)' }, { title: 'Certificate practice statement (docs/profiles.md)' }],
    certificates: info.certificates,
    platformAccessCertificate: info.platformAccessCertificate,
    endpoints: info.endpoints,
    samples: { good: samples.good, revoked: samples.revoked },
  });
}

/** Waits until the CA's outbox is drained, so the platform has the samples' events. */
async function waitForSync(p: AdmissionParams, caUrl: string): Promise<void> {
  const until = Date.now() + (p.syncWaitMs ?? 60_000);
  for (;;) {
    const state = await must('GET', `${caUrl}/api/v1/platform-access/${p.ca}/outbox`, p.caAdminToken);
    if (Number(state.pending) === 0 && Number(state.sent) > 0) return;
    if (p.cancelled?.()) throw new AdmissionError('the admission was stopped: the service is closing');
    if (Date.now() > until) throw new AdmissionError(`the outbox of ${p.ca} still holds ${state.pending} events for the platform${state.lastError ? ` (${state.lastError})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Audit test helpers: a full certificate lifecycle through the HTTP API (create CA, apply,
 * approve, revoke) that fills the audit log, `hpki audit verify` run as a child process, and
 * raw access to a database copy for tampering with it as someone with the owner's rights would.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { Api } from './api.js';
import { makeCsr } from './pki.js';

const CLI = fileURLToPath(new URL('../../../../cli/dist/src/main.js', import.meta.url));
const PDF = Buffer.from('%PDF-1.4\n% application form\n%%EOF\n');

/** Creates CA `caName` (if needed) and runs apply → approve (self-approved by the bootstrap admin) → revoke; returns the application and serial. */
export async function lifecycle(api: Api, admin: string, caName: string, opts: { createCa?: boolean; revoke?: boolean; validityDays?: number } = {}): Promise<{ application: string; serial: string }> {
  if (opts.createCa) {
    const ca = await api('POST', '/api/v1/cas', { name: caName, algorithm: 'p256', organization: 'Audit Test' }, admin);
    assert.equal(ca.status, 201, JSON.stringify(ca.json));
  }
  const holder = makeCsr('p256');
  const applied = await api(
    'POST',
    `/api/v1/cas/${caName}/applications`,
    {
      profile: 'staff-sign',
      csr: holder.pem,
      applicant: { name: '张三', organization: '示例医院' },
      ...(opts.validityDays ? { validityDays: opts.validityDays } : {}),
      materials: [{ name: 'form.pdf', contentType: 'application/pdf', data: PDF.toString('base64') }],
    },
    admin,
  );
  assert.equal(applied.status, 201, JSON.stringify(applied.json));
  const approved = await api('POST', `/api/v1/cas/${caName}/applications/${applied.json.id}/approve`, {}, admin);
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const serial = approved.json.application.certificateSerial as string;
  if (opts.revoke !== false) {
    const revoked = await api('POST', `/api/v1/cas/${caName}/certificates/${serial}/revoke`, { reason: 'keyCompromise' }, admin);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
  }
  return { application: applied.json.id, serial };
}

/** What `hpki audit verify --json` answered. */
export interface VerifyRun {
  code: number;
  report: { ok: boolean; entries: number; faults: Array<{ kind: string; seq?: number; toSeq?: number; id?: string; originalSeq?: number; message: string }>; checkpoints: { count: number; valid: number } };
  stderr: string;
}

/** Runs `hpki audit verify --json` with `args` (e.g. ["--data", dir]). */
export function hpkiAuditVerify(args: string[]): Promise<VerifyRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'audit', 'verify', '--json', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      let report: VerifyRun['report'];
      try {
        report = JSON.parse(stdout);
      } catch {
        report = { ok: false, entries: -1, faults: [], checkpoints: { count: 0, valid: 0 } };
      }
      resolve({ code, report, stderr });
    });
  });
}

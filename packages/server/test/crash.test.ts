/**
 * Crash safety: `hpki start` runs as a child process; a burst of issuances (apply + approve, and
 * one-request enrollments) and revocations is fired at it and the process is killed with SIGKILL
 * in the middle. After a restart on the same data, every operation that was acknowledged (a 2xx
 * answer was received) is there exactly as answered, and the store shows nothing half-done. On
 * SQLite the burst runs through group commit (several operations per fsync), which /metrics shows.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openServices } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { httpApi } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { consistencyProblems } from './helpers/invariants.js';

const CA = 'demo-p256';
/** Certificates issued before the burst, to be revoked during it. */
const PREISSUED = 40;
/** Requests in flight during the burst. */
const WORKERS = 12;
/** Kill once this many operations were acknowledged during the burst. */
const KILL_AFTER_ACKS = 60;

interface AckedIssue {
  application: string;
  serial: string;
  pem: string;
}

for (const backendName of BACKENDS) {
  describe(`crash safety on ${backendName}`, () => {
    let backend: TestBackend;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill9().catch(() => undefined);
      await backend?.cleanup();
    });

    test('kill -9 in the middle of a burst of issuances and revocations: acknowledged operations survive, nothing half-done is visible', async () => {
      backend = await createBackend(backendName);
      server = await startServerProcess({ dataDir: backend.dataDir, dbUrl: backend.dbUrl });
      let api = httpApi(server.url);
      const token = server.adminToken;
      // CSRs are made before the burst so that the burst is all server work.
      const csrs = Array.from({ length: 400 }, () => makeCsr('p256').pem);
      let csrNo = 0;

      const issue = async (): Promise<{ applied?: string; issued?: AckedIssue }> => {
        const a = await api('POST', `/api/v1/cas/${CA}/applications`, { profile: 'staff-sign', csr: csrs[csrNo++ % csrs.length], applicant: { name: '张三' } }, token);
        if (a.status !== 201) throw new Error(`apply: ${a.status} ${JSON.stringify(a.json)}`);
        const r = await api('POST', `/api/v1/cas/${CA}/applications/${a.json.id}/approve`, {}, token);
        if (r.status !== 200) throw new Error(`approve: ${r.status} ${JSON.stringify(r.json)}`);
        return { applied: a.json.id, issued: { application: a.json.id, serial: r.json.certificate.serial, pem: r.json.certificate.pem } };
      };

      const toRevoke: string[] = [];
      for (let i = 0; i < PREISSUED; i++) toRevoke.push((await issue()).issued!.serial);

      // The burst: each worker alternates issuing and revoking until the process dies under it.
      const ackedIssues: AckedIssue[] = [];
      const ackedApplies: string[] = [];
      const ackedRevocations: string[] = [];
      const ackedEnrollments: AckedIssue[] = [];
      let inFlight = 0;
      let inFlightAtKill = -1;
      let killing = false;
      let metricsAtKill = '';
      let killed: Promise<void> | undefined;
      let failuresAfterKill = 0;
      const worker = async (w: number) => {
        for (let i = 0; ; i++) {
          if (killed) return;
          inFlight++;
          try {
            if ((i + w) % 3 === 2) {
              const e = await api('POST', `/api/v1/cas/${CA}/enroll`, { profile: 'staff-sign', csr: csrs[csrNo++ % csrs.length], applicant: { name: '李四' } }, token);
              if (e.status !== 201) throw new Error(`enroll: ${e.status} ${JSON.stringify(e.json)}`);
              ackedEnrollments.push({ application: e.json.application.id, serial: e.json.certificate.serial, pem: e.json.certificate.pem });
            } else if ((i + w) % 3 === 0 && toRevoke.length > 0) {
              const serial = toRevoke.pop()!;
              const r = await api('POST', `/api/v1/cas/${CA}/certificates/${serial}/revoke`, { reason: 'keyCompromise', comment: 'lost token' }, token);
              if (r.status !== 200) throw new Error(`revoke: ${r.status} ${JSON.stringify(r.json)}`);
              ackedRevocations.push(serial);
            } else {
              // Record the apply acknowledgment even if the approval is cut off.
              const a = await api('POST', `/api/v1/cas/${CA}/applications`, { profile: 'staff-sign', csr: csrs[csrNo++ % csrs.length], applicant: { name: '张三' } }, token);
              if (a.status !== 201) throw new Error(`apply: ${a.status}`);
              ackedApplies.push(a.json.id);
              const r = await api('POST', `/api/v1/cas/${CA}/applications/${a.json.id}/approve`, {}, token);
              if (r.status !== 200) throw new Error(`approve: ${r.status} ${JSON.stringify(r.json)}`);
              ackedIssues.push({ application: a.json.id, serial: r.json.certificate.serial, pem: r.json.certificate.pem });
            }
          } catch (e) {
            if (!killed) throw e;
            failuresAfterKill++;
            return;
          } finally {
            inFlight--;
          }
          if (!killing && ackedIssues.length + ackedRevocations.length + ackedEnrollments.length >= KILL_AFTER_ACKS) {
            killing = true;
            metricsAtKill = (await api('GET', '/metrics')).body.toString();
            inFlightAtKill = inFlight;
            killed = server!.kill9();
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await killed;
      assert.ok(inFlightAtKill > 0, 'requests were in flight when the process was killed');
      assert.ok(failuresAfterKill > 0, 'some requests were cut off by the kill');
      assert.ok(ackedIssues.length > 5 && ackedRevocations.length > 5 && ackedEnrollments.length > 5, `${ackedIssues.length} issuances, ${ackedEnrollments.length} enrollments and ${ackedRevocations.length} revocations acknowledged`);
      if (backendName === 'sqlite') {
        const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metricsAtKill)?.[1] ?? NaN);
        const commits = counter('hpki_db_commits_total');
        const operations = counter('hpki_db_committed_operations_total');
        assert.ok(operations > commits, `the burst ran through group commit: ${operations} operations in ${commits} commits`);
      }

      // Restart on the same data: everything acknowledged is there, as answered.
      server = await startServerProcess({ dataDir: backend.dataDir, dbUrl: backend.dbUrl });
      api = httpApi(server.url);
      for (const ack of ackedIssues) {
        const c = await api('GET', `/api/v1/cas/${CA}/certificates/${ack.serial}`);
        assert.equal(c.status, 200, `acknowledged certificate ${ack.serial} is missing after the crash`);
        assert.equal(c.json.pem, ack.pem);
        assert.equal(c.json.status, 'valid');
        const app = await api('GET', `/api/v1/cas/${CA}/applications/${ack.application}`, undefined, token);
        assert.equal(app.json.state, 'issued');
        assert.equal(app.json.certificateSerial, ack.serial);
      }
      for (const ack of ackedEnrollments) {
        const c = await api('GET', `/api/v1/cas/${CA}/certificates/${ack.serial}`);
        assert.equal(c.status, 200, `acknowledged enrollment ${ack.serial} is missing after the crash`);
        assert.equal(c.json.pem, ack.pem);
        const app = await api('GET', `/api/v1/cas/${CA}/applications/${ack.application}`, undefined, token);
        assert.equal(app.json.state, 'issued');
        assert.equal(app.json.certificateSerial, ack.serial);
      }
      for (const serial of ackedRevocations) {
        const c = await api('GET', `/api/v1/cas/${CA}/certificates/${serial}`);
        assert.equal(c.json.status, 'revoked', `acknowledged revocation of ${serial} is missing after the crash`);
        assert.equal(c.json.reason, 'keyCompromise');
      }
      for (const id of ackedApplies) {
        const app = await api('GET', `/api/v1/cas/${CA}/applications/${id}`, undefined, token);
        assert.equal(app.status, 200, `acknowledged application ${id} is missing after the crash`);
      }
      // The restarted service works, and its serials do not collide with anything before the crash.
      const after = await issue();
      assert.ok(after.issued && !ackedIssues.some((a) => a.serial === after.issued!.serial));
      await server.stop();
      server = undefined;

      const services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://unused.test' });
      try {
        assert.deepEqual(await consistencyProblems(services.database), []);
      } finally {
        await services.close();
      }
    });
  });
}

/**
 * Serial numbers and transactions, at the service level, on SQLite and PostgreSQL: a repeated
 * serial is refused by the database and redrawn; a failure in the middle of an approval rolls
 * back everything the approval did (including the revocation of the certificate it replaces).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Certificate, randomSerial } from '@health-pki/pki';
import { BOOTSTRAP_ADMIN_ID, bootstrap, isUniqueViolation, openServices, type Principal, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { makeCsr } from './helpers/pki.js';

const officerA: Principal = { id: 'officer-a', role: 'officer', bootstrap: false };
const officerB: Principal = { id: 'officer-b', role: 'officer', bootstrap: false };
const admin: Principal = { id: BOOTSTRAP_ADMIN_ID, role: 'admin', bootstrap: true };

for (const backendName of BACKENDS) {
  describe(`serials and transactions on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    /** Serials to hand out before falling back to random ones. */
    const queue: Buffer[] = [];
    let forced: Buffer | undefined;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({
        dataDir: backend.dataDir,
        dbUrl: backend.dbUrl,
        baseUrl: 'http://pki.test',
        serials: () => forced ?? queue.shift() ?? randomSerial(),
      });
      await bootstrap(services, backend.dataDir);
    });

    after(async () => {
      await services?.close();
      await backend?.cleanup();
    });

    async function issue(): Promise<string> {
      const app = await services.ra.apply(officerA, 'demo-p256', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } });
      return (await services.ra.approve(officerB, 'demo-p256', app.id)).issued.record.serial;
    }

    async function count(table: string): Promise<number> {
      const r = await sql<{ n: string | number }>`select count(*) as n from ${sql.table(table)}`.execute(services.database.db);
      return Number(r.rows[0]!.n);
    }

    test('serial numbers are at least 64 random bits, positive, and the database refuses a repeat', async () => {
      const serial = await issue();
      const bytes = Buffer.from(serial, 'hex');
      assert.ok(bytes.length * 8 >= 64 + 8, `${serial}: more than 64 bits`);
      assert.equal(bytes[0]! & 0x80, 0, 'positive');
      const row = await services.database.db.selectFrom('ca_certificates').selectAll().where('serial', '=', serial).executeTakeFirstOrThrow();
      await assert.rejects(
        () => services.database.db.insertInto('ca_certificates').values({ ...row, issuer_id: row.issuer_id }).execute(),
        (e: unknown) => isUniqueViolation(e),
      );
    });

    test('a serial already used by the CA is redrawn: the certificate gets a fresh one', async () => {
      const first = await issue();
      const auditBefore = await count('audit_log');
      queue.push(Buffer.from(first, 'hex'), Buffer.from(first, 'hex'));
      const second = await issue();
      assert.equal(queue.length, 0, 'both repeats were drawn and refused');
      assert.notEqual(second, first);
      const cert = Certificate.parse((await services.ca.getCertificate('demo-p256', second)).der);
      assert.equal(cert.serialHex, second);
      assert.equal(await count('audit_log'), auditBefore + 3, 'apply, issue and approve recorded once each');
    });

    test('a failure in the middle of an approval rolls back all of it, including the revocation of the replaced certificate', async () => {
      const previous = await issue();
      const rekey = await services.ra.apply(officerA, 'demo-p256', { kind: 'rekey', previousSerial: previous, csr: makeCsr('p256').pem, applicant: { name: '张三' } });
      const tables = ['ca_certificates', 'ca_status_changes', 'ra_events', 'audit_log'];
      const before = await Promise.all(tables.map(count));
      // Every serial the CA draws is taken: issuance fails after the previous certificate was revoked in the same transaction.
      forced = Buffer.from(previous, 'hex');
      try {
        await assert.rejects(() => services.ra.approve(officerB, 'demo-p256', rekey.id), /no unused serial number/);
      } finally {
        forced = undefined;
      }
      assert.deepEqual(await Promise.all(tables.map(count)), before, 'no row written by the failed approval remains');
      assert.equal((await services.ca.getCertificate('demo-p256', previous)).status, 'valid', 'the replaced certificate is not revoked');
      assert.equal((await services.ra.getApplication(officerA, 'demo-p256', rekey.id)).state, 'submitted');
      // And the same approval succeeds once serials are available again.
      const ok = await services.ra.approve(officerB, 'demo-p256', rekey.id);
      assert.equal(ok.application.state, 'issued');
      assert.equal((await services.ca.getCertificate('demo-p256', previous)).status, 'revoked');
    });

    test('racing approvals of one application in one process: exactly one issues', async () => {
      const app = await services.ra.apply(officerA, 'demo-p256', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } });
      const before = await count('ca_certificates');
      const results = await Promise.allSettled([services.ra.approve(officerB, 'demo-p256', app.id), services.ra.approve(admin, 'demo-p256', app.id), services.ra.approve(officerB, 'demo-p256', app.id)]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status === 'rejected' && String(r.reason))));
      for (const r of results) if (r.status === 'rejected') assert.match(String((r.reason as Error).message), /already issued|decided by someone else/);
      assert.equal(await count('ca_certificates'), before + 1);
    });
  });
}

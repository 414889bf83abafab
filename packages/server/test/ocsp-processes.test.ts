/**
 * Two services sharing one database (SQLite file or PostgreSQL), as two processes would: both
 * responders settle on one delegated responder certificate per CA (the first time and again when
 * it is rolled before expiry; never two of a generation), and a revocation recorded through one
 * is answered as revoked by the other within 1 s (each polls ca_status_changes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { OcspResponse, verifyOcspResponse } from '@health-pki/pki';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { ocspRequestDer, startOcspDeployment, until, type OcspDeployment } from './helpers/ocsp.js';

const DAY = 86_400_000;

for (const backendName of BACKENDS) {
  describe(`OCSP responders of two services on one ${backendName} database`, () => {
    let backend: TestBackend;
    let a: OcspDeployment;
    let b: OcspDeployment;
    let offset = 0;
    const clock = () => new Date(Date.now() + offset);

    before(async () => {
      backend = await createBackend(backendName);
      a = await startOcspDeployment(backendName, { backend, services: { clock } });
      b = await startOcspDeployment(backendName, { backend, services: { clock }, bootstrap: false });
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await backend?.cleanup();
    });

    const responderRows = async () =>
      (await sql<{ issuer_id: string; generation: number; serial: string }>`select issuer_id, generation, serial from ocsp_responders order by issuer_id, generation`.execute(a.services.database.db)).rows;

    test('both answer at once with one responder certificate per CA; 70 days later both roll to one second generation', async () => {
      const { root, issuing } = await a.cas('demo-p256');
      const leaf = await a.issue('demo-p256', 'p256');
      const asks = [ocspRequestDer(leaf, issuing), ocspRequestDer(issuing, root)];
      const answers = async () =>
        (await Promise.all([a, b].flatMap((d) => asks.map((q) => d.services.ocsp.answer('demo-p256', q))))).map((x) => OcspResponse.parse(x.der));
      const first = await answers();
      const signers = new Set(first.map((r) => r.certs[0]!.serialHex));
      assert.equal(signers.size, 2, 'one responder certificate for the issuing CA and one for the root, shared by both services');
      const rows = await responderRows();
      assert.equal(rows.length, 2);
      assert.deepEqual(rows.map((r) => Number(r.generation)), [1, 1]);

      offset = 70 * DAY; // the 90-day responder certificates have less than 30 days left
      // The still-valid certificate keeps signing while its successor is issued.
      await answers();
      await until(async () => (await responderRows()).length === 4, 5000);
      offset += 2 * 3600_000; // past the nextUpdate of the responses signed meanwhile
      // A response signed while a service was still making its new certificate (with the old one,
      // still valid) is re-signed at the next request: within a few requests both are on the new ones.
      const settled = (rs: OcspResponse[]) => rs.every((r) => !signers.has(r.certs[0]!.serialHex)) && new Set(rs.map((r) => r.certs[0]!.serialHex)).size === 2;
      let later = await answers();
      await until(async () => settled((later = await answers())), 5000).catch(() => undefined);
      for (const r of later) assert.ok(verifyOcspResponse(r, r.certs[0]!.issuerDer.equals(root.subjectDer) ? root : issuing).valid);
      const rolled = new Set(later.map((r) => r.certs[0]!.serialHex));
      assert.equal(rolled.size, 2, `answered after the roll with ${later.map((r) => r.certs[0]!.serialHex).join(', ')}; stored (generation, serial) ${JSON.stringify((await responderRows()).map((r) => [r.generation, r.serial]))}`);
      for (const s of rolled) assert.ok(!signers.has(s), 'new responder certificates');
      const after = await responderRows();
      assert.deepEqual(after.map((r) => Number(r.generation)).sort(), [1, 1, 2, 2]);
      for (const r of later) assert.ok(r.certs[0]!.notBefore.getTime() > Date.now() + 69 * DAY, 'issued at the (shifted) time of the roll');
      offset = 0;
    });

    test('a pre-produced response is re-signed in the second half of its hour, and never served past its nextUpdate', async () => {
      const { issuing } = await a.cas('demo-p256');
      const leaf = await a.issue('demo-p256', 'p256');
      const q = ocspRequestDer(leaf, issuing);
      const ask = async () => OcspResponse.parse((await a.services.ocsp.answer('demo-p256', q)).der);
      const r1 = await ask();
      assert.ok((await ask()).der.equals(r1.der), 'served again as produced');
      offset += 40 * 60_000;
      assert.ok((await ask()).der.equals(r1.der), 'still current: served while its successor is signed');
      await until(async () => !(await ask()).der.equals(r1.der), 2000);
      const r2 = await ask();
      assert.ok(r2.responses[0]!.thisUpdate.getTime() >= r1.responses[0]!.thisUpdate.getTime() + 39 * 60_000);
      offset += 3 * 3600_000;
      const r3 = await ask();
      assert.ok(r3.responses[0]!.nextUpdate!.getTime() > clock().getTime(), 'an expired response is not served');
      offset = 0;
    });

    test('revoked through one service, answered as revoked by the other within 1 s', async () => {
      const { issuing } = await a.cas('demo-p256');
      const leaf = await a.issue('demo-p256', 'p256');
      const q = ocspRequestDer(leaf, issuing);
      const statusAtB = async () => OcspResponse.parse((await b.services.ocsp.answer('demo-p256', q)).der).responses[0]!.status;
      assert.equal(await statusAtB(), 'good');
      assert.equal((await a.api('POST', `/api/v1/cas/demo-p256/certificates/${leaf.serialHex}/revoke`, { reason: 'cessationOfOperation' }, a.admin)).status, 200);
      const ms = await until(async () => (await statusAtB()) === 'revoked', 1000);
      assert.ok(ms < 1000, `${ms} ms`);
    });
  });
}

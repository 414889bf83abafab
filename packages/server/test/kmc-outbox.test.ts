/**
 * The KMC's "retire key" notice is durable (kmc/outbox.ts), on SQLite and PostgreSQL: the CA
 * reaches its KMC through a pass-through that the test cuts and restores.
 * - KMC reachable: revoking an encryption certificate retires its key before the call returns;
 * - KMC cut: the revocation succeeds, the notice is pending (and counted in /metrics); the KMC
 *   back, the sender delivers it, once, and the KMC marks the key retired;
 * - a notice pending when the services close is delivered by the services opened again;
 * - an approval whose transaction fails after the KMC escrowed a key gets that key retired.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomSerial } from '@health-pki/pki';
import { SYSTEM_PRINCIPAL, buildHttpApp, openServices, type Services } from '../src/index.js';
import { startKmcServer, type RunningKmc } from '../src/kmc/server.js';
import type { KmcEndpoint } from '../src/kmc/link.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { makeCsr } from './helpers/pki.js';

const CA = 'outbox-sm2';
const CLIENT = 'outbox-ca';
/** The bootstrap administrator may approve what it enters (maker-checker does not apply). */
const ADMIN = { ...SYSTEM_PRINCIPAL, id: 'admin', bootstrap: true };

/** An HTTP pass-through to the KMC that can be cut (connections are dropped, as by a network cut); counts the requests it passed. */
class Cable {
  up = true;
  passed = 0;
  private server?: Server;

  constructor(private readonly target: string) {}

  async open(): Promise<string> {
    this.server = createServer((req, res) => {
      if (!this.up) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.passed++;
        fetch(this.target + req.url, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' }, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => req.socket.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Waits until `check` holds, or fails after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const backendName of BACKENDS) {
  describe(`KMC notice outbox on ${backendName}`, () => {
    let backend: TestBackend;
    let kmc: RunningKmc;
    let cable: Cable;
    let endpoint: KmcEndpoint;
    let services: Services;
    /** The serial the CA draws next (then random again): a used one makes an approval's transaction fail. */
    let nextSerial: Uint8Array | undefined;

    const open = () =>
      openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, serials: () => {
          const s = nextSerial ?? randomSerial();
          nextSerial = undefined;
          return s;
        }, crl: { start: false }, kmc: endpoint, kmcOutbox: { pollMs: 50, minBackoffMs: 20, maxBackoffMs: 100 } });
    /** The KMC's state of the escrowed key of encryption certificate `serial`. */
    const escrowState = async (serial: string) => (await kmc.services.centre.escrows(CLIENT)).find((e) => e.certNo === BigInt('0x' + serial).toString(16))?.state;
    /** A dual pair issued while the KMC is reachable; returns the encryption certificate's serial. */
    const dualPair = async (): Promise<string> => {
      const up = cable.up;
      cable.up = true;
      try {
        const approval = await services.ra.enroll(ADMIN, CA, { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '张三' }, dual: true });
        assert.ok(approval.encryption, 'a dual pair was issued');
        return approval.encryption.issued.record.serial;
      } finally {
        cable.up = up;
      }
    };

    before(async () => {
      backend = await createBackend(backendName);
      kmc = await startKmcServer({ dataDir: join(backend.dataDir, 'kmc'), port: 0, logger: false });
      cable = new Cable(kmc.url);
      endpoint = { url: await cable.open(), certificate: await kmc.services.centre.certificate() };
      services = await open();
      await kmc.services.centre.addClient(SYSTEM_PRINCIPAL, CLIENT, await services.kmc.accessCertificate());
      await services.ca.createAuthority(SYSTEM_PRINCIPAL, { name: CA, algorithm: 'sm2', organization: '演示认证机构' });
    });
    after(async () => {
      await services?.close();
      await cable?.close();
      await kmc?.close();
      await backend?.cleanup();
    });

    test('KMC reachable: the key is retired before the revocation returns', async () => {
      const serial = await dualPair();
      assert.equal(await escrowState(serial), 'active');
      await services.ra.revoke(ADMIN, CA, serial, { reason: 'keyCompromise' });
      assert.equal(await escrowState(serial), 'revoked');
      assert.equal(await services.kmcOutbox.pending(), 0);
    });

    test('KMC cut: the revocation succeeds and the notice waits; the KMC back, it is delivered once', async () => {
      const serial = await dualPair();
      const before = await services.kmcOutbox.state();
      cable.up = false;
      const record = await services.ra.revoke(ADMIN, CA, serial, { reason: 'keyCompromise' });
      assert.equal(record.status, 'revoked');
      assert.equal((await services.ca.getCertificate(CA, serial)).status, 'revoked');
      assert.equal(await services.kmcOutbox.pending(), 1);
      assert.equal(await escrowState(serial), 'active');
      // Revoking a certificate that is no encryption certificate queues nothing.
      const single = await services.ra.enroll(ADMIN, CA, { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '李四' } });
      await services.ra.revoke(ADMIN, CA, single.issued.record.serial, { reason: 'superseded' });
      assert.equal(await services.kmcOutbox.pending(), 1);
      const app = await buildHttpApp(services, { logger: false });
      try {
        const metrics = await app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /^hpki_kmc_outbox_pending 1$/m);
      } finally {
        await app.close();
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.ok((await services.kmcOutbox.state()).lastError, 'the failed attempts are recorded');

      const passed = cable.passed;
      cable.up = true;
      await eventually('the notice is delivered', async () => (await services.kmcOutbox.pending()) === 0);
      assert.equal(await escrowState(serial), 'revoked');
      const state = await services.kmcOutbox.state();
      assert.equal(state.retired, before.retired + 1);
      assert.equal(state.refused, 0);
      assert.equal(state.lastError, undefined);
      // Several polls later, nothing more went to the KMC: the notice was delivered once.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(cable.passed, passed + 1);
    });

    test('a notice pending at close is delivered by the services opened again', async () => {
      const serial = await dualPair();
      cable.up = false;
      await services.ra.revoke(ADMIN, CA, serial, { reason: 'cessationOfOperation' });
      assert.equal(await services.kmcOutbox.pending(), 1);
      await services.close();
      cable.up = true;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await escrowState(serial), 'active', 'closed services send nothing');
      services = await open();
      await eventually('the notice is delivered after the restart', async () => (await escrowState(serial)) === 'revoked');
      await eventually('the outbox is empty', async () => (await services.kmcOutbox.pending()) === 0);
    });

    test("a failed approval's escrow is retired through the outbox", async () => {
      const first = await services.ra.enroll(ADMIN, CA, { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '王五' } });
      const escrowsBefore = await kmc.services.centre.escrows(CLIENT);
      const retiredBefore = (await services.kmcOutbox.state()).retired;
      // The signing certificate's first serial is taken: that attempt's transaction fails after the KMC escrowed a key, and the CA draws again.
      nextSerial = Buffer.from(first.issued.record.serial, 'hex');
      const approval = await services.ra.enroll(ADMIN, CA, { profile: 'staff-sign', csr: makeCsr('sm2').pem, applicant: { name: '王五' }, dual: true });
      assert.equal(nextSerial, undefined, 'the taken serial was drawn');
      const issued = BigInt('0x' + approval.encryption!.issued.record.serial).toString(16);
      const fresh = (await kmc.services.centre.escrows(CLIENT)).filter((e) => !escrowsBefore.some((b) => b.certNo === e.certNo));
      assert.equal(fresh.length, 2, 'two keys escrowed: the failed attempt’s and the issued one’s');
      assert.deepEqual(fresh.map((e) => [e.certNo === issued, e.state]).sort(), [[false, 'revoked'], [true, 'active']]);
      const state = await services.kmcOutbox.state();
      assert.equal(state.retired, retiredBefore + 1);
      assert.equal(state.pending, 0);
    });
  });
}

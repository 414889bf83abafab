/**
 * Certificate and blacklist sync between a CA's outbox (its own database) and the platform (its
 * own database, a real HTTP listener), on SQLite and PostgreSQL: events arrive exactly once with
 * exact statistics; a replayed batch changes nothing; the platform stopped while events
 * accumulate and restarted receives every one once; forged, unknown-CA and unconnected-CA batches
 * are refused (403) and audited; OpenSSL verifies the signed batch the outbox sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Certificate, generateKey, parseName, selfSignedSigningCertificate, type PrivateKey } from '@health-pki/pki';
import { openDatabase, type Database } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { auditMigrations } from '../src/audit/log.js';
import { handleError } from '../src/http/errors.js';
import type { CaDirectory, CaStatus, ConnectedCa } from '../src/platform/registry/types.js';
import type { PlatformPrincipal } from '../src/platform/registry/roles.js';
import {
  OutboxSender,
  SyncApplier,
  SyncStatistics,
  enqueueSyncEvent,
  outboxMigrations,
  registerSyncRoutes,
  signSyncBatch,
  syncMigrations,
  type SyncEvent,
} from '../src/platform/sync/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { outside } from './helpers/outside.js';

function accessIdentity(alg: 'p256' | 'sm2', cn: string): { key: PrivateKey; cert: Certificate } {
  const key = generateKey(alg);
  return { key, cert: selfSignedSigningCertificate(key, parseName(`C=CN,O=health-pki,CN=${cn}`), { notBefore: new Date(Date.now() - 60_000), days: 30 }) };
}

function directoryOf(cas: ConnectedCa[]): CaDirectory {
  return { get: async (n) => cas.find((c) => c.name === n), list: async () => cas };
}

function ca(name: string, status: CaStatus, access?: Certificate): ConnectedCa {
  return { name, displayName: name, status, provinces: ['GD', 'BJ'], certificates: [], platformAccessCertificate: access, licenceNumber: 'L-1', licenceNotAfter: '2030-01-01T00:00:00Z' };
}

const PROVINCES = ['GD', 'BJ'];
const CLASSES = ['person', 'organisation', 'device'];

/** Event i of a CA: issued, and every 4th one revoked later. */
function issued(i: number): SyncEvent {
  return { kind: 'issued', serial: (0x1000 + i).toString(16), profile: 'person-sign', class: CLASSES[i % 3]!, province: PROVINCES[i % 2]!, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), notAfter: '2028-01-01T00:00:00.000Z' };
}

for (const backendName of BACKENDS) {
  describe(`platform sync on ${backendName}`, () => {
    let platformBackend: TestBackend;
    let caBackend: TestBackend;
    let platformDb: Database;
    let caDb: Database;
    let app: FastifyInstance;
    let port = 0;
    let applier: SyncApplier;
    const p256 = accessIdentity('p256', 'ca-p256 platform access');
    const sm2 = accessIdentity('sm2', 'ca-sm2 platform access');
    const stranger = accessIdentity('p256', 'ca-p256 platform access');
    const directory = directoryOf([ca('ca-p256', 'connected', p256.cert), ca('ca-sm2', 'connected', sm2.cert), ca('ca-applied', 'applied', p256.cert)]);

    async function startPlatform(): Promise<void> {
      app = Fastify({ logger: false });
      app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
      // Stand-in for the platform's token hook: the tests name the principal in a header.
      app.addHook('onRequest', async (req) => {
        const h = req.headers['x-test-principal'];
        if (typeof h === 'string') req.platformPrincipal = JSON.parse(h) as PlatformPrincipal;
      });
      await registerSyncRoutes(app, { applier, statistics: new SyncStatistics(platformDb) });
      await app.listen({ port, host: '127.0.0.1' });
      port = (app.server.address() as { port: number }).port;
    }

    const enqueue = (events: SyncEvent[]) => caDb.transaction(async (tx) => { for (const e of events) await enqueueSyncEvent(tx, 'ca-p256', e); });
    const post = (der: Buffer) => app.inject({ method: 'POST', url: '/platform/sync/messages', headers: { 'content-type': 'application/cms' }, payload: der });
    const national: PlatformPrincipal = { id: 'nat', role: 'national', bootstrap: false };
    const stats = (qs: string, who: PlatformPrincipal = national) => app.inject({ method: 'GET', url: `/platform/stats${qs}`, headers: { 'x-test-principal': JSON.stringify(who) } });
    const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(platformDb.db)).rows[0]!.n);
    const refusals = async () => Number((await sql<{ n: number }>`select count(*) as n from audit_log where action = 'platform.sync.refused'`.execute(platformDb.db)).rows[0]!.n);

    before(async () => {
      platformBackend = await createBackend(backendName);
      caBackend = await createBackend('sqlite');
      platformDb = await openDatabase({ url: platformBackend.dbUrl, dataDir: platformBackend.dataDir });
      await migrate(platformDb, [auditMigrations, syncMigrations]);
      caDb = await openDatabase({ dataDir: caBackend.dataDir });
      await migrate(caDb, [outboxMigrations]);
      applier = new SyncApplier({ database: platformDb, directory });
      await startPlatform();
    });

    after(async () => {
      await app?.close();
      await platformDb?.close();
      await caDb?.close();
      await platformBackend?.cleanup();
      await caBackend?.cleanup();
    });

    test('the outbox delivers issuances and revocations; statistics count them exactly, JSON and CSV', async () => {
      const sender = new OutboxSender({ database: caDb, ca: 'ca-p256', key: p256.key, certificate: p256.cert, platformUrl: `http://127.0.0.1:${port}`, batchSize: 100 });
      await enqueue(Array.from({ length: 240 }, (_, i) => issued(i)));
      await enqueue(Array.from({ length: 60 }, (_, k) => ({ kind: 'revoked' as const, serial: (0x1000 + 4 * k).toString(16), reason: 'keyCompromise', at: new Date(Date.UTC(2026, 1, 1, 0, 0, k)).toISOString() })));
      while ((await sender.sendOnce()) > 0);
      assert.deepEqual(await sender.state(), { pending: 0, sent: 300, conflicts: 0 });
      assert.equal(await count('platform_sync_messages'), 300);

      const all = await stats('?groupBy=ca&to=2026-03-01T00:00:00Z');
      assert.equal(all.statusCode, 200, all.body);
      assert.deepEqual(all.json().rows, [{ ca: 'ca-p256', issued: 240, renewed: 0, revoked: 60, active: 180 }]);
      // January alone: everything issued, nothing revoked yet, all active at its end.
      const jan = (await stats('?groupBy=ca&from=2026-01-01&to=2026-02-01')).json().rows;
      assert.deepEqual(jan, [{ ca: 'ca-p256', issued: 240, renewed: 0, revoked: 0, active: 240 }]);
      // By province and class: i%2 and i%3; revoked ones are i = 4k (always GD, class k%3 pattern).
      const byPc = (await stats('?groupBy=province,class&to=2026-03-01')).json().rows as Array<Record<string, unknown>>;
      const gdPerson = byPc.find((r) => r.province === 'GD' && r.class === 'person')!;
      const expectIssued = Array.from({ length: 240 }, (_, i) => i).filter((i) => i % 2 === 0 && i % 3 === 0).length;
      const expectRevoked = Array.from({ length: 60 }, (_, k) => 4 * k).filter((i) => i % 3 === 0).length;
      assert.deepEqual(gdPerson, { province: 'GD', class: 'person', issued: expectIssued, renewed: 0, revoked: expectRevoked, active: expectIssued - expectRevoked });
      assert.equal(byPc.reduce((s, r) => s + (r.issued as number), 0), 240);

      const csv = await app.inject({ method: 'GET', url: '/platform/stats.csv?groupBy=ca,province&to=2026-03-01', headers: { 'x-test-principal': JSON.stringify(national) } });
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      assert.deepEqual(csv.body.trim().split('\r\n'), ['ca,province,issued,renewed,revoked,active', 'ca-p256,BJ,120,0,0,120', 'ca-p256,GD,120,0,60,60']);

      // A province sees only itself; asking for another is refused.
      const gd: PlatformPrincipal = { id: 'gd', role: 'provincial', province: 'GD', bootstrap: false };
      assert.deepEqual((await stats('?groupBy=province&to=2026-03-01', gd)).json().rows, [{ province: 'GD', issued: 120, renewed: 0, revoked: 60, active: 60 }]);
      assert.equal((await stats('?province=BJ', gd)).statusCode, 403);
      assert.equal((await stats('?groupBy=nonsense')).statusCode, 400);
      assert.equal((await stats('?from=yesterday')).statusCode, 400);
    });

    test('a replayed batch changes nothing; a seq reused for another event is a conflict', async () => {
      const batch = { ca: 'ca-sm2', messages: [1, 2, 3].map((seq) => ({ seq, ...issued(1000 + seq) })) };
      const der = signSyncBatch(batch, sm2.key, sm2.cert);
      const first = await post(der);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().applied, 3);
      const before = await count('platform_sync_messages');
      const again = await post(der);
      assert.equal(again.statusCode, 200);
      assert.deepEqual([again.json().applied, again.json().duplicates], [0, 3]);
      const changed = signSyncBatch({ ca: 'ca-sm2', messages: [{ ...batch.messages[0]!, serial: 'ffff' }] }, sm2.key, sm2.cert);
      const conflict = (await post(changed)).json();
      assert.deepEqual(conflict.results, [{ seq: 1, status: 'conflict' }]);
      assert.equal(await count('platform_sync_messages'), before);
    });

    test('forged, unknown-CA, unconnected-CA and malformed batches are refused; refusals are audited', async () => {
      const batch = { ca: 'ca-p256', messages: [{ seq: 9999, ...issued(9999) }] };
      const before = await refusals();
      const forged = await post(signSyncBatch(batch, stranger.key, stranger.cert));
      assert.equal(forged.statusCode, 403, forged.body);
      assert.equal(forged.json().error, 'platform.sync.signature');
      const wrongKey = await post(signSyncBatch(batch, sm2.key, sm2.cert));
      assert.equal(wrongKey.json().error, 'platform.sync.signature');
      const unknown = await post(signSyncBatch({ ...batch, ca: 'ca-nobody' }, p256.key, p256.cert));
      assert.deepEqual([unknown.statusCode, unknown.json().error], [403, 'platform.sync.ca.unknown']);
      const applied = await post(signSyncBatch({ ...batch, ca: 'ca-applied' }, p256.key, p256.cert));
      assert.deepEqual([applied.statusCode, applied.json().error], [403, 'platform.sync.ca.not-connected']);
      assert.equal(await refusals(), before + 4);
      assert.equal((await post(Buffer.from('not cms'))).statusCode, 400);
      const badJson = await post(signSyncBatch({ ca: 'ca-p256', messages: [{ seq: -1 } as never] }, p256.key, p256.cert));
      assert.deepEqual([badJson.statusCode, badJson.json().error], [400, 'platform.sync.malformed']);
      const empty = await app.inject({ method: 'POST', url: '/platform/sync/messages', headers: { 'content-type': 'application/cms' }, payload: Buffer.alloc(0) });
      assert.equal(empty.statusCode, 400);
      assert.equal(Number((await sql<{ n: number }>`select count(*) as n from platform_sync_messages where seq = 9999`.execute(platformDb.db)).rows[0]!.n), 0);
    });

    test('platform stopped while events accumulate, then restarted: every event arrives exactly once', async () => {
      const sender = new OutboxSender({ database: caDb, ca: 'ca-p256', key: p256.key, certificate: p256.cert, platformUrl: `http://127.0.0.1:${port}`, batchSize: 50, minBackoffMs: 20, maxBackoffMs: 200, pollMs: 20 });
      const start = await count('platform_sync_messages');
      await app.close();
      sender.start();
      for (let round = 0; round < 5; round++) {
        await enqueue(Array.from({ length: 40 }, (_, i) => issued(2000 + round * 40 + i)));
        sender.wake();
        await new Promise((r) => setTimeout(r, 30));
      }
      const down = await sender.state();
      assert.equal(down.pending, 200);
      assert.match(down.lastError ?? '', /fetch failed|ECONNREFUSED/);
      // A lost answer: the platform applied a batch but the CA never heard back.
      const lost = await sql<{ body: string }>`select body from platform_outbox where sent_at is null order by seq limit 10`.execute(caDb.db);
      await applier.receive(signSyncBatch({ ca: 'ca-p256', messages: lost.rows.map((r) => JSON.parse(r.body)) }, p256.key, p256.cert));
      await startPlatform();
      for (let i = 0; i < 200 && (await sender.state()).pending > 0; i++) await new Promise((r) => setTimeout(r, 25));
      await sender.stop();
      const up = await sender.state();
      assert.equal(up.pending, 0);
      assert.equal(up.conflicts, 0);
      assert.equal(await count('platform_sync_messages'), start + 200);
      const seqs = (await sql<{ seq: number }>`select seq from platform_sync_messages where ca = 'ca-p256' order by seq`.execute(platformDb.db)).rows.map((r) => Number(r.seq));
      assert.deepEqual(seqs, Array.from({ length: 500 }, (_, i) => i + 1));
      const dup = Number((await sql<{ n: number }>`select count(*) as n from platform_outbox where outcome = 'duplicate'`.execute(caDb.db)).rows[0]!.n);
      assert.equal(dup, 10);
    });

    test('OpenSSL verifies the signed batch the outbox sends (P-256)', async () => {
      const der = signSyncBatch({ ca: 'ca-p256', messages: [{ seq: 1, ...issued(1) }] }, p256.key, p256.cert);
      const { openssl } = await outside();
      const r = await openssl(['cms', '-verify', '-binary', '-noverify', '-inform', 'DER', '-in', 'b.der', '-out', 'c.json'], { files: { 'b.der': der }, outputs: ['c.json'] });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.outputs['c.json']!.toString()).ca, 'ca-p256');
    });
  });
}

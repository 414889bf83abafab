/**
 * The national picture's statistics over HTTP, on SQLite and PostgreSQL, from signed batches of
 * two CAs applied by the real applier: totals by CA, province and class over a period (issued,
 * renewed, revoked, active — expired and revoked certificates are not active); the timeseries in
 * day, month and year buckets, split by CA, province or class, each count checked against a
 * count made independently from the events; CSV of both; scopes (a province its own, a CA
 * itself); bad queries 400; the statistics indexes exist.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { generateKey, parseName, selfSignedSigningCertificate, type Certificate, type PrivateKey } from '@health-pki/pki';
import { openDatabase, type Database } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { auditMigrations } from '../src/audit/log.js';
import { handleError } from '../src/http/errors.js';
import type { ConnectedCa } from '../src/platform/registry/types.js';
import type { PlatformPrincipal } from '../src/platform/registry/roles.js';
import { SyncApplier, SyncStatistics, registerSyncRoutes, signSyncBatch, syncMigrations, type SyncMessage } from '../src/platform/sync/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';

function identity(cn: string): { key: PrivateKey; cert: Certificate } {
  const key = generateKey('p256');
  return { key, cert: selfSignedSigningCertificate(key, parseName(`C=CN,O=health-pki,CN=${cn}`), { notBefore: new Date(Date.now() - 60_000), days: 30 }) };
}

const CAS = ['ca-a', 'ca-b'];
/** The statistics' clock: events after it are in the future. */
const NOW = '2026-06-01T00:00:00.000Z';
const PROVINCES = ['GD', 'BJ', 'SH'];
const CLASSES = ['person', 'organisation', 'device'];

/** A deterministic year of events per CA: issuances spread over 2025-2026, renewals, revocations, some already expired. */
function eventsOf(ca: string): SyncMessage[] {
  const out: SyncMessage[] = [];
  const salt = ca === 'ca-a' ? 0 : 7;
  let seq = 0;
  for (let i = 0; i < 400; i++) {
    const day = (i * 37 + salt) % 600; // 2025-01-01 + day
    const at = new Date(Date.UTC(2025, 0, 1 + day, (i * 5) % 24, i % 60)).toISOString();
    // Every 10th expires before 2026-06-01, the others in 2028.
    const notAfter = i % 10 === 0 ? new Date(Date.UTC(2025, 0, 1 + day + 30)).toISOString() : '2028-01-01T00:00:00.000Z';
    const kind = i % 9 === 4 && i > 0 ? 'renewed' : 'issued';
    out.push({ seq: ++seq, kind, serial: (0x10000 + i).toString(16), profile: 'person-sign', class: CLASSES[(i + salt) % 3]!, province: PROVINCES[i % 3]!, at, notAfter, ...(kind === 'renewed' ? { replaces: (0x10000 + i - 1).toString(16) } : {}) });
  }
  // Revocations of every 6th certificate, 20 days after issuance.
  for (let i = 0; i < 400; i += 6) {
    const issued = out[i]!;
    out.push({ seq: ++seq, kind: 'revoked', serial: issued.serial, at: new Date(Date.parse(issued.at) + 20 * 86_400_000).toISOString(), reason: 'superseded' });
  }
  return out;
}

const EVENTS = Object.fromEntries(CAS.map((ca) => [ca, eventsOf(ca)])) as Record<string, SyncMessage[]>;

/** The dimensions of a certificate (a revocation carries none: it inherits the issuance's). */
function dims(ca: string, m: SyncMessage): { ca: string; province: string; class: string } {
  const issued = m.kind === 'revoked' ? EVENTS[ca]!.find((e) => e.serial === m.serial && e.kind !== 'revoked')! : m;
  return { ca, province: issued.province!, class: issued.class! };
}

/** Counts the events independently of the SQL. */
function expected(filter: (ca: string, m: SyncMessage) => boolean, key: (ca: string, m: SyncMessage) => string): Map<string, { issued: number; renewed: number; revoked: number }> {
  const out = new Map<string, { issued: number; renewed: number; revoked: number }>();
  for (const ca of CAS) {
    for (const m of EVENTS[ca]!) {
      if (!filter(ca, m)) continue;
      const k = key(ca, m);
      const c = out.get(k) ?? { issued: 0, renewed: 0, revoked: 0 };
      c[m.kind]++;
      out.set(k, c);
    }
  }
  return out;
}

for (const backendName of BACKENDS) {
  describe(`platform statistics on ${backendName}`, () => {
    let backend: TestBackend;
    let db: Database;
    let app: FastifyInstance;
    const ids = Object.fromEntries(CAS.map((ca) => [ca, identity(`${ca} platform access`)]));
    const directory: ConnectedCa[] = CAS.map((name) => ({ name, displayName: name, status: 'connected', provinces: PROVINCES, certificates: [], platformAccessCertificate: ids[name]!.cert, licenceNumber: 'L', licenceNotAfter: '2030-01-01T00:00:00Z' }));
    const national: PlatformPrincipal = { id: 'nat', role: 'national', bootstrap: false };
    const get = (url: string, who: PlatformPrincipal = national) => app.inject({ method: 'GET', url, headers: { 'x-test-principal': JSON.stringify(who) } });
    const json = async (url: string, who?: PlatformPrincipal) => {
      const r = await get(url, who);
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      return r.json();
    };

    before(async () => {
      backend = await createBackend(backendName);
      db = await openDatabase({ url: backend.dbUrl, dataDir: backend.dataDir });
      await migrate(db, [auditMigrations, syncMigrations]);
      const applier = new SyncApplier({ database: db, directory: { get: async (n) => directory.find((c) => c.name === n), list: async () => directory } });
      app = Fastify({ logger: false });
      app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
      // Stand-in for the platform's token hook (the registry tests cover tokens): the principal in a header.
      app.addHook('onRequest', async (req) => {
        const h = req.headers['x-test-principal'];
        if (typeof h === 'string') req.platformPrincipal = JSON.parse(h) as PlatformPrincipal;
      });
      await registerSyncRoutes(app, { applier, statistics: new SyncStatistics(db, () => new Date(NOW)) });
      for (const ca of CAS) {
        const events = EVENTS[ca]!;
        for (let i = 0; i < events.length; i += 200) {
          const r = await app.inject({ method: 'POST', url: '/platform/sync/messages', headers: { 'content-type': 'application/cms' }, payload: signSyncBatch({ ca, messages: events.slice(i, i + 200) }, ids[ca]!.key, ids[ca]!.cert) });
          assert.equal(r.statusCode, 200, r.body);
        }
      }
    });

    after(async () => {
      await app?.close();
      await db?.close();
      await backend?.cleanup();
    });

    test('totals by CA, province and class over a period; active excludes revoked and expired', async () => {
      const from = '2025-04-01T00:00:00.000Z';
      const to = '2026-01-01T00:00:00.000Z';
      const rows = (await json(`/platform/stats?groupBy=ca,province,class&from=${from}&to=${to}`)).rows as Array<Record<string, any>>;
      const want = expected((_, m) => m.at >= from && m.at < to, (ca, m) => JSON.stringify(dims(ca, m)));
      assert.equal(rows.length, want.size);
      for (const r of rows) {
        const w = want.get(JSON.stringify({ ca: r.ca, province: r.province, class: r.class }))!;
        assert.deepEqual({ issued: r.issued, renewed: r.renewed, revoked: r.revoked }, w, JSON.stringify(r));
      }
      // Active at `to`: issued (or renewed) before it, not revoked before it, not expired by it.
      for (const r of rows) {
        let active = 0;
        for (const m of EVENTS[r.ca]!) {
          if (m.kind === 'revoked' || m.at >= to || m.province !== r.province || m.class !== r.class) continue;
          const revoked = EVENTS[r.ca]!.find((e) => e.kind === 'revoked' && e.serial === m.serial);
          if (revoked && revoked.at < to) continue;
          if (m.notAfter! < to) continue;
          active++;
        }
        assert.equal(r.active, active, JSON.stringify(r));
      }
    });

    test('timeseries by month split by CA, by day split by province, by year split by class: exact', async () => {
      const check = async (bucket: 'day' | 'month' | 'year', by: 'ca' | 'province' | 'class', len: number, range = '') => {
        const res = await json(`/platform/stats/timeseries?bucket=${bucket}&by=${by}${range}`);
        assert.equal(res.bucket, bucket);
        const [from, to] = [/from=([^&]+)/.exec(range)?.[1] ?? '0000', /to=([^&]+)/.exec(range)?.[1] ?? NOW];
        const want = expected((_, m) => m.at >= from && m.at < to, (ca, m) => `${m.at.slice(0, len)}|${dims(ca, m)[by]}`);
        const got = new Map((res.points as any[]).map((p) => [`${p.period}|${p.series}`, { issued: p.issued, renewed: p.renewed, revoked: p.revoked }]));
        assert.deepEqual(got, want);
        // Oldest first.
        const periods = (res.points as any[]).map((p) => p.period);
        assert.deepEqual(periods, [...periods].sort());
        return res.points as any[];
      };
      const months = await check('month', 'ca', 7);
      assert.ok(months.length > 24);
      await check('day', 'province', 10, '&from=2025-03-01T00:00:00.000Z&to=2025-05-01T00:00:00.000Z');
      await check('year', 'class', 4);
      // Unsplit: one series, filtered to one CA and class.
      const one = await json('/platform/stats/timeseries?bucket=year&ca=ca-b&class=device');
      const want = expected((ca, m) => ca === 'ca-b' && dims(ca, m).class === 'device' && m.at < NOW, (_, m) => m.at.slice(0, 4));
      assert.deepEqual(new Map((one.points as any[]).map((p) => [p.period, { issued: p.issued, renewed: p.renewed, revoked: p.revoked }])), want);
      assert.equal(one.points[0].series, undefined);
    });

    test('CSV of the timeseries', async () => {
      const r = await get('/platform/stats/timeseries.csv?bucket=year&by=ca');
      assert.equal(r.statusCode, 200);
      assert.match(String(r.headers['content-type']), /^text\/csv/);
      const lines = r.body.trim().split('\r\n');
      assert.equal(lines[0], 'period,ca,issued,renewed,revoked');
      // `to` defaults to now (the clock says 2026-06-01): later events are not counted.
      const want = expected((_, m) => m.at < NOW, (ca, m) => `${m.at.slice(0, 4)},${ca}`);
      assert.deepEqual(new Set(lines.slice(1)), new Set([...want].map(([k, c]) => `${k},${c.issued},${c.renewed},${c.revoked}`)));
    });

    test('scopes: a province sees its own, a CA itself; another is 403', async () => {
      const gd: PlatformPrincipal = { id: 'gd', role: 'provincial', province: 'GD', bootstrap: false };
      const caA: PlatformPrincipal = { id: 'a', role: 'ca', ca: 'ca-a', bootstrap: false };
      const gdSeries = (await json('/platform/stats/timeseries?bucket=year&by=province', gd)).points as any[];
      assert.ok(gdSeries.length > 0 && gdSeries.every((p) => p.series === 'GD'));
      const caSeries = (await json('/platform/stats/timeseries?bucket=year&by=ca', caA)).points as any[];
      assert.ok(caSeries.length > 0 && caSeries.every((p) => p.series === 'ca-a'));
      assert.equal((await get('/platform/stats/timeseries?ca=ca-b', caA)).statusCode, 403);
      assert.equal((await get('/platform/stats/timeseries?province=BJ', gd)).statusCode, 403);
      assert.equal((await get('/platform/stats/timeseries.csv?ca=ca-b', caA)).statusCode, 403);
      assert.deepEqual((await json('/platform/stats?groupBy=ca', caA)).rows.map((r: any) => r.ca), ['ca-a']);
    });

    test('bad queries are 400 naming the fault', async () => {
      for (const [qs, error] of [
        ['bucket=week', 'platform.stats.bucket'],
        ['by=colour', 'platform.stats.group'],
        ['from=yesterday', 'platform.stats.period'],
        ['from=2026-01-01&to=2025-01-01', 'platform.stats.period'],
      ]) {
        const r = await get(`/platform/stats/timeseries?${qs}`);
        assert.equal(r.statusCode, 400, `${qs}: ${r.body}`);
        assert.equal(r.json().error, error, qs);
      }
      assert.equal((await get(`/platform/stats/timeseries?ca=${'x'.repeat(65)}`)).statusCode, 400);
    });

    test('the statistics indexes exist', async () => {
      const names =
        backendName === 'sqlite'
          ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(db.db)).rows.map((r) => r.name)
          : (await sql<{ name: string }>`select indexname as name from pg_indexes`.execute(db.db)).rows.map((r) => r.name);
      for (const n of ['platform_sync_messages_at', 'platform_sync_messages_ca_at', 'platform_sync_messages_province_at', 'platform_certificates_issued', 'platform_certificates_province_issued']) assert.ok(names.includes(n), n);
    });
  });
}

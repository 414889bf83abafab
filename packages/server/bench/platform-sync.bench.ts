/**
 * Sync messages applied per second on the platform (issue 8: ">= 10,000/s on SQLite"): several
 * CAs, each with its own platform-access key, POST signed batches of 500 messages (90 %
 * issuances, 10 % revocations of earlier ones) over HTTP to a platform process (the real app:
 * access hook, body parser, CMS verification, exactly-once application, audit), one batch in
 * flight per CA as the outbox sends them. References in the same run, on the same messages:
 * the applier without HTTP, and plain better-sqlite3 inserts of the same rows into the same
 * tables and indexes (one transaction per batch) — the floor the applier is measured against.
 * PostgreSQL is a second row over HTTP.
 *
 * BENCH_QUICK=1: 2 CAs × 3 batches, for a sanity run; the numbers then mean little.
 * HPKI_BENCH_SYNC_BATCHES=n: n batches per CA instead of 25.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { generateKey, parseName, selfSignedSigningCertificate, type Certificate, type PrivateKey } from '@health-pki/pki';
import type { Benchmark, BenchRow } from '../../pki/bench/harness.js';
import { createBackend, postgresOff, type TestBackend } from '../test/helpers/backends.js';
import { openDatabase, SQLITE_FILE } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { auditMigrations } from '../src/audit/log.js';
import { SyncApplier, messageDigest, signSyncBatch, syncMigrations, type ApplyResult, type SyncMessage } from '../src/platform/sync/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCH = 500;
const CAS = QUICK ? 2 : 4;
/** Batches per CA (HPKI_BENCH_SYNC_BATCHES overrides). */
const BATCHES = Math.max(2, Number(process.env.HPKI_BENCH_SYNC_BATCHES ?? (QUICK ? 3 : 25)));
/** Messages timed per run: every CA's first batch warms the path up and is not timed. */
const TIMED = CAS * (BATCHES - 1) * BATCH;
const TARGET = 10_000;
const CHILD = fileURLToPath(new URL('./platform-sync-child.js', import.meta.url));

interface CaInput {
  name: string;
  key: PrivateKey;
  cert: Certificate;
  batches: SyncMessage[][];
  signed: Buffer[];
}

/** The messages of one CA: issuances, and every 10th message a revocation of an earlier one. */
function makeCa(i: number): CaInput {
  const name = `bench-ca-${i}`;
  const key = generateKey('p256');
  const cert = selfSignedSigningCertificate(key, parseName(`C=CN,O=bench,CN=${name} platform access`), { notBefore: new Date(Date.now() - 60_000), days: 30 });
  const batches: SyncMessage[][] = [];
  let seq = 0;
  const classes = ['person', 'organisation', 'device'];
  const provinces = ['GD', 'BJ', 'SH', 'ZJ'];
  for (let b = 0; b < BATCHES; b++) {
    const batch: SyncMessage[] = [];
    for (let k = 0; k < BATCH; k++) {
      seq++;
      const at = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
      if (seq % 10 === 0) batch.push({ seq, kind: 'revoked', serial: (seq - 5).toString(16).padStart(16, '0'), at, reason: 'superseded' });
      else batch.push({ seq, kind: 'issued', serial: seq.toString(16).padStart(16, '0'), profile: 'staff-sign', class: classes[seq % 3]!, province: provinces[seq % 4]!, at, notAfter: '2029-01-01T00:00:00.000Z' });
    }
    batches.push(batch);
  }
  return { name, key, cert, batches, signed: batches.map((m) => signSyncBatch({ ca: name, messages: m }, key, cert)) };
}

/** Sends every CA's batches, one in flight per CA; returns messages per second and checks all were applied once. */
async function drive(cas: CaInput[], send: (der: Buffer) => Promise<ApplyResult>): Promise<number> {
  // The first batch of every CA warms the path up (JIT, prepared statements, connections): not timed.
  for (const ca of cas) if ((await send(ca.signed[0]!)).applied !== BATCH) throw new Error(`the warm-up batch of ${ca.name} was not applied`);
  const total = TIMED;
  let applied = 0;
  const start = performance.now();
  await Promise.all(
    cas.map(async (ca) => {
      for (const der of ca.signed.slice(1)) {
        // Not `applied += await …`: that reads `applied` before the await and loses the other CAs' counts.
        const r = await send(der);
        applied += r.applied;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  if (applied !== total) throw new Error(`applied ${applied} of ${total} messages`);
  return total / seconds;
}

/** Over HTTP to a platform process of its own (platform-sync-child.ts). */
async function overHttp(backendName: TestBackend['name'], cas: CaInput[]): Promise<number> {
  const backend = await createBackend(backendName);
  const casFile = join(backend.dataDir, 'bench-cas.json');
  writeFileSync(casFile, JSON.stringify(cas.map((c) => ({ name: c.name, cert: c.cert.toPem() }))));
  const child = spawn(process.execPath, [CHILD, backend.dataDir, backend.dbUrl ?? '', casFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/platform/sync/messages`;
    return await drive(cas, async (der) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cms' }, body: der });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
      return (await r.json()) as ApplyResult;
    });
  } finally {
    child.stdin!.end();
    await exited;
    await backend.cleanup();
  }
}

/** The applier alone (CMS verification and application, no HTTP), SQLite. */
async function applierOnly(cas: CaInput[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-sync-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    await migrate(database, [auditMigrations, syncMigrations]);
    const directory = cas.map((c) => ({ name: c.name, displayName: c.name, status: 'connected' as const, provinces: ['GD'], certificates: [], platformAccessCertificate: c.cert, licenceNumber: 'L', licenceNotAfter: '2030-01-01T00:00:00Z' }));
    const applier = new SyncApplier({ database, directory: { get: async (n) => directory.find((d) => d.name === n), list: async () => directory } });
    return await drive(cas, (der) => applier.receive(der));
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Plain better-sqlite3: the same rows into the same tables and indexes, one transaction per batch, no checks. */
async function plainInserts(cas: CaInput[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-sync-raw-'));
  const database = await openDatabase({ dataDir: dir });
  await migrate(database, [syncMigrations]);
  await database.close();
  const db = new SqliteDatabase(join(dir, SQLITE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const cert = db.prepare(`insert into platform_certificates (ca, serial, profile, class, province, issued_at, not_after, status, revoked_at, replaces) values (?, ?, ?, ?, ?, ?, ?, 'active', null, null)`);
    const revoke = db.prepare(`update platform_certificates set status = 'revoked', revoked_at = ? where ca = ? and serial = ?`);
    const msg = db.prepare(`insert into platform_sync_messages (ca, seq, kind, serial, digest, profile, class, province, at, received_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const now = new Date().toISOString();
    const apply = db.transaction((ca: string, batch: SyncMessage[]) => {
      for (const m of batch) {
        if (m.kind === 'revoked') revoke.run(m.at, ca, m.serial);
        else cert.run(ca, m.serial, m.profile, m.class, m.province, m.at, m.notAfter);
        msg.run(ca, m.seq, m.kind, m.serial, messageDigest(m), m.profile ?? null, m.class ?? null, m.province ?? null, m.at, now);
      }
    });
    for (const ca of cas) apply(ca.name, ca.batches[0]!);
    const start = performance.now();
    let n = 0;
    // Round-robin over the CAs, as their concurrent batches would arrive.
    for (let b = 1; b < BATCHES; b++) for (const ca of cas) (apply(ca.name, ca.batches[b]!), (n += BATCH));
    return n / ((performance.now() - start) / 1000);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Benchmark = async () => {
  const cas = Array.from({ length: CAS }, (_, i) => makeCa(i));
  const sqliteHttp = await overHttp('sqlite', cas);
  const applier = await applierOnly(cas);
  const raw = await plainInserts(cas);
  const rows: BenchRow[] = [
    {
      name: `SQLite: messages applied per second over HTTP (${CAS} CAs × ${BATCHES - 1} signed batches of ${BATCH}, one in flight per CA)`,
      value: sqliteHttp,
      unit: 'msg/s',
      ratio: { against: 'plain better-sqlite3 inserts', value: sqliteHttp / raw },
      target: { text: `>= ${TARGET.toLocaleString('en-US')}/s`, met: sqliteHttp >= TARGET },
    },
    { name: 'SQLite: the applier alone (CMS verification + exactly-once application + audit, no HTTP)', value: applier, unit: 'msg/s', ratio: { against: 'plain better-sqlite3 inserts', value: applier / raw } },
    { name: 'SQLite: plain better-sqlite3 inserts of the same rows (same tables and indexes, one transaction per batch, no checks)', value: raw, unit: 'msg/s' },
  ];
  const notes = [
    `${TIMED.toLocaleString('en-US')} messages timed per run (90 % issuances, 10 % revocations of earlier certificates), after one untimed warm-up batch per CA; each run on a fresh database; SQLite with synchronous=FULL.`,
    'Over HTTP the platform is a process of its own (platform-sync-child.ts: the real app, CAs connected through the registry); the senders run in the bench process.',
    'Each batch is one CMS SignedData (ECDSA P-256) signed before the clock starts; the platform verifies it against the CA\'s registered platform-access certificate.',
  ];
  if (!postgresOff) {
    const pgHttp = await overHttp('postgres', cas);
    rows.push({ name: `PostgreSQL: messages applied per second over HTTP (same batches)`, value: pgHttp, unit: 'msg/s' });
  } else {
    notes.push('PostgreSQL switched off (HPKI_TEST_PG=off): no PostgreSQL row.');
  }
  if (QUICK) notes.push('BENCH_QUICK=1: a short sanity run, not a measurement.');
  return [{ title: 'Platform sync: messages applied per second', rows, notes }];
};

export default bench;

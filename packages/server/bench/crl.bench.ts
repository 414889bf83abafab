/**
 * A CRL of a million revoked certificates, built from the database the way the service builds
 * it (a process of its own: CrlService.refreshNow reading ca_certificates page by page, encoding
 * entries straight to DER, signing, storing), on SQLite and PostgreSQL; then the delta CRL after
 * one more revocation. Beside it, in the same run on the same entries: `openssl ca -gencrl` over
 * an index.txt of the same revoked serials, and `cfssl gencrl` over the same serials. Peak memory
 * is each process's maximum resident set (getrusage ru_maxrss; /usr/bin/time -f %M for the tools).
 *
 * HPKI_BENCH_CRL_N sets the number of entries (default 1,000,000), e.g. 20000 for a quick check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { Benchmark, BenchRow } from '../../pki/bench/harness.js';
import { createBackend, postgresOff, type TestBackend } from '../test/helpers/backends.js';
import { bootstrap, openServices } from '../src/services.js';
import { SQLITE_FILE } from '../src/store/database.js';

const N = Number(process.env.HPKI_BENCH_CRL_N ?? 1_000_000);
const CHILD = fileURLToPath(new URL('./crl-child.js', import.meta.url));
/** The one certificate left valid, revoked by the child to time the delta CRL. */
const EXTRA_SERIAL = '7eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
// 2026-01-01 and 2025-01-01 UTC, in Unix seconds: revocation and issuance times of the generated rows.
const REVOKED_FROM = 1_767_225_600;
const ISSUED_FROM = 1_735_689_600;

interface ChildResult {
  fullMs: number;
  deltaMs: number;
  entries: number;
  bytes: number;
  deltaEntries: number;
  listed: boolean;
  maxRssKiB: number;
}

/** The CA the rows belong to: demo-p256's issuing CA, created by the service's own first start. */
async function prepare(backend: TestBackend): Promise<{ authorityId: string; issuerId: string }> {
  const services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: 'http://pki.test:8080', pkiThreads: 0, crl: { start: false } });
  try {
    await bootstrap(services, backend.dataDir);
    const issuing = (await services.ca.signingIssuers('demo-p256')).find((i) => i.label === 'issuing-1')!;
    return { authorityId: issuing.authorityId, issuerId: issuing.issuerId };
  } finally {
    await services.close();
  }
}

const COLUMNS = 'authority_id, serial, issuer_id, profile, subject, spki_sha256, not_before, not_after, status, revoked_at, reason, invalidity_date, der, issued_at, version';

/** Inserts N revoked certificates (600-byte DER stand-ins) and one valid one, in one statement each. */
async function populate(backend: TestBackend, ids: { authorityId: string; issuerId: string }): Promise<void> {
  if (backend.name === 'sqlite') {
    const db = new SqliteDatabase(join(backend.dataDir, SQLITE_FILE));
    try {
      db.pragma('synchronous = OFF');
      const iso = (expr: string) => `strftime('%Y-%m-%dT%H:%M:%S.000Z', ${expr}, 'unixepoch')`;
      db.prepare(
        `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
         INSERT OR IGNORE INTO ca_certificates (${COLUMNS})
         SELECT ?, '7' || substr(lower(hex(randomblob(16))), 2), ?, 'staff-sign', 'C=CN, O=bench, CN=holder ' || i, '00', '2025-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'revoked',
                ${iso(`${REVOKED_FROM} + i`)},
                CASE i % 4 WHEN 0 THEN 'keyCompromise' WHEN 1 THEN 'superseded' WHEN 2 THEN 'affiliationChanged' ELSE 'unspecified' END,
                CASE WHEN i % 10 = 0 THEN ${iso(`${REVOKED_FROM} + i - 86400`)} ELSE NULL END,
                randomblob(600), ${iso(`${ISSUED_FROM} + i / 2`)}, 2
         FROM s`,
      ).run(N, ids.authorityId, ids.issuerId);
      db.prepare(`INSERT INTO ca_certificates (${COLUMNS}) VALUES (?, ?, ?, 'staff-sign', 'CN=extra', '00', '2025-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'valid', NULL, NULL, NULL, randomblob(600), '2026-06-01T00:00:00.000Z', 1)`).run(
        ids.authorityId,
        EXTRA_SERIAL,
        ids.issuerId,
      );
      db.exec('ANALYZE');
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: backend.dbUrl });
  await client.connect();
  try {
    const ts = (expr: string) => `to_char(timestamp '1970-01-01' + (${expr}) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"')`;
    await client.query(
      `INSERT INTO ca_certificates (${COLUMNS})
       SELECT $1, '7' || substr(md5(i::text), 2), $2, 'staff-sign', 'C=CN, O=bench, CN=holder ' || i, '00', '2025-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'revoked',
              ${ts(`${REVOKED_FROM} + i`)},
              CASE i % 4 WHEN 0 THEN 'keyCompromise' WHEN 1 THEN 'superseded' WHEN 2 THEN 'affiliationChanged' ELSE 'unspecified' END,
              CASE WHEN i % 10 = 0 THEN ${ts(`${REVOKED_FROM} + i - 86400`)} ELSE NULL END,
              decode(repeat(md5(i::text), 37), 'hex'), ${ts(`${ISSUED_FROM} + i / 2`)}, 2
       FROM generate_series(1, $3::int) AS i
       ON CONFLICT DO NOTHING`,
      [ids.authorityId, ids.issuerId, N],
    );
    await client.query(
      `INSERT INTO ca_certificates (${COLUMNS}) VALUES ($1, $2, $3, 'staff-sign', 'CN=extra', '00', '2025-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'valid', NULL, NULL, NULL, decode(repeat('ab', 600), 'hex'), '2026-06-01T00:00:00.000Z', 1)`,
      [ids.authorityId, EXTRA_SERIAL, ids.issuerId],
    );
    // As autovacuum would leave it: the visibility map lets the CRL read use index-only scans.
    await client.query('VACUUM ANALYZE ca_certificates');
  } finally {
    await client.end();
  }
}

function runChild(backend: TestBackend): ChildResult {
  const r = spawnSync(process.execPath, [CHILD, backend.dataDir, backend.dbUrl ?? '', EXTRA_SERIAL], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`CRL child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS (KiB). */
function timed(cmd: string, args: string[], opts: { cwd?: string; stdoutFile?: string } = {}): { seconds: number; maxRssKiB: number } {
  const out = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'ignore';
  try {
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { cwd: opts.cwd, stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
    const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
    if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-1000)}`);
    return { seconds: Number(m[1]), maxRssKiB: Number(m[2]) };
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
}

/** YYMMDDHHMMSSZ as index.txt writes times. */
function indexTime(iso: string): string {
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
}

/** Writes index.txt (OpenSSL) and a list of decimal serials (CFSSL) from the SQLite rows the service used. */
async function exportEntries(sqliteFile: string, issuerId: string, dir: string): Promise<number> {
  const db = new SqliteDatabase(sqliteFile, { readonly: true });
  const index = createWriteStream(join(dir, 'index.txt'));
  const serials = createWriteStream(join(dir, 'serials.txt'));
  let n = 0;
  let a: string[] = [];
  let b: string[] = [];
  const flush = async () => {
    if (!index.write(a.join(''))) await once(index, 'drain');
    if (!serials.write(b.join(''))) await once(serials, 'drain');
    a = [];
    b = [];
  };
  try {
    for (const r of db.prepare(`select serial, revoked_at, reason from ca_certificates where issuer_id = ? and status = 'revoked' and serial <> ?`).iterate(issuerId, EXTRA_SERIAL) as Iterable<{ serial: string; revoked_at: string; reason: string }>) {
      const hex = r.serial.length % 2 ? '0' + r.serial : r.serial;
      a.push(`R\t270101000000Z\t${indexTime(r.revoked_at)}${r.reason && r.reason !== 'unspecified' ? ',' + r.reason : ''}\t${hex.toUpperCase()}\tunknown\t/CN=holder\n`);
      b.push(BigInt('0x' + r.serial).toString(10) + '\n');
      if (++n % 50_000 === 0) await flush();
    }
    await flush();
  } finally {
    db.close();
    index.end();
    serials.end();
    await Promise.all([once(index, 'finish'), once(serials, 'finish')]);
  }
  return n;
}

function toolVersion(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.replace(/^Version:\s*/, '').trim();
  } catch {
    return undefined;
  }
}

const bench: Benchmark = async () => {
  const rows: BenchRow[] = [];
  const notes: string[] = [
    `${N.toLocaleString('en-US')} revoked certificates of one issuing CA (ECDSA P-256), inserted by bulk SQL with realistic rows (600-byte DER column, reasons on three quarters, invalidity dates on a tenth). Ours: a separate Node process opens the services and calls CrlService.refreshNow (the scheduled path: keyed page reads of the partial index, entries encoded straight to DER, signing, storing the CRL in crl_published — then the delta beside it); the time is that call, peak memory is the whole process's maximum RSS (Node itself included).`,
    'Delta: the child revokes one more certificate through the CA module (CertificateAuthorities.changeStatus in a transaction) and times the delta CRL built, signed and stored after it.',
  ];
  let sqliteFile: string | undefined;
  let sqliteIssuer: string | undefined;
  // HPKI_BENCH_CRL_BACKENDS=postgres measures one store alone (the tools need the SQLite run's entries).
  const only = process.env.HPKI_BENCH_CRL_BACKENDS?.split(',');
  const backends = (postgresOff ? ['sqlite'] : ['sqlite', 'postgres']).filter((b) => !only || only.includes(b)) as Array<TestBackend['name']>;
  const keep: TestBackend[] = [];
  try {
    for (const name of backends) {
      const backend = await createBackend(name);
      keep.push(backend);
      const ids = await prepare(backend);
      const t0 = performance.now();
      await populate(backend, ids);
      notes.push(`${name}: populating took ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured below).`);
      const r = runChild(backend);
      if (!r.listed || r.entries < N * 0.999) throw new Error(`${name}: unexpected CRL (${r.entries} entries, delta lists the revocation: ${r.listed})`);
      rows.push({ name: `complete CRL, ${r.entries.toLocaleString('en-US')} entries (${(r.bytes / 2 ** 20).toFixed(1)} MiB), ${name}: build from the database, sign, store`, value: r.fullMs / 1000, unit: 's', target: { text: '<= 3 s', met: r.fullMs <= 3000 } });
      rows.push({ name: `… peak memory of that process (${name})`, value: r.maxRssKiB / 1024, unit: 'MiB', target: { text: '<= 512 MiB', met: r.maxRssKiB / 1024 <= 512 } });
      rows.push({ name: `delta CRL after one more revocation (${name}; ${r.deltaEntries} entries)`, value: r.deltaMs, unit: 'ms', target: { text: '<= 50 ms', met: r.deltaMs <= 50 } });
      if (name === 'sqlite') {
        sqliteFile = join(backend.dataDir, SQLITE_FILE);
        sqliteIssuer = ids.issuerId;
      } else {
        keep.pop();
        await backend.cleanup();
      }
    }

    // The tools people use instead, on the same revoked serials.
    if (!sqliteFile) return [{ title: `CRL of ${N.toLocaleString('en-US')} revoked certificates, and the delta CRL after one more`, rows, notes }];
    const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-crl-'));
    try {
      const count = await exportEntries(sqliteFile, sqliteIssuer!, dir);
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'ca-key.pem')], { stdio: 'ignore' });
      execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'ca-key.pem'), '-out', join(dir, 'ca.pem'), '-days', '3650', '-subj', '/C=CN/O=bench/CN=bench CA'], { stdio: 'ignore' });
      writeFileSync(join(dir, 'crlnumber'), '01\n');
      writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
      writeFileSync(
        join(dir, 'ca.cnf'),
        `[ ca ]\ndefault_ca = bench\n[ bench ]\ndir = ${dir}\ndatabase = $dir/index.txt\ncrlnumber = $dir/crlnumber\ncertificate = $dir/ca.pem\nprivate_key = $dir/ca-key.pem\ndefault_md = sha256\ndefault_crl_days = 1\ncrl_extensions = crl_ext\n[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n`,
      );
      const o = timed('openssl', ['ca', '-config', join(dir, 'ca.cnf'), '-gencrl', '-out', join(dir, 'openssl.crl')], { cwd: dir });
      rows.push({ name: `openssl ca -gencrl, ${count.toLocaleString('en-US')} entries (index.txt)`, value: o.seconds, unit: 's' });
      // Our complete-CRL rows, compared with OpenSSL's time and memory (a ratio below 1 is better).
      for (const row of rows) {
        if (row.name.startsWith('complete CRL')) row.ratio = { against: 'openssl ca -gencrl (time)', value: row.value / o.seconds };
        if (row.name.startsWith('… peak memory of that process')) row.ratio = { against: 'openssl ca -gencrl (peak memory)', value: row.value / (o.maxRssKiB / 1024) };
      }
      rows.push({ name: '… peak memory of openssl', value: o.maxRssKiB / 1024, unit: 'MiB' });
      notes.push(`OpenSSL: ${toolVersion('openssl', ['version']) ?? '?'}; CRL written ${(statSync(join(dir, 'openssl.crl')).size / 2 ** 20).toFixed(1)} MiB (PEM).`);
      if (toolVersion('cfssl', ['version'])) {
        const c = timed('cfssl', ['gencrl', join(dir, 'serials.txt'), join(dir, 'ca.pem'), join(dir, 'ca-key.pem')], { cwd: dir, stdoutFile: join(dir, 'cfssl.crl.b64') });
        rows.push({ name: `cfssl gencrl, ${count.toLocaleString('en-US')} serials`, value: c.seconds, unit: 's' });
        rows.push({ name: '… peak memory of cfssl', value: c.maxRssKiB / 1024, unit: 'MiB' });
        notes.push(`CFSSL ${toolVersion('cfssl', ['version'])} (gencrl takes serials only: no reasons or invalidity dates).`);
      } else {
        notes.push('CFSSL not measured: `cfssl` is not installed (Debian golang-cfssl).');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    for (const b of keep) await b.cleanup();
  }
  return [{ title: `CRL of ${N.toLocaleString('en-US')} revoked certificates, and the delta CRL after one more`, rows, notes }];
};

export default bench;

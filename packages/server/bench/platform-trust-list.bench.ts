/**
 * The platform's trust list with 100 connected CAs (root + issuing certificate each, SM2): its
 * size, how long a publication takes on SQLite (directory read, JSON, SM2 SignedData, insert,
 * audit), and how long a relying party's verifyTrustList takes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, basicConstraintsExt, buildCertificate, generateKey, keyUsageExt, parseName, randomSerial, type Certificate } from '@health-pki/pki';
import type { Benchmark, BenchRow } from '../../pki/bench/harness.js';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { auditMigrations } from '../src/audit/log.js';
import { securityMigrations } from '../src/security/master-key.js';
import { openSealing } from '../src/security/sealing.js';
import { MasterKeyCustody } from '../src/ca/master-key-custody.js';
import type { ConnectedCa } from '../src/platform/registry/types.js';
import { TrustListPublisher, trustListMigrations, verifyTrustList } from '../src/platform/trust-list/index.js';

const CAS = 100;
const PUBLICATIONS = 20;

function caCertificates(i: number): Certificate[] {
  const now = new Date();
  const exts = [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign'])];
  const rootKey = generateKey('sm2');
  const root = buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=CA ${i},CN=CA ${i} Root`), notBefore: now, notAfter: addDays(now, 3650), publicKey: rootKey.publicKey, extensions: exts }, rootKey);
  const key = generateKey('sm2');
  return [root, buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=CA ${i},CN=CA ${i} Issuing`), issuer: root.subjectDer, notBefore: now, notAfter: addDays(now, 1825), publicKey: key.publicKey, extensions: exts }, rootKey)];
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

const bench: Benchmark = async () => {
  const cas: ConnectedCa[] = Array.from({ length: CAS }, (_, i) => ({
    name: `ca-${i}`,
    displayName: `第${i}数字证书认证中心`,
    status: 'connected',
    provinces: ['北京', '广东'],
    certificates: caCertificates(i),
    licenceNumber: `ECP-${i}`,
    licenceNotAfter: addDays(new Date(), 1000).toISOString(),
  }));
  const dir = mkdtempSync(join(tmpdir(), 'hpki-bench-trust-list-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    await migrate(database, [auditMigrations, securityMigrations, trustListMigrations]);
    const custody = new MasterKeyCustody((await openSealing(database, dir)).envelope);
    const publisher = new TrustListPublisher({ database, directory: { get: async (n) => cas.find((c) => c.name === n), list: async () => cas }, custody });
    const cert = await publisher.certificate();
    const times: number[] = [];
    let last = await publisher.republish('warm-up');
    for (let i = 0; i < PUBLICATIONS; i++) {
      const t = performance.now();
      last = await publisher.republish(`bench ${i}`);
      times.push(performance.now() - t);
    }
    const verifyTimes: number[] = [];
    for (let i = 0; i < PUBLICATIONS; i++) {
      const t = performance.now();
      if (!verifyTrustList(last.der, cert).valid) throw new Error('the benchmark list does not verify');
      verifyTimes.push(performance.now() - t);
    }
    const rows: BenchRow[] = [
      { name: `trust list size, ${CAS} CAs with 2 SM2 certificates each (SignedData DER)`, value: last.der.length / 1024, unit: 'KiB' },
      { name: `publish a new version (directory read, JSON, SM2 SignedData, insert + audit on SQLite), median of ${PUBLICATIONS}`, value: median(times), unit: 'ms' },
      { name: `verifyTrustList by a relying party (parse, SM2 signature, JSON), median of ${PUBLICATIONS}`, value: median(verifyTimes), unit: 'ms' },
    ];
    return [{ title: 'Platform trust list (100 CAs)', rows, notes: ['In-process, SQLite (synchronous=FULL), the SM2 signing key sealed by the master-key custody.'] }];
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

/**
 * One CRL build as the service does it, in a process of its own so that its peak memory is its
 * own: opens the services on a populated database, times a complete CRL of demo-p256's issuing
 * CA (CrlService.refreshNow, the path the schedule takes), then revokes one more certificate and
 * times the delta CRL after it. Prints one JSON line. Used by crl.bench.ts.
 *
 *   node crl-child.js <dataDir> <dbUrl or ""> <serial to revoke>
 */
import { Crl } from '@health-pki/pki';
import { openServices } from '../src/services.js';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.js';

const [dataDir, dbUrl, serial] = process.argv.slice(2);
const services = await openServices({ dataDir: dataDir!, dbUrl: dbUrl || undefined, baseUrl: 'http://pki.test:8080', pkiThreads: 0, crl: { start: false } });
try {
  const t0 = performance.now();
  const full = await services.crls.refreshNow('demo-p256', 'issuing-1', 'full');
  const fullMs = performance.now() - t0;
  const rssAfterFull = process.resourceUsage().maxRSS;
  await services.database.transaction((tx) => services.ca.changeStatus(tx, 'demo-p256', serial!, { action: 'revoke', reason: 'keyCompromise' }, SYSTEM_PRINCIPAL));
  const t1 = performance.now();
  const delta = await services.crls.refreshNow('demo-p256', 'issuing-1', 'delta');
  const deltaMs = performance.now() - t1;
  const d = Crl.parse(delta.der);
  const listed = d.revoked.some((e) => e.serialHex === serial);
  process.stdout.write(
    JSON.stringify({ fullMs, deltaMs, entries: full.entries, bytes: full.der.length, deltaEntries: d.revokedCount, listed, fullNumber: String(full.number), deltaBase: String(delta.baseNumber), maxRssKiB: rssAfterFull }) + '\n',
  );
} finally {
  await services.close();
}

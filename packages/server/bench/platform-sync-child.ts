/**
 * The platform as a process of its own for platform-sync.bench.ts, so that the senders' CPU is not
 * counted against it: opens the platform on the given database, connects the CAs listed in the
 * JSON file (name and platform-access certificate, through the registry's own admission steps),
 * listens on a free port, prints `{"port": n}` and runs until its stdin closes.
 *
 *   node platform-sync-child.js <dataDir> <dbUrl or ""> <cas.json>
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { application } from '../test/helpers/platform.js';
import { openPlatformServices } from '../src/platform/service.js';
import { buildPlatformApp } from '../src/platform/server.js';
import type { PlatformPrincipal } from '../src/platform/registry/roles.js';

const [dataDir, dbUrl, casFile] = process.argv.slice(2);
const cas = JSON.parse(readFileSync(casFile!, 'utf8')) as Array<{ name: string; cert: string }>;
const services = await openPlatformServices({ dataDir: dataDir!, dbUrl: dbUrl || undefined, identityAlgorithm: 'p256', probeIntervalMs: 0 });
const national: PlatformPrincipal = { id: 'bench', role: 'national', bootstrap: true };
const gd: PlatformPrincipal = { id: 'bench-gd', role: 'provincial', province: 'GD', bootstrap: false };
for (const ca of cas) {
  await services.registry.apply(national, { ...application(ca.name, 'GD'), platformAccessCertificate: ca.cert });
  await services.registry.provinceReview(gd, ca.name, { approve: true });
  await services.registry.recordConformance(national, ca.name, { passed: true, faults: [] });
  await services.registry.approve(national, ca.name);
}
const app = await buildPlatformApp(services, { logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ port: (app.server.address() as AddressInfo).port }) + '\n');
process.stdin.resume();
await new Promise((done) => process.stdin.once('end', done));
await app.close();
await services.close();

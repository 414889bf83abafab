#!/usr/bin/env node
/**
 * Starts the EMR against a running deployment (`npm start`): the platform's trust list (pinned
 * platform certificate) and a TSA. Flags override environment variables, which override the
 * defaults that fit `npm start` on this machine. See docs/emr.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Certificate, type HashName } from '@health-pki/pki';
import { JsonFileAccountStorage, TrustStore } from '@health-pki/sdk';
import { buildEmr } from './app.js';
import { RecordStore } from './records.js';

const USAGE = `usage: node examples/emr/dist/src/main.js [options]
  --port N                 EMR_PORT            default 8700
  --host ADDR              EMR_HOST            default 127.0.0.1
  --data DIR               EMR_DATA            default ./data/emr (records, accounts, trust list, admin token)
  --platform-url URL       EMR_PLATFORM_URL    default http://127.0.0.1:8080 (npm start's embedded platform)
  --platform-cert FILE     EMR_PLATFORM_CERT   the platform's trust-list signing certificate (PEM/DER), pinned
  --pin-platform-cert-on-first-use             demo only (implied by --demo): fetch it once, keep it in DATA/platform-cert.der
  --tsa-url URL            EMR_TSA_URL         default http://127.0.0.1:8080/tsa
  --tsa-hash sha256|sm3    EMR_TSA_HASH        default sha256
  --agent-url URL          EMR_AGENT_URL       default http://127.0.0.1:17321 (the page's default signing agent)
                           EMR_LOG_LEVEL       default warn
  --demo                   EMR_DEMO=1          also equip three demo holders (first start) and run their signing agent:
  --ca-url URL             EMR_CA_URL          default http://127.0.0.1:8080 (where demo holders enrol)
  --ca-admin-token FILE    EMR_CA_ADMIN_TOKEN  default ./data/admin.token (npm start's bootstrap administrator)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      'platform-url': { type: 'string' },
      'platform-cert': { type: 'string' },
      'pin-platform-cert-on-first-use': { type: 'boolean' },
      'tsa-url': { type: 'string' },
      'tsa-hash': { type: 'string' },
      'agent-url': { type: 'string' },
      demo: { type: 'boolean' },
      'ca-url': { type: 'string' },
      'ca-admin-token': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(USAGE);
  const env = process.env;
  const port = Number(values.port ?? env.EMR_PORT ?? 8700);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${values.port ?? env.EMR_PORT}`);
  const host = values.host ?? env.EMR_HOST ?? '127.0.0.1';
  const data = resolve(values.data ?? env.EMR_DATA ?? './data/emr');
  const platformUrl = (values['platform-url'] ?? env.EMR_PLATFORM_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const tsaUrl = values['tsa-url'] ?? env.EMR_TSA_URL ?? 'http://127.0.0.1:8080/tsa';
  const tsaHash = (values['tsa-hash'] ?? env.EMR_TSA_HASH ?? 'sha256') as HashName;
  if (tsaHash !== 'sha256' && tsaHash !== 'sm3') throw new Error('--tsa-hash is sha256 or sm3');
  const agentUrl = values['agent-url'] ?? env.EMR_AGENT_URL ?? 'http://127.0.0.1:17321';
  mkdirSync(data, { recursive: true, mode: 0o700 });

  const platformCertificate = await pinnedPlatformCertificate(values['platform-cert'] ?? env.EMR_PLATFORM_CERT, data, platformUrl, !!values['pin-platform-cert-on-first-use'] || !!values.demo || env.EMR_DEMO === '1');
  // Refreshed every minute (the SDK's default is 10): npm start admits its demo CAs in the background.
  const trust = await TrustStore.open({ platformUrl, platformCertificate, file: join(data, 'trust-list.der'), refreshIntervalMs: 60_000 });
  const first = await trust.start((why) => console.error(`trust list refresh: ${why}`));
  if (trust.version === undefined) throw new Error(`no verified trust list from ${platformUrl}: ${first.reason ?? 'unknown reason'} (is npm start running?)`);

  const tokenFile = join(data, 'admin.token');
  if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  const adminToken = readFileSync(tokenFile, 'utf8').trim();

  const { app } = buildEmr({ trust, records: RecordStore.open(join(data, 'records.json')), accounts: new JsonFileAccountStorage(join(data, 'accounts.json')), tsaUrl, tsaHash, adminToken, agentUrl, logLevel: env.EMR_LOG_LEVEL ?? 'warn' });
  await app.listen({ port, host });
  console.log(`电子病历系统 EMR at http://${host}:${port}/ (trust list version ${trust.version}, TSA ${tsaUrl})`);
  console.log(`  administrator token (register accounts): ${tokenFile}`);
  let agent: { close(): Promise<void> } | undefined;
  if (values.demo || env.EMR_DEMO === '1') {
    // Loaded only for the demo: the EMR itself never touches tokens.
    const { setUpDemo } = await import('./demo/setup.js');
    agent = await setUpDemo({
      data,
      caUrl: (values['ca-url'] ?? env.EMR_CA_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
      caAdminTokenFile: resolve(values['ca-admin-token'] ?? env.EMR_CA_ADMIN_TOKEN ?? './data/admin.token'),
      emr: app,
      trust,
      emrAdminToken: adminToken,
      emrOrigin: `http://${host}:${port}`,
      agentPort: Number(new URL(agentUrl).port || 80),
    });
  }
  const stop = () => {
    trust.stop();
    void agent?.close();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The pinned platform certificate: a given file, the one pinned earlier, or (demo) fetched once now. */
async function pinnedPlatformCertificate(file: string | undefined, data: string, platformUrl: string, tofu: boolean): Promise<Certificate> {
  if (file) return Certificate.parse(readFileSync(file));
  const kept = join(data, 'platform-cert.der');
  if (existsSync(kept)) return Certificate.parse(readFileSync(kept));
  if (!tofu) throw new Error(`the platform certificate must be pinned: --platform-cert FILE (GET ${platformUrl}/platform/trust-list/certificate, checked out of band), or --pin-platform-cert-on-first-use for a demo`);
  const res = await fetch(`${platformUrl}/platform/trust-list/certificate`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${platformUrl}/platform/trust-list/certificate: HTTP ${res.status} (is npm start running?)`);
  const cert = Certificate.parse(Buffer.from(await res.arrayBuffer()));
  writeFileSync(kept, cert.der);
  console.warn(`demo: pinned the platform certificate "${cert.subjectText}" fetched from ${platformUrl} (trust on first use) into ${kept}`);
  return cert;
}

main().catch((e) => {
  console.error(`emr: ${(e as Error).message}`);
  console.error(USAGE);
  process.exit(2);
});

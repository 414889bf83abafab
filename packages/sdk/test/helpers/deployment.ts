/**
 * Owner: sdk-trust (shared with sdk-sign). A real demo deployment for SDK tests: the
 * certification service in-process (demo CAs demo-sm2 and demo-p256, OCSP, CRLs, TSA at POST /tsa
 * and /tsa/sm2) and the national platform, both listening on loopback ports, with the demo CAs
 * admitted through the platform's HTTP API so that a real signed trust list names them.
 * Start one per test file (`before`), close it in `after`: it takes a few seconds (mostly loading
 * and starting the CA service), so share it among the tests of a file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addDays,
  basicConstraintsExt,
  buildCertificate,
  buildCsr,
  Certificate,
  generateKey,
  identityExtensions,
  parseName,
  randomSerial,
  type HealthIdentity,
  type KeyAlgorithm,
  type PrivateKey,
} from '@health-pki/pki';
import { startPlatformServer, startServer, SYSTEM_PRINCIPAL, type RunningPlatform, type RunningServer } from '@health-pki/server';

/** A certificate the demo CA issued, with its private key. */
export interface Holder {
  ca: string;
  serial: string;
  certificate: Certificate;
  /** The issuing CA certificate and the root, as the CA answered them. */
  chain: Certificate[];
  key: PrivateKey;
  alg: KeyAlgorithm;
}

/** What a test asks the CA to issue. */
export interface IssueRequest {
  /** Default p256 on demo-p256, sm2 on demo-sm2. */
  alg?: KeyAlgorithm;
  /** Default staff-sign. */
  profile?: string;
  /** Default C=CN,O=示例医院,OU=信息科,CN=<name>. */
  subject?: string;
  /** Default a person with the README's resident ID number. */
  identity?: HealthIdentity;
  name?: string;
}

/** The running deployment and what tests do with it. */
export interface Deployment {
  ca: RunningServer;
  platform: RunningPlatform;
  /** The platform's base URL, e.g. http://127.0.0.1:40123. */
  platformUrl: string;
  /** The certificate that signs the trust list (what a relying party pins). */
  platformCertificate: Certificate;
  /** The CA service's bootstrap administrator token. */
  adminToken: string;
  /** The platform's national-office token. */
  nationalToken: string;
  /** A scratch directory removed on close. */
  tmpDir: string;
  /** Enrolls a certificate at `ca` (self-approved by the bootstrap administrator). */
  issue(ca: string, req?: IssueRequest): Promise<Holder>;
  /** Renews a certificate (same key, same subject, new serial and validity). */
  renew(holder: Holder): Promise<Holder>;
  /** Revokes a certificate at its CA. */
  revoke(holder: Holder, reason?: string): Promise<void>;
  /** Creates another CA hierarchy in the same service that is NOT admitted to the platform. */
  createUnadmittedCa(name: string, algorithm: KeyAlgorithm): Promise<void>;
  /** Admits a CA of the service through the platform (apply → province review → conformance → approve). */
  admit(name: string): Promise<void>;
  /** National office: suspend / resume a CA (it leaves / re-enters the trust list at once). */
  setPlatformStatus(name: string, action: 'suspend' | 'resume' | 'terminate'): Promise<void>;
  /** GET against the CA service (JSON). */
  caApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

/** The README's sample resident ID number (valid GB 11643 check digit). */
export const RESIDENT_ID = '11010519491231002X';

/** The demo CAs of a fresh deployment. */
export const DEMO_CAS = ['demo-sm2', 'demo-p256'] as const;

let counter = 0;

/** Starts the CA service and the platform, and admits both demo CAs. */
export async function startDeployment(opts: { admit?: readonly string[] } = {}): Promise<Deployment> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'hpki-sdk-test-'));
  const ca = await startServer({ dataDir: join(tmpDir, 'ca'), port: 0, logger: false, pkiThreads: 0, kmc: undefined });
  let platform: RunningPlatform | undefined;
  try {
    platform = await startPlatformServer({ dataDir: join(tmpDir, 'platform'), port: 0, logger: false });
    const adminToken = readFileSync(ca.tokenFile, 'utf8').trim();
    const nationalToken = readFileSync(platform.services.adminTokenFile, 'utf8').trim();
    const platformUrl = platform.url;
    const call = async (url: string, method: string, token: string | undefined, body?: unknown) => {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      const text = await r.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: r.status, json };
    };
    const ok = async (url: string, method: string, token: string | undefined, body?: unknown) => {
      const r = await call(url, method, token, body);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };
    const provincial = (await ok(`${platformUrl}/platform/tokens`, 'POST', nationalToken, { id: 'prov-GD', role: 'provincial', province: 'GD' })).token as string;

    const caApi = (method: string, path: string, body?: unknown) => call(ca.url + path, method, adminToken, body);
    const admit = async (name: string) => {
      const authority = (await ca.services.ca.listAuthorities()).find((a) => a.name === name);
      if (!authority) throw new Error(`no CA ${name} in the service`);
      const access = generateKey('p256');
      const now = new Date();
      const accessCert = buildCertificate(
        { serialNumber: randomSerial(), subject: parseName(`C=CN,O=${name},CN=${name} platform access`), notBefore: now, notAfter: addDays(now, 365), publicKey: access.publicKey, extensions: [basicConstraintsExt(false)] },
        access,
      );
      await ok(`${platformUrl}/platform/cas`, 'POST', nationalToken, {
        name,
        displayName: authority.displayName,
        homeProvince: 'GD',
        provinces: ['GD'],
        licence: { number: `ECP-${name}`, notBefore: addDays(now, -30).toISOString(), notAfter: addDays(now, 700).toISOString() },
        company: { name: `${name} Co., Ltd.`, creditCode: '91440000000000000X' },
        servicePlan: 'Certificates for the health sector (SDK tests).',
        materials: [{ title: 'MIIT licence scan', sha256: 'a'.repeat(64) }],
        certificates: authority.issuers.map((i) => i.certificate.toPem()),
        platformAccessCertificate: accessCert.toPem(),
      });
      await ok(`${platformUrl}/platform/cas/${name}/province-review`, 'POST', provincial, { approve: true });
      await ok(`${platformUrl}/platform/cas/${name}/conformance`, 'POST', nationalToken, { passed: true });
      await ok(`${platformUrl}/platform/cas/${name}/approve`, 'POST', nationalToken, { note: 'SDK test deployment' });
    };
    for (const name of opts.admit ?? DEMO_CAS) await admit(name);

    const holderFrom = (caName: string, json: any, key: PrivateKey, alg: KeyAlgorithm): Holder => ({
      ca: caName,
      serial: json.certificate.serial,
      certificate: Certificate.parse(json.certificate.pem),
      chain: splitPem(json.chainPem ?? ''),
      key,
      alg,
    });
    const running = platform;
    return {
      ca,
      platform,
      platformUrl,
      platformCertificate: await platform.services.trustList.certificate(),
      adminToken,
      nationalToken,
      tmpDir,
      async issue(caName, req = {}) {
        const alg = req.alg ?? (caName.includes('sm2') ? 'sm2' : 'p256');
        const name = req.name ?? `测试${++counter}`;
        const key = generateKey(alg);
        const identity = req.identity ?? { residentId: RESIDENT_ID };
        const csr = buildCsr(parseName(req.subject ?? `C=CN,O=示例医院,OU=信息科,CN=${name}`), key, identityExtensions(identity));
        const json = await ok(`${ca.url}/api/v1/cas/${caName}/enroll`, 'POST', adminToken, { profile: req.profile ?? 'staff-sign', csr: csr.toPem(), applicant: { name } });
        return holderFrom(caName, json, key, alg);
      },
      async renew(holder) {
        const json = await ok(`${ca.url}/api/v1/cas/${holder.ca}/enroll`, 'POST', adminToken, { kind: 'renewal', previousSerial: holder.serial, applicant: { name: 'renewal' } });
        return holderFrom(holder.ca, json, holder.key, holder.alg);
      },
      async revoke(holder, reason = 'keyCompromise') {
        await ok(`${ca.url}/api/v1/cas/${holder.ca}/certificates/${holder.serial}/revoke`, 'POST', adminToken, { reason });
      },
      async createUnadmittedCa(name, algorithm) {
        await ca.services.ca.createAuthority(SYSTEM_PRINCIPAL, { name, algorithm, organization: `${name} organisation`, displayName: name });
      },
      admit,
      async setPlatformStatus(name, action) {
        await ok(`${platformUrl}/platform/cas/${name}/${action}`, 'POST', nationalToken, { note: 'SDK test' });
      },
      caApi,
      async close() {
        await running.close().catch(() => undefined);
        await ca.close().catch(() => undefined);
        rmSync(tmpDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await platform?.close().catch(() => undefined);
    await ca.close().catch(() => undefined);
    rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  }
}

/** The certificates of a PEM bundle. */
export function splitPem(pem: string): Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => Certificate.parse(p));
}

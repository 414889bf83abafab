/**
 * The platform's trust list on SQLite and PostgreSQL: published from a directory of real CA
 * certificates, served over HTTP, versioned with its history; a suspended or terminated CA leaves
 * it at once. A relying party (verify.ts) refuses a tampered list, an older version and a wrong
 * signer, each with a clear reason. Outside checks: BouncyCastle verifies the SM2 list,
 * `openssl cms -verify` a P-256 one (and refuses a tampered copy).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  Certificate,
  addDays,
  basicConstraintsExt,
  buildCertificate,
  generateKey,
  keyUsageExt,
  parseName,
  randomSerial,
  selfSignedSigningCertificate,
  signCmsDer,
  SignedDataDoc,
  type KeyAlgorithm,
} from '@health-pki/pki';
import { openDatabase, type Database } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { auditMigrations } from '../src/audit/log.js';
import { securityMigrations } from '../src/security/master-key.js';
import { openSealing } from '../src/security/sealing.js';
import { MasterKeyCustody } from '../src/ca/master-key-custody.js';
import { handleError } from '../src/http/errors.js';
import { all } from '../src/store/sql.js';
import type { CaDirectory, CaStatus, ConnectedCa } from '../src/platform/registry/types.js';
import { TrustListPublisher, registerTrustListRoutes, trustListCertificates, trustListMigrations, verifyTrustList } from '../src/platform/trust-list/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { outside } from './helpers/outside.js';

type Der = Uint8Array | string;
/** The two outside checks used here, which the shared helper's type does not list. */
interface CmsCheckers {
  bcCheck(jobs: Array<{ kind: 'cms'; cms: Der }>): Promise<Array<{ ok: boolean; output: string }>>;
  opensslCmsVerify(cms: Der, o?: { trusted?: Der[] }): Promise<{ ok: boolean; output: string; content?: Buffer }>;
}
const checkers = async () => (await outside()) as unknown as CmsCheckers;

/** A CA's root and issuing certificates, made with the pki library. */
function caCertificates(alg: KeyAlgorithm, cn: string): Certificate[] {
  const now = new Date();
  const rootKey = generateKey(alg);
  const caExts = [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign'])];
  const root = buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=${cn},CN=${cn} Root`), notBefore: now, notAfter: addDays(now, 3650), publicKey: rootKey.publicKey, extensions: caExts }, rootKey);
  const issuingKey = generateKey(alg);
  const issuing = buildCertificate(
    { serialNumber: randomSerial(), subject: parseName(`C=CN,O=${cn},CN=${cn} Issuing`), issuer: root.subjectDer, notBefore: now, notAfter: addDays(now, 1825), publicKey: issuingKey.publicKey, extensions: caExts },
    rootKey,
  );
  return [root, issuing];
}

/** An in-memory registry over real certificates: test data, not a mock of the registry's logic. */
class MemoryDirectory implements CaDirectory {
  readonly cas = new Map<string, ConnectedCa>();
  add(name: string, alg: KeyAlgorithm, status: CaStatus, provinces: string[]): ConnectedCa {
    const ca: ConnectedCa = { name, displayName: `${name} 数字证书认证中心`, status, provinces, certificates: caCertificates(alg, name), licenceNumber: `ECP-${name}`, licenceNotAfter: addDays(new Date(), 1000).toISOString() };
    this.cas.set(name, ca);
    return ca;
  }
  setStatus(name: string, status: CaStatus): void {
    this.cas.get(name)!.status = status;
  }
  async get(name: string): Promise<ConnectedCa | undefined> {
    return this.cas.get(name);
  }
  async list(): Promise<ConnectedCa[]> {
    return [...this.cas.values()];
  }
}

/** A platform store with just the trust list module, and a minimal app with its routes. */
async function openPlatform(backend: TestBackend, directory: CaDirectory, identityAlgorithm: KeyAlgorithm) {
  const database = await openDatabase({ url: backend.dbUrl, dataDir: backend.dataDir });
  await migrate(database, [auditMigrations, securityMigrations, trustListMigrations]);
  const custody = new MasterKeyCustody((await openSealing(database, backend.dataDir)).envelope);
  const trustList = new TrustListPublisher({ database, directory, custody, identityAlgorithm });
  const app = Fastify({ logger: false });
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  registerTrustListRoutes(app, { trustList });
  return { database, trustList, app, custody };
}

/** The DER with one byte of the signed JSON changed (inside the first CA's display name). */
function tamper(der: Buffer): Buffer {
  const out = Buffer.from(der);
  const at = out.indexOf(Buffer.from('"displayName":"'));
  assert.ok(at > 0);
  out[at + 15] = out[at + 15]! ^ 0x01;
  return out;
}

for (const backendName of BACKENDS) {
  describe(`platform trust list on ${backendName}`, () => {
    let backend: TestBackend;
    let database: Database;
    let trustList: TrustListPublisher;
    let app: FastifyInstance;
    let platformCert: Certificate;
    const directory = new MemoryDirectory();
    directory.add('sm2-ca', 'sm2', 'connected', ['北京', '天津']);
    directory.add('p256-ca', 'p256', 'connected', ['广东']);
    directory.add('new-ca', 'sm2', 'applied', ['上海']);
    const get = async (url: string) => app.inject({ method: 'GET', url });

    before(async () => {
      backend = await createBackend(backendName);
      ({ database, trustList, app } = await openPlatform(backend, directory, 'sm2'));
      const r = await get('/platform/trust-list/certificate');
      assert.equal(r.statusCode, 200);
      platformCert = Certificate.parse(r.rawPayload);
    });
    after(async () => {
      await app?.close();
      await database?.close();
      await backend?.cleanup();
    });

    test('the first list names the connected CAs with their PEM certificates, and BouncyCastle verifies its SM2 signature', async () => {
      const r = await get('/platform/trust-list');
      assert.equal(r.statusCode, 200, r.body);
      assert.match(String(r.headers['content-type']), /^application\/pkcs7-mime/);
      assert.equal(r.headers['x-trust-list-version'], '1');
      const verdict = verifyTrustList(r.rawPayload, platformCert);
      assert.equal(verdict.valid, true, verdict.reason);
      const doc = verdict.document!;
      assert.equal(doc.version, 1);
      assert.deepEqual(doc.cas.map((c) => [c.name, c.status, c.provinces]), [['p256-ca', 'connected', ['广东']], ['sm2-ca', 'connected', ['北京', '天津']]]);
      const anchors = trustListCertificates(doc);
      assert.ok(anchors.some((a) => a.ca === 'sm2-ca' && a.certificate.der.equals(directory.cas.get('sm2-ca')!.certificates[1]!.der)));
      assert.equal(anchors.length, 4);
      // Asking again publishes nothing new.
      assert.equal((await get('/platform/trust-list')).headers['x-trust-list-version'], '1');

      const [bc, bcTampered] = await (await checkers()).bcCheck([{ kind: 'cms', cms: r.rawPayload }, { kind: 'cms', cms: tamper(r.rawPayload) }]);
      assert.ok(bc!.ok, bc!.output);
      assert.ok(!bcTampered!.ok, 'BouncyCastle refuses the tampered list');
    });

    test('a suspended CA leaves the list at once; the history keeps every version', async () => {
      directory.setStatus('p256-ca', 'suspended');
      const v2 = await trustList.republish('ca p256-ca suspended');
      assert.equal(v2.version, 2);
      const r = await get('/platform/trust-list');
      assert.equal(r.headers['x-trust-list-version'], '2');
      const doc = verifyTrustList(r.rawPayload, platformCert, { minVersion: 2 }).document!;
      assert.deepEqual(doc.cas.map((c) => c.name), ['sm2-ca']);
      // A relying party that reads the new list no longer trusts that CA's certificates.
      const p256Issuing = directory.cas.get('p256-ca')!.certificates[1]!;
      assert.ok(!trustListCertificates(doc).some((a) => a.certificate.der.equals(p256Issuing.der)));

      // Terminated without a republish call: the next read notices and publishes, once for concurrent readers.
      directory.setStatus('sm2-ca', 'terminated');
      const [v3, again] = await Promise.all([get('/platform/trust-list'), get('/platform/trust-list')]);
      assert.equal(v3.headers['x-trust-list-version'], '3');
      assert.equal(again!.headers['x-trust-list-version'], '3');
      assert.deepEqual(verifyTrustList(v3.rawPayload, platformCert).document!.cas, []);

      const history = await get('/platform/trust-list/history');
      assert.equal(history.statusCode, 200);
      const versions = (history.json() as { versions: Array<{ version: number; reason: string; caCount: number }> }).versions;
      assert.deepEqual(versions.map((v) => [v.version, v.caCount]), [[3, 0], [2, 1], [1, 2]]);
      assert.equal(versions[1]!.reason, 'ca p256-ca suspended');

      const old = await get('/platform/trust-list/1');
      assert.equal(old.statusCode, 200);
      assert.match(String(old.headers['cache-control']), /immutable/);
      assert.deepEqual(verifyTrustList(old.rawPayload, platformCert).document!.cas.map((c) => c.name), ['p256-ca', 'sm2-ca']);

      const audited = await all<{ target: string }>(database.db, sql`select target from audit_log where action = ${'platform.trust-list.publish'} order by seq`);
      assert.deepEqual(audited.map((a) => a.target), ['platform:trust-list:1', 'platform:trust-list:2', 'platform:trust-list:3']);

      directory.setStatus('p256-ca', 'connected');
      directory.setStatus('sm2-ca', 'connected');
    });

    test('a relying party refuses an older version, a tampered list, a wrong signer and garbage, saying why', async () => {
      const old = (await trustList.version(1))!;
      const older = verifyTrustList(old.der, platformCert, { minVersion: 3 });
      assert.equal(older.valid, false);
      assert.match(older.reason!, /version 1, older than version 3/);

      const tampered = verifyTrustList(tamper(old.der), platformCert);
      assert.equal(tampered.valid, false);
      assert.match(tampered.reason!, /signature is invalid: messageDigest does not match/);

      // Same content, signed by another key with its own certificate embedded.
      const otherKey = generateKey('sm2');
      const other = selfSignedSigningCertificate(otherKey, parseName('C=CN,O=health-pki,CN=health-pki Platform Trust List Signer'), { notBefore: new Date(), days: 30 });
      const forged = signCmsDer({ content: SignedDataDoc.parse(old.der).content!, signer: otherKey, cert: other });
      const wrong = verifyTrustList(forged, platformCert);
      assert.equal(wrong.valid, false);
      assert.match(wrong.reason!, /not signed by the platform certificate/);
      // The same forgery without the embedded certificate is refused alike.
      assert.match(verifyTrustList(signCmsDer({ content: SignedDataDoc.parse(old.der).content!, signer: otherKey, cert: other, includeCertificates: false }), platformCert).reason!, /not signed by the platform certificate/);

      const garbage = verifyTrustList(Buffer.from('not a trust list'), platformCert);
      assert.equal(garbage.valid, false);
      assert.match(garbage.reason!, /not a CMS SignedData/);
      // Signed, but not JSON.
      const notJson = verifyTrustList(signCmsDer({ content: Buffer.from([0xff, 0x00]), signer: otherKey, cert: other }), other);
      assert.equal(notJson.reason, 'the signed content is not JSON');

      assert.match(verifyTrustList(old.der, platformCert, { at: addDays(new Date(), 20000) }).reason!, /not valid at this time/);
    });

    test('bad version numbers are 400, unknown versions 404', async () => {
      for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
        const r = await get(`/platform/trust-list/${bad}`);
        assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
        assert.equal(r.json().error, 'platform.trust-list.version');
      }
      const r = await get('/platform/trust-list/999');
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error, 'platform.trust-list.unknown');
    });

    test('publishers racing on one store take distinct versions', async () => {
      const second = new TrustListPublisher({ database, directory, custody: (trustList as unknown as { opts: { custody: MasterKeyCustody } }).opts.custody });
      const before = (await trustList.history())[0]!.version;
      const made = await Promise.all([1, 2, 3, 4].map((i) => (i % 2 ? trustList : second).republish(`race ${i}`)));
      assert.deepEqual(made.map((m) => m.version).sort((a, b) => a - b), [before + 1, before + 2, before + 3, before + 4]);
      assert.ok((await second.certificate()).der.equals(platformCert.der), 'both use the one stored identity');
    });
  });
}

describe('a P-256 platform', () => {
  test('openssl cms -verify accepts its trust list, extracts the JSON, and refuses a tampered copy', async () => {
    const backend = await createBackend('sqlite');
    const directory = new MemoryDirectory();
    directory.add('p256-ca', 'p256', 'connected', ['广东']);
    const { database, trustList, app } = await openPlatform(backend, directory, 'p256');
    try {
      const der = (await app.inject({ method: 'GET', url: '/platform/trust-list' })).rawPayload;
      const cert = await trustList.certificate();
      assert.equal(verifyTrustList(der, cert).valid, true);
      const o = await checkers();
      const ok = await o.opensslCmsVerify(der, { trusted: [cert.der] });
      assert.ok(ok.ok, ok.output);
      assert.equal(JSON.parse(ok.content!.toString('utf8')).cas[0].name, 'p256-ca');
      const bad = await o.opensslCmsVerify(tamper(der));
      assert.ok(!bad.ok, 'OpenSSL refuses the tampered list');
    } finally {
      await app.close();
      await database.close();
      await backend.cleanup();
    }
  });
});

/**
 * The CRL publisher's parts that the end-to-end test does not stress, on SQLite and PostgreSQL:
 * entries streamed into DER equal the list-built ones byte for byte; the keyed paging reads every
 * revoked certificate once; two publishers sharing one database never reuse a CRL number and see
 * each other's revocations; and partitions: a certificate issued after a partition opens names
 * it in its CRL distribution point and is listed in that partition's CRL only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Certificate, Crl, CrlEntryWriter, PathValidator, buildCrl, generateKey, issueFromProfile, parseName, serialFromHex, type CrlEntryInput } from '@health-pki/pki';
import { bootstrap, openServices, type Services } from '../src/index.js';
import { forEachRevoked } from '../src/publish/crl/revocations.js';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { makeCsr } from './helpers/pki.js';

const BASE = 'http://pki.test:8080';
/** The bootstrap administrator of a demo deployment, who may enroll (enter and approve) in one step. */
const ADMIN = { ...SYSTEM_PRINCIPAL, id: 'admin', bootstrap: true };

test('entries streamed into a CrlEntryWriter encode exactly as a list does', () => {
  const key = generateKey('p256');
  const ca = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=t,CN=t'), publicKey: key.publicKey, issuerKey: key });
  const entries: CrlEntryInput[] = Array.from({ length: 300 }, (_, i) => ({
    serial: i % 2 ? Buffer.concat([Buffer.from([0]), randomBytes(16).fill(0x80, 0, 1)]) : randomBytes(9).fill(0x11, 0, 1),
    revocationDate: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    reason: (['keyCompromise', 'certificateHold', 'unspecified', undefined] as const)[i % 4],
    invalidityDate: i % 3 ? undefined : new Date(Date.UTC(2025, 11, 31)),
  }));
  const w = new CrlEntryWriter();
  for (const e of entries) w.add(e);
  const o = { issuer: ca, signer: key, thisUpdate: new Date(Date.UTC(2026, 0, 2)), nextUpdate: new Date(Date.UTC(2026, 0, 3)), crlNumber: 7n };
  const a = buildCrl({ ...o, entries });
  const b = buildCrl({ ...o, entries: w });
  assert.equal(w.count, 300);
  assert.ok(a.tbsDer.equals(b.tbsDer));
  assert.equal(b.revokedCount, 300);
  assert.equal(buildCrl({ ...o, entries: new CrlEntryWriter() }).revokedCount, 0);
});

test('entries added as stored (hex serial, ISO times) encode exactly as entries made of bytes and Dates', () => {
  const cases: Array<[string, string, string | undefined, string | undefined]> = [
    ['7fabcdef0123456789', '2026-01-01T00:00:01.000Z', 'keyCompromise', undefined],
    ['80', '2026-03-04T05:06:07Z', 'certificateHold', '2026-03-01T00:00:00.000Z'],
    ['abc', '2049-12-31T23:59:59.999Z', 'unspecified', undefined], // odd digits; fraction dropped
    ['000ff1', '2050-01-01T00:00:00.000Z', 'removeFromCRL', '2049-01-01T00:00:00.000Z'], // GeneralizedTime from 2050
    ['1949', '1949-06-01T12:00:00.000Z', undefined, '1949-05-01T00:00:00.000Z'],
    ['f'.repeat(250), '2026-01-01T00:00:00.000Z', 'superseded', '2025-01-01T00:00:00.000Z'], // 126 bytes: long-form entry length
  ];
  const stored = new CrlEntryWriter();
  const made = new CrlEntryWriter();
  for (const [hex, at, reason, inv] of cases) {
    stored.addStored(hex, at, reason as never, inv);
    made.add({ serial: serialFromHex(hex.replace(/^0+(?=.)/, '')), revocationDate: new Date(at), reason: reason as never, invalidityDate: inv ? new Date(inv) : undefined });
  }
  assert.ok(stored.encoded()!.equals(made.encoded()!));
  const key = generateKey('p256');
  const ca = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=t,CN=t'), publicKey: key.publicKey, issuerKey: key });
  const crl = buildCrl({ issuer: ca, signer: key, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 1n, entries: stored });
  assert.equal(crl.revoked[1]!.reason, 'certificateHold');
  assert.equal(crl.revoked[3]!.revocationDate.toISOString(), '2050-01-01T00:00:00.000Z');
  assert.equal(crl.revoked[5]!.serialHex, 'f'.repeat(250));
  for (const [hex, at] of [['xyz', '2026-01-01T00:00:00Z'], ['ab', '2026-13-01T00:00:00Z'], ['ab', '2026-01-01 00:00:00'], ['', '2026-01-01T00:00:00Z'], ['f'.repeat(252), '2026-01-01T00:00:00Z']]) {
    assert.throws(() => new CrlEntryWriter().addStored(hex!, at!), /hexadecimal|ISO-8601|serial number/);
  }
});

for (const backendName of BACKENDS) {
  describe(`CRL publisher internals on ${backendName}`, () => {
    let backend: TestBackend;
    let a: Services;
    let b: Services | undefined;

    before(async () => {
      backend = await createBackend(backendName);
      a = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkiThreads: 0, crl: { pollMs: 100 } });
      await bootstrap(a, backend.dataDir);
    });

    after(async () => {
      await b?.close();
      await a?.close();
      await backend?.cleanup();
    });

    test('keyed paging reads every revoked or held certificate of a CA once, within an issuance range', async () => {
      const [, issuing] = await a.ca.signingIssuers('demo-p256');
      const authorityId = issuing!.authorityId;
      const rows = Array.from({ length: 57 }, (_, i) => ({
        serial: `ee${i.toString(16).padStart(4, '0')}`,
        issued: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 5)).toISOString(), // ties on issued_at cross page boundaries
        status: i % 7 === 0 ? 'valid' : i % 3 === 0 ? 'hold' : 'revoked',
      }));
      for (const r of rows) {
        await sql`insert into ca_certificates (authority_id, serial, issuer_id, profile, subject, spki_sha256, not_before, not_after, status, revoked_at, reason, invalidity_date, der, issued_at, version)
                  values (${authorityId}, ${r.serial}, ${issuing!.issuerId}, ${'staff-sign'}, ${'CN=x'}, ${'00'}, ${r.issued}, ${r.issued}, ${r.status}, ${r.issued}, ${r.status === 'hold' ? 'certificateHold' : 'superseded'}, ${null}, ${Buffer.from([0])}, ${r.issued}, ${1})`.execute(a.database.db);
      }
      const want = rows.filter((r) => r.status !== 'valid').map((r) => r.serial).sort();
      const seen: string[] = [];
      const n = await forEachRevoked(a.database.db, issuing!.issuerId, {}, (serial) => seen.push(serial), 4);
      assert.equal(n, want.length);
      assert.deepEqual([...seen].sort(), want);
      const from = new Date(Date.UTC(2026, 0, 1, 0, 0, 2)).toISOString();
      const to = new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString();
      const ranged: string[] = [];
      await forEachRevoked(a.database.db, issuing!.issuerId, { from, to }, (serial) => ranged.push(serial), 3);
      assert.deepEqual(ranged.sort(), rows.filter((r) => r.status !== 'valid' && r.issued >= from && r.issued < to).map((r) => r.serial).sort());
      // The publisher's complete CRL lists them all, with the hold reason where held.
      const full = Crl.parse((await a.crls.refreshNow('demo-p256', 'issuing-1', 'full')).der);
      assert.equal(full.revokedCount, want.length);
      assert.equal(full.findRevoked(Buffer.from('00ee0003', 'hex'))?.reason, 'certificateHold');
      await sql`delete from ca_certificates where serial like 'ee%'`.execute(a.database.db);
    });

    test('two publishers on one database: no CRL number is used twice, and each serves the other\'s revocations', async () => {
      b = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkiThreads: 0, crl: { pollMs: 100 } });
      const before = (await a.crls.current('demo-sm2', 'issuing-1', 'full'))!.number;
      const built = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b!).crls.refreshNow('demo-sm2', 'issuing-1', i % 3 ? 'delta' : 'full')));
      assert.ok(built.every((c) => c.number > before));
      const numbers = (await sql<{ number: string | number }>`select number from crl_published p join ca_issuers i on i.id = p.issuer_id where i.label = 'issuing-1' and i.authority_id = (select id from ca_authorities where name = 'demo-sm2')`.execute(a.database.db)).rows.map((r) => BigInt(r.number));
      assert.equal(new Set(numbers.map(String)).size, numbers.length, 'CRL numbers are unique per CA');

      // Issue and revoke through publisher A's services; B's delta CRL lists it soon after.
      const csr = makeCsr('sm2');
      const issued = await a.ra.enroll(ADMIN, 'demo-sm2', { profile: 'staff-sign', csr: csr.pem, applicant: { name: '张三' } } as never);
      const serial = issued.issued.record.serial;
      await a.ra.revoke(SYSTEM_PRINCIPAL, 'demo-sm2', serial, { reason: 'affiliationChanged' });
      const cert = Certificate.parse(issued.issued.record.der);
      const start = performance.now();
      for (;;) {
        const d = Crl.parse((await b.crls.current('demo-sm2', 'issuing-1', 'delta'))!.der);
        if (d.findRevoked(cert.serialNumber)?.reason === 'affiliationChanged') break;
        assert.ok(performance.now() - start < 5_000, 'the other publisher did not list the revocation');
        await new Promise((r) => setTimeout(r, 25));
      }
      await b.close();
      b = undefined;
    });
  });
}

test('a failed CRL build is logged and retried; the publisher keeps going', async () => {
  const backend = await createBackend('sqlite');
  const logged: string[] = [];
  const services = await openServices({ dataDir: backend.dataDir, baseUrl: BASE, pkiThreads: 0, crl: { start: false, log: (m) => logged.push(m) } });
  try {
    await bootstrap(services, backend.dataDir);
    const publisher = services.crls as unknown as { tick(): Promise<void>; build: (...a: unknown[]) => Promise<void>; scopes: Map<string, { retryAt: number }> };
    const real = publisher.build.bind(publisher);
    publisher.build = async () => {
      throw new Error('disk full');
    };
    await publisher.tick();
    assert.ok(logged.some((m) => /building the CRL of demo-(p256|sm2)\/(root|issuing-1).*failed; retrying/.test(m)), logged.join('\n'));
    publisher.build = real;
    for (const s of publisher.scopes.values()) s.retryAt = 0; // skip the back-off
    await publisher.tick();
    const crl = await services.crls.current('demo-p256', 'issuing-1', 'delta');
    assert.ok(crl && crl.number > 0n);
  } finally {
    await services.close();
    await backend.cleanup();
  }
});

describe('partitioned CRLs', () => {
  let backend: TestBackend;
  let services: Services;

  before(async () => {
    backend = await createBackend('sqlite');
    services = await openServices({ dataDir: backend.dataDir, baseUrl: BASE, pkiThreads: 0, crl: { pollMs: 100, partitionSize: 3, partitionLeadSeconds: 1, partitionCheckSeconds: 0 } });
    await bootstrap(services, backend.dataDir);
  });

  after(async () => {
    await services?.close();
    await backend?.cleanup();
  });

  const issue = async () => {
    const r = await services.ra.enroll(ADMIN, 'demo-p256', { profile: 'staff-sign', csr: makeCsr('p256').pem, applicant: { name: '张三' } } as never);
    return Certificate.parse(r.issued.record.der);
  };

  test('a certificate issued after partition 1 opens names it, and only that partition\'s CRL lists it', async () => {
    const early = await issue();
    assert.deepEqual(early.crlUrls, [`${BASE}/ca/demo-p256/issuing-1.crl`]);
    await issue();
    // The CA's two certificates and these two: the first partition is full; partition 1 opens a second later.
    const start = performance.now();
    while (!(await services.crls.partitions('demo-p256', 'issuing-1')).includes(1)) {
      assert.ok(performance.now() - start < 5_000, 'partition 1 was not opened');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1_200));
    const late = await issue();
    assert.deepEqual(late.crlUrls, [`${BASE}/ca/demo-p256/issuing-1-p1.crl`]);
    await services.ra.revoke(SYSTEM_PRINCIPAL, 'demo-p256', late.serialHex, { reason: 'keyCompromise' });
    await services.ra.revoke(SYSTEM_PRINCIPAL, 'demo-p256', early.serialHex, { reason: 'superseded' });

    const p1 = Crl.parse((await services.crls.refreshNow('demo-p256', 'issuing-1', 'full', 1)).der);
    const p0 = Crl.parse((await services.crls.refreshNow('demo-p256', 'issuing-1', 'full', 0)).der);
    assert.deepEqual(p1.issuingDistributionPoint?.distributionPoint?.fullName?.map((g) => g.uniformResourceIdentifier), [`${BASE}/ca/demo-p256/issuing-1-p1.crl`]);
    assert.equal(p1.findRevoked(late.serialNumber)?.reason, 'keyCompromise');
    assert.equal(p1.findRevoked(early.serialNumber), undefined);
    assert.equal(p0.findRevoked(early.serialNumber)?.reason, 'superseded');
    assert.equal(p0.findRevoked(late.serialNumber), undefined);
    const d1 = Crl.parse((await services.crls.current('demo-p256', 'issuing-1', 'delta', 1))!.der);
    assert.equal(d1.baseCrlNumber, p1.crlNumber);

    const [root, issuing] = await services.ca.signingIssuers('demo-p256');
    const rootCrl = Crl.parse((await services.crls.current('demo-p256', 'root', 'full'))!.der);
    const v = new PathValidator({ anchors: [root!.cert], intermediates: [issuing!.cert], crls: [rootCrl, p0, p1] });
    const lateResult = v.validate(late);
    assert.equal(!lateResult.valid && lateResult.reason.code, 'revoked', JSON.stringify(lateResult));
    const earlyResult = v.validate(early);
    assert.equal(!earlyResult.valid && earlyResult.reason.code, 'revoked');
    // With only the plain CRL, the partitioned certificate's status is unknown, not good.
    const partial = new PathValidator({ anchors: [root!.cert], intermediates: [issuing!.cert], crls: [rootCrl, p0] }).validate(late);
    assert.equal(!partial.valid && partial.reason.code, 'revocationUnknown');
  });
});

/**
 * TrustStore against the real platform: the signed list is fetched and verified against the
 * pinned platform certificate; a list with a bad signature, an older version, another signer, or
 * garbage is refused with a clear reason while the current list stays; the newest list is
 * persisted and a restart keeps the version floor; a suspended CA leaves the list on refresh.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addDays, buildCertificate, generateKey, parseName, randomSerial, signCmsDer, encodeTrustList, type TrustListDocument } from '@health-pki/pki';
import { TrustStore, TrustListUnavailable } from '../src/index.js';
import { startDeployment, type Deployment } from './helpers/deployment.js';

describe('TrustStore', () => {
  let d: Deployment;
  const getDer = async (path: string) => Buffer.from(await (await fetch(d.platformUrl + path)).arrayBuffer());

  before(async () => {
    d = await startDeployment();
  });
  after(async () => {
    await d?.close();
  });

  test('fetches the signed list, verifies it against the pinned platform certificate, and names both demo CAs', async () => {
    const store = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
    assert.throws(() => store.document(), TrustListUnavailable);
    const u = await store.refresh();
    assert.equal(u.accepted, true, u.reason);
    assert.deepEqual(store.document().cas.map((c) => c.name).sort(), ['demo-p256', 'demo-sm2']);
    // Both hierarchies: root and issuing CA of each.
    assert.equal(store.certificates().length, 4);
    assert.equal(store.entry('demo-sm2')?.status, 'connected');
    assert.ok(store.der().length > 0);
    // A second refresh of the same version is fine and changes nothing.
    const again = await store.refresh();
    assert.equal(again.accepted, true);
    assert.equal(again.version, u.version);
  });

  test('refuses a bad signature, an older version, another signer and garbage, keeping the current list', async () => {
    const store = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
    const current = await getDer('/platform/trust-list');
    assert.equal(store.accept(current).accepted, true);
    const version = store.version!;
    assert.ok(version >= 2, `each admission published a version (got ${version})`);

    // One flipped bit inside the signed JSON: the signature no longer verifies.
    const tampered = Buffer.from(current);
    const at = tampered.indexOf(Buffer.from('demo-sm2'));
    tampered[at] ^= 0x01;
    const bad = store.accept(tampered);
    assert.equal(bad.accepted, false);
    assert.match(bad.reason!, /signature is invalid|signature cannot be checked/);

    // An older genuine list (version 1, before any CA was admitted): a rollback.
    const old = store.accept(await getDer('/platform/trust-list/1'));
    assert.equal(old.accepted, false);
    assert.match(old.reason!, new RegExp(`version 1, older than version ${version}`));

    // A list signed by someone else, with a higher version and an extra CA.
    const key = generateKey('p256');
    const now = new Date();
    const rogue = buildCertificate({ serialNumber: randomSerial(), subject: parseName('C=CN,CN=Not the platform'), notBefore: now, notAfter: addDays(now, 10), publicKey: key.publicKey }, key);
    const doc: TrustListDocument = { ...store.document(), version: version + 10 };
    const forged = store.accept(signCmsDer({ content: encodeTrustList(doc), signer: key, cert: rogue }));
    assert.equal(forged.accepted, false);
    assert.match(forged.reason!, /not signed by the platform certificate/);

    const garbage = store.accept(Buffer.from('not a trust list'));
    assert.equal(garbage.accepted, false);
    assert.match(garbage.reason!, /not a CMS SignedData/);

    assert.equal(store.version, version, 'the current list stays');
    assert.deepEqual(store.document().cas.map((c) => c.name).sort(), ['demo-p256', 'demo-sm2']);
  });

  test('pinning another platform certificate refuses the real list', async () => {
    const key = generateKey('sm2');
    const now = new Date();
    const other = buildCertificate({ serialNumber: randomSerial(), subject: parseName('C=CN,CN=Other platform'), notBefore: now, notAfter: addDays(now, 10), publicKey: key.publicKey }, key);
    const store = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: other });
    const u = await store.refresh();
    assert.equal(u.accepted, false);
    assert.match(u.reason!, /not signed by the platform certificate/);
    assert.equal(store.version, undefined);
  });

  test('persists the newest list; a restart loads it and keeps the version floor; a tampered file is not trusted', async () => {
    const file = join(d.tmpDir, 'trust-list.der');
    const store = await TrustStore.open({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate, file });
    assert.equal(store.version, undefined);
    assert.equal((await store.refresh()).accepted, true);
    assert.deepEqual(readFileSync(file), store.der());

    const restarted = await TrustStore.open({ platformCertificate: d.platformCertificate, file });
    assert.equal(restarted.version, store.version);
    assert.equal(restarted.accept(await getDer('/platform/trust-list/1')).accepted, false, 'the floor survives the restart');

    const bytes = readFileSync(file);
    bytes[bytes.indexOf(Buffer.from('demo-p256'))] ^= 0x01;
    writeFileSync(file, bytes);
    const distrusting = await TrustStore.open({ platformCertificate: d.platformCertificate, file });
    assert.equal(distrusting.version, undefined, 'a tampered persisted list is ignored');

    // A file that cannot be written: the list is still taken, with a warning.
    const unwritable = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate, file: join(d.tmpDir, 'no-such-dir', 'list.der') });
    const u = await unwritable.refresh();
    assert.equal(u.accepted, true);
    assert.match(u.warning!, /could not be written/);
  });

  test('a suspended CA leaves the list on refresh; the platform unreachable keeps the current list', async () => {
    const store = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate, refreshIntervalMs: 60_000 });
    const changes: number[] = [];
    store.onChange((doc) => changes.push(doc.version));
    assert.equal((await store.start()).accepted, true);
    const before = store.version!;
    await d.setPlatformStatus('demo-p256', 'suspend');
    try {
      const u = await store.refresh();
      assert.equal(u.accepted, true, u.reason);
      assert.ok(store.version! > before);
      assert.deepEqual(store.document().cas.map((c) => c.name), ['demo-sm2']);
      assert.equal(store.entry('demo-p256'), undefined);
      assert.deepEqual(changes, [before, store.version]);
    } finally {
      store.stop();
      await d.setPlatformStatus('demo-p256', 'resume');
    }
    const offline = new TrustStore({ platformUrl: 'http://127.0.0.1:1', platformCertificate: d.platformCertificate, timeoutMs: 2000 });
    offline.accept(await getDer('/platform/trust-list'));
    const down = await offline.refresh();
    assert.equal(down.accepted, false);
    assert.match(down.reason!, /cannot be reached/);
    assert.ok(offline.version !== undefined, 'the current list stays');
    const notFound = await new TrustStore({ platformUrl: `${d.platformUrl}/nowhere`, platformCertificate: d.platformCertificate }).refresh();
    assert.match(notFound.reason!, /HTTP 404/);
  });
});

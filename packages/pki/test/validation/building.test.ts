/**
 * Path building beyond PKITS's single paths: several candidate issuers, key rollover (old and new
 * CA keys under one name, with and without key identifiers), cross-certificates between two
 * roots, and the name constraint forms PKITS does not cover (IP addresses, URIs without a host).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as x from '@peculiar/asn1-x509';
import { EXT, PathValidator, extension, generateKey, subjectAltNameExt, validateCertificate } from '../../src/index.js';
import { TEST_TIME, issue } from './make-chain.js';

const subjects = (r: ReturnType<typeof validateCertificate>) => (r.valid ? r.path.map((c) => c.subjectText) : r.reason.message);

test('key rollover: the leaf signed by the new CA key validates whichever CA certificate comes first', () => {
  const root = issue({ subject: 'CN=Rollover Root' });
  const oldCa = issue({ subject: 'CN=Rollover CA', issuer: root });
  const newCa = issue({ subject: 'CN=Rollover CA', issuer: root });
  for (const noAki of [false, true]) {
    const leaf = issue({ subject: 'CN=Rollover Leaf', issuer: newCa, ca: false, noAki });
    for (const bag of [[oldCa.cert, newCa.cert], [newCa.cert, oldCa.cert]]) {
      const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: bag, time: TEST_TIME });
      assert.equal(r.valid, true, String(subjects(r)));
      if (r.valid) assert.equal(r.path[1]!.der.equals(newCa.cert.der), true);
    }
  }
});

test('root key rollover: a new-with-old link certificate connects a leaf under the new root to the old anchor', () => {
  const oldRoot = issue({ subject: 'CN=Health Root' });
  const newKey = generateKey('p256');
  const newRoot = issue({ subject: 'CN=Health Root', key: newKey });
  // Self-issued link: new root key certified by the old root key.
  const newWithOld = issue({ subject: 'CN=Health Root', issuer: oldRoot, key: newKey });
  const ca = issue({ subject: 'CN=Health Staff CA', issuer: newRoot });
  const leaf = issue({ subject: 'CN=Nurse', issuer: ca, ca: false });
  const r = validateCertificate(leaf.cert, { anchors: [oldRoot.cert], intermediates: [newRoot.cert, ca.cert, newWithOld.cert], time: TEST_TIME });
  assert.equal(r.valid, true, String(subjects(r)));
  if (r.valid) {
    assert.equal(r.path.length, 4);
    assert.equal(r.path[2]!.der.equals(newWithOld.cert.der), true);
  }
  // With the new root trusted directly the short path is found.
  const direct = validateCertificate(leaf.cert, { anchors: [newRoot.cert], intermediates: [newWithOld.cert, ca.cert], time: TEST_TIME });
  assert.equal(direct.valid, true);
  if (direct.valid) assert.equal(direct.path.length, 3);
});

test('cross-certificates: the same CA under two roots validates against either root', () => {
  const rootA = issue({ subject: 'CN=Province Root' });
  const rootB = issue({ subject: 'CN=National Root' });
  const caKey = generateKey('p256');
  const underA = issue({ subject: 'CN=Hospital CA', issuer: rootA, key: caKey });
  const underB = issue({ subject: 'CN=Hospital CA', issuer: rootB, key: caKey });
  const leaf = issue({ subject: 'CN=Doctor', issuer: underA, ca: false });
  for (const anchor of [rootA, rootB]) {
    const r = validateCertificate(leaf.cert, { anchors: [anchor.cert], intermediates: [underA.cert, underB.cert], time: TEST_TIME });
    assert.equal(r.valid, true, String(subjects(r)));
    if (r.valid) assert.equal(r.path[2]!.subjectText, anchor.cert.subjectText);
  }
  // A national root cross-certified by the provincial root (and vice versa) forms a loop that is walked once.
  const bByA = issue({ subject: 'CN=National Root', issuer: rootA, key: rootB.key });
  const aByB = issue({ subject: 'CN=Province Root', issuer: rootB, key: rootA.key });
  const onlyB = validateCertificate(leaf.cert, { anchors: [rootB.cert], intermediates: [underA.cert, bByA.cert, aByB.cert], time: TEST_TIME });
  assert.equal(onlyB.valid, true, String(subjects(onlyB)));
  if (onlyB.valid) assert.deepEqual(onlyB.path.map((c) => c.subjectText), ['CN=Doctor', 'CN=Hospital CA', 'CN=Province Root', 'CN=National Root']);
});

test('several candidate issuers: a failing one is passed over and its failure reported only if nothing works', () => {
  const root = issue({ subject: 'CN=Root' });
  const impostor = issue({ subject: 'CN=Shared CA', issuer: root }); // same name, another key
  const good = issue({ subject: 'CN=Shared CA', issuer: root });
  const leaf = issue({ subject: 'CN=Leaf', issuer: good, ca: false, noAki: true });
  for (const bag of [[impostor.cert, good.cert], [good.cert, impostor.cert]]) {
    const r = new PathValidator({ anchors: [root.cert], intermediates: bag }).validate(leaf.cert, { time: TEST_TIME });
    assert.equal(r.valid, true, String(subjects(r)));
    if (r.valid) assert.equal(r.path[1]!.der.equals(good.cert.der), true);
  }
  const alone = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [impostor.cert], time: TEST_TIME });
  assert.equal(alone.valid, false);
  if (!alone.valid) {
    assert.equal(alone.reason.code, 'badSignature');
    assert.equal(alone.reason.certIndex, 0);
    assert.equal(alone.path?.length, 3);
  }
});

test('an issuer that is not a CA is reported as notCa, naming it', () => {
  const root = issue({ subject: 'CN=Root' });
  const notCa = issue({ subject: 'CN=End Entity Pretending', issuer: root, ca: false });
  const leaf = issue({ subject: 'CN=Leaf', issuer: notCa, ca: false });
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [notCa.cert], time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'notCa');
    assert.equal(r.reason.certIndex, 1);
    assert.equal(r.reason.subject, 'CN=End Entity Pretending');
  }
});

function nameConstraintsExt(permitted: x.GeneralName[], excluded: x.GeneralName[] = []): x.Extension {
  const subtrees = (names: x.GeneralName[]) => (names.length ? new x.GeneralSubtrees(names.map((base) => new x.GeneralSubtree({ base }))) : undefined);
  return extension(EXT.nameConstraints, true, new x.NameConstraints({ permittedSubtrees: subtrees(permitted), excludedSubtrees: subtrees(excluded) }));
}

test('IP address name constraints: inside the permitted range passes, outside or excluded fails with the name', () => {
  const root = issue({ subject: 'CN=Root' });
  const ca = issue({
    subject: 'CN=Hospital Network CA',
    issuer: root,
    extensions: [nameConstraintsExt([new x.GeneralName({ iPAddress: '10.0.0.0/8' }), new x.GeneralName({ iPAddress: 'fd00::/8' })], [new x.GeneralName({ iPAddress: '10.66.0.0/16' })])],
  });
  const leafWith = (ip: string) => issue({ subject: 'CN=Device', issuer: ca, ca: false, extensions: [subjectAltNameExt([{ type: 'ip', value: ip }])] });
  const run = (ip: string) => validateCertificate(leafWith(ip).cert, { anchors: [root.cert], intermediates: [ca.cert], time: TEST_TIME });
  assert.equal(run('10.1.2.3').valid, true);
  assert.equal(run('fd12::1').valid, true);
  const outside = run('192.168.1.1');
  assert.equal(outside.valid, false);
  if (!outside.valid) {
    assert.equal(outside.reason.code, 'nameConstraints');
    assert.deepEqual({ ...outside.reason.details }, { nameType: 'ip', name: '192.168.1.1', constraint: '10.0.0.0/255.0.0.0', constraintType: 'permitted' });
  }
  const excluded = run('10.66.1.1');
  assert.equal(excluded.valid, false);
  if (!excluded.valid) assert.equal(excluded.reason.details?.constraintType, 'excluded');
});

test('URI name constraints: a URI without a host cannot satisfy a permitted host', () => {
  const root = issue({ subject: 'CN=Root' });
  const ca = issue({ subject: 'CN=Web CA', issuer: root, extensions: [nameConstraintsExt([new x.GeneralName({ uniformResourceIdentifier: '.health.example.cn' })])] });
  const leafWith = (uri: string) => issue({ subject: 'CN=Service', issuer: ca, ca: false, extensions: [subjectAltNameExt([{ type: 'uri', value: uri }])] });
  const run = (uri: string) => validateCertificate(leafWith(uri).cert, { anchors: [root.cert], intermediates: [ca.cert], time: TEST_TIME });
  assert.equal(run('https://records.health.example.cn:8443/api').valid, true);
  assert.equal(run('https://health.example.cn/').valid, false, 'a leading-dot constraint admits subdomains only');
  const r = run('urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66');
  assert.equal(r.valid, false);
  if (!r.valid) assert.equal(r.reason.code, 'nameConstraints');
});

test('the validator never throws for a certificate it cannot decode; it explains', () => {
  const root = issue({ subject: 'CN=Root' });
  const validator = new PathValidator({ anchors: [root.cert] });
  const stranger = issue({ subject: 'CN=Stranger', ca: false });
  const r = validator.validate(stranger.cert, { time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'noPath');
    assert.match(r.reason.message, /CN=Stranger/);
    assert.doesNotThrow(() => JSON.stringify(r.reason));
  }
});

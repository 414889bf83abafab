/**
 * Bad and hostile input: garbage and truncated encodings, undecodable extensions, loops in the
 * untrusted bag, a thousand irrelevant or look-alike certificates, very deep chains, and a chain
 * of policy mappings that would blow up RFC 5280's policy tree. Each ends in a clear error or a
 * reasoned result; what is asserted is the reason, never the time taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as x from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import {
  Certificate,
  Crl,
  ParseError,
  PathValidator,
  certificatePoliciesExt,
  extension,
  generateKey,
  validateCertificate,
  EXT,
} from '../../src/index.js';
import { TEST_TIME, deepChain, issue } from './make-chain.js';

test('garbage and truncated DER are ParseErrors before validation starts', () => {
  const { leaf } = deepChain(1);
  assert.throws(() => Certificate.parse(Buffer.from('not a certificate at all')), ParseError);
  assert.throws(() => Certificate.parse(Buffer.from([0x30, 0x82, 0xff, 0xff, 0x01])), ParseError);
  for (const cut of [1, 10, 100, leaf.cert.der.length - 1]) assert.throws(() => Certificate.parse(leaf.cert.der.subarray(0, cut)), ParseError);
  assert.throws(() => Crl.parse(Buffer.from('garbage')), ParseError);
});

test('a certificate with an undecodable extension is rejected as malformed, with the reason', () => {
  const root = issue({ subject: 'CN=Root' });
  // nameConstraints whose value is an empty SEQUENCE, which RFC 5280 §4.2.1.10 forbids.
  const bad = new x.Extension({ extnID: EXT.nameConstraints, critical: true, extnValue: new OctetString(new Uint8Array([0x30, 0x00])) });
  const ca = issue({ subject: 'CN=Broken CA', issuer: root, extensions: [bad] });
  const leaf = issue({ subject: 'CN=Leaf', issuer: ca, ca: false });
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [ca.cert], time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'malformedCertificate');
    assert.equal(r.reason.certIndex, 1);
    assert.match(r.reason.message, /nameConstraints/);
  }
});

test('an unknown critical extension is named in the rejection', () => {
  const root = issue({ subject: 'CN=Root' });
  const odd = extension('1.2.3.4.5.6', true, new x.BasicConstraints({ cA: false }));
  const leaf = issue({ subject: 'CN=Leaf', issuer: root, ca: false, extensions: [odd] });
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'unknownCriticalExtension');
    assert.deepEqual(r.reason.details?.extensions, ['1.2.3.4.5.6']);
  }
});

test('a loop in the untrusted bag (A signs B, B signs A) ends in noPath', () => {
  const root = issue({ subject: 'CN=Real Root' });
  const aKey = generateKey('p256');
  const bKey = generateKey('p256');
  const aSelf = { cert: issue({ subject: 'CN=Loop A', key: aKey }).cert, key: aKey };
  const bSelf = { cert: issue({ subject: 'CN=Loop B', key: bKey }).cert, key: bKey };
  const aByB = issue({ subject: 'CN=Loop A', issuer: bSelf, key: aKey });
  const bByA = issue({ subject: 'CN=Loop B', issuer: aSelf, key: bKey });
  const leaf = issue({ subject: 'CN=Leaf in a loop', issuer: aSelf, ca: false });
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [aByB.cert, bByA.cert], time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) assert.equal(r.reason.code, 'noPath');
});

test('a fully cross-certified mesh with no way out exhausts the work budget instead of hanging', () => {
  const root = issue({ subject: 'CN=Unrelated Root' });
  const n = 9; // 9 CAs, each certified by each other: 72 certificates, 8! simple paths from one CA
  const cas = Array.from({ length: n }, (_, i) => {
    const key = generateKey('p256');
    return { cert: issue({ subject: `CN=Mesh ${i}`, key }).cert, key };
  });
  const bag: Certificate[] = [];
  for (const a of cas) for (const b of cas) if (a !== b) bag.push(issue({ subject: a.cert.subjectText, issuer: b, key: a.key, noAki: true }).cert);
  const leaf = issue({ subject: 'CN=Mesh Leaf', issuer: cas[0]!, ca: false });
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: bag, time: TEST_TIME, workBudget: 5_000 });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'workBudgetExceeded');
    assert.equal(r.reason.details?.workBudget, 5_000);
  }
});

test('1,000 irrelevant untrusted certificates are ignored', () => {
  const { root, intermediates, leaf } = deepChain(1);
  const junkKey = generateKey('p256');
  const junkRoot = issue({ subject: 'CN=Junk Root', key: junkKey });
  const junk = Array.from({ length: 1000 }, (_, i) => issue({ subject: `CN=Junk ${i}`, issuer: junkRoot, key: junkKey }).cert);
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [...junk, ...intermediates.map((i) => i.cert), ...junk.slice(0, 10)], time: TEST_TIME });
  assert.equal(r.valid, true, r.valid ? '' : r.reason.message);
  if (r.valid) assert.equal(r.path.length, 3);
  const none = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: junk, time: TEST_TIME });
  assert.equal(none.valid, false);
  if (!none.valid) {
    assert.equal(none.reason.code, 'noPath');
    assert.equal(none.reason.details?.missingIssuer, 'CN=Deep CA 1');
    assert.equal(none.reason.details?.untrusted, 1000);
  }
});

test('1,000 look-alike issuers (same name, other keys) do not hide the real one', () => {
  const root = issue({ subject: 'CN=Root' });
  const real = issue({ subject: 'CN=Popular CA', issuer: root });
  const fakeKey = generateKey('p256');
  const fakes = Array.from({ length: 1000 }, () => issue({ subject: 'CN=Popular CA', issuer: root, key: fakeKey }).cert);
  const leaf = issue({ subject: 'CN=Leaf', issuer: real, ca: false, noAki: true });
  // Without an AKI in the leaf the builder can only try candidates by name; the fakes share one
  // key, so the loop check lets only one of them be tried before the real issuer is reached.
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: [...fakes, real.cert], time: TEST_TIME });
  assert.equal(r.valid, true, r.valid ? '' : r.reason.message);
  // With distinct fake keys every fake costs a failed path; the budget bounds that, and the first
  // failure is explained.
  const many = Array.from({ length: 100 }, () => issue({ subject: 'CN=Popular CA', issuer: root }).cert);
  const r2 = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: many, time: TEST_TIME });
  assert.equal(r2.valid, false);
  if (!r2.valid) assert.ok(['badSignature', 'workBudgetExceeded'].includes(r2.reason.code), r2.reason.code);
});

test('a 100-level chain stops at the depth limit, and validates when the limit allows it', () => {
  const { root, intermediates, leaf } = deepChain(100);
  const bag = intermediates.map((i) => i.cert).reverse();
  const r = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: bag, time: TEST_TIME });
  assert.equal(r.valid, false);
  if (!r.valid) {
    assert.equal(r.reason.code, 'depthLimit');
    assert.equal(r.reason.details?.maxDepth, 32);
  }
  const deep = validateCertificate(leaf.cert, { anchors: [root.cert], intermediates: bag, time: TEST_TIME, maxDepth: 128 });
  assert.equal(deep.valid, true, deep.valid ? '' : deep.reason.message);
  if (deep.valid) assert.equal(deep.path.length, 102);
});

test('policy mappings that would grow the RFC policy tree exponentially stay small in the policy graph', () => {
  // Every CA asserts P1..P6 and maps each Pi to every Pj: the RFC tree would hold 6^depth nodes.
  const policies = Array.from({ length: 6 }, (_, i) => `1.2.156.99.1.${i + 1}`);
  const mappings = new x.PolicyMappings(policies.flatMap((a) => policies.map((b) => Object.assign(new x.PolicyMapping(), { issuerDomainPolicy: a, subjectDomainPolicy: b }))));
  const exts = [certificatePoliciesExt(policies.map((oid) => ({ oid }))), extension(EXT.policyMappings, true, mappings)];
  const key = generateKey('p256');
  const root = issue({ subject: 'CN=Policy Root', key });
  let parent = root;
  const bag: Certificate[] = [];
  for (let i = 0; i < 30; i++) {
    parent = issue({ subject: `CN=Policy CA ${i}`, issuer: parent, key, extensions: exts });
    bag.push(parent.cert);
  }
  const leaf = issue({ subject: 'CN=Policy Leaf', issuer: parent, ca: false, extensions: [certificatePoliciesExt([{ oid: policies[0]! }])] });
  const validator = new PathValidator({ anchors: [root.cert], intermediates: bag });
  const r = validator.validate(leaf.cert, { time: TEST_TIME, explicitPolicy: true, maxDepth: 40 });
  assert.equal(r.valid, true, r.valid ? '' : r.reason.message);
  if (r.valid) assert.deepEqual(r.userConstrainedPolicySet, [...policies].sort());
  const narrow = validator.validate(leaf.cert, { time: TEST_TIME, explicitPolicy: true, initialPolicySet: ['1.2.156.99.9'], maxDepth: 40 });
  assert.equal(narrow.valid, false);
  if (!narrow.valid) assert.equal(narrow.reason.code, 'policy');
});

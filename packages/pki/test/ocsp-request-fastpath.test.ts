/**
 * OcspRequest reads the usual request shape by hand and everything else with the schema decoder.
 * Over thousands of mutated requests (the fuzzer's DER-aware mutators), whatever the hand reader
 * accepts the schema decoder accepts too, with the same CertIDs and extensions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { OcspRequest, buildOcspRequest, certIdFromAsn, generateKey, issueFromProfile, parseName, randomSerial, type CertId } from '../src/index.js';
import { caseRng, mutate } from './fuzz/mutate.js';

const key = generateKey('p256');
const ca = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=test,CN=fastpath root'), publicKey: key.publicKey, issuerKey: key });
const id = (hash: 'sha1' | 'sha256' = 'sha1'): CertId => ({ hashAlgorithm: hash === 'sha1' ? '1.3.14.3.2.26' : '2.16.840.1.101.3.4.2.1', issuerNameHash: Buffer.alloc(hash === 'sha1' ? 20 : 32, 1), issuerKeyHash: Buffer.alloc(hash === 'sha1' ? 20 : 32, 2), serialNumber: randomSerial() });
const SEEDS = [
  buildOcspRequest({ certIds: [id()], nonce: false }).der,
  buildOcspRequest({ certIds: [id('sha256')], nonce: true }).der,
  buildOcspRequest({ certIds: [id(), id('sha256'), id()], nonce: Buffer.from('0123456789abcdef') }).der,
  buildOcspRequest({ certIds: [id()], signer: { key, cert: ca } }).der,
];

const plain = (c: CertId) => [c.hashAlgorithm, c.issuerNameHash.toString('hex'), c.issuerKeyHash.toString('hex'), Buffer.from(c.serialNumber).toString('hex')].join('|');

test('hand-read requests match the schema decoder on seeds and 4,000 mutations', () => {
  let handRead = 0;
  let accepted = 0;
  for (let i = 0; i < 4000 + SEEDS.length; i++) {
    const input = i < SEEDS.length ? SEEDS[i]! : mutate(SEEDS, caseRng(0x5eed, i)).input;
    let ours: OcspRequest;
    try {
      ours = OcspRequest.parse(input);
    } catch {
      continue;
    }
    accepted++;
    const schema = AsnConvert.parse(input, OCSPRequest);
    const tbs = schema.tbsRequest;
    assert.deepEqual(ours.requests.map((r) => plain(r.certId)), tbs.requestList.map((r) => plain(certIdFromAsn(r.reqCert))), `case ${i}`);
    const exts = (e: readonly { extnID: string; critical: boolean; extnValue: { buffer: ArrayBuffer } }[]) => e.map((x) => `${x.extnID}|${x.critical}|${Buffer.from(x.extnValue.buffer).toString('hex')}`);
    assert.deepEqual(exts(ours.extensions), exts(tbs.requestExtensions ?? []), `case ${i}`);
    assert.deepEqual(ours.requests.map((r) => exts(r.extensions)), tbs.requestList.map((r) => exts(r.singleRequestExtensions ?? [])), `case ${i}`);
    assert.equal(ours.isSigned, schema.optionalSignature !== undefined, `case ${i}`);
    if (!ours.isSigned && tbs.requestorName === undefined) handRead++;
  }
  assert.ok(accepted > 500 && handRead > 300, `${accepted} accepted, ${handRead} of the usual shape`);
});

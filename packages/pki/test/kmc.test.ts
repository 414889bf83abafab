/**
 * CA–KMC protocol messages: every request and response kind survives encode → sign → parse →
 * verify; OpenSSL reads the DER (asn1parse) and verifies the P-256 and SM2 signatures over the
 * exact body bytes; truncated, flipped and hostile messages are ParseErrors, never other throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ParseError,
  encodeKmcRequestBody,
  encodeKmcResponseBody,
  exportPublicKey,
  generateKey,
  kmcSignatureValid,
  nameToDer,
  parseKmcRequestBody,
  parseKmcResponseBody,
  parseName,
  parseSignedKmcMessage,
  signKmcMessage,
  type KmcRequestBody,
  type KmcResponseBody,
} from '../src/index.js';
import { openssl } from './helpers/outside.js';

const sm2 = generateKey('sm2');
const p256 = generateKey('p256');
const holder = generateKey('sm2');
const T0 = new Date('2026-11-28T08:00:00Z');

const REQUEST: KmcRequestBody = {
  caName: nameToDer(parseName('C=CN,O=演示认证机构,CN=demo-sm2 KMC access')),
  requests: [
    { type: 'apply', keyType: 'sm2', userCertNo: 0x1234567890abcdefn, recipientSpki: holder.publicKey.spki, notBefore: T0, notAfter: new Date('2028-11-28T08:00:00Z'), userName: '张三' },
    { type: 'apply', keyType: 'p256', userCertNo: 7n, recipientSpki: p256.publicKey.spki, notBefore: T0, notAfter: new Date('2027-01-01T00:00:00Z') },
    { type: 'apply', keyType: 'p256', userCertNo: 8n, recipientSpki: p256.publicKey.spki, notBefore: T0, notAfter: new Date('2027-01-01T00:00:00Z'), recipientCertificate: Buffer.from('3003020101', 'hex') },
    { type: 'restore', userCertNo: 0x1234567890abcdefn, recipientSpki: holder.publicKey.spki },
    { type: 'restore', userCertNo: 8n, recipientSpki: p256.publicKey.spki, recipientCertificate: Buffer.from('3003020102', 'hex') },
    { type: 'revoke', userCertNo: 0xffn },
  ],
  requestTime: T0,
  taskNo: 42n,
};

const RESPONSE: KmcResponseBody = {
  kmName: nameToDer(parseName('C=CN,O=health-pki,CN=KMC')),
  responses: [
    { type: 'key', userCertNo: 0x1234567890abcdefn, publicSpki: sm2.publicKey.spki, envelope: Buffer.from('3003020101', 'hex') },
    { type: 'revoked', userCertNo: 0xffn },
    { type: 'error', code: 3, description: '没有这个密钥: no such key' },
  ],
  respondTime: T0,
  taskNo: 42n,
};

test('every request and response kind survives encode, sign, parse and verify', () => {
  for (const key of [sm2, p256]) {
    const signed = signKmcMessage(encodeKmcRequestBody(REQUEST), key);
    const msg = parseSignedKmcMessage(signed);
    assert.ok(kmcSignatureValid(msg, key.publicKey));
    assert.equal(kmcSignatureValid(msg, generateKey(key === sm2 ? 'sm2' : 'p256').publicKey), false, 'another key');
    assert.deepEqual(parseKmcRequestBody(msg.body), REQUEST);
    const resp = parseSignedKmcMessage(signKmcMessage(encodeKmcResponseBody(RESPONSE), key));
    assert.ok(kmcSignatureValid(resp, key.publicKey));
    assert.deepEqual(parseKmcResponseBody(resp.body), RESPONSE);
  }
});

test('OpenSSL parses the DER and verifies the P-256 and SM2 signatures over the body', async () => {
  for (const [key, digest, opts] of [
    [p256, '-sha256', [] as string[]],
    [sm2, '-sm3', ['-sigopt', 'distid:1234567812345678']],
  ] as const) {
    const msg = parseSignedKmcMessage(signKmcMessage(encodeKmcRequestBody(REQUEST), key));
    const files = { 'body.der': msg.body, 'sig.der': msg.signature, 'pub.pem': exportPublicKey(key.publicKey) };
    const parsed = await openssl(['asn1parse', '-inform', 'DER', '-in', 'body.der'], { files });
    assert.equal(parsed.code, 0, parsed.stderr);
    assert.match(parsed.stdout, /GENERALIZEDTIME\s+:20261128080000Z/);
    const v = await openssl(['dgst', digest, '-verify', 'pub.pem', '-signature', 'sig.der', ...opts, 'body.der'], { files });
    assert.match(v.stdout + v.stderr, /Verified OK/, `${key.kind}: ${v.stdout}${v.stderr}`);
    const flipped = Buffer.from(msg.body);
    flipped[flipped.length - 1]! ^= 1;
    const bad = await openssl(['dgst', digest, '-verify', 'pub.pem', '-signature', 'sig.der', ...opts, 'body.der'], { files: { ...files, 'body.der': flipped } });
    assert.doesNotMatch(bad.stdout, /Verified OK/);
    assert.equal(kmcSignatureValid({ ...msg, body: flipped }, key.publicKey), false);
  }
});

test('truncations and bit flips are ParseErrors or well-formed messages, never other exceptions', () => {
  const signed = signKmcMessage(encodeKmcRequestBody(REQUEST), p256);
  const bodies = [encodeKmcRequestBody(REQUEST), encodeKmcResponseBody(RESPONSE)];
  const attempt = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ParseError, `unexpected ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
  };
  for (let n = 0; n < signed.length; n++) attempt(() => parseSignedKmcMessage(signed.subarray(0, n)));
  for (const [i, body] of bodies.entries()) {
    const parse = i === 0 ? parseKmcRequestBody : parseKmcResponseBody;
    for (let n = 0; n < body.length; n++) attempt(() => parse(body.subarray(0, n)));
    for (let k = 0; k < body.length; k++) {
      for (const bit of [0x01, 0x80]) {
        const b = Buffer.from(body);
        b[k]! ^= bit;
        attempt(() => parse(b));
      }
    }
  }
});

test('hostile values are refused with a reason', () => {
  const enc = (over: Partial<KmcRequestBody>) => () => parseKmcRequestBody(encodeKmcRequestBody({ ...REQUEST, ...over }));
  assert.throws(() => encodeKmcRequestBody({ ...REQUEST, requests: [] }), /at least one request/);
  assert.throws(enc({ taskNo: 0n }), /taskNO must be a positive/);
  assert.throws(enc({ requests: [{ type: 'revoke', userCertNo: -5n }] }), /userCertNO must be a positive/);
  assert.throws(enc({ requests: [{ ...(REQUEST.requests[0] as never as object), notAfter: T0 } as never] }), /notBefore must be before notAfter/);
  assert.throws(enc({ requests: Array.from({ length: 65 }, () => ({ type: 'revoke' as const, userCertNo: 1n })) }), /1 to 64 requests/);
});

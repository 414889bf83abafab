import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ParseError } from '../../src/errors.js';
import { importPrivateKey } from '../../src/crypto/keys.js';
import { sm2PublicFromPrivate, sm2Sign, sm2Verify, sm2Za, SM2_DEFAULT_USER_ID } from '../../src/crypto/sm2.js';
import { decodeEcdsaSignature, encodeEcdsaSignature } from '../../src/crypto/ecdsa-der.js';
import { SM2_CURVE, curvePoint, messageDigestOn, mod, signPlain, toBig, verifyPlain } from '../../src/crypto/sm2-core.js';
import { EXAMPLE_CURVE } from './example-curve.js';
import { withScratch } from './tools.js';

const { n } = SM2_CURVE;
const ascii = (s: string) => Buffer.from(s, 'ascii');

test('GM/T 0003.2 (GB/T 32918.2) Appendix A signature example on the example curve', () => {
  // Private key, nonce, user ID, message and (r, s) as published (BouncyCastle SM2SignerTest.doSignerTestFp).
  const d = 0x128b2fa8bd433c6c068c8d803dff79792a519a55171b1b650c23661d15897263n;
  const k = 0x6cb28d99385c175c94f94e934817663fc176d925dd72b727260dbaae1fb2f96fn;
  const P = curvePoint(EXAMPLE_CURVE).BASE.multiply(d).toBytes(false);
  const e = messageDigestOn(EXAMPLE_CURVE, P, ascii('message digest'), ascii('ALICE123@YAHOO.COM'));
  const sig = signPlain(EXAMPLE_CURVE, d, e, k);
  assert.ok(sig);
  assert.equal(sig.r, 0x40f1ec59f793d9f49e09dcef49130d4194f79fb1eed2caa55bacdb49c4e755d1n);
  assert.equal(sig.s, 0x6fc6dac32c5d5cf10c77dfb20f7c2eb667a457872fb09ec56327a67ec7deebe7n);
  assert.equal(verifyPlain(EXAMPLE_CURVE, P, e, sig.r, sig.s), true);
  assert.equal(verifyPlain(EXAMPLE_CURVE, P, e + 1n, sig.r, sig.s), false);
  const eOtherId = messageDigestOn(EXAMPLE_CURVE, P, ascii('message digest'), ascii('ALICE123@YAHOO.CON'));
  assert.equal(verifyPlain(EXAMPLE_CURVE, P, eOtherId, sig.r, sig.s), false);
});

test('sm2PublicFromPrivate (OpenSSL) agrees with noble, and rejects scalars outside [1, n − 1]', () => {
  for (let i = 0; i < 20; i++) {
    const d = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const dBytes = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
    assert.deepEqual(Buffer.from(sm2PublicFromPrivate(dBytes)), Buffer.from(curvePoint(SM2_CURVE).BASE.multiply(d).toBytes(false)));
  }
  assert.throws(() => sm2PublicFromPrivate(Buffer.alloc(32)), ParseError);
  assert.throws(() => sm2PublicFromPrivate(Buffer.from(n.toString(16), 'hex')), ParseError);
});

function randomKey(): { d: Buffer; P: Uint8Array } {
  const d = mod(toBig(randomBytes(40)), n - 2n) + 1n;
  const dBytes = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  return { d: dBytes, P: sm2PublicFromPrivate(dBytes) };
}

test('fast sign/verify agree with the plain reference on many random keys, messages and IDs', () => {
  for (let i = 0; i < 30; i++) {
    const { d, P } = randomKey();
    const msg = randomBytes(i * 7);
    const id = i % 3 === 0 ? SM2_DEFAULT_USER_ID : randomBytes(i % 40);
    const e = messageDigestOn(SM2_CURVE, P, msg, id);
    // Our (native-nonce) signature checked by the plain verifier, and the other way round.
    const ours = decodeEcdsaSignature(sm2Sign(d, P, msg, id))!;
    assert.equal(verifyPlain(SM2_CURVE, P, e, ours.r, ours.s), true);
    const k = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const plain = signPlain(SM2_CURVE, toBig(d), e, k);
    if (!plain) continue;
    const der = encodeEcdsaSignature(plain.r, plain.s);
    assert.equal(sm2Verify(P, msg, der, id), true);
    // Changed message, ID, r or s: the fast verifier must agree with the plain one (false).
    const variants: [Uint8Array, Uint8Array, bigint, bigint][] = [
      [Buffer.concat([msg, Buffer.from([1])]), id, plain.r, plain.s],
      [msg, Buffer.concat([id, Buffer.from([0])]), plain.r, plain.s],
      [msg, id, mod(plain.r + 1n, n) || 1n, plain.s],
      [msg, id, plain.r, mod(plain.s + 1n, n) || 1n],
    ];
    for (const [m2, id2, r2, s2] of variants) {
      const fast = sm2Verify(P, m2, encodeEcdsaSignature(r2, s2), id2);
      assert.equal(fast, verifyPlain(SM2_CURVE, P, messageDigestOn(SM2_CURVE, P, m2, id2), r2, s2));
      assert.equal(fast, false);
    }
  }
});

test('repeated verification with one key (its comb table) agrees with the plain reference', () => {
  const { d, P } = randomKey();
  for (let i = 0; i < 80; i++) {
    const msg = randomBytes(20);
    const sig = sm2Sign(d, P, msg);
    assert.equal(sm2Verify(P, msg, sig), true);
    const bad = decodeEcdsaSignature(sig)!;
    const r2 = mod(bad.r + BigInt(i + 1), n) || 1n;
    assert.equal(sm2Verify(P, msg, encodeEcdsaSignature(r2, bad.s)), false);
  }
});

test('verification rejects malformed input without throwing', () => {
  const { d, P } = randomKey();
  const msg = ascii('record');
  const sig = sm2Sign(d, P, msg);
  const { r, s } = decodeEcdsaSignature(sig)!;
  const cases: Uint8Array[] = [
    Buffer.alloc(0),
    Buffer.from([0x30, 0x00]),
    sig.subarray(0, sig.length - 1),
    Buffer.concat([sig, Buffer.from([0])]),
    encodeEcdsaSignature(0n, s),
    encodeEcdsaSignature(r, 0n),
    encodeEcdsaSignature(n, s),
    encodeEcdsaSignature(r, n),
    encodeEcdsaSignature(r, n - r), // t = r + s ≡ 0
  ];
  for (const c of cases) assert.equal(sm2Verify(P, msg, c), false);
  const offCurve = Uint8Array.from(P);
  offCurve[64]! ^= 1;
  assert.equal(sm2Verify(offCurve, msg, sig), false);
  assert.equal(sm2Verify(P.subarray(0, 33), msg, sig), false);
  assert.equal(sm2Verify(Buffer.alloc(65), msg, sig), false);
});

test('a signature whose s·G + t·P is the point at infinity is rejected (exceptional fast path)', () => {
  // s·G + t·P = (s + t·d)·G = O when s ≡ −t·d, i.e. s(1 + d) ≡ −r·d (mod n).
  const { d, P } = randomKey();
  const dd = toBig(d);
  for (let i = 0; i < 5; i++) {
    const r = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const s = mod(-r * dd * modInverse(dd + 1n, n), n);
    assert.equal(sm2Verify(P, ascii('m'), encodeEcdsaSignature(r, s)), false);
  }
});

function modInverse(a: bigint, m: bigint): bigint {
  return modPow(mod(a, m), m - 2n, m);
}
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

test('sm2Za is SM3 over ENTL ‖ ID ‖ curve ‖ key, and rejects IDs over 8191 bytes', () => {
  const { P } = randomKey();
  assert.equal(sm2Za(P).length, 32);
  assert.notDeepEqual(sm2Za(P, ascii('a')), sm2Za(P, ascii('b')));
  assert.throws(() => sm2Za(P, Buffer.alloc(0x2000)), ParseError);
});

const hexId = (id: Uint8Array) => `hexdistid:${Buffer.from(id).toString('hex')}`;
const IDS: Uint8Array[] = [SM2_DEFAULT_USER_ID, ascii('ALICE123@YAHOO.COM'), ascii('卫生健康委 CA 01'), randomBytes(64)];

test('OpenSSL verifies our SM2 signatures with the default and custom user IDs, and not under another ID', () => {
  withScratch((s) => {
    s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'k.pem']);
    s.openssl(['pkey', '-in', 'k.pem', '-pubout', '-out', 'pub.pem']);
    const key = importPrivateKey(s.read('k.pem'));
    for (const [i, id] of IDS.entries()) {
      const msg = randomBytes(1 + i * 300);
      s.write('msg', msg);
      s.write('sig', sm2Sign(key.sm2D!, key.publicKey.sm2Point!, msg, id));
      const verify = (idOpt: string) =>
        s.openssl(['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-digest', 'sm3', '-pkeyopt', idOpt, '-in', 'msg', '-sigfile', 'sig'], true);
      assert.equal(verify(hexId(id)).ok, true, `OpenSSL rejected our signature for ID #${i}`);
      assert.equal(verify(hexId(Buffer.concat([id, ascii('x')]))).ok, false);
    }
  });
});

test('we verify OpenSSL SM2 signatures with the default and custom user IDs, and not under another ID', () => {
  withScratch((s) => {
    s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'k.pem']);
    const key = importPrivateKey(s.read('k.pem'));
    const P = key.publicKey.sm2Point!;
    for (const [i, id] of IDS.entries()) {
      for (let j = 0; j < 3; j++) {
        const msg = randomBytes(j * 100 + i);
        s.write('msg', msg);
        s.openssl(['pkeyutl', '-sign', '-inkey', 'k.pem', '-rawin', '-digest', 'sm3', '-pkeyopt', hexId(id), '-in', 'msg', '-out', 'sig']);
        const sig = s.read('sig');
        assert.equal(sm2Verify(P, msg, sig, id), true, `OpenSSL signature not accepted for ID #${i}`);
        assert.equal(sm2Verify(P, msg, sig, Buffer.concat([id, ascii('x')])), false);
        assert.equal(sm2Verify(P, Buffer.concat([msg, ascii('x')]), sig, id), false);
      }
    }
  });
});

test('sm2Sign rejects private scalars for which (1 + d) has no inverse or that are out of range', () => {
  const { P } = randomKey();
  assert.throws(() => sm2Sign(Buffer.from((n - 1n).toString(16), 'hex'), P, ascii('m')), ParseError);
  assert.throws(() => sm2Sign(Buffer.alloc(32), P, ascii('m')), ParseError);
});

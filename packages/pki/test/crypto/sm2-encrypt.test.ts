import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ParseError, PkiError } from '../../src/errors.js';
import { importPrivateKey } from '../../src/crypto/keys.js';
import { sm2PublicFromPrivate } from '../../src/crypto/sm2.js';
import { decodeSm2Cipher, encodeSm2Cipher, sm2Decrypt, sm2Encrypt } from '../../src/crypto/sm2-encrypt.js';
import { SM2_CURVE, curvePoint, decryptPlain, encryptPlain, mod, toBig } from '../../src/crypto/sm2-core.js';
import { EXAMPLE_CURVE } from './example-curve.js';
import { hex, withScratch } from './tools.js';

const { n } = SM2_CURVE;

function randomKey(): { d: Buffer; P: Uint8Array } {
  const d = mod(toBig(randomBytes(40)), n - 1n) + 1n;
  const dBytes = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  return { d: dBytes, P: sm2PublicFromPrivate(dBytes) };
}

const isDecryptError = (e: unknown) => e instanceof PkiError && !(e instanceof ParseError) && e.code === 'crypto.decrypt';

test('GM/T 0003.4 (GB/T 32918.4) Appendix A encryption example on the example curve, as C1C3C2 and as DER', () => {
  // d_B, k and M as published; the raw C1‖C3‖C2 from BouncyCastle SM2EngineTest (Mode.C1C3C2), the
  // GM/T 0009 DER of the same ciphertext from Botan's src/tests/data/pubkey/sm2_enc.vec.
  const d = 0x1649ab77a00637bd5e2efe283fbf353534aa7f7cb89463f208ddbc2920bb0da0n;
  const k = 0x4c62eefd6ecfc2b95b92fd6c3d9575148afa17425546d49018e5388d49dd7b4fn;
  const m = Buffer.from('encryption standard', 'ascii');
  const P = curvePoint(EXAMPLE_CURVE).BASE.multiply(d).toBytes(false);
  const parts = encryptPlain(EXAMPLE_CURVE, P, m, k)!;
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(parts.x1.toString(16).padStart(64, '0'), 'hex'), Buffer.from(parts.y1.toString(16).padStart(64, '0'), 'hex'), parts.c3, parts.c2]);
  assert.equal(
    raw.toString('hex'),
    hex(`04245C26 FB68B1DD DDB12C4B 6BF9F2B6 D5FE60A3 83B0D18D 1C4144AB F17F6252 E776CB92 64C2A7E8 8E52B199 03FDC473
      78F605E3 6811F5C0 7423A24B 84400F01 B8 9C3D7360 C30156FA B7C80A02 76712DA9 D8094A63 4B766D3A 285E0748 0653426D
      650053 A89B41C4 18B0C3AA D00D886C 00286467`).toString('hex'),
  );
  const der = hex(
    `307B0220245C26FB68B1DDDDB12C4B6BF9F2B6D5FE60A383B0D18D1C4144ABF17F6252E7022076CB9264C2A7E88E52B19903FDC47378F605E36811F5C07423A24B84400F01B8
     04209C3D7360C30156FAB7C80A0276712DA9D8094A634B766D3A285E07480653426D0413650053A89B41C418B0C3AAD00D886C00286467`,
  );
  assert.deepEqual(Buffer.from(encodeSm2Cipher(parts)), der);
  assert.deepEqual(decryptPlain(EXAMPLE_CURVE, d, decodeSm2Cipher(der)), m);
});

test('fast encryption/decryption agree with the plain reference both ways', () => {
  for (let i = 0; i < 20; i++) {
    const { d, P } = randomKey();
    const m = randomBytes(1 + i * 13);
    assert.deepEqual(decryptPlain(SM2_CURVE, toBig(d), decodeSm2Cipher(sm2Encrypt(P, m))), m);
    const k = mod(toBig(randomBytes(40)), n - 1n) + 1n;
    assert.deepEqual(sm2Decrypt(d, encodeSm2Cipher(encryptPlain(SM2_CURVE, P, m, k)!)), m);
  }
});

const LENGTHS = [1, 15, 16, 31, 32, 33, 64, 100, 5000];

test('OpenSSL decrypts our SM2 ciphertexts', () => {
  withScratch((s) => {
    s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'k.pem']);
    const key = importPrivateKey(s.read('k.pem'));
    for (const len of LENGTHS) {
      const m = randomBytes(len);
      s.write('ct', sm2Encrypt(key.publicKey.sm2Point!, m));
      s.openssl(['pkeyutl', '-decrypt', '-inkey', 'k.pem', '-in', 'ct', '-out', 'pt']);
      assert.deepEqual(s.read('pt'), m, `length ${len}`);
    }
  });
});

test('we decrypt OpenSSL SM2 ciphertexts', () => {
  withScratch((s) => {
    s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'k.pem']);
    s.openssl(['pkey', '-in', 'k.pem', '-pubout', '-out', 'pub.pem']);
    const key = importPrivateKey(s.read('k.pem'));
    for (const len of LENGTHS) {
      const m = randomBytes(len);
      s.write('pt', m);
      s.openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'pub.pem', '-in', 'pt', '-out', 'ct']);
      assert.deepEqual(sm2Decrypt(key.sm2D!, s.read('ct')), m, `length ${len}`);
    }
  });
});

test('tampered ciphertexts and wrong keys fail with one typed error', () => {
  const { d, P } = randomKey();
  const m = randomBytes(40);
  const der = Buffer.from(sm2Encrypt(P, m));
  const parts = decodeSm2Cipher(der);
  const variants = [
    { ...parts, c2: Buffer.from(parts.c2.map((b, i) => (i === 7 ? b ^ 1 : b))) },
    { ...parts, c3: Buffer.from(parts.c3.map((b, i) => (i === 0 ? b ^ 0x80 : b))) },
    { ...parts, x1: parts.x1 ^ 1n }, // almost surely off the curve
    { ...parts, y1: SM2_CURVE.p - parts.y1 }, // −C1: on the curve, wrong shared point
  ];
  for (const v of variants) assert.throws(() => sm2Decrypt(d, encodeSm2Cipher(v)), isDecryptError);
  assert.throws(() => sm2Decrypt(randomKey().d, der), isDecryptError);
  assert.deepEqual(sm2Decrypt(d, der), m);
});

test('malformed or non-DER SM2Cipher is a ParseError', () => {
  const { d, P } = randomKey();
  const der = Buffer.from(sm2Encrypt(P, randomBytes(20)));
  const parts = decodeSm2Cipher(der);
  const longForm = Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]);
  const cases: Uint8Array[] = [
    Buffer.alloc(0),
    der.subarray(0, der.length - 1),
    Buffer.concat([der, Buffer.from([0])]),
    longForm,
    encodeSm2Cipher({ ...parts, c3: parts.c3.subarray(0, 31) }),
    encodeSm2Cipher({ ...parts, c2: Buffer.alloc(0) }),
    encodeSm2Cipher({ ...parts, x1: -parts.x1 }),
    encodeSm2Cipher({ ...parts, x1: parts.x1 + SM2_CURVE.p }),
    Buffer.from('not der at all'),
  ];
  for (const c of cases) assert.throws(() => sm2Decrypt(d, c), ParseError);
});

test('encryption refuses an empty message and a public key that is not a curve point', () => {
  const { P } = randomKey();
  assert.throws(() => sm2Encrypt(P, Buffer.alloc(0)), (e: unknown) => e instanceof PkiError && e.code === 'crypto.input');
  const bad = Uint8Array.from(P);
  bad[10]! ^= 1;
  assert.throws(() => sm2Encrypt(bad, Buffer.from('x')), ParseError);
  assert.throws(() => sm2Encrypt(P.subarray(0, 33), Buffer.from('x')), ParseError);
});

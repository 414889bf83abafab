import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hmacSm3, sm3 } from '../../src/crypto/sm3.js';
import { hex, withScratch } from './tools.js';

const ascii = (s: string) => Buffer.from(s, 'ascii');

test('GB/T 32905 Appendix A examples: "abc" and "abcd" × 16', () => {
  // Values as published (also in BouncyCastle SM3DigestTest).
  assert.equal(sm3(ascii('abc')).toString('hex'), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  assert.equal(sm3(ascii('abcd'.repeat(16))).toString('hex'), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  // Several parts hash as their concatenation.
  assert.deepEqual(sm3(ascii('ab'), ascii(''), ascii('c')), sm3(ascii('abc')));
});

test('HMAC-SM3: GM/T 0042-2015 Appendix D.3 examples', () => {
  // As quoted in libxcrypt's HMAC-SM3 test and OpenSSL's evpmac test data.
  const cases: [Buffer, Buffer, string][] = [
    [
      hex('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20'),
      ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'.repeat(2)),
      'ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a',
    ],
    [
      hex('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425'),
      Buffer.alloc(50, 0xcd),
      '220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae',
    ],
    [Buffer.alloc(32, 0x0b), ascii('Hi There'), 'c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e'],
    [ascii('Jefe'), ascii('what do ya want for nothing?'), '2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882'],
  ];
  for (const [key, data, mac] of cases) assert.equal(hmacSm3(key, data).toString('hex'), mac);
});

test('SM3 and HMAC-SM3 agree with the OpenSSL CLI on random input', () => {
  withScratch((s) => {
    for (const len of [0, 1, 55, 56, 63, 64, 65, 1000]) {
      const data = randomBytes(len);
      const key = randomBytes(len % 80 + 1);
      s.write('d', data);
      const dgst = s.openssl(['dgst', '-sm3', '-r', 'd']).stdout.split(' ')[0];
      assert.equal(sm3(data).toString('hex'), dgst);
      const mac = s.openssl(['dgst', '-sm3', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-r', 'd']).stdout.split(' ')[0];
      assert.equal(hmacSm3(key, data).toString('hex'), mac);
    }
  });
});

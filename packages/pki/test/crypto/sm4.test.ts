import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { PkiError } from '../../src/errors.js';
import { gctr, sm4DecryptCbc, sm4DecryptEcb, sm4EncryptCbc, sm4EncryptEcb, sm4GcmDecrypt, sm4GcmEncrypt } from '../../src/crypto/sm4.js';
import { hex, runBcJava, withScratch } from './tools.js';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;
const K1 = hex('0123456789abcdeffedcba9876543210');
const K2 = hex('fedcba98765432100123456789abcdef');

test('GB/T 32907 Appendix A example 1: one block', () => {
  const ct = sm4EncryptEcb(K1, K1, { padding: false });
  assert.equal(ct.toString('hex'), '681edf34d206965e86b3e94f536e4246');
  assert.deepEqual(sm4DecryptEcb(K1, ct, { padding: false }), K1);
});

test('GB/T 32907 Appendix A example 2: 1,000,000 encryptions of the block (the OpenSSL primitive under our modes)', () => {
  const c = createCipheriv('sm4-ecb', K1, null).setAutoPadding(false);
  let b = Buffer.from(K1);
  for (let i = 0; i < 1_000_000; i++) b = c.update(b);
  assert.equal(b.toString('hex'), '595298c7c6fd271f0402f804c33d3f66');
});

test('draft-ribose-cfrg-sm4 Appendix A.2.1 (ECB) and A.2.2 (CBC) examples', () => {
  const pt = hex('aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffffaaaaaaaabbbbbbbb');
  const iv = hex('000102030405060708090a0b0c0d0e0f');
  const cases: [Buffer, string, string][] = [
    [K1, '5ec8143de509cff7b5179f8f474b86192f1d305a7fb17df985f81c8482192304', '78ebb11cc40b0a48312aaeb2040244cb4cb7016951909226979b0d15dc6a8f6d'],
    [K2, 'c5876897e4a59bbba72a10c83872245b12dd90bc2d200692b529a4155ac9e600', '0d3a6ddc2d21c698857215587b7bb59a91f2c147911a4144665e1fa1d40bae38'],
  ];
  for (const [key, ecb, cbc] of cases) {
    assert.equal(sm4EncryptEcb(key, pt, { padding: false }).toString('hex'), ecb);
    assert.equal(sm4EncryptCbc(key, iv, pt, { padding: false }).toString('hex'), cbc);
    assert.deepEqual(sm4DecryptEcb(key, hex(ecb), { padding: false }), pt);
    assert.deepEqual(sm4DecryptCbc(key, iv, hex(cbc), { padding: false }), pt);
  }
});

test('ECB and CBC with PKCS#7 padding interoperate with openssl enc both ways', () => {
  withScratch((s) => {
    for (const len of [0, 1, 15, 16, 17, 31, 32, 100]) {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const pt = randomBytes(len);
      const kiv = ['-K', key.toString('hex'), '-iv', iv.toString('hex')];
      const ours = sm4EncryptCbc(key, iv, pt);
      assert.equal(ours.length, 16 * (Math.floor(len / 16) + 1));
      s.write('ct', ours);
      s.openssl(['enc', '-d', '-sm4-cbc', ...kiv, '-in', 'ct', '-out', 'pt']);
      assert.deepEqual(s.read('pt'), pt);
      s.write('pt', pt);
      s.openssl(['enc', '-sm4-cbc', ...kiv, '-in', 'pt', '-out', 'ct']);
      assert.deepEqual(sm4DecryptCbc(key, iv, s.read('ct')), pt);
      s.openssl(['enc', '-sm4-ecb', '-K', key.toString('hex'), '-in', 'pt', '-out', 'ecb']);
      assert.deepEqual(sm4EncryptEcb(key, pt), s.read('ecb'));
      assert.deepEqual(sm4DecryptEcb(key, s.read('ecb')), pt);
    }
  });
});

test('bad keys, IVs, lengths and padding give typed errors', () => {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  assert.throws(() => sm4EncryptEcb(randomBytes(15), Buffer.alloc(16)), code('crypto.input'));
  assert.throws(() => sm4EncryptCbc(key, randomBytes(12), Buffer.alloc(16)), code('crypto.input'));
  assert.throws(() => sm4EncryptEcb(key, Buffer.alloc(17), { padding: false }), code('crypto.input'));
  assert.throws(() => sm4DecryptCbc(key, iv, Buffer.alloc(17)), code('crypto.decrypt'));
  assert.throws(() => sm4DecryptCbc(key, iv, Buffer.alloc(0)), code('crypto.decrypt'));
  // A last block whose padding is wrong (almost surely, under a random key).
  let badPadding = 0;
  for (let i = 0; i < 20; i++) {
    try {
      sm4DecryptCbc(randomBytes(16), iv, sm4EncryptCbc(key, iv, Buffer.from('patient record')));
    } catch (e) {
      assert.ok(code('crypto.decrypt')(e));
      badPadding++;
    }
  }
  assert.ok(badPadding >= 15);
});

const RFC8998 = {
  key: hex('0123456789ABCDEFFEDCBA9876543210'),
  iv: hex('00001234567800000000ABCD'),
  aad: hex('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2'),
  pt: hex(`AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
           EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA`),
  ct: hex(`17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
           D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D`),
  tag: hex('83DE3541E4C2B58177E065A9BF7B62EC'),
};

test('RFC 8998 Appendix A.1 SM4-GCM example', () => {
  const { key, iv, aad, pt, ct, tag } = RFC8998;
  const sealed = sm4GcmEncrypt(key, iv, pt, aad);
  assert.deepEqual(sealed.ciphertext, ct);
  assert.deepEqual(sealed.tag, tag);
  assert.deepEqual(sm4GcmDecrypt(key, iv, ct, tag, aad), pt);
});

test('SM4-GCM rejects any change to ciphertext, tag, AAD or IV with a typed error', () => {
  const { key, iv, aad, ct, tag } = RFC8998;
  const flip = (b: Buffer, i: number) => Buffer.from(b.map((x, j) => (j === i ? x ^ 1 : x)));
  const bad: [Buffer, Buffer, Buffer, Buffer][] = [
    [flip(iv, 0), ct, tag, aad],
    [iv, flip(ct, 63), tag, aad],
    [iv, ct.subarray(0, 63), tag, aad],
    [iv, ct, flip(tag, 15), aad],
    [iv, ct, tag.subarray(0, 12), aad],
    [iv, ct, tag, flip(aad, 19)],
    [iv, ct, tag, Buffer.alloc(0)],
  ];
  for (const [i, c, t, a] of bad) assert.throws(() => sm4GcmDecrypt(key, i, c, t, a), code('crypto.decrypt'));
  assert.throws(() => sm4GcmEncrypt(key, Buffer.alloc(0), ct), code('crypto.input'));
  assert.throws(() => sm4GcmEncrypt(randomBytes(32), iv, ct), code('crypto.input'));
});

/** BouncyCastle's GCMBlockCipher over SM4Engine: one "key iv aad plaintext" hex line in, "ciphertext‖tag" out. */
const BC_GCM = `
import java.io.*;
import org.bouncycastle.crypto.engines.SM4Engine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.*;
import org.bouncycastle.util.encoders.Hex;
public class Main {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line; (line = in.readLine()) != null; ) {
      String[] f = line.split(",", -1);
      GCMBlockCipher c = new GCMBlockCipher(new SM4Engine());
      c.init(true, new AEADParameters(new KeyParameter(Hex.decode(f[0])), 128, Hex.decode(f[1]), Hex.decode(f[2])));
      byte[] pt = Hex.decode(f[3]);
      byte[] out = new byte[c.getOutputSize(pt.length)];
      int len = c.processBytes(pt, 0, pt.length, out, 0);
      c.doFinal(out, len);
      System.out.println(Hex.toHexString(out));
    }
  }
}`;

test('SM4-GCM agrees with BouncyCastle for IV lengths other than 12, empty and partial blocks', () => {
  const cases = [1, 8, 12, 16, 17, 60].flatMap((ivLen) =>
    [0, 1, 15, 16, 33, 200].map((len) => ({ key: randomBytes(16), iv: randomBytes(ivLen), aad: randomBytes((len * 7) % 41), pt: randomBytes(len) })),
  );
  const lines = cases.map((c) => [c.key, c.iv, c.aad, c.pt].map((b) => b.toString('hex')).join(',')).join('\n') + '\n';
  const bc = runBcJava(BC_GCM, lines).trim().split('\n');
  assert.equal(bc.length, cases.length);
  cases.forEach((c, i) => {
    const sealed = sm4GcmEncrypt(c.key, c.iv, c.pt, c.aad);
    assert.equal(Buffer.concat([sealed.ciphertext, sealed.tag]).toString('hex'), bc[i], `case ${i} (IV ${c.iv.length} bytes, ${c.pt.length} bytes)`);
    assert.deepEqual(sm4GcmDecrypt(c.key, c.iv, sealed.ciphertext, sealed.tag, c.aad), c.pt);
  });
});

test('GCTR increments only the low 32 bits of the counter, also across the wrap', () => {
  const key = randomBytes(16);
  const data = randomBytes(16 * 4 + 5);
  for (const low of [0xfffffffd, 0xffffffff, 7]) {
    const counter = randomBytes(16);
    counter.writeUInt32BE(low, 12);
    // The key stream block by block from counters built by hand (inc32 of SP 800-38D).
    const blocks = [];
    for (let i = 0; i < 5; i++) {
      const cb = Buffer.from(counter);
      cb.writeUInt32BE((low + i) >>> 0, 12);
      blocks.push(cb);
    }
    const stream = sm4EncryptEcb(key, Buffer.concat(blocks), { padding: false });
    const expected = Buffer.from(data.map((b, i) => b ^ stream[i]!));
    assert.deepEqual(gctr(key, counter, data), expected, `low word ${low.toString(16)}`);
  }
});

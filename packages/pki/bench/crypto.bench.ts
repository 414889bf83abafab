/**
 * Chinese commercial cryptography: SM2 signatures against `openssl speed sm2` on the same machine,
 * SM2 encryption, SM3 and SM4 throughput.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { type Benchmark, type BenchRow, opensslSpeed, opsPerSecond } from './harness.js';
import { sm2PublicFromPrivate, sm2Sign, sm2Verify } from '../src/crypto/sm2.js';
import { sm2Decrypt, sm2Encrypt } from '../src/crypto/sm2-encrypt.js';
import { hmacSm3, sm3 } from '../src/crypto/sm3.js';
import { sm4EncryptCbc, sm4GcmDecrypt, sm4GcmEncrypt } from '../src/crypto/sm4.js';
import { SM2_CURVE, mod, toBig } from '../src/crypto/sm2-core.js';

const TARGET = '>= 1.0x openssl speed sm2';

function sm2Key(): { d: Buffer; P: Uint8Array } {
  const d = mod(toBig(randomBytes(40)), SM2_CURVE.n - 2n) + 1n;
  const dBytes = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  return { d: dBytes, P: sm2PublicFromPrivate(dBytes) };
}

function versus(name: string, ours: number[], reference: number[], against: string): BenchRow {
  // A ratio per round (ours and OpenSSL measured back to back), then the median: robust to other load.
  const ratio = median(ours.map((v, i) => v / reference[i]!));
  return { name, value: median(ours), unit: 'ops/s', ratio: { against, value: ratio }, target: { text: TARGET, met: ratio >= 1 } };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** MB/s (10⁶ bytes) of `fn` applied to buffers of `size` bytes. */
function mbPerSecond(size: number, fn: () => void): number {
  return (opsPerSecond(fn) * size) / 1e6;
}

const bench: Benchmark = async () => {
  const key = sm2Key();
  const msg = randomBytes(32);
  const sig = sm2Sign(key.d, key.P, msg);
  // Fresh keys: more than the 256 entries the verifier keeps, so no key is ever seen again while cached.
  const fresh = Array.from({ length: 300 }, () => {
    const k = sm2Key();
    return { P: k.P, sig: sm2Sign(k.d, k.P, msg) };
  });
  const rounds = { osSign: [] as number[], osVerify: [] as number[], sign: [] as number[], verify: [] as number[], verifyFresh: [] as number[] };
  for (let r = 0; r < 3; r++) {
    const openssl = opensslSpeed('sm2', 2);
    rounds.osSign.push(openssl.sign);
    rounds.osVerify.push(openssl.verify);
    rounds.sign.push(opsPerSecond(() => sm2Sign(key.d, key.P, msg)));
    rounds.verify.push(
      opsPerSecond(() => {
        if (!sm2Verify(key.P, msg, sig)) throw new Error('SM2 verify failed');
      }),
    );
    rounds.verifyFresh.push(
      opsPerSecond((i) => {
        const f = fresh[i % fresh.length]!;
        if (!sm2Verify(f.P, msg, f.sig)) throw new Error('SM2 verify failed');
      }),
    );
  }

  const secret = randomBytes(32); // e.g. an SM4 key in a digital envelope
  const ct = sm2Encrypt(key.P, secret);
  const encrypt = opsPerSecond(() => sm2Encrypt(key.P, secret));
  const decrypt = opsPerSecond(() => sm2Decrypt(key.d, ct));

  const big = randomBytes(1 << 20);
  const sm4Key = randomBytes(16);
  const iv16 = randomBytes(16);
  const iv12 = randomBytes(12);
  const sealed = sm4GcmEncrypt(sm4Key, iv12, big);

  // GB/T 32907 Appendix A example 2 as a check of the primitive: 1,000,000 chained block encryptions.
  const example = Buffer.from('0123456789abcdeffedcba9876543210', 'hex'); // both key and plaintext
  const ecb = createCipheriv('sm4-ecb', example, null).setAutoPadding(false);
  let block = example;
  const t0 = performance.now();
  for (let i = 0; i < 1_000_000; i++) block = ecb.update(block);
  const example2Seconds = (performance.now() - t0) / 1000;
  if (block.toString('hex') !== '595298c7c6fd271f0402f804c33d3f66') throw new Error('GB/T 32907 example 2 mismatch');

  return [
    {
      title: 'SM2 signatures (GB/T 32918.2, user ID 1234567812345678) vs openssl speed sm2',
      rows: [
        { name: 'openssl speed sm2: sign', value: median(rounds.osSign), unit: 'ops/s' },
        { name: 'openssl speed sm2: verify', value: median(rounds.osVerify), unit: 'ops/s' },
        versus('sm2Sign (32-byte message)', rounds.sign, rounds.osSign, 'openssl speed sm2 sign'),
        versus('sm2Verify, one key verifying repeatedly (CA/OCSP key)', rounds.verify, rounds.osVerify, 'openssl speed sm2 verify'),
        versus('sm2Verify, a different key every time (CSR proof of possession)', rounds.verifyFresh, rounds.osVerify, 'openssl speed sm2 verify'),
      ],
      notes: [
        'Three rounds of `openssl speed -seconds 2 sm2` each followed by ours (2 s per row); values are medians, ratios the median of the per-round ratios.',
        'Single thread, all JS (BigInt, Jacobian coordinates, lazy reduction). Signing: k·G by a comb of G with the same 33 additions for every nonce.',
        'Verification: the comb of G, plus a comb of the public key once it has verified 16 signatures (at most 16 keys hold one); a key without one pays a sliding-window multiplication (256 doublings).',
        'openssl speed verifies with one key repeatedly, so the "one key" row is the like-for-like comparison; the "different key" row is shown so that the cost without a table is not hidden.',
      ],
    },
    {
      title: 'SM2 encryption (GB/T 32918.4, GM/T 0009 ASN.1, 32-byte message)',
      rows: [
        { name: 'sm2Encrypt', value: encrypt, unit: 'ops/s' },
        { name: 'sm2Decrypt', value: decrypt, unit: 'ops/s' },
      ],
      notes: ['C1 = k·G by the comb of G; k·P_B and d·C1 by a fixed-pattern signed-window multiplication (4 doublings and 1 addition per window). OpenSSL has no speed test for SM2 encryption.'],
    },
    {
      title: 'SM3 and SM4 throughput (1 MiB buffers)',
      rows: [
        { name: 'SM3 (native)', value: mbPerSecond(big.length, () => sm3(big)), unit: 'MB/s' },
        { name: 'HMAC-SM3 (native)', value: mbPerSecond(big.length, () => hmacSm3(sm4Key, big)), unit: 'MB/s' },
        { name: 'SM4-CBC encrypt (native)', value: mbPerSecond(big.length, () => sm4EncryptCbc(sm4Key, iv16, big)), unit: 'MB/s' },
        { name: 'SM4-GCM encrypt (CTR native, GHASH in JS)', value: mbPerSecond(big.length, () => sm4GcmEncrypt(sm4Key, iv12, big)), unit: 'MB/s' },
        { name: 'SM4-GCM decrypt (CTR native, GHASH in JS)', value: mbPerSecond(big.length, () => sm4GcmDecrypt(sm4Key, iv12, sealed.ciphertext, sealed.tag)), unit: 'MB/s' },
        { name: 'GB/T 32907 example 2 (10⁶ chained SM4 blocks, result checked)', value: example2Seconds, unit: 's' },
      ],
      notes: ['Node 20 has no native sm4-gcm; GCM is SM4-CTR from OpenSSL plus an 8-bit-table GHASH in JS.'],
    },
  ];
};

export default bench;

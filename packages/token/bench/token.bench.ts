/**
 * Key envelopes and the software token: how many SM2EnvelopedKeys / CMS envelopes a KMC can build
 * and a token open per second, what a PIN check costs with the default KDF (the price of every
 * login and of every guess at a stolen file), and signing through a token session (each operation
 * re-reads and unseals the file under its lock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCertificate,
  buildSm2EnvelopedKey,
  envelopePrivateKey,
  generateKey,
  openEnvelopedPrivateKey,
  openSm2EnvelopedKey,
  parseName,
  type KeyAlgorithm,
} from '@health-pki/pki';
import type { Benchmark, BenchRow, BenchSection } from '../../pki/bench/harness.js';
import { DEFAULT_KDF, SoftToken, answerUnblockChallenge } from '../src/index.js';

/** Operations per second of `fn`, run for about `seconds` after a short warm-up. */
function rate(fn: () => void, seconds = 1.5): number {
  for (let i = 0; i < 3; i++) fn();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

/** Median latency of `fn` in milliseconds over `runs` runs. */
function medianMs(fn: () => void, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

function certFor(alg: KeyAlgorithm) {
  const key = generateKey(alg);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { key, cert: buildCertificate({ subject: parseName('CN=holder'), notBefore: now, notAfter: new Date(now.getTime() + 86400_000), publicKey: key.publicKey }, key) };
}

const bench: Benchmark = async () => {
  const envelopes: BenchRow[] = [];
  const signing = generateKey('sm2');
  const enc = generateKey('sm2');
  const env = buildSm2EnvelopedKey(enc, signing.publicKey);
  envelopes.push({ name: 'SM2EnvelopedKey build (KMC)', value: rate(() => buildSm2EnvelopedKey(enc, signing.publicKey)), unit: 'ops/s' });
  envelopes.push({ name: 'SM2EnvelopedKey open (token)', value: rate(() => openSm2EnvelopedKey(env, signing)), unit: 'ops/s' });
  for (const alg of ['rsa2048', 'p256'] as const) {
    const holder = certFor(alg);
    const escrowed = generateKey('p256');
    const cms = envelopePrivateKey(escrowed, holder.cert);
    const label = alg === 'rsa2048' ? 'RSA-2048 OAEP' : 'P-256 ECDH';
    envelopes.push({ name: `CMS EnvelopedData build, ${label} recipient`, value: rate(() => envelopePrivateKey(escrowed, holder.cert)), unit: 'ops/s' });
    envelopes.push({ name: `CMS EnvelopedData open, ${label} recipient`, value: rate(() => openEnvelopedPrivateKey(cms, holder.key, holder.cert)), unit: 'ops/s' });
  }

  const dir = mkdtempSync(join(tmpdir(), 'hpki-token-bench-'));
  const token: BenchRow[] = [];
  try {
    const t = SoftToken.init(join(dir, 'default.tok'), { userPin: 'bench-pin-1', adminPin: 'BENCH-ADMIN-PIN-01' });
    token.push({ name: `PIN check, default KDF (scrypt N=${(DEFAULT_KDF as { N: number }).N}, r=8), SM4-GCM unwrap, 2 atomic writes`, value: medianMs(() => t.verifyPin('HPKI', 'user', 'bench-pin-1'), 7), unit: 'ms' });
    const pb = SoftToken.init(join(dir, 'pbkdf2.tok'), { userPin: 'bench-pin-1', adminPin: 'BENCH-ADMIN-PIN-01', kdf: { alg: 'pbkdf2-sm3', iterations: 200_000 } });
    token.push({ name: 'PIN check, PBKDF2-HMAC-SM3 200 000 iterations (the CLI\'s pbkdf2-sm3)', value: medianMs(() => pb.verifyPin('HPKI', 'user', 'bench-pin-1'), 7), unit: 'ms' });
    const session = t.login('HPKI', 'bench-pin-1');
    session.createContainer('c');
    session.generateKeyPair('c', 'sm2');
    const data = Buffer.alloc(1024, 7);
    token.push({ name: 'SM2 sign (1 KiB) through a token session (file read + unseal per operation)', value: rate(() => session.sign('c', data)), unit: 'ops/s' });
    const req = t.requestUnblock('HPKI');
    token.push({ name: 'answerUnblockChallenge at the CA (default KDF)', value: medianMs(() => answerUnblockChallenge('BENCH-ADMIN-PIN-01', t.tokenId, req), 7), unit: 'ms' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sections: BenchSection[] = [
    { title: 'Key envelopes (KMC delivery to a holder)', rows: envelopes, notes: ['Single thread. SM2EnvelopedKey: one SM2 encryption + SM4-ECB (build), one SM2 decryption + key-pair check (open).'] },
    {
      title: 'Software token',
      rows: token,
      notes: [
        'A PIN check costs one KDF run by design: it is also the cost of each guess against a stolen token file.',
        'Latencies are medians of 7 runs; the token file is on the local disk with fsync.',
      ],
    },
  ];
  return sections;
};

export default bench;

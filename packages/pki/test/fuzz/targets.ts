/**
 * The parsers the fuzzer attacks. Each target names its seeds (valid inputs) and the errors it may
 * throw; anything else is a bug. Add a target by appending to `targets`.
 */
import { createPrivateKey } from 'node:crypto';
import { PkiError, exportPrivateKey, generateKey, importPrivateKey, importPublicKey, publicKeyFromSpki, toPem, type KeyAlgorithm } from '../../src/index.js';
import type { FuzzTarget } from './run.js';

/** Library errors are the only ones callers are promised. */
const isPkiError = (e: unknown): boolean => e instanceof PkiError;

function keySeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  const algs: KeyAlgorithm[] = ['sm2', 'p256', 'p384', 'rsa2048'];
  for (const alg of algs) {
    const key = generateKey(alg);
    seeds.push(key.pkcs8, key.publicKey.spki);
    seeds.push(Buffer.from(toPem('PRIVATE KEY', key.pkcs8)), Buffer.from(toPem('PUBLIC KEY', key.publicKey.spki)));
    // The legacy forms importPrivateKey also reads: SEC1 for EC keys, PKCS#1 for RSA.
    const node = createPrivateKey({ key: key.pkcs8, format: 'der', type: 'pkcs8' });
    if (alg === 'rsa2048') {
      seeds.push(node.export({ type: 'pkcs1', format: 'der' }));
    } else if (alg !== 'sm2') {
      seeds.push(node.export({ type: 'sec1', format: 'der' }));
      seeds.push(Buffer.from(node.export({ type: 'sec1', format: 'pem' })));
    }
  }
  // Password-encrypted PKCS#8 (no passphrase is given while fuzzing: it must be refused cleanly).
  seeds.push(exportPrivateKey(generateKey('p256'), 'der', 'fuzz-pass'), exportPrivateKey(generateKey('sm2'), 'pem', 'fuzz-pass'));
  return seeds;
}

function looksLikePem(input: Buffer): boolean {
  return input.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

/**
 * Key import: PEM or DER private keys (PKCS#8, SEC1, PKCS#1, encrypted PKCS#8) and public keys
 * (SubjectPublicKeyInfo). Every entry point sees every input; each may only throw PkiError.
 */
export const keyImport: FuzzTarget = {
  name: 'key-import',
  seeds: keySeeds(),
  isExpectedError: isPkiError,
  parse(input) {
    const calls: Array<() => unknown> = looksLikePem(input)
      ? [() => importPrivateKey(input), () => importPublicKey(input)]
      : [() => importPrivateKey(input), () => publicKeyFromSpki(input), () => importPublicKey(input)];
    let accepted = 0;
    for (const call of calls) {
      try {
        call();
        accepted++;
      } catch (e) {
        if (!isPkiError(e)) throw e;
      }
    }
    // Reported to the runner as an expected rejection when no entry point took the input.
    if (accepted === 0) throw new PkiError('fuzz.rejected', 'no entry point accepted the input');
    return accepted;
  },
};

/** Every fuzz target; `npm run fuzz` runs them all, `--target NAME` one of them. */
export const targets: FuzzTarget[] = [keyImport];

/** `hpki keygen`: generate a key pair (SM2 by default) and write the private key as PKCS#8. */
import type { Command } from 'commander';
import { KEY_ALGORITHMS, exportPrivateKey, exportPublicKey, generateKey, type KeyAlgorithm } from '@health-pki/pki';
import { readPassphrase, usageError, withContext, writeOutput } from '../io.js';

interface KeygenOptions {
  alg: string;
  out?: string;
  passFile?: string;
  der?: boolean;
  pubOut?: string;
}

/** Registers `hpki keygen`. */
export function register(program: Command): void {
  program
    .command('keygen')
    .description('generate a key pair and write the private key (PKCS#8, encrypted with --pass-file)')
    .option('--alg <alg>', `key algorithm: ${KEY_ALGORITHMS.join(', ')}`, 'sm2')
    .option('--out <file>', 'write the private key here (mode 0600) instead of stdout')
    .option('--pass-file <file>', 'encrypt the private key (AES-256-CBC, PBKDF2) with the passphrase on the first line of this file')
    .option('--der', 'write DER instead of PEM')
    .option('--pub-out <file>', 'also write the public key (SubjectPublicKeyInfo)')
    .addHelpText('after', '\nExamples:\n  $ hpki keygen --alg sm2 --out staff.key\n  $ hpki keygen --alg rsa3072 --pass-file pass.txt --out ca.key --pub-out ca.pub')
    .action((opts: KeygenOptions) => {
      if (!(KEY_ALGORITHMS as readonly string[]).includes(opts.alg)) usageError(`unknown key algorithm "${opts.alg}"; use one of ${KEY_ALGORITHMS.join(', ')}`);
      const pass = opts.passFile !== undefined ? readPassphrase(opts.passFile) : undefined;
      const key = generateKey(opts.alg as KeyAlgorithm);
      const format = opts.der ? 'der' : 'pem';
      const encoded = withContext('--pass-file', () => exportPrivateKey(key, format, pass));
      writeOutput(encoded, opts.out, { secret: true });
      if (opts.pubOut) writeOutput(exportPublicKey(key.publicKey, format), opts.pubOut);
    });
}

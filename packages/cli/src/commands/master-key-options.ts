/**
 * The master-key options shared by `hpki start` and `hpki master-key`: a key file
 * (--master-key-file or HPKI_MASTER_KEY_FILE), a passphrase (HPKI_MASTER_PASSPHRASE, never a flag:
 * a command line is visible to every user of the machine), or else the demonstration key file
 * DATA_DIR/master.key; and the cipher of new sealed objects.
 */
import { resolve } from 'node:path';
import type { SealCipher, SealingOptions } from '@health-pki/server';
import { CliError, usageError } from '../io.js';

/** The options these commands read. */
export interface MasterKeyFlags {
  masterKeyFile?: string;
  sealCipher?: string;
}

const CIPHERS: readonly SealCipher[] = ['aes-256-gcm', 'sm4-gcm'];

/**
 * The sealing options from flags and environment. The passphrase is removed from the
 * environment once read, so that worker threads and child processes never inherit it.
 */
export function sealingFromOptions(opts: MasterKeyFlags, dataDir: string): SealingOptions {
  const env = process.env;
  const file = opts.masterKeyFile ?? env.HPKI_MASTER_KEY_FILE;
  const passphrase = env.HPKI_MASTER_PASSPHRASE;
  delete env.HPKI_MASTER_PASSPHRASE;
  if (file !== undefined && passphrase !== undefined) usageError('give the master key either as a file (--master-key-file, HPKI_MASTER_KEY_FILE) or as HPKI_MASTER_PASSPHRASE, not both');
  const cipher = opts.sealCipher ?? env.HPKI_SEAL_CIPHER;
  if (cipher !== undefined && !(CIPHERS as readonly string[]).includes(cipher)) usageError(`--seal-cipher must be one of ${CIPHERS.join(', ')}, not "${cipher}"`);
  const masterKey: SealingOptions['masterKey'] =
    passphrase !== undefined ? { kind: 'passphrase', passphrase } : file !== undefined ? { kind: 'file', path: resolve(file) } : { kind: 'dev-file', dataDir };
  return { masterKey, cipher: cipher as SealCipher | undefined };
}

/** Turns a refused master key into a one-line usage error; anything else passes through. */
export function masterKeyRefusal(e: unknown): never {
  if (e instanceof Error && e.name === 'MasterKeyError') throw new CliError(e.message);
  throw e;
}

/**
 * What a deployment seals with, resolved once at start: the master key checked against the
 * database, and the envelope that seals CA keys and application materials under it.
 */
import type { Database } from '../store/database.js';
import { Envelope, type SealCipher } from './envelope.js';
import { openMasterKey, type MasterKeySource, type OpenedMasterKey, type ScryptParams } from './master-key.js';

/** How a deployment seals objects at rest. */
export interface SealingOptions {
  /** Where the master key comes from; default: DIR/master.key, generated at first start (demo). */
  masterKey?: MasterKeySource;
  /** Cipher of new objects; default AES-256-GCM (see envelope.ts for why). */
  cipher?: SealCipher;
  /** scrypt cost for a passphrase registered by this start (tests lower it). */
  scrypt?: ScryptParams;
}

/** The deployment's envelope and how its master key was obtained. */
export interface Sealing {
  envelope: Envelope;
  masterKey: OpenedMasterKey;
}

/** Opens the master key (see master-key.ts) and builds the envelope. */
export async function openSealing(database: Database, dataDir: string, opts: SealingOptions = {}): Promise<Sealing> {
  const masterKey = await openMasterKey(database, opts.masterKey ?? { kind: 'dev-file', dataDir }, { scrypt: opts.scrypt });
  return { envelope: new Envelope(masterKey.key, opts.cipher ?? 'aes-256-gcm'), masterKey };
}

/** The start-up warning for a demonstration master key, or undefined for a production source. */
export function masterKeyWarning(m: OpenedMasterKey): string | undefined {
  if (m.source !== 'dev-file') return undefined;
  return (
    `WARNING: CA keys and application materials are sealed under the demonstration master key ${m.file}` +
    `${m.generated ? ' (generated now)' : ''}, kept beside the database it protects. A production deployment keeps the master key elsewhere: ` +
    'HPKI_MASTER_PASSPHRASE or --master-key-file on separate storage (docs/operations.md).'
  );
}

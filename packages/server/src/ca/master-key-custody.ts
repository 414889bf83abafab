/**
 * The default custody: CA keys sealed as PKCS#8 under the deployment's master key (envelope
 * encryption, security/envelope.ts), each bound to the row it belongs to. Rows written before
 * the deployment had a master key ("plaintext-pkcs8") still open, and `resealLegacyCaKeys`
 * rewrites them sealed.
 */
import { sql } from 'kysely';
import { importPrivateKey, type PrivateKey } from '@health-pki/pki';
import type { Database } from '../store/database.js';
import { all, run } from '../store/sql.js';
import type { Sealer } from '../security/envelope.js';
import { plaintextCustody, type KeyCustody } from './key-custody.js';

/** The context a CA key is sealed under. */
export function caKeyContext(issuerId: string): string {
  return `ca-key:${issuerId}`;
}

/** Keys sealed by an envelope (see security/envelope.ts). */
export class MasterKeyCustody implements KeyCustody {
  readonly protection: string;

  constructor(private readonly envelope: Sealer) {
    this.protection = envelope.protection;
  }

  /** Seals the PKCS#8 of `key`; callers written before contexts existed get the shared context "key". */
  seal(key: PrivateKey, context = 'key'): Buffer {
    return this.envelope.seal(key.pkcs8, context);
  }

  /** Opens a sealed key; plaintext rows of older deployments too. */
  open(sealed: Buffer, protection: string, context = 'key'): PrivateKey {
    if (protection === plaintextCustody.protection) return plaintextCustody.open(sealed, protection);
    const pkcs8 = this.envelope.open(sealed, protection, context);
    try {
      return importPrivateKey(pkcs8);
    } finally {
      pkcs8.fill(0);
    }
  }
}

/**
 * Seals the CA keys still stored as plain PKCS#8 (data directories from before the master key):
 * one row at a time, each update guarded by its old protection, so that processes starting
 * together do it once. Returns the issuer ids re-sealed. SQLite keeps the old bytes in free
 * pages until they are reused: docs/operations.md says to VACUUM after the first start.
 */
export async function resealLegacyCaKeys(database: Database, custody: MasterKeyCustody): Promise<string[]> {
  const rows = await all<{ id: string; key_sealed: Buffer }>(database.db, sql`select id, key_sealed from ca_issuers where key_protection = ${plaintextCustody.protection}`);
  const done: string[] = [];
  for (const r of rows) {
    const key = plaintextCustody.open(Buffer.from(r.key_sealed), plaintextCustody.protection);
    const sealed = custody.seal(key, caKeyContext(r.id));
    const n = await database.transaction((tx) =>
      run(tx, sql`update ca_issuers set key_sealed = ${sealed}, key_protection = ${custody.protection} where id = ${r.id} and key_protection = ${plaintextCustody.protection}`),
    );
    if (n === 1) done.push(r.id);
  }
  return done;
}

/**
 * Where an AccountRegistry keeps its mappings: a small interface the embedding system can back
 * with its own database, and two implementations that need nothing — in memory, and one JSON file
 * (written whole to a temporary file and renamed, so a crash never leaves half a file).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

/** One registered holder: an identity key mapped to a local account and its roles. */
export interface AccountRecord {
  /** The holder's identity key (identity/identity.ts), e.g. "person:resident-id:11010519491231002X". */
  identityKey: string;
  account: string;
  roles: string[];
  /** The holder's name when registered (for people reading the list). */
  displayName?: string;
  registeredAt: string;
  updatedAt: string;
  /** The certificate last seen for this holder (serial, issuer, trust-list CA). */
  lastCertificate?: { serial: string; issuer: string; ca?: string };
}

/** The storage an AccountRegistry needs. */
export interface AccountStorage {
  get(identityKey: string): Promise<AccountRecord | undefined>;
  put(record: AccountRecord): Promise<void>;
  /** True when something was removed. */
  delete(identityKey: string): Promise<boolean>;
  list(): Promise<AccountRecord[]>;
}

/** Keeps the records in a Map (tests, or a system that rebuilds them at start). */
export class MemoryAccountStorage implements AccountStorage {
  protected readonly records = new Map<string, AccountRecord>();
  /** The record of a key. */
  async get(key: string): Promise<AccountRecord | undefined> {
    const r = this.records.get(key);
    return r && clone(r);
  }
  /** Stores (replaces) a record. */
  async put(record: AccountRecord): Promise<void> {
    this.records.set(record.identityKey, clone(record));
  }
  /** Removes a record. */
  async delete(key: string): Promise<boolean> {
    return this.records.delete(key);
  }
  /** Every record, by identity key. */
  async list(): Promise<AccountRecord[]> {
    return [...this.records.values()].map(clone).sort((a, b) => a.identityKey.localeCompare(b.identityKey));
  }
}

/** Keeps the records in one JSON file; writes are serialised in this process. */
export class JsonFileAccountStorage extends MemoryAccountStorage {
  private loaded?: Promise<void>;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {
    super();
  }

  /** The record of a key. */
  override async get(key: string): Promise<AccountRecord | undefined> {
    await this.load();
    return super.get(key);
  }
  /** Stores a record and rewrites the file. */
  override async put(record: AccountRecord): Promise<void> {
    await this.load();
    await super.put(record);
    await this.save();
  }
  /** Removes a record and rewrites the file. */
  override async delete(key: string): Promise<boolean> {
    await this.load();
    const removed = await super.delete(key);
    if (removed) await this.save();
    return removed;
  }
  /** Every record. */
  override async list(): Promise<AccountRecord[]> {
    await this.load();
    return super.list();
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      let text: string;
      try {
        text = await readFile(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      const data = JSON.parse(text) as { version?: number; accounts?: AccountRecord[] };
      if (data.version !== 1 || !Array.isArray(data.accounts)) throw new Error(`${this.file} is not an account registry file (version 1)`);
      for (const r of data.accounts) this.records.set(r.identityKey, r);
    })();
    return this.loaded;
  }

  private save(): Promise<void> {
    // Each save writes the state as of its turn; chaining keeps two renames from racing.
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, accounts: [...this.records.values()] }, null, 1), { mode: 0o600 });
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}

function clone(r: AccountRecord): AccountRecord {
  return { ...r, roles: [...r.roles], lastCertificate: r.lastCertificate && { ...r.lastCertificate } };
}

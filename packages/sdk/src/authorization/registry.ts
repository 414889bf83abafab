/**
 * Registration and authorization of certificate holders (Regulation Art. 15, 17): a holder is
 * registered by identity — the normalised identity key (identity/identity.ts) — not by certificate,
 * so a renewed or reissued certificate, or one from another admitted CA, still maps to the same
 * local account and roles. Whether the certificate itself is acceptable is the validator's job:
 * pass only identities of certificates that validated (e.g. a LoginSuccess).
 */
import type { HolderIdentity } from '../identity/identity.js';
import type { AccountRecord, AccountStorage } from './storage.js';

/** A refused registry operation, with a code and a sentence. */
export class RegistryError extends Error {
  constructor(
    readonly code: 'identity.none' | 'account.invalid' | 'role.invalid' | 'identity.registered' | 'identity.unknown',
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Where a certificate came from, to remember as the holder's latest. */
export interface SeenCertificate {
  ca?: string;
}

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Maps holders' identities to local accounts and roles. */
export class AccountRegistry {
  constructor(private readonly storage: AccountStorage) {}

  /**
   * Registers a holder to `account` with `roles`. Registering the same identity again to the same
   * account updates the roles; to another account it is refused (unregister first), so one
   * person can never silently become someone else's account.
   */
  async register(identity: HolderIdentity, account: string, roles: string[] = [], seen: SeenCertificate = {}): Promise<AccountRecord> {
    const key = requireKey(identity);
    checkAccount(account);
    checkRoles(roles);
    const existing = await this.storage.get(key);
    if (existing && existing.account !== account) {
      throw new RegistryError('identity.registered', `this holder (${key}) is already registered to account "${existing.account}"`);
    }
    const now = new Date().toISOString();
    const record: AccountRecord = {
      identityKey: key,
      account,
      roles: [...new Set([...(existing?.roles ?? []), ...roles])].sort(),
      displayName: identity.name || existing?.displayName,
      registeredAt: existing?.registeredAt ?? now,
      updatedAt: now,
      lastCertificate: { serial: identity.certificate.serial, issuer: identity.certificate.issuer, ca: seen.ca },
    };
    await this.storage.put(record);
    return record;
  }

  /** The account of a holder, or undefined when the holder is not registered (or the identity has no key). */
  async resolve(identity: HolderIdentity | string): Promise<AccountRecord | undefined> {
    const key = typeof identity === 'string' ? identity : identity.key;
    return key ? this.storage.get(key) : undefined;
  }

  /**
   * The account of a holder who just authenticated, noting the certificate used; undefined when
   * not registered. The roles come from the registration, whichever certificate was used.
   */
  async signIn(identity: HolderIdentity, seen: SeenCertificate = {}): Promise<AccountRecord | undefined> {
    const record = await this.resolve(identity);
    if (!record) return undefined;
    const last = record.lastCertificate;
    if (last?.serial !== identity.certificate.serial || last?.issuer !== identity.certificate.issuer || last?.ca !== seen.ca) {
      record.lastCertificate = { serial: identity.certificate.serial, issuer: identity.certificate.issuer, ca: seen.ca };
      record.updatedAt = new Date().toISOString();
      await this.storage.put(record);
    }
    return record;
  }

  /** True when the holder is registered and has `role`. */
  async hasRole(identity: HolderIdentity | string, role: string): Promise<boolean> {
    return (await this.resolve(identity))?.roles.includes(role) ?? false;
  }

  /** Adds roles to a registered holder. */
  async grant(identityKey: string, roles: string[]): Promise<AccountRecord> {
    checkRoles(roles);
    return this.update(identityKey, (r) => (r.roles = [...new Set([...r.roles, ...roles])].sort()));
  }

  /** Removes roles from a registered holder. */
  async withdraw(identityKey: string, roles: string[]): Promise<AccountRecord> {
    return this.update(identityKey, (r) => (r.roles = r.roles.filter((x) => !roles.includes(x))));
  }

  /** Removes a holder's registration; true when there was one. */
  async unregister(identityKey: string): Promise<boolean> {
    return this.storage.delete(identityKey);
  }

  /** Every identity registered to `account`. */
  async identitiesOf(account: string): Promise<AccountRecord[]> {
    return (await this.storage.list()).filter((r) => r.account === account);
  }

  private async update(identityKey: string, change: (r: AccountRecord) => void): Promise<AccountRecord> {
    const r = await this.storage.get(identityKey);
    if (!r) throw new RegistryError('identity.unknown', `no holder is registered under ${identityKey}`);
    change(r);
    r.updatedAt = new Date().toISOString();
    await this.storage.put(r);
    return r;
  }
}

function requireKey(identity: HolderIdentity): string {
  if (identity.key) return identity.key;
  const why = identity.problems.length ? `: ${identity.problems.join('; ')}` : ' (no resident ID, passport, officer ID or organisation code)';
  throw new RegistryError('identity.none', `the certificate of "${identity.name}" carries no identity number to register by${why}`);
}

function checkAccount(account: string): void {
  if (typeof account !== 'string' || account.trim().length === 0 || account.length > 200) throw new RegistryError('account.invalid', 'an account is a non-empty name of at most 200 characters');
}

function checkRoles(roles: string[]): void {
  for (const r of roles) if (typeof r !== 'string' || !ROLE.test(r)) throw new RegistryError('role.invalid', `"${String(r)}" is not a role name (letters, digits, _ . : -, at most 64)`);
}

/**
 * PIN checks with retry counters, as GM/T 0016 defines them: every try is spent on disk before the
 * PIN is checked, so killing the process during the (deliberately slow) key derivation cannot give
 * a free try; a right PIN restores the counter; at zero the PIN is locked.
 */
import { randomBytes } from 'node:crypto';
import { PinIncorrectError, PinLockedError, type PinRole } from './errors.js';
import type { ApplicationRecord, PinRecord } from './format.js';
import { checkNewPin, deriveKek, seal, unseal, wrapAad } from './protection.js';
import type { LockedToken } from './store.js';

/**
 * Checks `pin` for `role` and returns the data key it unwraps. The decremented counter is saved
 * before the check; on success the counter is restored in memory and the caller saves it (with
 * whatever else it changes). A wrong PIN throws PinIncorrectError, a locked one PinLockedError.
 */
export function checkPin(t: LockedToken, app: ApplicationRecord, role: PinRole, pin: string): Buffer {
  const rec = app[role];
  if (rec.remaining <= 0) throw new PinLockedError(role);
  rec.remaining -= 1;
  t.save();
  const kek = deriveKek(pin, rec.salt, app.kdf, app.cipher);
  const dataKey = unseal(app.cipher, kek, rec.wrappedKey, wrapAad(t.record.tokenId, app.name, role));
  kek.fill(0);
  if (!dataKey) throw new PinIncorrectError(role, rec.remaining);
  rec.remaining = rec.maxRetries;
  return dataKey;
}

/** A PIN record wrapping `dataKey` under a new PIN, with a fresh salt and a full counter. */
export function newPinRecord(tokenId: string, app: Pick<ApplicationRecord, 'name' | 'kdf' | 'cipher'>, role: PinRole, pin: string, dataKey: Uint8Array, maxRetries: number): PinRecord {
  checkNewPin(pin, `${role} PIN`);
  const salt = randomBytes(16);
  const kek = deriveKek(pin, salt, app.kdf, app.cipher);
  try {
    return { maxRetries, remaining: maxRetries, salt, wrappedKey: seal(app.cipher, kek, dataKey, wrapAad(tokenId, app.name, role)) };
  } finally {
    kek.fill(0);
  }
}

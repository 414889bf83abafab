/**
 * Errors of the software token. All are PkiErrors (so the CLI and HTTP layers map them like any
 * library error) with a stable code under "token.". PIN failures have their own classes because
 * callers act on them: show the tries left, or start the unblock flow.
 */
import { PkiError } from '@health-pki/pki';

/** A refused token operation; `code` is "token.<reason>". */
export class TokenError extends PkiError {
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(`token.${reason}`, message, options);
  }
}

/** Which PIN: the holder's user PIN or the administrator's (SO) PIN. */
export type PinRole = 'user' | 'admin';

/** A wrong PIN; `remaining` tries are left before the PIN locks (0: it is locked now). */
export class PinIncorrectError extends TokenError {
  readonly role: PinRole;
  readonly remaining: number;
  constructor(role: PinRole, remaining: number) {
    super('pin.incorrect', `wrong ${role} PIN: ${remaining === 0 ? 'the PIN is now locked' : `${remaining} ${remaining === 1 ? 'try' : 'tries'} left`}`);
    this.role = role;
    this.remaining = remaining;
  }
}

/** The PIN is locked after too many wrong tries; the user PIN is unblocked with the admin PIN or the CA's response. */
export class PinLockedError extends TokenError {
  readonly role: PinRole;
  constructor(role: PinRole) {
    super('pin.locked', role === 'user' ? 'the user PIN is locked: ask the CA for a PIN unblock' : 'the admin PIN is locked');
    this.role = role;
  }
}

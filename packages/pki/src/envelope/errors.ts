/**
 * Errors of the key envelopes. Malformed input is a ParseError as everywhere in the library;
 * an envelope that parses but cannot be opened is an EnvelopeError whose code says why at the
 * level a caller can act on (wrong recipient, inconsistent contents), never which byte failed.
 */
import { PkiError } from '../errors.js';

/** Why an envelope could not be opened. */
export type EnvelopeFailure =
  /** The key given is not the one the envelope was made for (or the wrapped key was altered). */
  | 'recipient'
  /** The envelope opened, but the private key inside does not match the public key beside it. */
  | 'mismatch'
  /** The envelope opened, but what it carries is not a usable private key. */
  | 'content';

/** An envelope that parses but cannot be opened; `code` is "envelope.<failure>". */
export class EnvelopeError extends PkiError {
  readonly failure: EnvelopeFailure;
  constructor(failure: EnvelopeFailure, message: string, options?: { cause?: unknown }) {
    super(`envelope.${failure}`, message, options);
    this.failure = failure;
  }
}

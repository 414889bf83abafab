/**
 * Errors crossing a thread boundary. postMessage clones an Error as a plain Error, which would
 * turn a refusal (a 4xx naming the broken rule) into a 500; so errors travel as data and are
 * rebuilt as instances of the same classes, with the same fields.
 */
import { ParseError, PkiError, ProfileError, ProfileRuleError, UnsupportedError } from '@health-pki/pki';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError, ServiceError, TooLargeError, UnauthenticatedError } from '../errors.js';

/** An error as data. */
export interface WireError {
  kind: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

const CLASSES: Record<string, abstract new (...args: never[]) => Error> = {
  ProfileRuleError,
  ProfileError,
  ParseError,
  UnsupportedError,
  PkiError,
  RuleError,
  InvalidRequestError,
  TooLargeError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ServiceError,
};

/** The error as data: its class (the most specific one known) and its own fields. */
export function errorToWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { kind: 'Error', message: String(e), fields: {} };
  const kind = Object.keys(CLASSES).find((k) => e instanceof CLASSES[k]!) ?? 'Error';
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  return { kind, message: e.message, stack: e.stack, fields };
}

/** The error rebuilt as an instance of its class, so that `instanceof` and the HTTP mapping see it as thrown. */
export function errorFromWire(w: WireError): Error {
  const cls = CLASSES[w.kind] ?? Error;
  const e = Object.create(cls.prototype) as Error;
  Object.assign(e, w.fields);
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: w.stack ?? `${w.kind}: ${w.message}`, writable: true, configurable: true });
  return e;
}

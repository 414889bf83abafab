/**
 * Errors the services throw on purpose. Each carries the HTTP status it maps to and a stable
 * machine-readable code, so the HTTP layer never has to guess and bad input never becomes a 500.
 */

/** Base class: a refusal with a status, a code such as "ca.unknown", and a sentence for people. */
export class ServiceError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
}

/** The named thing does not exist (404). */
export class NotFoundError extends ServiceError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** The request is malformed or names something impossible (400). */
export class InvalidRequestError extends ServiceError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

/** The request is well-formed but breaks a business rule (422). */
export class RuleError extends ServiceError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

/** The thing is not in a state that allows this, or it changed meanwhile (409). */
export class ConflictError extends ServiceError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** The caller is known but may not do this (403). */
export class ForbiddenError extends ServiceError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}

/** The caller is not known (401). */
export class UnauthenticatedError extends ServiceError {
  constructor(message: string) {
    super(401, 'auth.required', message);
  }
}

/** An upload is larger than allowed (413). */
export class TooLargeError extends ServiceError {
  constructor(code: string, message: string) {
    super(413, code, message);
  }
}

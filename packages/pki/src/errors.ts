/**
 * Typed errors of the PKI library. Every parser throws ParseError for bad input, never a raw
 * TypeError or RangeError, so that callers (HTTP endpoints, the CLI) can map it to a clear 4xx.
 */

/** Base class of every error the library throws on purpose. */
export class PkiError extends Error {
  /** A stable machine-readable code, e.g. "parse.der" or "profile.keyUsage". */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input could not be decoded: bad PEM, bad DER, wrong structure, unsupported encoding. */
export class ParseError extends PkiError {
  constructor(what: string, message: string, options?: { cause?: unknown }) {
    super(`parse.${what}`, `cannot parse ${what}: ${message}`, options);
  }
}

/** A request or certificate breaks a rule of its profile; `rule` names the rule. */
export class ProfileError extends PkiError {
  readonly rule: string;
  constructor(rule: string, message: string) {
    super(`profile.${rule}`, message);
    this.rule = rule;
  }
}

/** An algorithm, key type or parameter that this library does not support. */
export class UnsupportedError extends PkiError {
  constructor(message: string) {
    super('unsupported', message);
  }
}

/**
 * Runs a decoder and turns anything it throws into a ParseError, so that bugs or quirks in
 * third-party ASN.1 code never leak out as untyped exceptions.
 */
export function parsing<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof PkiError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ParseError(what, msg, { cause: e });
  }
}

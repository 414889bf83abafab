/**
 * Input, output and error handling shared by every hpki command: reading PEM or DER files,
 * writing to --out or stdout, JSON output, and turning any failure into one line on stderr
 * with a meaningful exit code (2: bad usage or input, 1: a negative result such as "invalid").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Certificate,
  CertificationRequestDoc,
  PkiError,
  importPrivateKey,
  importPublicKey,
  toDerList,
  type PrivateKey,
  type PublicKey,
} from '@health-pki/pki';

/** Exit code for bad usage or unusable input (missing file, garbage PEM, wrong passphrase, broken profile rule). */
export const EXIT_USAGE = 2;
/** Exit code for a well-formed question answered "no" (e.g. a certificate that does not verify). */
export const EXIT_NEGATIVE = 1;

/** A failure the CLI reports as one line, with the exit code to use. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Throws a usage/input error (exit code 2). */
export function usageError(message: string): never {
  throw new CliError(message, EXIT_USAGE);
}

/** Reads a file ("-" is stdin); a missing or unreadable file is a CliError naming it. */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new CliError(`cannot read ${what} "${path}": ${why}`);
  }
}

/** Reads a passphrase from the first line of a file (trailing newline and CR removed). */
export function readPassphrase(path: string): string {
  const text = readInput(path, 'passphrase file').toString('utf8');
  const first = text.split(/\r?\n/)[0] ?? '';
  if (first === '') usageError(`passphrase file "${path}" is empty`);
  return first;
}

/** Refuses input that is neither PEM text nor a DER SEQUENCE, before a parser gives a cryptic reason. */
function requirePemOrDer(bytes: Buffer, what: string, path: string): void {
  const pem = bytes.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
  if (!pem && bytes[0] !== 0x30) throw new CliError(`${what} "${path}" is neither PEM nor DER`);
}

/** Reads a private key (PEM or DER, optionally encrypted) with the passphrase from `passFile`. */
export function readPrivateKey(path: string, passFile?: string): PrivateKey {
  const bytes = readInput(path, 'private key');
  requirePemOrDer(bytes, 'private key', path);
  const pass = passFile !== undefined ? readPassphrase(passFile) : undefined;
  if (pass === undefined && bytes.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new CliError(`private key "${path}" is encrypted: give its passphrase with --pass-file`);
  }
  try {
    return withContext(`private key "${path}"`, () => importPrivateKey(bytes, pass));
  } catch (e) {
    // An encrypted DER key without a passphrase: the library says so; name the flag that helps.
    if (pass === undefined && e instanceof CliError && /is encrypted/.test(e.message)) {
      throw new CliError(`private key "${path}" is encrypted: give its passphrase with --pass-file`);
    }
    throw e;
  }
}

/** Reads a public key (SubjectPublicKeyInfo, PEM or DER). */
export function readPublicKey(path: string): PublicKey {
  const bytes = readInput(path, 'public key');
  requirePemOrDer(bytes, 'public key', path);
  return withContext(`public key "${path}"`, () => importPublicKey(bytes));
}

/** Reads one certificate (the first in a PEM file, or DER). */
export function readCertificate(path: string): Certificate {
  const bytes = readInput(path, 'certificate');
  requirePemOrDer(bytes, 'certificate', path);
  return withContext(`certificate "${path}"`, () => Certificate.parse(bytes));
}

/** Reads every certificate in a PEM bundle (or the single DER certificate). */
export function readCertificates(path: string): Certificate[] {
  const bytes = readInput(path, 'certificate');
  requirePemOrDer(bytes, 'certificate', path);
  return withContext(`certificates "${path}"`, () => {
    const ders = toDerList(bytes, ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'], 'certificate');
    if (ders.length === 0) throw new CliError(`no certificate found in "${path}"`);
    return ders.map((d) => Certificate.parse(d));
  });
}

/** Reads a PKCS#10 certification request. */
export function readCsr(path: string): CertificationRequestDoc {
  const bytes = readInput(path, 'certification request');
  requirePemOrDer(bytes, 'certification request', path);
  return withContext(`certification request "${path}"`, () => CertificationRequestDoc.parse(bytes));
}

/** Runs `fn`; a library error becomes a CliError whose message says which input it came from. */
export function withContext<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PkiError) throw new CliError(`${what}: ${pkiMessage(e)}`);
    throw e;
  }
}

/** Writes bytes or text to `out` (file) or to stdout; private keys are written with mode 0600. */
export function writeOutput(data: string | Uint8Array, out?: string, opts: { secret?: boolean } = {}): void {
  if (out === undefined || out === '-') {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileSync(out, data, { mode: opts.secret ? 0o600 : 0o644 });
  } catch (e) {
    throw new CliError(`cannot write "${out}": ${(e as Error).message}`);
  }
}

/** Prints a value as pretty JSON on stdout (or to `out`). */
export function writeJson(value: unknown, out?: string): void {
  writeOutput(JSON.stringify(value, null, 2) + '\n', out);
}

/** Splits a repeatable or comma-separated option into its items. */
export function listOption(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Commander collector for repeatable options (`--x a --x b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Chinese users (LANG/LC_ALL zh*) get the Chinese sentence when the error has one; profile errors name their rule. */
function pkiMessage(e: PkiError): string {
  const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
  const zh = (e as PkiError & { messageZh?: unknown }).messageZh;
  const text = locale.startsWith('zh') && typeof zh === 'string' ? zh : e.message;
  const rule = (e as PkiError & { rule?: unknown }).rule;
  return typeof rule === 'string' ? `${text} [${rule}]` : text;
}

/** The one line printed for an error, and its exit code. Unknown errors never show a stack trace. */
export function describeError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode };
  if (e instanceof PkiError) return { message: pkiMessage(e), exitCode: EXIT_USAGE };
  const msg = e instanceof Error ? e.message : String(e);
  return { message: `internal error: ${msg}`, exitCode: EXIT_USAGE };
}

/** Reports an error on stderr as "hpki: message" and sets the process exit code. */
export function reportError(e: unknown): void {
  const { message, exitCode } = describeError(e);
  process.stderr.write(`hpki: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (process.env.HPKI_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exitCode = exitCode;
}

/** Marks a negative result (exit code 1) without printing anything extra. */
export function negativeResult(): void {
  process.exitCode = EXIT_NEGATIVE;
}

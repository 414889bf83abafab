/**
 * What the online commands (enroll, revoke, ca) share: reading the bearer token, calling the
 * service's REST API, and turning its error answers into one clear line and an exit code.
 */
import type { Command } from 'commander';
import { CliError, EXIT_NEGATIVE, readInput, usageError } from './io.js';

/** Options every online command takes. */
export interface OnlineOptions {
  server: string;
  tokenFile?: string;
  /** A bearer secret already in hand (a login session), used instead of --token-file. */
  bearer?: string;
  json?: boolean;
}

/** Adds --server (and --token-file when the command changes something) and --json. */
export function addOnlineOptions(cmd: Command, opts: { token: boolean }): Command {
  cmd.requiredOption('--server <url>', 'the certification service, e.g. http://127.0.0.1:8080');
  if (opts.token) cmd.requiredOption('--token-file <file>', 'bearer token (the bootstrap administrator\'s is DATA_DIR/admin.token)');
  return cmd.option('--json', 'print the answer as JSON');
}

/** Reads the bearer token from the first line of a file. */
export function readToken(file: string): string {
  const token = readInput(file, 'token file').toString('utf8').split(/\r?\n/)[0]?.trim() ?? '';
  if (token === '') usageError(`token file "${file}" is empty`);
  return token;
}

/** An error answer of the service, with its status and code. */
export class ServiceAnswerError extends CliError {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    // 4xx: the service understood and said no; that is a negative result unless the request was malformed.
    super(`server refused (${status} ${code}): ${message}`, status === 400 || status === 401 || status === 404 || status === 413 ? 2 : EXIT_NEGATIVE);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; a non-2xx answer becomes a ServiceAnswerError, an unreachable server a CliError. */
export async function callApi<T = any>(opts: OnlineOptions, method: string, path: string, body?: unknown): Promise<T> {
  let base: URL;
  try {
    base = new URL(opts.server);
  } catch {
    usageError(`--server "${opts.server}" is not a URL`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  else if (opts.tokenFile !== undefined) headers.authorization = `Bearer ${readToken(opts.tokenFile)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${opts.server}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ServiceAnswerError(res.status, json?.error ?? 'error', json?.message ?? (text.slice(0, 200) || res.statusText));
  return json as T;
}

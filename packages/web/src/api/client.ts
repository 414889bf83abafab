/**
 * The API client: JSON over fetch with the session's bearer token, errors as ApiError (status,
 * the service's stable code and sentence), downloads of protected files as blobs.
 */

const TOKEN_KEY = 'hpki.token';

/** The stored bearer token (sessionStorage: it ends with the browser tab). */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Stores or forgets the bearer token. */
export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

const PLATFORM_TOKEN_KEY = 'hpki.platformToken';

/** The stored bearer token of the national platform (its own tokens, reached at /platform/*). */
export function storedPlatformToken(): string | null {
  return sessionStorage.getItem(PLATFORM_TOKEN_KEY);
}

/** Stores or forgets the platform bearer token. */
export function storePlatformToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(PLATFORM_TOKEN_KEY);
  else sessionStorage.setItem(PLATFORM_TOKEN_KEY, token);
}

/** A refusal or failure answered by the service (or the network, status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For broken profile rules: the service's Chinese sentence. */
    readonly messageZh?: string,
  ) {
    super(message);
  }
}

/** Query string from an object, leaving out empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function send(method: string, path: string, body?: unknown, token = storedToken()): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  if (!res.ok) {
    let e: { error?: string; message?: string; messageZh?: string } = {};
    try {
      e = (await res.json()) as typeof e;
    } catch {
      // not JSON (a proxy's page): the status alone speaks
    }
    throw new ApiError(res.status, e.error ?? 'http', e.message ?? res.statusText, e.messageZh);
  }
  return res;
}

/** Calls the API and returns its JSON answer (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await send(method, path, body, token);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The response headers of a HEAD request, or null on 404. */
export async function head(path: string): Promise<Headers | null> {
  try {
    return (await send('HEAD', path)).headers;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** Saves bytes as a file through a temporary link (downloads that need the bearer token). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Fetches a protected file with the bearer token (the session's, or `token`) and saves it. */
export async function download(path: string, filename: string, token?: string): Promise<void> {
  const res = await send('GET', path, undefined, token);
  saveBlob(await res.blob(), filename);
}

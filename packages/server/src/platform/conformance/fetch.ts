/**
 * The conformance test's HTTP client for a CA's live endpoints. The URLs come from the CA (its
 * certificates, its application), so every fetch is bounded: http/https only, a total time limit
 * (headers and body), a size limit enforced while reading, and every failure turned into a
 * sentence the report can carry instead of an exception that could stop the run.
 */

/** Default time limit of one fetch, ms. */
export const FETCH_TIMEOUT_MS = 5_000;

/** What a bounded fetch answers. */
export interface FetchedBody {
  status: number;
  contentType: string;
  body: Buffer;
}

/** A fetch that failed, in plain words (unreachable, timed out, too large, wrong scheme). */
export class FetchFailure extends Error {}

/** Options of one fetch. */
export interface BoundedFetchOptions {
  method?: 'GET' | 'POST';
  body?: Buffer;
  contentType?: string;
  accept?: string;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  timeoutMs?: number;
}

/** Fetches `url` within the time and size limits; throws FetchFailure with a plain message. */
export async function boundedFetch(url: string, opts: BoundedFetchOptions): Promise<FetchedBody> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FetchFailure(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new FetchFailure(`${url} is not an http or https URL`);
  const timeoutMs = opts.timeoutMs ?? FETCH_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = {};
  if (opts.contentType) headers['content-type'] = opts.contentType;
  if (opts.accept) headers.accept = opts.accept;
  try {
    const res = await fetch(parsed, { method: opts.method ?? 'GET', headers, body: opts.body, signal, redirect: 'error' });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new FetchFailure(`${url} answered ${declared} bytes, more than the ${opts.maxBytes} allowed`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > opts.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new FetchFailure(`${url} answered more than the ${opts.maxBytes} bytes allowed`);
        }
        chunks.push(Buffer.from(value));
      }
    }
    return { status: res.status, contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase(), body: Buffer.concat(chunks) };
  } catch (e) {
    if (e instanceof FetchFailure) throw e;
    if (signal.aborted) throw new FetchFailure(`${url} did not answer within ${timeoutMs / 1000} s`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new FetchFailure(`${url} could not be reached (${cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))})`);
  }
}

/**
 * One probe over the network: an OCSP request for a known certificate (the answer must parse, be
 * successful, name that certificate and be signed by its issuer or a responder the issuer
 * delegated), or a CRL download (it must parse, be a complete CRL of that issuer, carry a valid
 * signature and a nextUpdate still ahead). Latency is the time to the whole answer (our own
 * checks after it are not counted: they measure the platform, not the CA); a timeout,
 * an HTTP error or a failed check makes the probe "down" with the reason.
 */
import { buildOcspRequest, certId, Crl, OcspResponse, verifyOcspResponse } from '@health-pki/pki';
import type { CrlTarget, OcspTarget, ProbeTarget } from './targets.js';

/** What one probe found. */
export interface ProbeOutcome {
  ok: boolean;
  /** Milliseconds to the whole answer (also for failed checks; the time-out for time-outs). */
  latencyMs: number;
  /** Why it is down. */
  error?: string;
  /** HTTP status, when an answer came. */
  httpStatus?: number;
}

/** How to probe. */
export interface ProbeOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Largest answer read (default 32 MiB: a CRL can be large). */
  maxBytes?: number;
  clock?: () => Date;
  /** Aborts the probe (the platform shutting down). */
  signal?: AbortSignal;
}

class ProbeFailure extends Error {}

/** The limits of one probe, and where fetchBody notes when the whole answer was in. */
type Limits = Required<Pick<ProbeOptions, 'timeoutMs' | 'maxBytes'>> & { stop?: AbortSignal; answeredAt?: number };

async function fetchBody(url: string, init: RequestInit, opts: Limits): Promise<{ status: number; body: Buffer }> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.stop ? AbortSignal.any([timeout, opts.stop]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal, redirect: 'follow' });
  } catch (e) {
    throw new ProbeFailure(timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : `cannot connect: ${causeOf(e)}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > opts.maxBytes) throw new ProbeFailure(`the answer is larger than ${opts.maxBytes} bytes`);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (e) {
    if (e instanceof ProbeFailure) throw e;
    throw new ProbeFailure(timeout.aborted ? `no complete answer within ${opts.timeoutMs} ms` : `the answer broke off: ${causeOf(e)}`);
  }
  opts.answeredAt = performance.now();
  if (res.status !== 200) throw Object.assign(new ProbeFailure(`HTTP ${res.status}`), { httpStatus: res.status });
  return { status: res.status, body: Buffer.concat(chunks) };
}

function causeOf(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } })?.cause;
  return c?.code ?? c?.message ?? (e instanceof Error ? e.message : String(e));
}

async function checkOcsp(t: OcspTarget, opts: Limits, now: Date): Promise<number> {
  const request = buildOcspRequest({ certIds: [certId(t.subject, t.issuer, 'sha1')], nonce: false });
  const { body, status } = await fetchBody(t.url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: request.der }, opts);
  let resp: OcspResponse;
  try {
    resp = OcspResponse.parse(body);
  } catch (e) {
    throw new ProbeFailure(`the answer is not an OCSP response: ${(e as Error).message}`);
  }
  if (!resp.isSuccessful) throw new ProbeFailure(`OCSP response status ${resp.status}`);
  const verdict = verifyOcspResponse(resp, t.issuer);
  if (!verdict.valid) throw new ProbeFailure(`OCSP response not signed by the issuer or its responder: ${verdict.error}`);
  const single = resp.responseFor(t.subject, t.issuer);
  if (!single) throw new ProbeFailure('the OCSP response does not answer for the certificate asked about');
  if (single.nextUpdate && single.nextUpdate < now) throw new ProbeFailure(`the OCSP response is stale (nextUpdate ${single.nextUpdate.toISOString()})`);
  return status;
}

async function checkCrl(t: CrlTarget, opts: Limits, now: Date): Promise<number> {
  const { body, status } = await fetchBody(t.url, { method: 'GET', headers: { accept: 'application/pkix-crl' } }, opts);
  let crl: Crl;
  try {
    crl = Crl.parse(body);
  } catch (e) {
    throw new ProbeFailure(`the answer is not a CRL: ${(e as Error).message}`);
  }
  if (!crl.issuerDer.equals(t.issuer.subjectDer)) throw new ProbeFailure('the CRL is issued by another CA than the one the certificates name');
  if (!crl.verifySignature(t.issuer.publicKey)) throw new ProbeFailure('the CRL signature is invalid');
  if (!crl.nextUpdate) throw new ProbeFailure('the CRL has no nextUpdate');
  if (crl.nextUpdate < now) throw new ProbeFailure(`the CRL is stale (nextUpdate ${crl.nextUpdate.toISOString()})`);
  return status;
}

/** Probes one target; never throws for what the remote end does. */
export async function probe(t: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeOutcome> {
  const o: Limits = { timeoutMs: opts.timeoutMs ?? 10_000, maxBytes: opts.maxBytes ?? 32 * 1024 * 1024, stop: opts.signal };
  const start = performance.now();
  const elapsed = () => Math.round(((o.answeredAt ?? performance.now()) - start) * 10) / 10;
  try {
    const httpStatus = t.kind === 'ocsp' ? await checkOcsp(t, o, (opts.clock ?? (() => new Date()))()) : await checkCrl(t, o, (opts.clock ?? (() => new Date()))());
    return { ok: true, latencyMs: elapsed(), httpStatus };
  } catch (e) {
    if (!(e instanceof ProbeFailure)) return { ok: false, latencyMs: elapsed(), error: `probe failed: ${e instanceof Error ? e.message : String(e)}` };
    const httpStatus = (e as { httpStatus?: number }).httpStatus;
    return { ok: false, latencyMs: elapsed(), error: e.message, ...(httpStatus ? { httpStatus } : {}) };
  }
}

/**
 * A signature whose key is in the holder's browser-side token, across two HTTP requests. The SDK's
 * signRecord takes a callback signer: it hands the callback the exact bytes to sign (the DER of the
 * CMS signed attributes) and waits for the signature. Here the callback's bytes go back to the
 * page in the first request ("prepare"); the page has the holder's signing agent sign them; the
 * second request ("complete") delivers the signature, and signRecord then time-stamps and archives.
 * Pending signatures are per session (one at a time), expire, and are used once.
 */
import { randomBytes } from 'node:crypto';
import type { Certificate, HashName } from '@health-pki/pki';
import { signRecord, type SignedRecord, type SignRecordOptions } from '@health-pki/sdk';

/** What a prepared signature tells the page. */
export interface PreparedSignature {
  pendingId: string;
  /** The bytes the token must sign (base64). */
  toBeSigned: string;
  hash: HashName;
}

interface Entry {
  sessionId: string;
  context: string;
  resolve: (signature: Uint8Array) => void;
  reject: (e: Error) => void;
  done: Promise<SignedRecord>;
  timer: NodeJS.Timeout;
}

/** The signatures waiting for a holder's token. */
export class PendingSignatures {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs = 120_000) {}

  /**
   * Starts signRecord over `data` with `certificate`'s key held elsewhere; answers once the bytes to
   * sign are known. `context` (e.g. "author:<record id>") is checked again on completion.
   */
  async prepare(sessionId: string, context: string, data: Uint8Array, certificate: Certificate, opts: SignRecordOptions): Promise<PreparedSignature> {
    // One pending signature per session: a newer one replaces it (bounds what a session can hold open).
    for (const [id, e] of this.entries) if (e.sessionId === sessionId) this.cancel(id, 'replaced by a newer signature request');
    let captured!: (v: { tbs: Buffer; hash: HashName }) => void;
    const asked = new Promise<{ tbs: Buffer; hash: HashName }>((r) => (captured = r));
    let resolve!: (s: Uint8Array) => void;
    let reject!: (e: Error) => void;
    const signature = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const done = signRecord(data, { certificate, sign: (tbs, hash) => (captured({ tbs, hash }), signature) }, opts);
    done.catch(() => undefined); // the completing request reports failures; an abandoned one must not crash the process
    const first = await Promise.race([asked, done.then(() => undefined)]);
    if (!first) throw new Error('signRecord finished without asking for a signature');
    const pendingId = randomBytes(16).toString('hex');
    const timer = setTimeout(() => this.cancel(pendingId, 'the signature was not delivered in time'), this.ttlMs);
    timer.unref();
    this.entries.set(pendingId, { sessionId, context, resolve, reject, done, timer });
    return { pendingId, toBeSigned: first.tbs.toString('base64'), hash: first.hash };
  }

  /**
   * Delivers the token's signature and waits for the signed record (throws SigningError when the
   * signature does not verify, TimestampError when the TSA fails). Undefined: no such pending
   * signature for this session and context (expired, used, or someone else's).
   */
  async complete(sessionId: string, context: string, pendingId: string, signature: Uint8Array): Promise<SignedRecord | undefined> {
    const e = this.entries.get(pendingId);
    if (!e || e.sessionId !== sessionId || e.context !== context) return undefined;
    this.entries.delete(pendingId);
    clearTimeout(e.timer);
    e.resolve(signature);
    return e.done;
  }

  /** Abandons a pending signature. */
  cancel(pendingId: string, why: string): void {
    const e = this.entries.get(pendingId);
    if (!e) return;
    this.entries.delete(pendingId);
    clearTimeout(e.timer);
    e.reject(new Error(why));
  }

  /** Abandons all (shutdown). */
  close(): void {
    for (const id of [...this.entries.keys()]) this.cancel(id, 'the EMR is shutting down');
  }
}

/**
 * The relying party's copy of the platform's trust list (Regulation Art. 4, 17: a certificate of
 * any admitted CA works in every health system). It keeps the newest list that verified against
 * the pinned platform certificate; an older or badly signed list is refused with the reason and
 * the current one kept, so a network attacker can neither roll the list back nor forge one.
 * Optionally the accepted list's bytes are persisted to a file so a restart does not start empty
 * (and the stored version becomes the floor), and refreshed from the platform on an interval.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Certificate, trustListCertificates, verifyTrustList, type TrustListDocument, type TrustListEntry } from '@health-pki/pki';

/** Options of a TrustStore. */
export interface TrustStoreOptions {
  /** The platform's base URL; the list is fetched from `<url>/platform/trust-list`. */
  platformUrl?: string;
  /** The platform's signing certificate, pinned out of band (never taken from the list itself). */
  platformCertificate: Certificate;
  /** Refuse lists older than this version even before any list is loaded (default 1). */
  minVersion?: number;
  /** Where to keep the newest accepted list (DER); read by `open`, written on every accepted list. */
  file?: string;
  /** Refresh period of `start()` (default 10 minutes). */
  refreshIntervalMs?: number;
  /** Timeout of one fetch (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  clock?: () => Date;
}

/** The outcome of offering a list to the store. */
export interface TrustListUpdate {
  accepted: boolean;
  /** The version now current (unchanged when refused). */
  version?: number;
  /** Why the offered list was refused. */
  reason?: string;
  /** Accepted, but something to know (e.g. the list could not be written to the file). */
  warning?: string;
}

/** One CA certificate of the current list, parsed, with the list entry it belongs to. */
export interface TrustedCaCertificate {
  ca: string;
  certificate: Certificate;
}

/** Thrown when the store has no verified list yet: nothing can be trusted. */
export class TrustListUnavailable extends Error {
  constructor(message = 'no verified trust list is loaded yet') {
    super(message);
    this.name = 'TrustListUnavailable';
  }
}

interface Current {
  der: Buffer;
  document: TrustListDocument;
  certificates: TrustedCaCertificate[];
}

/** The newest verified trust list, refreshed from the platform. */
export class TrustStore {
  private current?: Current;
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<(doc: TrustListDocument) => void>();
  private readonly fetchFn: typeof fetch;
  private readonly clock: () => Date;

  constructor(private readonly opts: TrustStoreOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** A store that first loads the persisted list from `opts.file`, if there is one and it still verifies. */
  static async open(opts: TrustStoreOptions): Promise<TrustStore> {
    const store = new TrustStore(opts);
    if (opts.file) {
      let der: Buffer | undefined;
      try {
        der = await readFile(opts.file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      // A persisted list that no longer verifies (tampered file, other platform) is ignored, not trusted.
      if (der) store.accept(der, { persist: false });
    }
    return store;
  }

  /** The current list's version, or undefined before any list is accepted. */
  get version(): number | undefined {
    return this.current?.document.version;
  }

  /** The current verified document; throws TrustListUnavailable before the first one. */
  document(): TrustListDocument {
    if (!this.current) throw new TrustListUnavailable();
    return this.current.document;
  }

  /** The current list's exact signed bytes (to archive as evidence). */
  der(): Buffer {
    if (!this.current) throw new TrustListUnavailable();
    return this.current.der;
  }

  /** Every CA certificate of the current list with its CA's name. */
  certificates(): TrustedCaCertificate[] {
    if (!this.current) throw new TrustListUnavailable();
    return this.current.certificates;
  }

  /** The list entry of a CA by name, when it is on the current list. */
  entry(ca: string): TrustListEntry | undefined {
    return this.current?.document.cas.find((c) => c.name === ca);
  }

  /** Calls `fn` with each newly accepted document; returns the unsubscribe function. */
  onChange(fn: (doc: TrustListDocument) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Offers a list (CMS SignedData DER). It is accepted only when signed by the pinned platform
   * certificate and at least as new as the current one; entries not "connected" are dropped.
   */
  accept(der: Uint8Array, opts: { persist?: boolean } = {}): TrustListUpdate & { persisted?: Promise<string | undefined> } {
    const floor = Math.max(this.opts.minVersion ?? 1, this.current?.document.version ?? 0);
    const verdict = verifyTrustList(der, this.opts.platformCertificate, { minVersion: floor, at: this.clock() });
    if (!verdict.valid || !verdict.document) return { accepted: false, version: this.version, reason: verdict.reason ?? 'the trust list is not valid' };
    const bytes = Buffer.from(der);
    // The platform lists only connected CAs; should an entry say otherwise, it is not trusted.
    const document = { ...verdict.document, cas: verdict.document.cas.filter((c) => c.status === 'connected') };
    if (this.current && this.current.document.version === document.version) {
      // Same version: it must be the same list (SM2 signatures differ each time, so the content is
      // compared); a different list under a number already used is refused.
      if (!this.current.der.equals(bytes) && !sameDocument(this.current.document, document)) {
        return { accepted: false, version: this.version, reason: `a different trust list under version ${document.version}, already seen` };
      }
      return { accepted: true, version: this.version };
    }
    let certificates: TrustedCaCertificate[];
    try {
      certificates = trustListCertificates(document);
    } catch (e) {
      return { accepted: false, version: this.version, reason: `a CA certificate in the trust list cannot be read: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.current = { der: bytes, document, certificates };
    for (const fn of this.listeners) fn(document);
    const persisted = opts.persist !== false && this.opts.file ? this.persist(bytes) : undefined;
    return { accepted: true, version: document.version, persisted };
  }

  /** Fetches the newest list from the platform and offers it; network faults are a refusal with the reason. */
  async refresh(): Promise<TrustListUpdate> {
    if (!this.opts.platformUrl) return { accepted: false, version: this.version, reason: 'no platform URL configured' };
    let der: Buffer;
    try {
      const r = await this.fetchFn(`${this.opts.platformUrl.replace(/\/+$/, '')}/platform/trust-list`, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
      if (!r.ok) return { accepted: false, version: this.version, reason: `the platform answered HTTP ${r.status}` };
      der = Buffer.from(await r.arrayBuffer());
    } catch (e) {
      return { accepted: false, version: this.version, reason: `the platform cannot be reached: ${e instanceof Error ? e.message : String(e)}` };
    }
    const update = this.accept(der);
    const unsaved = await update.persisted;
    return { accepted: update.accepted, version: update.version, reason: update.reason, ...(unsaved ? { warning: unsaved } : {}) };
  }

  /** Refreshes now and then every `refreshIntervalMs`; `onError` hears refusals (the current list stays). */
  start(onError?: (reason: string) => void): Promise<TrustListUpdate> {
    this.stop();
    const run = () =>
      this.refresh().then((u) => {
        if (!u.accepted || u.warning) onError?.(u.reason ?? u.warning!);
        return u;
      });
    this.timer = setInterval(() => void run(), this.opts.refreshIntervalMs ?? 600_000);
    this.timer.unref();
    return run();
  }

  /** Stops the periodic refresh. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes the list to the file; resolves to the error message instead of rejecting (the list in memory stands). */
  private async persist(der: Buffer): Promise<string | undefined> {
    // Written beside and renamed, so a crash never leaves a half-written list behind.
    const tmp = `${this.opts.file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, der, { mode: 0o644 });
      await rename(tmp, this.opts.file!);
      return undefined;
    } catch (e) {
      return `the trust list could not be written to ${this.opts.file}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}

function sameDocument(a: TrustListDocument, b: TrustListDocument): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

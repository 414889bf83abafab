/**
 * The CA service's connection to the national platform: each CA's platform-access identity, the
 * outbox events written in every issuance and revocation transaction, and one sender per CA that
 * posts its outbox to the platform (platform/sync/outbox.ts) until close.
 */
import type { Certificate } from '@health-pki/pki';
import type { Database } from '../store/database.js';
import type { KeyCustody } from '../ca/key-custody.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import { OutboxSender, type OutboxState } from '../platform/sync/outbox.js';
import { AccessIdentities } from './identity.js';
import { DEFAULT_PROVINCE, OutboxEvents } from './events.js';
import { CertificateQuery } from './query.js';

/** The platform a CA service reports to. */
export interface PlatformEndpoint {
  /** The platform's base URL (sync batches go to URL/platform/sync/messages). */
  url: string;
  /** The platform's signing certificate (GET /platform/trust-list/certificate), pinned: only queries it signed are answered. */
  certificate: Certificate;
  /** Province code this deployment's certificates serve, in the platform's two-letter codes (default "BJ"). */
  province?: string;
}

/** Sender tuning (tests make it quick). */
export interface LinkOptions {
  pollMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  batchSize?: number;
  clock?: () => Date;
  /** Told when a CA's sender cannot be set up (its identity cannot be made); it is tried again at the next refresh. */
  onError?: (error: unknown, ca: string) => void;
}

/** The CA side of the platform link. */
export class PlatformLink {
  readonly identities: AccessIdentities;
  readonly query: CertificateQuery;
  private readonly senders = new Map<string, OutboxSender>();
  private timer?: NodeJS.Timeout;
  private endpoint?: PlatformEndpoint;
  /** The embedded platform's loopback URL, which /platform/* is passed through to (platform-link/proxy.ts); unset otherwise. */
  proxyTarget?: string;

  constructor(
    readonly database: Database,
    readonly ca: CertificateAuthorities,
    custody: KeyCustody,
    endpoint: PlatformEndpoint | undefined,
    private opts: LinkOptions = {},
  ) {
    this.identities = new AccessIdentities(database, ca, custody, opts.clock);
    this.query = new CertificateQuery({ ca, identities: this.identities, platformCertificate: async () => this.endpoint?.certificate, clock: opts.clock });
    if (endpoint) this.connect(endpoint);
  }

  /** Whether a platform is configured. */
  get configured(): boolean {
    return this.endpoint !== undefined;
  }

  /** The province code this deployment reports. */
  get province(): string {
    return this.endpoint?.province ?? DEFAULT_PROVINCE;
  }

  /** The last error of CA `name`'s sender, if its last attempt failed. */
  lastError(name: string): string | undefined {
    return this.senders.get(name)?.lastFailure;
  }

  /** The platform, when configured. */
  get platform(): PlatformEndpoint | undefined {
    return this.endpoint;
  }

  /** Reports from now on to `endpoint`: installs the outbox events on the CA module (senders start with `start`). */
  connect(endpoint: PlatformEndpoint): void {
    this.endpoint = endpoint;
    this.ca.events = new OutboxEvents(endpoint.province ?? DEFAULT_PROVINCE);
  }

  /** Starts a sender for every CA of this service, and looks for new CAs every 30 s. */
  async start(onError?: (error: unknown, ca: string) => void): Promise<void> {
    if (!this.endpoint || this.timer) return;
    if (onError) this.opts = { ...this.opts, onError };
    await this.ensureSenders();
    this.timer = setInterval(() => void this.ensureSenders().catch(() => undefined), 30_000);
    this.timer.unref();
  }

  /** Sends every CA's outbox at once instead of at the next poll. */
  wake(): void {
    for (const s of this.senders.values()) s.wake();
  }

  /** The outbox of each CA: pending, sent, conflicts, last error. */
  async state(): Promise<Record<string, OutboxState>> {
    const out: Record<string, OutboxState> = {};
    for (const [name, s] of this.senders) out[name] = await s.state();
    return out;
  }

  /** Stops the senders after their batch in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.senders.values()].map((s) => s.stop()));
    this.senders.clear();
  }

  private async ensureSenders(): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    for (const a of await this.ca.listAuthorities()) {
      if (this.senders.has(a.name)) continue;
      let identity;
      try {
        identity = await this.identities.get(a.name);
      } catch (e) {
        // One CA whose identity cannot be made (say, a custody that refuses its algorithm) must not stop the others or the service.
        this.opts.onError?.(e, a.name);
        continue;
      }
      const sender = new OutboxSender({
        database: this.database,
        ca: a.name,
        key: identity.key,
        certificate: identity.certificate,
        platformUrl: endpoint.url,
        pollMs: this.opts.pollMs ?? 1000,
        minBackoffMs: this.opts.minBackoffMs ?? 200,
        // A CA not yet admitted is refused (403) until the platform connects it: retry often enough to notice soon.
        maxBackoffMs: this.opts.maxBackoffMs ?? 10_000,
        batchSize: this.opts.batchSize ?? 500,
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      });
      this.senders.set(a.name, sender);
      sender.start();
    }
  }
}

/**
 * The CRL publisher of one process: keeps a complete and a delta CRL current for every CA (and
 * every partition of it), serves the newest ones, and regenerates them
 * - the complete CRL every `fullIntervalSeconds`, well before its nextUpdate;
 * - a delta CRL soon after any revoke, hold or release, noticed by polling the CA's status
 *   history (which sees changes made by other processes sharing the database too).
 * A failure is logged and retried on a later tick; it never stops the process. Several processes
 * may publish for the same CA: numbers come from the database (store.ts), and a CRL built from
 * older data than one already published is dropped.
 */
import { wholeSeconds } from '@health-pki/pki';
import type { Database } from '../../store/database.js';
import type { CertificateAuthorities, SigningIssuer } from '../../ca/authority.js';
import { NotFoundError } from '../../errors.js';
import { collectDelta, collectFull, signCollected, type CollectedEntries, type CrlScope } from './build.js';
import { issuedSince, recentChanges } from './revocations.js';
import { announcePartition, lastNumber, latest, latestNumbers, partitionsOf, prune, publish, type StoredCrl } from './store.js';
import type { CrlKind } from './tables.js';

/** How the publisher schedules CRLs; every field has a default. */
export interface CrlPublisherOptions {
  /** nextUpdate of a complete CRL, after its thisUpdate. Default 24 h. */
  fullValiditySeconds: number;
  /** A new complete CRL this long after the last one. Default 1 h. */
  fullIntervalSeconds: number;
  /** nextUpdate of a delta CRL, after its thisUpdate. Default 1 h. */
  deltaValiditySeconds: number;
  /** A new delta CRL this long after the last one even without changes. Default 15 min. */
  deltaIntervalSeconds: number;
  /** How often the status history is polled for changes, ms. Default 300. */
  pollMs: number;
  /** Open a new partition once this many certificates were issued into the current one; undefined: no partitions. */
  partitionSize?: number;
  /** A new partition is announced this long before certificates start naming it (all processes must learn of it). Default 60 s. */
  partitionLeadSeconds: number;
  /** How often the partition size is checked, s. Default 60. */
  partitionCheckSeconds: number;
  /** Complete CRLs kept per scope (with their deltas); older ones are deleted. Default 3. */
  keepFull: number;
  /** Status changes this long before a base CRL's snapshot are repeated in its deltas (whole-second times, late commits). Default 60 s. */
  changeSlackSeconds: number;
  /** Where failures are reported. Default: one JSON line on stderr. */
  log: (message: string, error?: unknown) => void;
}

/** A CRL as served: its DER and the facts the HTTP layer and the directory need. */
export interface PublishedCrl {
  der: Buffer;
  number: bigint;
  /** Delta CRLs: the complete CRL they apply to. */
  baseNumber?: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** SHA-256 of the DER, hex. */
  sha256: string;
  entries: number;
}

/** What the rest of the service sees of the publisher (Services.crls). */
export interface CrlService {
  /** The newest CRL of a CA ("root", "issuing-1", …), built now if there is none yet; undefined for an unknown partition. */
  current(authority: string, label: string, kind: CrlKind, partition?: number): Promise<PublishedCrl | undefined>;
  /** Builds and publishes a new CRL of that kind now (a complete CRL also gets a new delta); returns the newest. */
  refreshNow(authority: string, label: string, kind?: CrlKind, partition?: number): Promise<PublishedCrl>;
  /** The partitions of a CA beyond 0, for the directory. */
  partitions(authority: string, label: string): Promise<number[]>;
}

const DEFAULTS: CrlPublisherOptions = {
  fullValiditySeconds: 86_400,
  fullIntervalSeconds: 3_600,
  deltaValiditySeconds: 3_600,
  deltaIntervalSeconds: 900,
  pollMs: 300,
  partitionLeadSeconds: 60,
  partitionCheckSeconds: 60,
  keepFull: 3,
  changeSlackSeconds: 60,
  log: (message, error) => process.stderr.write(JSON.stringify({ level: 'error', module: 'crl', msg: message, err: error instanceof Error ? error.message : error }) + '\n'),
};

/** How often the list of CAs is read again (new authorities), ms. */
const SCOPE_REFRESH_MS = 5_000;
/** Backoff after a failed build, ms (doubling up to a minute). */
const RETRY_MS = 1_000;

interface ScopeState {
  scope: CrlScope;
  full?: StoredCrl;
  delta?: StoredCrl;
  /** A status change since the last delta. */
  dirty: boolean;
  /** Serialises builds of this scope (ticks, refreshNow, first requests). */
  busy: Promise<unknown>;
  failures: number;
  retryAt: number;
}

interface Partition {
  partition: number;
  startsAt: string;
}

/** Publishes the CRLs of every CA of a deployment. */
export class CrlPublisher implements CrlService {
  readonly options: CrlPublisherOptions;
  private readonly scopes = new Map<string, ScopeState>();
  private readonly partitionCache = new Map<string, { list: Partition[]; readAt: number }>();
  private readonly seen = new Map<string, string>();
  private authorities: Array<{ name: string; id: string; issuers: SigningIssuer[] }> = [];
  private scopesReadAt = 0;
  private lastPoll?: number;
  private lastPartitionCheck = 0;
  private lastReadFailureLog = 0;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    options: Partial<CrlPublisherOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Starts the schedule: a first tick now, then one every pollMs. */
  start(): void {
    if (this.timer || this.stopped) return;
    const loop = () => {
      this.ticking = this.tick()
        .catch((e) => this.options.log('CRL publisher: tick failed', e))
        .finally(() => {
        this.ticking = undefined;
        if (!this.stopped) this.timer = setTimeout(loop, this.options.pollMs).unref();
      });
    };
    // Unreferenced: the schedule alone never keeps a process alive.
    this.timer = setTimeout(loop, 0).unref();
  }

  /** Stops the schedule and waits for the build in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.scopes.values()].map((s) => s.busy));
  }

  /** The newest CRL of a scope (see CrlService.current). */
  async current(authority: string, label: string, kind: CrlKind, partition = 0): Promise<PublishedCrl | undefined> {
    const state = await this.stateFor(authority, label, partition);
    if (!state) return undefined;
    if (!state[kind]) await this.loadFromDb(state);
    if (!state[kind]) await this.exclusive(state, () => this.ensure(state, kind));
    return view(state[kind]!);
  }

  /** Builds a CRL now (see CrlService.refreshNow). */
  async refreshNow(authority: string, label: string, kind: CrlKind = 'delta', partition = 0): Promise<PublishedCrl> {
    const state = await this.stateFor(authority, label, partition);
    if (!state) throw new NotFoundError('crl.partition.unknown', `CA "${authority}/${label}" has no CRL partition ${partition}`);
    await this.exclusive(state, async () => {
      if (kind === 'full' || !state.full) await this.build(state, 'full');
      await this.build(state, 'delta');
    });
    return view(state[kind]!);
  }

  /** The partitions of a CA beyond 0. */
  async partitions(authority: string, label: string): Promise<number[]> {
    const issuer = await this.issuer(authority, label);
    return (await this.partitionList(issuer.issuerId)).map((p) => p.partition);
  }

  /**
   * The partition a certificate signed by this CA at `at` belongs to: the CA names it in the
   * certificate's CRL distribution point. Partitions are announced partitionLeadSeconds ahead,
   * so a list read within that time is exact. Partitions once opened stay in force even if a
   * later configuration stops opening new ones.
   */
  async partitionFor(issuerId: string, at: Date): Promise<number> {
    const list = await this.partitionList(issuerId, (this.options.partitionLeadSeconds * 1000) / 2);
    const t = at.toISOString();
    let p = 0;
    for (const x of list) if (x.startsAt <= t) p = x.partition;
    return p;
  }

  /** One round: notice new CAs and changes, then bring every scope up to date. */
  async tick(): Promise<void> {
    try {
      await this.refreshScopes();
      await this.poll();
      await this.syncFromDb();
      if (this.options.partitionSize !== undefined) await this.checkPartitions();
    } catch (e) {
      // Logged once a minute at most: a database that is down fails every tick.
      if (Date.now() - this.lastReadFailureLog > 60_000) {
        this.lastReadFailureLog = Date.now();
        this.options.log('CRL publisher: reading the CA records failed; retrying', e);
      }
      return;
    }
    const now = Date.now();
    // Deltas after revocations first: a slow complete CRL of one CA must not delay them.
    for (const urgent of [true, false]) {
      for (const state of this.scopes.values()) {
        if (this.stopped) return;
        if (state.retryAt > now || (urgent && !(state.dirty && state.full))) continue;
        await this.exclusive(state, () => this.maintain(state, now, urgent));
      }
    }
  }

  /** Brings one scope up to date; `deltaOnly` builds just the delta CRL a change asks for. */
  private async maintain(state: ScopeState, now: number, deltaOnly = false): Promise<void> {
    const o = this.options;
    try {
      const full = state.full;
      if (!deltaOnly && (!full || now >= full.thisUpdate.getTime() + o.fullIntervalSeconds * 1000 || now >= full.nextUpdate.getTime() - o.fullIntervalSeconds * 1000)) {
        await this.build(state, 'full');
      }
      const delta = state.delta;
      if (state.dirty || !delta || delta.baseNumber !== state.full!.number || now >= delta.thisUpdate.getTime() + o.deltaIntervalSeconds * 1000) {
        await this.build(state, 'delta');
      }
      state.failures = 0;
      state.retryAt = 0;
    } catch (e) {
      state.dirty = true; // the delta that was due is still due
      state.failures++;
      state.retryAt = Date.now() + Math.min(60_000, RETRY_MS * 2 ** Math.min(state.failures - 1, 6));
      o.log(`CRL publisher: building the CRL of ${state.scope.authority}/${state.scope.label} (partition ${state.scope.partition}) failed; retrying`, e);
    }
  }

  /** Builds the missing CRL of a scope (a delta needs its complete CRL first). */
  private async ensure(state: ScopeState, kind: CrlKind): Promise<void> {
    if (state[kind]) return;
    if (!state.full) await this.build(state, 'full');
    if (kind === 'delta' && !state.delta) await this.build(state, 'delta');
  }

  /** Reads, signs and stores one CRL of a scope; numbers taken by other processes meanwhile are skipped. */
  private async build(state: ScopeState, kind: CrlKind): Promise<void> {
    const o = this.options;
    const scope = state.scope;
    let collected: CollectedEntries;
    let baseNumber: bigint | undefined;
    if (kind === 'full') collected = await collectFull(this.database.db, scope);
    else {
      const base = state.full!;
      baseNumber = base.number;
      // Dirty is cleared before reading: a change that lands while we read marks it again.
      state.dirty = false;
      collected = await collectDelta(this.database.db, scope, new Date(base.snapshotAt.getTime() - o.changeSlackSeconds * 1000));
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const number = (await lastNumber(this.database.db, scope.issuerId)) + 1n;
      const thisUpdate = wholeSeconds(new Date());
      const validity = kind === 'full' ? o.fullValiditySeconds : o.deltaValiditySeconds;
      const signed = signCollected(scope, collected, { number, baseNumber, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + validity * 1000) });
      const outcome = await publish(this.database, scope.issuerId, scope.partition, signed);
      if (!outcome) continue;
      if (outcome.stored) {
        state[kind] = outcome.crl;
        if (kind === 'full') {
          await prune(this.database, scope.issuerId, scope.partition, o.keepFull).catch((e) => o.log('CRL publisher: pruning old CRLs failed', e));
        }
      } else {
        await this.loadFromDb(state);
      }
      return;
    }
    throw new Error(`no free CRL number for ${scope.authority}/${scope.label} after 8 attempts`);
  }

  /** Runs `fn` after every earlier build of this scope. */
  private exclusive<T>(state: ScopeState, fn: () => Promise<T>): Promise<T> {
    const run = state.busy.then(fn, fn);
    state.busy = run.catch(() => undefined);
    return run;
  }

  private async loadFromDb(state: ScopeState): Promise<void> {
    for (const kind of ['full', 'delta'] as const) {
      const stored = await latest(this.database.db, state.scope.issuerId, state.scope.partition, kind);
      if (stored && (!state[kind] || stored.number > state[kind]!.number)) state[kind] = stored;
    }
  }

  /** Picks up CRLs other processes published. */
  private async syncFromDb(): Promise<void> {
    for (const n of await latestNumbers(this.database.db)) {
      const state = this.scopes.get(scopeKey(n.issuerId, n.partition));
      if (state && (!state[n.kind] || state[n.kind]!.number < n.number)) await this.loadFromDb(state);
    }
  }

  /** Marks the scopes whose CA had a revoke, hold or release since the last poll. */
  private async poll(): Promise<void> {
    const started = Date.now();
    const since = new Date((this.lastPoll ?? started) - this.options.changeSlackSeconds * 1000).toISOString();
    for (const a of this.authorities) {
      for (const c of await recentChanges(this.database.db, a.id, since)) {
        const key = `${a.id}/${c.serial}/${c.version}`;
        if (this.seen.has(key)) continue;
        this.seen.set(key, c.at);
        for (const s of this.scopes.values()) if (s.scope.issuerId === c.issuer_id) s.dirty = true;
      }
    }
    for (const [k, at] of this.seen) if (at < since) this.seen.delete(k);
    this.lastPoll = started;
  }

  /** Reads the CAs and their partitions, creating the state of every new scope. */
  private async refreshScopes(force = false): Promise<void> {
    if (!force && Date.now() - this.scopesReadAt < SCOPE_REFRESH_MS) return;
    const list = await this.ca.listAuthorities();
    const authorities: typeof this.authorities = [];
    for (const a of list) authorities.push({ name: a.name, id: a.id, issuers: await this.ca.signingIssuers(a.name) });
    this.authorities = authorities;
    for (const a of authorities) {
      for (const i of a.issuers) {
        const parts = await this.partitionList(i.issuerId, 0);
        for (let k = 0; k <= parts.length; k++) this.stateOf(i, parts, k);
      }
    }
    this.scopesReadAt = Date.now();
  }

  /** Opens a new partition for CAs whose current partition is full. */
  private async checkPartitions(): Promise<void> {
    const o = this.options;
    if (Date.now() - this.lastPartitionCheck < o.partitionCheckSeconds * 1000) return;
    this.lastPartitionCheck = Date.now();
    for (const a of this.authorities) {
      for (const i of a.issuers) {
        if (i.role !== 'issuing' || !i.active) continue;
        const parts = await this.partitionList(i.issuerId, 0);
        const last = parts[parts.length - 1];
        const count = await issuedSince(this.database.db, a.id, last?.startsAt ?? '');
        if (count < o.partitionSize!) continue;
        const startsAt = new Date(Date.now() + o.partitionLeadSeconds * 1000).toISOString();
        await announcePartition(this.database, i.issuerId, (last?.partition ?? 0) + 1, startsAt);
        const fresh = await this.partitionList(i.issuerId, 0);
        for (let k = 0; k <= fresh.length; k++) this.stateOf(i, fresh, k);
      }
    }
  }

  private async partitionList(issuerId: string, maxAgeMs = SCOPE_REFRESH_MS): Promise<Partition[]> {
    const hit = this.partitionCache.get(issuerId);
    if (hit && Date.now() - hit.readAt <= maxAgeMs) return hit.list;
    const list = await partitionsOf(this.database.db, issuerId);
    this.partitionCache.set(issuerId, { list, readAt: Date.now() });
    return list;
  }

  /** The state of partition `k` of a CA, created on first use; its range ends where partition k+1 starts. */
  private stateOf(i: SigningIssuer, parts: Partition[], k: number): ScopeState {
    const key = scopeKey(i.issuerId, k);
    const to = parts.find((p) => p.partition === k + 1)?.startsAt;
    const existing = this.scopes.get(key);
    if (existing) {
      existing.scope.range = { ...existing.scope.range, to };
      return existing;
    }
    const from = k === 0 ? undefined : parts.find((p) => p.partition === k)!.startsAt;
    const scope: CrlScope = {
      authority: i.authority,
      authorityId: i.authorityId,
      label: i.label,
      issuerId: i.issuerId,
      role: i.role,
      cert: i.cert,
      key: i.key,
      partition: k,
      range: { from, to },
      url: this.ca.urls.crl(i.authority, i.label, k),
      deltaUrl: this.ca.urls.deltaCrl(i.authority, i.label, k),
    };
    const state: ScopeState = { scope, dirty: false, busy: Promise.resolve(), failures: 0, retryAt: 0 };
    this.scopes.set(key, state);
    return state;
  }

  private async issuer(authority: string, label: string): Promise<SigningIssuer> {
    const issuers = await this.ca.signingIssuers(authority);
    const i = issuers.find((x) => x.label === label);
    if (!i) throw new NotFoundError('crl.unknown', `CA "${authority}" has no CA "${label}"; its CRLs are at /ca/${authority}/<${issuers.map((x) => x.label).join('|')}>.crl`);
    return i;
  }

  private async stateFor(authority: string, label: string, partition: number): Promise<ScopeState | undefined> {
    const i = await this.issuer(authority, label);
    // A CA created since the last read: poll its changes from now on.
    if (!this.authorities.some((a) => a.id === i.authorityId)) await this.refreshScopes(true);
    if (partition === 0) return this.stateOf(i, await this.partitionList(i.issuerId), 0);
    const parts = await this.partitionList(i.issuerId, 0);
    if (!parts.some((p) => p.partition === partition)) return undefined;
    return this.stateOf(i, parts, partition);
  }
}

function scopeKey(issuerId: string, partition: number): string {
  return `${issuerId}/${partition}`;
}

function view(c: StoredCrl): PublishedCrl {
  return { der: c.der, number: c.number, baseNumber: c.baseNumber, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, sha256: c.sha256, entries: c.entries };
}

/**
 * Publishes the trust list: a CMS SignedData over the JSON of the connected CAs, signed by the
 * trust list's own identity (sealed by the platform's custody, like the KMC's). Each publication
 * is a new version kept forever, so the history is the table. A CA that is no longer connected
 * leaves the next version: the registry calls `republish` on every status change, and `current`
 * republishes by itself when the directory no longer matches the newest list.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { SignedDataDoc, signCmsDer, type Certificate, type KeyAlgorithm } from '@health-pki/pki';
import type { Database } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { SYSTEM_PRINCIPAL, type Principal } from '../../auth/principal.js';
import type { KeyCustody } from '../../ca/key-custody.js';
import { loadOrCreateIdentity, type ServiceIdentity } from '../../security/service-identity.js';
import type { CaDirectory, ConnectedCa } from '../registry/types.js';
import { decodeTrustList, encodeTrustList, TRUST_LIST_PLATFORM, type TrustListDocument, type TrustListEntry } from './document.js';
import type { TrustListTables } from './tables.js';

/** Options of the publisher. */
export interface TrustListPublisherOptions {
  database: Database;
  directory: CaDirectory;
  /** Seals the signing key (the platform's custody). */
  custody: KeyCustody;
  /** The signing key's algorithm, made at first use (default sm2). */
  identityAlgorithm?: KeyAlgorithm;
  clock?: () => Date;
  /** The publisher's name written into each list. */
  platformName?: string;
}

/** One published version. */
export interface PublishedTrustList {
  version: number;
  issuedAt: string;
  reason: string;
  sha256: string;
  /** The CMS SignedData, DER. */
  der: Buffer;
  json: TrustListDocument;
}

/** A version as the history lists it (without the bytes). */
export interface TrustListHistoryEntry {
  version: number;
  issuedAt: string;
  reason: string;
  caCount: number;
  sha256: string;
}

type Row = TrustListTables['platform_trust_lists'];

const IDENTITY_CONTEXT = 'platform-trust-list-identity';
const PUBLISH_ATTEMPTS = 5;

/** The trust list of one platform. */
export class TrustListPublisher {
  private readonly opts: TrustListPublisherOptions;
  private readonly clock: () => Date;
  private self?: Promise<ServiceIdentity>;
  private latest?: PublishedTrustList;

  constructor(opts: TrustListPublisherOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** The certificate relying parties pin to verify the list; made at first call. */
  async certificate(): Promise<Certificate> {
    return (await this.identity()).cert;
  }

  /** Signs `content` (CMS SignedData, attached) as the platform: its certificate queries to CAs use the same identity (protocol.md). */
  async signContent(content: Buffer, at: Date = this.clock()): Promise<Buffer> {
    const self = await this.identity();
    return signCmsDer({ content, signer: self.key, cert: self.cert, signingTime: at, sm2SignatureOid: 'sm2-with-sm3' });
  }

  /** The newest list; publishes one first when there is none or the directory has changed since. */
  async current(): Promise<PublishedTrustList> {
    const newest = await this.newest();
    const entries = await this.entries();
    if (newest && sameEntries(newest.json.cas, entries)) return newest;
    return this.publish(entries, newest ? 'the connected CAs changed' : 'first publication', SYSTEM_PRINCIPAL, true);
  }

  /** Publishes a new version from the directory as it is now (a CA's status changed). Audited. */
  async republish(reason: string, actor: Principal = SYSTEM_PRINCIPAL): Promise<PublishedTrustList> {
    return this.publish(await this.entries(), reason, actor);
  }

  /** Every published version, newest first. */
  async history(): Promise<TrustListHistoryEntry[]> {
    const rows = await all<Omit<Row, 'der'>>(this.opts.database.db, sql`select version, issued_at, reason, ca_count, sha256 from platform_trust_lists order by version desc`);
    return rows.map((r) => ({ version: Number(r.version), issuedAt: r.issued_at, reason: r.reason, caCount: Number(r.ca_count), sha256: r.sha256 }));
  }

  /** One version, or undefined. */
  async version(version: number): Promise<PublishedTrustList | undefined> {
    const row = await first<Row>(this.opts.database.db, sql`select * from platform_trust_lists where version = ${version}`);
    return row ? published(row) : undefined;
  }

  private async newest(): Promise<PublishedTrustList | undefined> {
    const top = await first<{ version: number | string }>(this.opts.database.db, sql`select max(version) as version from platform_trust_lists`);
    if (top?.version === null || top?.version === undefined) return undefined;
    const version = Number(top.version);
    // Another process may have published since: the cached copy serves only while it is the newest.
    if (this.latest?.version !== version) this.latest = await this.version(version);
    return this.latest;
  }

  /** The entries of every connected CA, in name order. */
  private async entries(): Promise<TrustListEntry[]> {
    const cas = (await this.opts.directory.list()).filter((c) => c.status === 'connected');
    return cas.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(entryOf);
  }

  /** Signs and stores the next version; with `unlessSame`, a newest list with these entries is returned instead (concurrent readers noticing one change publish once). */
  private async publish(cas: TrustListEntry[], reason: string, actor: Principal, unlessSame = false): Promise<PublishedTrustList> {
    const self = await this.identity();
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.opts.database.transaction(async (tx) => {
          const top = await first<{ version: number | string | null }>(tx, sql`select max(version) as version from platform_trust_lists`);
          if (unlessSame && top?.version !== null && top?.version !== undefined) {
            const newest = await first<Row>(tx, sql`select * from platform_trust_lists where version = ${Number(top.version)}`);
            if (newest && sameEntries(published(newest).json.cas, cas)) return newest;
          }
          const version = Number(top?.version ?? 0) + 1;
          const now = this.clock();
          const doc: TrustListDocument = { version, issuedAt: nowIso(now), platform: this.opts.platformName ?? TRUST_LIST_PLATFORM, cas };
          // SM2-with-SM3 in the SignerInfo: what GmSSL and BouncyCastle verifiers expect.
          const der = signCmsDer({ content: encodeTrustList(doc), signer: self.key, cert: self.cert, signingTime: now, sm2SignatureOid: 'sm2-with-sm3' });
          const r: Row = { version, issued_at: doc.issuedAt, reason, ca_count: cas.length, sha256: createHash('sha256').update(der).digest('hex'), der };
          await run(tx, sql`insert into platform_trust_lists (version, issued_at, reason, ca_count, sha256, der) values (${r.version}, ${r.issued_at}, ${r.reason}, ${r.ca_count}, ${r.sha256}, ${r.der})`);
          await appendAudit(tx, { actor, action: 'platform.trust-list.publish', target: `platform:trust-list:${version}`, details: { reason, cas: cas.map((c) => c.name), sha256: r.sha256 } }, now);
          return r;
        });
        this.latest = published(row);
        return this.latest;
      } catch (e) {
        // Two publishers took the same number: the loser numbers again.
        if (!isUniqueViolation(e) || attempt >= PUBLISH_ATTEMPTS) throw e;
      }
    }
  }

  private identity(): Promise<ServiceIdentity> {
    this.self ??= loadOrCreateIdentity(
      this.opts.database,
      this.opts.custody,
      {
        table: 'platform_trust_list_identity',
        context: IDENTITY_CONTEXT,
        subject: 'C=CN,O=health-pki,CN=health-pki Platform Trust List Signer',
        algorithm: this.opts.identityAlgorithm ?? 'sm2',
        auditAction: 'platform.trust-list.identity.create',
      },
      this.clock,
    ).catch((e: unknown) => {
      this.self = undefined;
      throw e;
    });
    return this.self;
  }
}

function entryOf(ca: ConnectedCa): TrustListEntry {
  return { name: ca.name, displayName: ca.displayName, status: ca.status, provinces: [...ca.provinces], certificates: ca.certificates.map((c) => c.toPem()) };
}

function sameEntries(a: TrustListEntry[], b: TrustListEntry[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function published(row: Row): PublishedTrustList {
  const der = Buffer.from(row.der);
  const json = decodeTrustList(SignedDataDoc.parse(der).content ?? Buffer.alloc(0));
  if (typeof json === 'string') throw new Error(`stored trust list ${row.version} is unreadable: ${json}`);
  return { version: Number(row.version), issuedAt: row.issued_at, reason: row.reason, sha256: row.sha256, der, json };
}

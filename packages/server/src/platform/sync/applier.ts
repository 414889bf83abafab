/**
 * The platform's end of certificate and blacklist sync: a signed batch is checked against the
 * registry (the CA exists, is connected or suspended, and the batch is signed by its
 * platform-access certificate) and each message is applied exactly once, keyed by (ca, seq): a
 * repeat with the same content is answered "duplicate" and changes nothing, a repeat with other
 * content is a "conflict" and changes nothing either. Refusals are audited.
 */
import { sql } from 'kysely';
import { ParseError, SignedDataDoc, verifyCms } from '@health-pki/pki';
import type { Database, Executor } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { isUniqueViolation } from '../../store/errors.js';
import { all, hot, run, statement, type HotStatement } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import type { Principal } from '../../auth/principal.js';
import { ConflictError, ForbiddenError, InvalidRequestError } from '../../errors.js';
import type { CaDirectory, CaStatus } from '../registry/types.js';
import { messageDigest, parseSyncBatch, type SyncBatch, type SyncMessage } from './message.js';

/** What became of one message. */
export type ApplyStatus = 'applied' | 'duplicate' | 'conflict';

/** The platform's answer to a batch. */
export interface ApplyResult {
  ca: string;
  applied: number;
  duplicates: number;
  conflicts: number;
  results: Array<{ seq: number; status: ApplyStatus }>;
}

/**
 * A suspended CA must still report revocations; a CA the province forwarded (and one that passed
 * the conformance test) already syncs, because the conformance test checks that its sample
 * certificates' events arrived. Any other status than these is refused.
 */
const SYNCING: readonly CaStatus[] = ['province-reviewed', 'tested', 'connected', 'suspended'];
const ATTEMPTS = 3;
/** Serials per `in (…)` list, and rows per multi-row insert (10 values each: far below either database's parameter limit). */
const IN_CHUNK = 500;
const ROW_CHUNK = 200;

/** A certificate as the platform keeps it (platform_certificates without its key). */
interface CertRow {
  profile: string | null;
  class: string | null;
  province: string | null;
  issued_at: string | null;
  not_after: string | null;
  status: 'active' | 'revoked';
  revoked_at: string | null;
  replaces: string | null;
}

/** The principal the platform records for a CA's signed messages. */
function caPrincipal(ca: string): Principal {
  return { id: `platform-ca:${ca}`, role: 'officer', bootstrap: false };
}

/** Options of the applier. */
export interface SyncApplierOptions {
  database: Database;
  directory: CaDirectory;
  clock?: () => Date;
}

/** Receives signed sync batches on the platform. */
export class SyncApplier {
  private readonly database: Database;
  private readonly directory: CaDirectory;
  private readonly clock: () => Date;

  constructor(opts: SyncApplierOptions) {
    this.database = opts.database;
    this.directory = opts.directory;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** Checks and applies one signed batch (CMS SignedData DER). */
  async receive(der: Uint8Array): Promise<ApplyResult> {
    let doc: SignedDataDoc;
    try {
      doc = SignedDataDoc.parse(der);
    } catch (e) {
      if (e instanceof ParseError) throw new InvalidRequestError('platform.sync.malformed', `not a CMS SignedData: ${e.message}`);
      throw e;
    }
    if (!doc.content) throw new InvalidRequestError('platform.sync.malformed', 'the SignedData carries no content (a detached signature is not accepted)');
    const batch = parseSyncBatch(doc.content);
    await this.authenticate(doc, batch.ca);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.database.transaction((tx) => this.apply(tx, batch));
      } catch (e) {
        // A concurrent copy of the same messages committed first: read again, they are duplicates now.
        if (!isUniqueViolation(e) || attempt + 1 >= ATTEMPTS) {
          if (isUniqueViolation(e)) throw new ConflictError('platform.sync.busy', 'the same messages are being applied concurrently; retry');
          throw e;
        }
      }
    }
  }

  private async authenticate(doc: SignedDataDoc, name: string): Promise<void> {
    const ca = await this.directory.get(name);
    if (!ca) return this.refuse(name, 'platform.sync.ca.unknown', `no CA named "${name}" is registered with the platform`);
    if (!SYNCING.includes(ca.status)) return this.refuse(name, 'platform.sync.ca.not-connected', `CA "${name}" is ${ca.status}, not connected: its messages are not accepted`);
    const cert = ca.platformAccessCertificate;
    if (!cert) return this.refuse(name, 'platform.sync.ca.no-access-certificate', `CA "${name}" has no platform-access certificate on record`);
    const now = this.clock();
    if (now < cert.notBefore || now > cert.notAfter) return this.refuse(name, 'platform.sync.certificate.expired', `the platform-access certificate of CA "${name}" is not valid now`);
    let verdict: ReturnType<typeof verifyCms>;
    try {
      verdict = verifyCms(doc, { certificates: [cert] });
    } catch (e) {
      if (e instanceof ParseError) return this.refuse(name, 'platform.sync.signature', `the signature cannot be read: ${e.message}`);
      throw e;
    }
    // A forger may put a certificate of its own in the SignedData: only the registered one counts.
    if (verdict.signers.length !== 1 || !verdict.valid || !verdict.signerCertificate?.der.equals(cert.der)) {
      return this.refuse(name, 'platform.sync.signature', `the batch is not signed by the platform-access certificate of CA "${name}"${verdict.error ? ` (${verdict.error})` : ''}`);
    }
  }

  private async refuse(ca: string, code: string, message: string): Promise<never> {
    await this.database.transaction((tx) => appendAudit(tx, { actor: caPrincipal(ca), action: 'platform.sync.refused', target: `platform:ca:${ca}`, details: { code, reason: message } }, this.clock()));
    throw new ForbiddenError(code, message);
  }

  private async apply(tx: Executor, batch: SyncBatch): Promise<ApplyResult> {
    const now = nowIso(this.clock());
    const seqs = batch.messages.map((m) => m.seq);
    const known = new Map<number, string>();
    const rows = await all<{ seq: number | string; digest: string }>(
      tx,
      sql`select seq, digest from platform_sync_messages where ca = ${batch.ca} and seq >= ${Math.min(...seqs)} and seq <= ${Math.max(...seqs)}`,
    );
    for (const r of rows) known.set(Number(r.seq), r.digest);
    const result: ApplyResult = { ca: batch.ca, applied: 0, duplicates: 0, conflicts: 0, results: [] };
    const conflicts: number[] = [];
    const fresh: Array<{ m: SyncMessage; digest: string }> = [];
    for (const m of batch.messages) {
      const digest = messageDigest(m);
      const had = known.get(m.seq);
      let status: ApplyStatus;
      if (had === undefined) {
        fresh.push({ m, digest });
        status = 'applied';
        result.applied++;
      } else if (had === digest) {
        status = 'duplicate';
        result.duplicates++;
      } else {
        status = 'conflict';
        result.conflicts++;
        conflicts.push(m.seq);
      }
      result.results.push({ seq: m.seq, status });
    }
    if (fresh.length) await this.applyFresh(tx, batch.ca, fresh, now);
    if (result.applied > 0 || result.conflicts > 0) {
      await appendAudit(
        tx,
        { actor: caPrincipal(batch.ca), action: 'platform.sync.apply', target: `platform:ca:${batch.ca}`, details: { applied: result.applied, duplicates: result.duplicates, conflicts, firstSeq: Math.min(...seqs), lastSeq: Math.max(...seqs) } },
        this.clock(),
      );
    }
    return result;
  }

  /**
   * Applies the batch's new messages in order. Statements, not rows, are what costs (each one a
   * round trip through the driver, and on PostgreSQL through the network), so the certificates
   * concerned are read in one query, the messages are worked through in memory, and new rows go
   * in as multi-row inserts; only changes to certificates of earlier batches are statements of
   * their own, each as conditional as before (revoke only an active one, fill in an issuance only
   * where none is recorded), so concurrent batches cannot undo each other.
   */
  private async applyFresh(tx: Executor, ca: string, fresh: Array<{ m: SyncMessage; digest: string }>, now: string): Promise<void> {
    const serials = [...new Set(fresh.map(({ m }) => m.serial))];
    const certs = new Map<string, CertRow & { stored: boolean }>();
    for (let i = 0; i < serials.length; i += IN_CHUNK) {
      const chunk = serials.slice(i, i + IN_CHUNK);
      const found = await all<CertRow & { serial: string }>(
        tx,
        statement(`select serial, profile, class, province, issued_at, not_after, status, revoked_at, replaces from platform_certificates where ca = ? and serial in (${placeholders(chunk.length, 1)})`, [ca, ...chunk]),
      );
      for (const r of found) certs.set(r.serial, { ...r, stored: true });
    }
    const updates: HotStatement[] = [];
    const messages: unknown[][] = [];
    for (const { m, digest } of fresh) {
      let dims = { profile: m.profile ?? null, class: m.class ?? null, province: m.province ?? null };
      const cert = certs.get(m.serial);
      if (m.kind === 'revoked') {
        if (cert) {
          dims = { profile: dims.profile ?? cert.profile, class: dims.class ?? cert.class, province: dims.province ?? cert.province };
          if (cert.status === 'active') {
            cert.status = 'revoked';
            cert.revoked_at = m.at;
            if (cert.stored) updates.push(hot`update platform_certificates set status = 'revoked', revoked_at = ${m.at} where ca = ${ca} and serial = ${m.serial} and status = 'active'`);
          }
        } else {
          // The revocation overtook the issuance (or the issuance predates the connection): keep it.
          certs.set(m.serial, { ...dims, issued_at: null, not_after: null, status: 'revoked', revoked_at: m.at, replaces: null, stored: false });
        }
      } else if (!cert) {
        certs.set(m.serial, { ...dims, issued_at: m.at, not_after: m.notAfter ?? null, status: 'active', revoked_at: null, replaces: m.replaces ?? null, stored: false });
      } else if (cert.issued_at === null) {
        Object.assign(cert, dims, { issued_at: m.at, not_after: m.notAfter ?? null, replaces: m.replaces ?? null });
        if (cert.stored) {
          updates.push(
            hot`update platform_certificates set profile = ${dims.profile}, class = ${dims.class}, province = ${dims.province}, issued_at = ${m.at}, not_after = ${m.notAfter ?? null}, replaces = ${m.replaces ?? null} where ca = ${ca} and serial = ${m.serial} and issued_at is null`,
          );
        }
      }
      messages.push([ca, m.seq, m.kind, m.serial, digest, dims.profile, dims.class, dims.province, m.at, now]);
    }
    for (const u of updates) await run(tx, u);
    const inserts = [...certs.entries()].filter(([, c]) => !c.stored).map(([serial, c]) => [ca, serial, c.profile, c.class, c.province, c.issued_at, c.not_after, c.status, c.revoked_at, c.replaces]);
    for (let i = 0; i < inserts.length; i += ROW_CHUNK) {
      const rows = inserts.slice(i, i + ROW_CHUNK);
      // "do nothing": a concurrent batch (PostgreSQL) inserted the same certificate first; its messages keep exactly-once by their own key.
      await run(tx, statement(`insert into platform_certificates (ca, serial, profile, class, province, issued_at, not_after, status, revoked_at, replaces) values ${placeholders(rows.length, 10)} on conflict (ca, serial) do nothing`, rows.flat()));
    }
    for (let i = 0; i < messages.length; i += ROW_CHUNK) {
      const rows = messages.slice(i, i + ROW_CHUNK);
      await run(tx, statement(`insert into platform_sync_messages (ca, seq, kind, serial, digest, profile, class, province, at, received_at) values ${placeholders(rows.length, 10)}`, rows.flat()));
    }
  }
}

const placeholderTexts = new Map<string, string>();

/** "(?, …), (?, …)" for `rows` rows of `columns` values ("?, ?" for one column); kept, so that each text is built once. */
function placeholders(rows: number, columns: number): string {
  const key = `${rows}x${columns}`;
  let text = placeholderTexts.get(key);
  if (text === undefined) {
    const row = Array(columns).fill('?').join(', ');
    text = columns === 1 ? Array(rows).fill('?').join(', ') : Array(rows).fill(`(${row})`).join(', ');
    placeholderTexts.set(key, text);
  }
  return text;
}

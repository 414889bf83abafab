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
import { all, first, run } from '../../store/sql.js';
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

/** A suspended CA must still report revocations; any other status than these is refused. */
const SYNCING: readonly CaStatus[] = ['connected', 'suspended'];
const ATTEMPTS = 3;

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
    for (const m of batch.messages) {
      const digest = messageDigest(m);
      const had = known.get(m.seq);
      let status: ApplyStatus;
      if (had === undefined) {
        await this.applyOne(tx, batch.ca, m, digest, now);
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
    if (result.applied > 0 || result.conflicts > 0) {
      await appendAudit(
        tx,
        { actor: caPrincipal(batch.ca), action: 'platform.sync.apply', target: `platform:ca:${batch.ca}`, details: { applied: result.applied, duplicates: result.duplicates, conflicts, firstSeq: Math.min(...seqs), lastSeq: Math.max(...seqs) } },
        this.clock(),
      );
    }
    return result;
  }

  private async applyOne(tx: Executor, ca: string, m: SyncMessage, digest: string, now: string): Promise<void> {
    let dims = { profile: m.profile ?? null, class: m.class ?? null, province: m.province ?? null };
    if (m.kind === 'revoked') {
      const cert = await first<{ profile: string | null; class: string | null; province: string | null }>(tx, sql`select profile, class, province from platform_certificates where ca = ${ca} and serial = ${m.serial}`);
      if (cert) {
        dims = { profile: dims.profile ?? cert.profile, class: dims.class ?? cert.class, province: dims.province ?? cert.province };
        await run(tx, sql`update platform_certificates set status = 'revoked', revoked_at = ${m.at} where ca = ${ca} and serial = ${m.serial} and status = 'active'`);
      } else {
        // The revocation overtook the issuance (or the issuance predates the connection): keep it.
        await run(
          tx,
          sql`insert into platform_certificates (ca, serial, profile, class, province, issued_at, not_after, status, revoked_at, replaces) values (${ca}, ${m.serial}, ${dims.profile}, ${dims.class}, ${dims.province}, ${null}, ${null}, 'revoked', ${m.at}, ${null})`,
        );
      }
    } else {
      const n = await run(
        tx,
        sql`insert into platform_certificates (ca, serial, profile, class, province, issued_at, not_after, status, revoked_at, replaces) values (${ca}, ${m.serial}, ${dims.profile}, ${dims.class}, ${dims.province}, ${m.at}, ${m.notAfter ?? null}, 'active', ${null}, ${m.replaces ?? null}) on conflict (ca, serial) do nothing`,
      );
      if (n === 0) {
        await run(
          tx,
          sql`update platform_certificates set profile = ${dims.profile}, class = ${dims.class}, province = ${dims.province}, issued_at = ${m.at}, not_after = ${m.notAfter ?? null}, replaces = ${m.replaces ?? null} where ca = ${ca} and serial = ${m.serial} and issued_at is null`,
        );
      }
    }
    await run(
      tx,
      sql`insert into platform_sync_messages (ca, seq, kind, serial, digest, profile, class, province, at, received_at) values (${ca}, ${m.seq}, ${m.kind}, ${m.serial}, ${digest}, ${dims.profile}, ${dims.class}, ${dims.province}, ${m.at}, ${now})`,
    );
  }
}

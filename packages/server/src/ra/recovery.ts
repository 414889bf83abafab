/**
 * Key recovery (密钥恢复, regulation Art. 3 and 12): a copy of an escrowed encryption key, for its
 * holder (lost or broken token) or for an authorised third party (judicial recovery). An officer
 * enters the request naming who receives the key — the holder's fresh signing key (by a CSR,
 * proving possession, or by its new certificate) or a recipient's certificate — and it is carried out only after a set
 * number of approvals by distinct officers other than the one who entered it (M-of-N, default 2).
 * The final approval asks the KMC, which envelopes the key to that recipient only; the envelope
 * is kept for download, useless to anyone else. Every step is audited.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { Certificate, CertificationRequestDoc, ParseError } from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes, nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { all, first, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import { normalizeSerial, type CertificateAuthorities } from '../ca/authority.js';
import type { KmcLink } from '../kmc/link.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';

/** Migrations: recovery requests and their approvals. */
export const recoveryMigrations: ModuleMigrations = {
  module: 'rarecovery',
  migrations: (dialect) => ({
    '0001_recoveries': {
      async up(db: Kysely<any>) {
        const t = columnTypes(dialect);
        await db.schema
          .createTable('ra_recoveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('authority_name', 'text', (c) => c.notNull())
          .addColumn('enc_serial', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('recipient_spki', t.bytes, (c) => c.notNull())
          .addColumn('recipient_cert', t.bytes)
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('required_approvals', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('envelope', t.bytes)
          .addColumn('decided_at', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ra_recoveries_state').on('ra_recoveries').columns(['authority_name', 'state']).execute();
        await db.schema
          .createTable('ra_recovery_approvals')
          .addColumn('recovery_id', 'text', (c) => c.notNull().references('ra_recoveries.id'))
          .addColumn('officer', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('ra_recovery_approvals_pk', ['recovery_id', 'officer'])
          .execute();
      },
    },
  }),
};

/** Who a recovery is for. */
export type RecoveryKind = 'holder' | 'third-party';
/** Where a recovery stands. */
export type RecoveryState = 'pending' | 'delivered' | 'rejected';

/** A recovery request as officers see it. */
export interface RecoveryView {
  id: string;
  ca: string;
  encSerial: string;
  kind: RecoveryKind;
  /** Who receives the key: "holder's new signing key (…subject…)" or the recipient certificate's subject. */
  recipient: string;
  reason: string;
  state: RecoveryState;
  requiredApprovals: number;
  approvals: Array<{ officer: string; at: string }>;
  requestedBy: string;
  requestedAt: string;
  decidedAt: string | null;
  /** SM2EnvelopedKey DER, once delivered: only the recipient's key opens it. */
  envelope: Buffer | null;
}

/** What an officer enters. */
export interface RecoveryInput {
  encSerial: string;
  kind: RecoveryKind;
  /** Holder recovery of an SM2 key: a CSR of the holder's fresh signing key (PEM or DER), proving possession. */
  recipientCsr?: Uint8Array | string;
  /** The recipient's certificate (PEM or DER): a third party's, or the holder's new signing certificate. */
  recipientCertificate?: Uint8Array | string;
  reason: string;
}

type Row = {
  id: string;
  authority_name: string;
  enc_serial: string;
  kind: RecoveryKind;
  recipient_spki: Buffer;
  recipient_cert: Buffer | null;
  recipient: string;
  reason: string;
  required_approvals: number;
  state: RecoveryState;
  requested_by: string;
  requested_at: string;
  envelope: Buffer | null;
  decided_at: string | null;
  version: number;
};

function requireOfficer(actor: Principal): void {
  if (actor.role !== 'officer' && actor.role !== 'admin') throw new ForbiddenError('ra.officer', 'only an RA officer or an administrator may do this');
}

/** Key recovery with M-of-N approval. */
export class KeyRecovery {
  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    private readonly kmc: KmcLink,
    private readonly opts: { requiredApprovals?: number; clock?: () => Date; isEncryptionCertificate: (ex: Executor, serial: string) => Promise<boolean> },
  ) {
    if ((opts.requiredApprovals ?? 2) < 2) throw new Error('key recovery needs at least two approvals');
  }

  /** Enters a recovery request; nothing is recovered until enough other officers approve. */
  async request(actor: Principal, caName: string, input: RecoveryInput): Promise<RecoveryView> {
    requireOfficer(actor);
    if (!this.kmc.configured) throw new RuleError('recovery.kmc', 'this CA service has no key management centre, so no key can be recovered');
    const serial = normalizeSerial(input.encSerial);
    const cert = await this.ca.getCertificate(caName, serial);
    if (!(await this.opts.isEncryptionCertificate(this.database.db, serial))) throw new RuleError('recovery.certificate', `certificate ${serial} is not an encryption certificate with an escrowed key`);
    const reason = input.reason.trim();
    if (reason.length < 4) throw new InvalidRequestError('recovery.reason', 'say why the key is recovered (lost token, court order …): it is kept in the record');
    const { spki, certificate, description } = recipientOf(input);
    const now = nowIso(this.now());
    const id = orderedId();
    await this.database.transaction(async (tx) => {
      await run(
        tx,
        sql`insert into ra_recoveries (id, authority_name, enc_serial, kind, recipient_spki, recipient_cert, recipient, reason, required_approvals, state, requested_by, requested_at, envelope, decided_at, version)
            values (${id}, ${caName}, ${serial}, ${input.kind}, ${spki}, ${certificate ?? null}, ${description}, ${reason}, ${this.required}, ${'pending'}, ${actor.id}, ${now}, ${null}, ${null}, ${1})`,
      );
      await appendAudit(tx, { actor, action: 'ra.recovery.request', target: `ra:recovery:${id}`, details: { ca: caName, encSerial: serial, kind: input.kind, recipient: description, recipientKey: sha256(spki), holder: cert.subject } });
    });
    return this.get(caName, id);
  }

  /**
   * Approves a request. The officer who entered it and officers who already approved cannot; the
   * approval that reaches the required number asks the KMC for the key, enveloped to the recipient.
   */
  async approve(actor: Principal, caName: string, id: string): Promise<RecoveryView> {
    requireOfficer(actor);
    const rec = await this.row(this.database.db, caName, id);
    if (rec.state !== 'pending') throw new ConflictError(`recovery.${rec.state}`, `recovery ${id} is already ${rec.state}`);
    if (rec.requested_by === actor.id) throw new ForbiddenError('recovery.maker-checker', `${actor.id} entered recovery ${id} and cannot also approve it`);
    const approvals = await this.approvals(this.database.db, id);
    if (approvals.some((a) => a.officer === actor.id)) throw new ForbiddenError('recovery.same-officer', `${actor.id} already approved recovery ${id}; another officer must`);
    const completes = approvals.length + 1 >= rec.required_approvals;
    // The KMC is asked outside the transaction; an envelope whose transaction fails is dropped unseen.
    const envelope = completes ? (await this.kmc.restoreKey(BigInt('0x' + rec.enc_serial), Buffer.from(rec.recipient_spki), rec.recipient_cert ? Buffer.from(rec.recipient_cert) : undefined)).envelope : null;
    const now = nowIso(this.now());
    await this.database.transaction(async (tx) => {
      await run(tx, sql`insert into ra_recovery_approvals (recovery_id, officer, at) values (${id}, ${actor.id}, ${now})`);
      const changed = completes
        ? await run(tx, sql`update ra_recoveries set state = ${'delivered'}, envelope = ${envelope}, decided_at = ${now}, version = ${rec.version + 1} where id = ${id} and version = ${rec.version} and state = ${'pending'}`)
        : await run(tx, sql`update ra_recoveries set version = ${rec.version + 1} where id = ${id} and version = ${rec.version} and state = ${'pending'}`);
      if (changed !== 1) throw new ConflictError('recovery.concurrent', `recovery ${id} changed meanwhile; read it again`);
      await appendAudit(tx, { actor, action: 'ra.recovery.approve', target: `ra:recovery:${id}`, details: { approval: approvals.length + 1, of: rec.required_approvals } });
      if (completes) await appendAudit(tx, { actor, action: 'ra.recovery.deliver', target: `ra:recovery:${id}`, details: { encSerial: rec.enc_serial, recipientKey: sha256(Buffer.from(rec.recipient_spki)), envelope: sha256(envelope!) } });
    });
    return this.get(caName, id);
  }

  /** Rejects a pending request with a reason. */
  async reject(actor: Principal, caName: string, id: string, reason: string): Promise<RecoveryView> {
    requireOfficer(actor);
    const rec = await this.row(this.database.db, caName, id);
    if (rec.state !== 'pending') throw new ConflictError(`recovery.${rec.state}`, `recovery ${id} is already ${rec.state}`);
    await this.database.transaction(async (tx) => {
      const changed = await run(tx, sql`update ra_recoveries set state = ${'rejected'}, decided_at = ${nowIso(this.now())}, version = ${rec.version + 1} where id = ${id} and version = ${rec.version}`);
      if (changed !== 1) throw new ConflictError('recovery.concurrent', `recovery ${id} changed meanwhile; read it again`);
      await appendAudit(tx, { actor, action: 'ra.recovery.reject', target: `ra:recovery:${id}`, details: { reason } });
    });
    return this.get(caName, id);
  }

  /** One request with its approvals (and the envelope once delivered). */
  async get(caName: string, id: string): Promise<RecoveryView> {
    const r = await this.row(this.database.db, caName, id);
    return {
      id: r.id,
      ca: r.authority_name,
      encSerial: r.enc_serial,
      kind: r.kind,
      recipient: r.recipient,
      reason: r.reason,
      state: r.state,
      requiredApprovals: Number(r.required_approvals),
      approvals: await this.approvals(this.database.db, id),
      requestedBy: r.requested_by,
      requestedAt: r.requested_at,
      decidedAt: r.decided_at,
      envelope: r.envelope ? Buffer.from(r.envelope) : null,
    };
  }

  /** Pending requests of a CA (an approver's queue). */
  async pending(caName: string): Promise<RecoveryView[]> {
    const rows = await all<{ id: string }>(this.database.db, sql`select id from ra_recoveries where authority_name = ${caName} and state = ${'pending'} order by requested_at`);
    return Promise.all(rows.map((r) => this.get(caName, r.id)));
  }

  private get required(): number {
    return this.opts.requiredApprovals ?? 2;
  }

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  private async row(ex: Executor, caName: string, id: string): Promise<Row> {
    const r = await first<Row>(ex, sql`select * from ra_recoveries where id = ${id} and authority_name = ${caName}`);
    if (!r) throw new NotFoundError('recovery.unknown', `CA "${caName}" has no recovery request ${id}`);
    return { ...r, version: Number(r.version) };
  }

  private approvals(ex: Executor, id: string): Promise<Array<{ officer: string; at: string }>> {
    return all<{ officer: string; at: string }>(ex, sql`select officer, at from ra_recovery_approvals where recovery_id = ${id} order by at, officer`);
  }
}

/**
 * The recipient's public key (and certificate, when named by one) and a description for the
 * record. A holder names the fresh signing key by a CSR, which proves possession (SM2 keys, whose
 * envelope needs only the key) or by its new certificate (any key: CMS EnvelopedData names its
 * recipient by certificate); a third party by its certificate.
 */
function recipientOf(input: RecoveryInput): { spki: Buffer; certificate?: Buffer; description: string } {
  try {
    if (input.kind !== 'holder' && input.kind !== 'third-party') throw new InvalidRequestError('recovery.kind', `recovery kind must be "holder" or "third-party", not "${String(input.kind)}"`);
    if ((input.recipientCsr === undefined) === (input.recipientCertificate === undefined)) {
      throw new InvalidRequestError('recovery.recipient', "name the recipient once: the holder's fresh key by a CSR (recipientCsr) or a certificate (recipientCertificate)");
    }
    if (input.recipientCsr !== undefined) {
      if (input.kind !== 'holder') throw new InvalidRequestError('recovery.recipient', "a third-party recovery names the recipient's certificate (recipientCertificate)");
      const csr = CertificationRequestDoc.parse(input.recipientCsr);
      if (!csr.verifySignature()) throw new RuleError('recovery.csr.signature', 'the CSR is not signed by its key (no proof of possession)');
      if (csr.publicKey.kind !== 'sm2') throw new RuleError('recovery.recipient.key', 'only an SM2 key can be named by a CSR (its envelope needs no certificate); name an RSA or ECDSA recipient by its certificate');
      return { spki: csr.publicKey.spki, description: `holder's new signing key (${csr.subjectText})` };
    }
    const cert = Certificate.parse(input.recipientCertificate!);
    const who = input.kind === 'holder' ? "holder's new signing certificate" : 'recipient certificate';
    return { spki: cert.publicKey.spki, certificate: cert.der, description: `${who} ${cert.subjectText} (serial ${cert.serialHex})` };
  } catch (e) {
    if (e instanceof ParseError) throw new InvalidRequestError('recovery.recipient', `the recipient could not be read: ${e.message}`);
    throw e;
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

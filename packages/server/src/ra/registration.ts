/**
 * The RA module: applications for certificates (identity data, materials, the request), their
 * review by RA officers, and the certificate lifecycle requests that follow (renewal, re-key,
 * reissue, revocation, hold, release). It decides; the CA module signs.
 *
 * Every state change runs in ONE transaction with its record: the application's new state, the
 * CA's certificate or status change, the RA event and the audit entry commit together or not at
 * all. Updates are guarded by the row's version, so concurrent decisions never both apply.
 */
import type { Kysely } from 'kysely';
import { Certificate, publicKeyFromSpki, type AltName, type HealthIdentity, type RevocationReason } from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { all, first, hot, run, statement } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, appendAudits, type TimedAuditEvent } from '../audit/log.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';
import { spkiFingerprint, type CertificateAuthorities, type CertificateRecord, type IssuedCertificate, type IssueInput, type SignedCertificate } from '../ca/authority.js';
import type { ApplicationKind, ApplicationState, RaTables } from './tables.js';
import { CA_PROFILES, altNamesFrom, cleanIdentity, type ExaminedRequest } from '../work/pki-tasks.js';
import { InThreadPkiWork, type PkiWork } from '../work/pki-work.js';
import { plaintextSealer, type Sealer } from '../security/envelope.js';
import { noKmc, type DualCertificates, type IssuedEncryption } from './dual.js';
import { checkMaterials, materialContext, materialRow, materialView, type MaterialInput, type MaterialLimits, type MaterialMeta, type MaterialView, DEFAULT_MATERIAL_LIMITS } from './materials.js';

export { DEFAULT_MATERIAL_LIMITS, type MaterialInput, type MaterialLimits, type MaterialView } from './materials.js';

/** The applicant's identity data as the RA officer recorded it from the materials. */
export interface Applicant {
  /** Full name of the person, or of the organisation or device owner. */
  name: string;
  organization?: string;
  department?: string;
  title?: string;
  phone?: string;
  email?: string;
  address?: string;
  /** Free-text notes of the officer who checked the identity. */
  notes?: string;
}

/** What an application asks for. */
export interface ApplicationInput {
  kind?: ApplicationKind;
  /** Required for a new certificate; renewals, re-keys and reissues keep the previous certificate's profile. */
  profile?: string;
  /** PKCS#10, PEM or DER. Required except for a renewal, which may reuse the previous key. */
  csr?: Uint8Array | string;
  /** The certificate renewed, re-keyed or reissued. */
  previousSerial?: string;
  /** Reissue: why the previous certificate is revoked when the new one is issued (default keyCompromise: the medium was lost). */
  previousReason?: RevocationReason;
  applicant: Applicant;
  /** Identity numbers for the GB/T 20518 extensions; otherwise taken from the CSR or the previous certificate. */
  identity?: HealthIdentity;
  altNames?: AltName[];
  validityDays?: number;
  materials?: MaterialInput[];
  /** Also issue the encryption certificate of a dual pair (SM2, a *-sign profile; needs a KMC: dual.ts). */
  dual?: boolean;
}

/** One entry of the RA's record. */
export interface EventView {
  action: string;
  actor: string;
  at: string;
  serial: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

/** An application as officers see it. */
export interface ApplicationView {
  id: string;
  ca: string;
  kind: ApplicationKind;
  profile: string;
  state: ApplicationState;
  subject: string;
  applicant: Applicant;
  identity: HealthIdentity;
  altNames: AltName[];
  validityDays: number | null;
  previousSerial: string | null;
  previousReason: string | null;
  enteredBy: string;
  enteredAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  /** True when the bootstrap administrator approved an application it entered itself (demo only). */
  selfApproved: boolean;
  certificateSerial: string | null;
  materials: MaterialView[];
  events: EventView[];
}

/** The most applications one batch enrollment takes (enrollBatch). */
export const MAX_ENROLL_BATCH = 100;

/** The largest CSR accepted, in bytes of DER. */
export { MAX_CSR_BYTES } from '../work/pki-tasks.js';

/** Options of the RA module. */
export interface RaOptions {
  database: Database;
  ca: CertificateAuthorities;
  /** Where CSRs are parsed and verified (worker threads or this thread); default this thread. */
  work?: PkiWork;
  limits?: Partial<MaterialLimits>;
  clock?: () => Date;
  /** Seals materials at rest (the deployment's envelope); default plaintext, for tests of the RA alone. */
  sealer?: Sealer;
  /** Dual certificates through the KMC; without it, dual applications are refused. */
  dual?: DualCertificates;
}

/** What an approval issued: the certificate and, for a dual application, the encryption certificate and its key envelope. */
export interface Approval {
  application: ApplicationView;
  issued: IssuedCertificate;
  encryption?: IssuedEncryption;
}


function tables(ex: Executor): Kysely<RaTables> {
  return ex as unknown as Kysely<RaTables>;
}

function requireOfficer(actor: Principal): void {
  if (actor.role !== 'officer' && actor.role !== 'admin') throw new ForbiddenError('ra.officer', 'only an RA officer or an administrator may do this');
}

/** The parsed, verified request of an application, as it will be stored and certified. */
interface ResolvedRequest {
  profile: string;
  subjectDer: Buffer;
  subjectText: string;
  spki: Buffer;
  csrDer: Buffer | null;
  identity: HealthIdentity;
  altNames: AltName[];
  previous?: CertificateRecord;
  /** The certificate, when it was signed together with the examination (an enrollment). */
  presigned?: SignedCertificate;
}

/** An application checked and ready to be written. */
interface PreparedApplication {
  row: RaTables['ra_applications'];
  request: ResolvedRequest;
  materialRows: RaTables['ra_materials'][];
  materials: MaterialView[];
  eventRow: RaTables['ra_events'];
  event: EventView;
}

/** The columns the application list can be sorted by (API name → column); anything else is refused. */
export const APPLICATION_SORT_COLUMNS = { enteredAt: 'entered_at', subject: 'subject', profile: 'profile', kind: 'kind', state: 'state' } as const;
/** A sort key of the application list. */
export type ApplicationSort = keyof typeof APPLICATION_SORT_COLUMNS;

/** The registration authority of one deployment (all its CAs). */
export class RegistrationAuthority {
  private readonly database: Database;
  private readonly ca: CertificateAuthorities;
  readonly limits: MaterialLimits;
  private readonly clock: () => Date;
  private readonly work: PkiWork;
  private readonly sealer: Sealer;
  private readonly dual?: DualCertificates;

  constructor(opts: RaOptions) {
    this.database = opts.database;
    this.ca = opts.ca;
    this.limits = { ...DEFAULT_MATERIAL_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? (() => new Date());
    this.work = opts.work ?? new InThreadPkiWork();
    this.sealer = opts.sealer ?? plaintextSealer;
    this.dual = opts.dual;
  }

  /**
   * Records an application after checking everything that can be checked before review: the
   * CSR parses and is signed by its key (proof of possession), the request meets the profile,
   * the materials are within limits. A refused application leaves nothing behind.
   */
  async apply(actor: Principal, caName: string, input: ApplicationInput): Promise<ApplicationView> {
    requireOfficer(actor);
    const entry = await this.prepareApplication(actor, caName, input);
    const dual = this.dualWish(input, entry);
    await this.database.transaction(async (tx) => {
      await this.insertApplication(tx, entry, actor);
      if (dual) await dual.request(tx, entry.row.id, entry.row.profile, entry.request.spki);
    });
    return this.viewOf(entry.row, entry.materials, [entry.event]);
  }

  /** Adds a material to an application still awaiting review. */
  async addMaterial(actor: Principal, caName: string, applicationId: string, material: MaterialInput): Promise<MaterialView> {
    requireOfficer(actor);
    return this.database.transaction(async (tx) => {
      const app = await this.row(tx, caName, applicationId);
      if (app.state !== 'submitted') throw new ConflictError(`application.${app.state}`, `materials can be added only before the decision; application ${app.id} is ${app.state}`);
      const count = await tables(tx).selectFrom('ra_materials').select((eb) => eb.fn.countAll<number>().as('n')).where('application_id', '=', app.id).executeTakeFirstOrThrow();
      checkMaterials(this.limits, [material], Number(count.n));
      const at = nowIso(this.clock());
      const view = await this.insertMaterial(tx, app.id, material, actor, at);
      await this.recordEvent(tx, { authorityId: app.authority_id, applicationId: app.id, action: 'material', actor, at, details: { material: view.id, name: view.name, size: view.size } });
      return view;
    });
  }

  /** One application with its materials (metadata) and record. */
  async getApplication(actor: Principal, caName: string, id: string, ex: Executor = this.database.db): Promise<ApplicationView> {
    requireOfficer(actor);
    const row = await this.row(ex, caName, id);
    return this.view(ex, row);
  }

  /**
   * Applications of a CA, optionally in one state, by `sort` (default: entry time) in `order`
   * (default ascending: oldest first), then by id; `after` is the last id of the previous page
   * (keyset paging on the same order).
   */
  async listApplications(actor: Principal, caName: string, q: { state?: ApplicationState; limit?: number; after?: string; sort?: ApplicationSort; order?: 'asc' | 'desc' } = {}): Promise<ApplicationView[]> {
    requireOfficer(actor);
    const authority = await this.ca.getAuthority(caName);
    const col = APPLICATION_SORT_COLUMNS[q.sort ?? 'enteredAt'];
    if (!col) throw new InvalidRequestError('ra.sort', `sort must be one of ${Object.keys(APPLICATION_SORT_COLUMNS).join(', ')}`);
    const dir = q.order === 'desc' ? 'desc' : 'asc';
    const op = dir === 'asc' ? '>' : '<';
    let query = tables(this.database.db).selectFrom('ra_applications').selectAll().where('authority_id', '=', authority.id);
    if (q.state) query = query.where('state', '=', q.state);
    if (q.after) {
      const last = await tables(this.database.db).selectFrom('ra_applications').select([col, 'id']).where('id', '=', q.after).executeTakeFirst();
      if (last) query = query.where((eb) => eb.or([eb(col, op, last[col]), eb.and([eb(col, '=', last[col]), eb('id', op, last.id)])]));
    }
    const rows = await query.orderBy(col, dir).orderBy('id', dir).limit(Math.min(Math.max(q.limit ?? 50, 1), 500)).execute();
    const out: ApplicationView[] = [];
    for (const r of rows) out.push(await this.view(this.database.db, r));
    return out;
  }

  /** The bytes of one material, opened from their seal; every read is audited before the bytes are returned. */
  async getMaterial(actor: Principal, caName: string, applicationId: string, materialId: string): Promise<{ view: MaterialView; content: Buffer }> {
    requireOfficer(actor);
    const app = await this.row(this.database.db, caName, applicationId);
    const m = await tables(this.database.db).selectFrom('ra_materials').selectAll().where('application_id', '=', app.id).where('id', '=', materialId).executeTakeFirst();
    if (!m) throw new NotFoundError('material.unknown', `application ${app.id} has no material ${materialId}`);
    const content = this.sealer.open(Buffer.from(m.content), m.content_protection, materialContext(m.id));
    const details = { ca: app.authority_name, name: m.name, size: Number(m.size), sha256: m.sha256 };
    await this.database.transaction((tx) => appendAudit(tx, { actor, action: 'ra.material.read', target: `ra:application:${app.id}/material:${m.id}`, details }));
    return { view: materialView(m), content };
  }

  /**
   * Approves an application and issues its certificate, in one transaction. Maker-checker: the
   * officer who entered the application cannot approve it, except the bootstrap administrator of
   * a demo deployment, whose self-approval is recorded as such. A re-key revokes the previous
   * certificate as superseded; a reissue revokes it with the reason given at application.
   *
   * The certificate is signed and linted before the transaction, from the application as read;
   * the transaction then decides the application only if it is still the version that was read
   * (otherwise 409 and the signed certificate is dropped unseen), and records the certificate.
   */
  async approve(actor: Principal, caName: string, id: string, opts: { comment?: string } = {}): Promise<Approval> {
    requireOfficer(actor);
    const app = await this.row(this.database.db, caName, id);
    const selfApproved = this.mayDecide(actor, app);
    const request: IssueInput = {
      profile: app.profile,
      subjectDer: Buffer.from(app.subject_der),
      spki: Buffer.from(app.spki),
      identity: JSON.parse(app.identity) as HealthIdentity,
      altNames: JSON.parse(app.alt_names) as AltName[],
      validityDays: app.validity_days ?? undefined,
    };
    const pair = await this.dual?.of(this.database.db, app.id);
    return this.ca.issueWith(caName, request, (signed) =>
      this.withEncryption(caName, pair?.encProfile, request, signed, app.id, actor, async (tx) => {
        const audits: TimedAuditEvent[] = [];
        const { row, issued } = await this.decide(tx, app, actor, signed, selfApproved, opts.comment, audits);
        await appendAudits(tx, audits);
        return { application: await this.view(tx, row), issued };
      }),
    );
  }

  /** Runs an approval's transaction; a dual application's encryption certificate joins it (dual.ts). */
  private withEncryption<T>(caName: string, encProfile: string | undefined, request: IssueInput, signed: SignedCertificate, applicationId: string, actor: Principal, body: (tx: Executor) => Promise<T>): Promise<T & { encryption?: IssuedEncryption }> {
    if (encProfile && this.dual) return this.dual.issueWithin(this.database, { caName, encProfile, request, signed, applicationId, actor }, body);
    return this.database.transaction(body) as Promise<T & { encryption?: IssuedEncryption }>;
  }

  /** The dual module when `input` asks for a pair (checked now: a refusal leaves nothing behind). */
  private dualWish(input: ApplicationInput, entry: PreparedApplication): DualCertificates | undefined {
    if (!input.dual) return undefined;
    if (!this.dual) throw noKmc();
    this.dual.checkApplication(entry.row.kind, entry.row.profile, entry.request.spki);
    return this.dual;
  }

  /**
   * Enters an application and approves it in one request, for automation. Only a principal who
   * may approve what it entered itself can do this: today the bootstrap administrator of a demo
   * deployment (the same rule as `approve`; the record says "self-approved"). Everyone else gets
   * 403: maker-checker holds, enter the application and let another officer approve it. The
   * records are exactly those of apply + approve (application, both RA events, three audit
   * entries), written in ONE transaction. A new certificate's application is written once, in
   * its final state, with both RA events in one insert and the three audit entries in one
   * chain append (the hot path: about half the statements of apply + approve).
   */
  async enroll(actor: Principal, caName: string, input: ApplicationInput, opts: { comment?: string } = {}): Promise<Approval> {
    requireOfficer(actor);
    if (!actor.bootstrap) {
      throw new ForbiddenError('ra.maker-checker', `maker-checker: ${actor.id} cannot approve an application it enters itself; enter it (POST /api/v1/cas/${caName}/applications) and let another officer approve it`);
    }
    const entry = await this.prepareApplication(actor, caName, input, !input.dual);
    const request: IssueInput = {
      profile: entry.row.profile,
      subjectDer: entry.request.subjectDer,
      spki: entry.request.spki,
      identity: entry.request.identity,
      altNames: entry.request.altNames,
      validityDays: input.validityDays,
    };
    const selfApproved = this.mayDecide(actor, entry.row);
    const dual = this.dualWish(input, entry);
    return this.ca.issueWith(caName, request, (signed) =>
      this.withEncryption(caName, dual?.check(entry.row.profile, entry.request.spki), request, signed, entry.row.id, actor, async (tx) => {
        const audits: TimedAuditEvent[] = [];
        if (!dual && !entry.row.previous_serial) {
          const { row, issued, events } = await this.enrollNew(tx, entry, actor, signed, selfApproved, opts.comment, audits);
          await appendAudits(tx, audits);
          return { application: this.viewOf(row, entry.materials, events), issued };
        }
        await this.insertApplication(tx, entry, actor, audits);
        if (dual) {
          // The dual request may record its own entries: keep the chain in the order of the acts.
          await appendAudits(tx, audits.splice(0));
          await dual.request(tx, entry.row.id, entry.row.profile, entry.request.spki);
        }
        const { row, issued, events } = await this.decide(tx, entry.row, actor, signed, selfApproved, opts.comment, audits);
        await appendAudits(tx, audits);
        return { application: this.viewOf(row, entry.materials, [entry.event, ...events]), issued };
      }),
      entry.request.presigned,
    );
  }

  /**
   * Enrolls several applications of one CA in one call (a hospital enrolling its staff at once).
   * Each is exactly an `enroll`: its own checks, its own transaction with its application, RA
   * record and audit entries, its own outcome; they run concurrently and so share group commits.
   * Who may not enroll, an unknown CA or too many applications fail the whole call before any
   * application is examined.
   */
  async enrollBatch(actor: Principal, caName: string, inputs: readonly ApplicationInput[]): Promise<PromiseSettledResult<Approval>[]> {
    requireOfficer(actor);
    if (!actor.bootstrap) {
      throw new ForbiddenError('ra.maker-checker', `maker-checker: ${actor.id} cannot approve applications it enters itself; enter them (POST /api/v1/cas/${caName}/applications) and let another officer approve them`);
    }
    if (inputs.length > MAX_ENROLL_BATCH) throw new InvalidRequestError('batch.size', `at most ${MAX_ENROLL_BATCH} applications per batch; this one has ${inputs.length}`);
    await this.ca.getAuthority(caName);
    return Promise.allSettled(inputs.map((input) => this.enroll(actor, caName, input)));
  }

  /**
   * Enters an application as `entrant`'s own and approves it by `policy` instead of an officer,
   * in ONE transaction (ra/self-service.ts: a holder's renewal, whose conditions the caller has
   * checked). The records are those of apply + approve, the decision reason names the policy and
   * `audit` adds the policy's own audit entry. No materials, no dual pair.
   */
  async enterByPolicy(entrant: Principal, policy: Principal, caName: string, input: ApplicationInput, reason: string, audit: (applicationId: string, serial: string) => TimedAuditEvent): Promise<Approval> {
    if (input.dual || input.materials?.length) throw new RuleError('ra.policy', 'an application approved by policy carries no materials and no encryption certificate');
    const entry = await this.prepareApplication(entrant, caName, input);
    const request: IssueInput = { profile: entry.row.profile, subjectDer: entry.request.subjectDer, spki: entry.request.spki, identity: entry.request.identity, altNames: entry.request.altNames, validityDays: input.validityDays };
    return this.ca.issueWith(caName, request, (signed) =>
      this.database.transaction(async (tx) => {
        const audits: TimedAuditEvent[] = [];
        await this.insertApplication(tx, entry, entrant, audits);
        const { row, issued, events } = await this.decide(tx, entry.row, policy, signed, false, reason, audits);
        audits.push(audit(row.id, signed.facts.serialHex));
        await appendAudits(tx, audits);
        return { application: this.viewOf(row, entry.materials, [entry.event, ...events]), issued };
      }),
    );
  }

  /** Whether `actor` may decide `app` now: it must await a decision, and maker-checker must hold. Returns true for a (demo) self-approval. */
  private mayDecide(actor: Principal, app: RaTables['ra_applications']): boolean {
    if (app.state !== 'submitted') throw new ConflictError(`application.${app.state}`, `application ${app.id} is already ${app.state}`);
    if (app.entered_by !== actor.id) return false;
    if (!actor.bootstrap) {
      throw new ForbiddenError('ra.maker-checker', `maker-checker: ${actor.id} entered application ${app.id} and cannot also approve it; another officer must`);
    }
    return true;
  }

  /**
   * The approval's writes, inside its transaction: the replaced certificate's revocation, the
   * certificate, the decision (guarded by the version of the application that was read: a lost
   * race throws 409 and the transaction rolls back), the RA record and the audit entry.
   */
  private async decide(
    tx: Executor,
    app: RaTables['ra_applications'],
    actor: Principal,
    signed: SignedCertificate,
    selfApproved: boolean,
    comment: string | undefined,
    audits: TimedAuditEvent[],
  ): Promise<{ row: RaTables['ra_applications']; issued: IssuedCertificate; events: EventView[] }> {
    const serial = signed.facts.serialHex;
    const row = decidedRow(app, actor, signed, selfApproved, comment);
    const events: EventView[] = [];
    if (app.previous_serial) {
      // The revocation appends its own audit entry: the entries so far go first.
      await appendAudits(tx, audits.splice(0));
      const revoked = await this.settlePrevious(tx, app, actor);
      if (revoked) events.push(revoked);
    }
    // The certificate first: a serial the CA already used must surface as SerialTakenError
    // (and a fresh serial), not as a clash on the application's certificate_serial index.
    const issued = await this.ca.record(tx, signed, actor, { audits, ...(app.previous_serial ? { replaces: app.previous_serial } : {}) });
    const changed = await run(
      tx,
      hot`update ra_applications set state = ${row.state}, decided_by = ${row.decided_by}, decided_at = ${row.decided_at}, decision_reason = ${row.decision_reason}, self_approved = ${row.self_approved}, certificate_serial = ${serial}, version = ${row.version}
          where id = ${app.id} and version = ${app.version} and state = ${'submitted'}`,
    );
    if (changed !== 1) throw new ConflictError('application.concurrent', `application ${app.id} was decided by someone else meanwhile`);
    const approval = approveEvent(app, actor, signed, selfApproved, comment);
    await insertEventRows(tx, [approval]);
    events.push(eventView(approval));
    audits.push(approveAudit(app, actor, signed, selfApproved));
    return { row, issued, events };
  }

  /**
   * The writes of an enrolled new certificate (no previous certificate, no dual pair), inside its
   * transaction: the certificate first (a used serial surfaces as SerialTakenError, as in
   * `decide`), then the application in its final state, both RA events in one insert; the three
   * audit entries (apply, issue, approve) go to `audits` in that order.
   */
  private async enrollNew(
    tx: Executor,
    entry: PreparedApplication,
    actor: Principal,
    signed: SignedCertificate,
    selfApproved: boolean,
    comment: string | undefined,
    audits: TimedAuditEvent[],
  ): Promise<{ row: RaTables['ra_applications']; issued: IssuedCertificate; events: EventView[] }> {
    audits.push(applyAudit(entry.row, actor));
    const issued = await this.ca.record(tx, signed, actor, { audits });
    const row = decidedRow(entry.row, actor, signed, selfApproved, comment);
    await insertApplicationRow(tx, row);
    for (const m of entry.materialRows) await tables(tx).insertInto('ra_materials').values(m).execute();
    const approval = approveEvent(row, actor, signed, selfApproved, comment);
    await insertEventRows(tx, [entry.eventRow, approval]);
    audits.push(approveAudit(row, actor, signed, selfApproved));
    return { row, issued, events: [entry.event, eventView(approval)] };
  }

  /** Rejects an application with a reason; nothing is issued. */
  async reject(actor: Principal, caName: string, id: string, reason: string): Promise<ApplicationView> {
    requireOfficer(actor);
    if (reason.trim() === '') throw new InvalidRequestError('reason', 'a rejection needs a reason');
    return this.database.transaction(async (tx) => {
      const app = await this.row(tx, caName, id);
      if (app.state !== 'submitted') throw new ConflictError(`application.${app.state}`, `application ${app.id} is already ${app.state}`);
      const at = nowIso(this.clock());
      const r = await tables(tx)
        .updateTable('ra_applications')
        .set({ state: 'rejected', decided_by: actor.id, decided_at: at, decision_reason: reason, version: Number(app.version) + 1 })
        .where('id', '=', app.id)
        .where('version', '=', app.version)
        .where('state', '=', 'submitted')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new ConflictError('application.concurrent', `application ${app.id} was decided by someone else meanwhile`);
      await this.recordEvent(tx, { authorityId: app.authority_id, applicationId: app.id, action: 'reject', actor, at, reason, details: {} });
      await appendAudit(tx, { actor, action: 'ra.reject', target: `ra:application:${app.id}`, details: { ca: caName, reason } });
      return this.view(tx, await this.row(tx, caName, id));
    });
  }

  /** Revokes a holder's certificate (RFC 5280 reason), with the RA's record, in one transaction. */
  async revoke(actor: Principal, caName: string, serial: string, opts: { reason: RevocationReason; invalidityDate?: Date; comment?: string }): Promise<CertificateRecord> {
    const record = await this.statusChange(actor, caName, serial, { action: 'revoke', reason: opts.reason, invalidityDate: opts.invalidityDate }, opts.comment);
    // The KMC's notice that an encryption certificate's key is retired committed with the revocation (dual.ts); deliver it now.
    await this.dual?.deliverNotices(record.serial);
    return record;
  }

  /** Suspends a certificate (certificateHold). */
  async hold(actor: Principal, caName: string, serial: string, comment?: string): Promise<CertificateRecord> {
    return this.statusChange(actor, caName, serial, { action: 'hold' }, comment);
  }

  /** Ends a suspension. */
  async release(actor: Principal, caName: string, serial: string, comment?: string): Promise<CertificateRecord> {
    return this.statusChange(actor, caName, serial, { action: 'release' }, comment);
  }

  private async statusChange(actor: Principal, caName: string, serial: string, change: Parameters<CertificateAuthorities['changeStatus']>[3], comment?: string): Promise<CertificateRecord> {
    // A holder may report the loss of their own certificate (hold); the HTTP access check (holder.self) established it is theirs.
    if (!(actor.role === 'holder' && actor.holder?.ca === caName && change.action === 'hold')) requireOfficer(actor);
    if (change.action === 'revoke' && (change.reason === 'cACompromise' || change.reason === 'aACompromise')) {
      throw new RuleError('revocation.reason', `${change.reason} applies to CA and attribute-authority certificates, not to a holder's certificate`);
    }
    return this.database.transaction(async (tx) => {
      const current = await this.ca.getCertificate(caName, serial, tx);
      if (CA_PROFILES.has(current.profile)) throw new RuleError('ra.ca-certificate', `certificate ${current.serial} is a CA certificate; the RA manages holders' certificates only`);
      const record = await this.ca.changeStatus(tx, caName, current.serial, change, actor);
      if (change.action === 'revoke') await this.dual?.retireWithin(tx, record.serial);
      const authority = await this.ca.getAuthority(caName, tx);
      await this.recordEvent(tx, {
        authorityId: authority.id,
        applicationId: null,
        serial: record.serial,
        action: change.action,
        actor,
        at: nowIso(this.clock()),
        reason: change.action === 'revoke' ? change.reason : comment,
        details: { comment, from: current.status, to: record.status },
      });
      return record;
    });
  }

  /** Re-key and reissue replace the previous certificate: revoke it in the approving transaction. Returns the RA event of the revocation, if any. */
  private async settlePrevious(tx: Executor, app: RaTables['ra_applications'], actor: Principal): Promise<EventView | undefined> {
    const prev = await this.ca.getCertificate(app.authority_name, app.previous_serial!, tx);
    if (app.kind === 'renewal' || app.kind === 'rekey') {
      if (prev.status !== 'valid') throw new ConflictError(`previous.${prev.status}`, `the certificate being ${app.kind === 'renewal' ? 'renewed' : 're-keyed'} (${prev.serial}) is now ${prev.status}`);
    }
    if ((app.kind === 'rekey' || app.kind === 'reissue') && prev.status !== 'revoked') {
      const reason = (app.previous_reason ?? 'superseded') as RevocationReason;
      await this.ca.changeStatus(tx, app.authority_name, prev.serial, { action: 'revoke', reason }, actor);
      await this.dual?.retireWithin(tx, prev.serial);
      return this.recordEvent(tx, { authorityId: app.authority_id, applicationId: app.id, serial: prev.serial, action: 'revoke', actor, at: nowIso(this.clock()), reason, details: { because: `${app.kind} ${app.id}` } });
    }
    return undefined;
  }

  /**
   * Everything an application needs before its transaction: the checks (CSR, proof of
   * possession, profile, materials) and the rows to write. Pure apart from reading the CA and,
   * for renewals, re-keys and reissues, the certificate replaced.
   */
  private async prepareApplication(actor: Principal, caName: string, input: ApplicationInput, signNow = false): Promise<PreparedApplication> {
    const authority = await this.ca.getAuthority(caName);
    const kind = input.kind ?? 'new';
    const materials = input.materials ?? [];
    checkMaterials(this.limits, materials, 0);
    // The request is checked against its profile as it is examined (new certificates) or
    // just after (renewals, re-keys and reissues, which take subject and profile from the certificate replaced).
    const req = await this.resolveRequest(caName, kind, input, signNow);
    // Time-ordered ids: new applications go to the end of every index keyed by application, so a
    // group commit writes a few shared pages there instead of one random page per application and
    // index (measured: 10 → 8.4 WAL pages written per certificate issued).
    const id = orderedId();
    const at = nowIso(this.clock());
    const previousReason = kind === 'reissue' ? (input.previousReason ?? 'keyCompromise') : kind === 'rekey' ? 'superseded' : null;
    const row: RaTables['ra_applications'] = {
      id,
      authority_id: authority.id,
      authority_name: authority.name,
      kind,
      profile: req.profile,
      state: 'submitted',
      subject: req.subjectText,
      subject_der: req.subjectDer,
      spki: req.spki,
      csr: req.csrDer,
      applicant: JSON.stringify(input.applicant),
      identity: JSON.stringify(req.identity),
      alt_names: JSON.stringify(req.altNames),
      validity_days: input.validityDays ?? null,
      previous_serial: req.previous?.serial ?? null,
      previous_reason: previousReason,
      entered_by: actor.id,
      entered_at: at,
      decided_by: null,
      decided_at: null,
      decision_reason: null,
      self_approved: 0,
      certificate_serial: null,
      version: 1,
    };
    const materialRows = materials.map((m) => materialRow(id, m, actor, at, this.sealer));
    const event = eventRow({ authorityId: authority.id, applicationId: id, action: 'apply', actor, at, details: { kind, profile: req.profile, materials: materials.length, previous: req.previous?.serial } });
    return { row, request: req, materialRows, materials: materialRows.map(materialView), event: eventView(event), eventRow: event };
  }

  /**
   * The application's writes, inside its transaction: the application, its materials, the RA
   * record and the audit entry (appended now, or added to `audits` for the caller to append).
   */
  private async insertApplication(tx: Executor, entry: PreparedApplication, actor: Principal, audits?: TimedAuditEvent[]): Promise<void> {
    await insertApplicationRow(tx, entry.row);
    for (const m of entry.materialRows) await tables(tx).insertInto('ra_materials').values(m).execute();
    await insertEventRows(tx, [entry.eventRow]);
    const audit = applyAudit(entry.row, actor);
    if (audits) audits.push(audit);
    else await appendAudit(tx, audit);
  }

  /**
   * Examines the CSR (in a worker thread when the service has them) and works out subject, key,
   * identity and names for each kind, checking the request against its profile. The checks and
   * their order are those a client sees: kind, CSR (size, structure, proof of possession,
   * identity), what the kind needs, validity, then the profile's rules.
   */
  private async resolveRequest(caName: string, kind: ApplicationKind, input: ApplicationInput, signNow = false): Promise<ResolvedRequest> {
    if (!['new', 'renewal', 'rekey', 'reissue'].includes(kind)) throw new InvalidRequestError('kind', `unknown application kind "${String(kind)}"`);
    const validityOk = input.validityDays === undefined || (Number.isInteger(input.validityDays) && input.validityDays >= 1);
    const checkValidity = () => {
      if (!validityOk) throw new InvalidRequestError('validityDays', 'validityDays must be a positive whole number');
    };
    const explicitIdentity = cleanIdentity(input.identity);

    if (kind === 'new') {
      // Everything a new certificate needs is in the request: the worker checks the profile too,
      // unless a simpler refusal comes first (kept in the order the client would see it).
      const canPrecheck = input.csr !== undefined && input.previousSerial === undefined && !!input.profile && validityOk;
      const precheck = canPrecheck ? { profile: input.profile!, altNames: input.altNames, validityDays: input.validityDays, issuerNotAfter: (await this.ca.issuingCaNotAfter(caName)).getTime(), now: this.clock().getTime() } : undefined;
      let presigned: SignedCertificate | undefined;
      let examined: ExaminedRequest | undefined;
      if (input.csr !== undefined && precheck && signNow) {
        // Every check below passes when the precheck can run: sign in the same pass (one worker trip).
        ({ examined, signed: presigned } = await this.ca.examineAndSign(caName, { csr: input.csr, identity: input.identity, precheck }));
      } else if (input.csr !== undefined) {
        examined = await this.work.examine({ csr: input.csr, identity: input.identity, ...(precheck ? { precheck } : {}) });
      }
      if (!examined) throw new InvalidRequestError('csr.missing', 'a new certificate needs a CSR');
      if (input.previousSerial !== undefined) throw new InvalidRequestError('previousSerial', 'a new certificate has no previous certificate; use kind renewal, rekey or reissue');
      if (!input.profile) throw new InvalidRequestError('profile.missing', 'a new certificate needs a profile');
      checkValidity();
      return {
        profile: input.profile,
        subjectDer: examined.subjectDer,
        subjectText: examined.subjectText,
        spki: examined.spki,
        csrDer: examined.der,
        identity: Object.keys(explicitIdentity).length ? explicitIdentity : examined.csrIdentity,
        altNames: input.altNames ?? examined.csrAltNames,
        ...(presigned ? { presigned } : {}),
      };
    }

    const csr = input.csr === undefined ? undefined : await this.work.examine({ csr: input.csr, identity: input.identity });
    if (!input.previousSerial) throw new InvalidRequestError('previousSerial', `a ${kind} needs previousSerial, the certificate it replaces`);
    const previous = await this.ca.getCertificate(caName, input.previousSerial);
    if (CA_PROFILES.has(previous.profile)) throw new RuleError('ra.ca-certificate', `certificate ${previous.serial} is a CA certificate; the RA manages holders' certificates only`);
    if (input.profile && input.profile !== previous.profile) {
      throw new RuleError('profile.changed', `a ${kind} keeps the profile of the certificate it replaces (${previous.profile}); apply for a new certificate to change it`);
    }
    if ((kind === 'renewal' || kind === 'rekey') && previous.status !== 'valid') {
      throw new ConflictError(`previous.${previous.status}`, `certificate ${previous.serial} is ${previous.status}; only a valid certificate can be ${kind === 'renewal' ? 'renewed' : 're-keyed'}`);
    }
    const prevCert = Certificate.parse(previous.der);
    if (csr && !csr.subjectDer.equals(prevCert.subjectDer)) {
      throw new RuleError('subject.changed', `a ${kind} keeps the subject of the certificate it replaces ("${prevCert.subjectText}"); apply for a new certificate to change it`);
    }
    const sameKey = csr ? spkiFingerprint(csr.spki) === previous.spkiSha256 : true;
    if (kind === 'renewal' && !sameKey) throw new RuleError('renewal.key', 'a renewal keeps the key of the certificate it renews; apply for a re-key to change keys');
    if (kind !== 'renewal' && !csr) throw new InvalidRequestError('csr.missing', `a ${kind} needs a CSR for the new key`);
    if (kind !== 'renewal' && sameKey) throw new RuleError(`${kind}.key`, `a ${kind} needs a new key; the CSR carries the key of certificate ${previous.serial}`);
    checkValidity();
    const csrIdentity = csr?.csrIdentity ?? {};
    const csrAltNames = csr?.csrAltNames ?? [];
    const resolved: ResolvedRequest = {
      profile: previous.profile,
      subjectDer: prevCert.subjectDer,
      subjectText: prevCert.subjectText,
      spki: csr ? csr.spki : prevCert.spkiDer,
      csrDer: csr ? csr.der : null,
      identity: Object.keys(explicitIdentity).length ? explicitIdentity : Object.keys(csrIdentity).length ? csrIdentity : cleanIdentity(prevCert.identity),
      altNames: input.altNames ?? (csrAltNames.length ? csrAltNames : altNamesFrom(prevCert.subjectAltNames)),
      previous,
    };
    await this.ca.precheck(caName, {
      profile: resolved.profile,
      subject: prevCert.subject,
      publicKey: csr ? publicKeyFromSpki(csr.spki) : prevCert.publicKey,
      identity: resolved.identity,
      altNames: resolved.altNames,
      validityDays: input.validityDays,
    });
    return resolved;
  }

  private async insertMaterial(tx: Executor, applicationId: string, m: MaterialInput, actor: Principal, at: string): Promise<MaterialView> {
    const row = materialRow(applicationId, m, actor, at, this.sealer);
    await tables(tx).insertInto('ra_materials').values(row).execute();
    return materialView(row);
  }

  /** Writes one entry of the RA's record and returns it as the views show it. */
  private async recordEvent(
    tx: Executor,
    e: { authorityId: string; applicationId: string | null; serial?: string | null; action: string; actor: Principal; at: string; reason?: string | null; details: Record<string, unknown> },
  ): Promise<EventView> {
    const event = eventRow(e);
    await insertEventRows(tx, [event]);
    return eventView(event);
  }

  private async row(ex: Executor, caName: string, id: string): Promise<RaTables['ra_applications']> {
    const authority = await this.ca.getAuthority(caName, ex);
    const row = /^[0-9a-f-]{36}$/.test(id) ? await first<RaTables['ra_applications']>(ex, hot`select * from ra_applications where id = ${id} and authority_id = ${authority.id}`) : undefined;
    if (!row) throw new NotFoundError('application.unknown', `CA "${caName}" has no application ${id.slice(0, 80)}`);
    return row;
  }

  /** An application as stored, with its materials (metadata) and record read through `ex`. */
  private async view(ex: Executor, row: RaTables['ra_applications']): Promise<ApplicationView> {
    const materials = await all<MaterialMeta>(
      ex,
      hot`select id, name, content_type, size, sha256, added_by, added_at from ra_materials where application_id = ${row.id} order by id`,
    );
    const events = await all<RaTables['ra_events']>(ex, hot`select * from ra_events where application_id = ${row.id} order by id`);
    return this.viewOf(
      row,
      materials.map(materialView),
      events.map(eventView),
    );
  }

  /** An application's view from its row, materials and record. */
  private viewOf(row: RaTables['ra_applications'], materials: MaterialView[], events: EventView[]): ApplicationView {
    return {
      id: row.id,
      ca: row.authority_name,
      kind: row.kind,
      profile: row.profile,
      state: row.state,
      subject: row.subject,
      applicant: JSON.parse(row.applicant) as Applicant,
      identity: JSON.parse(row.identity) as HealthIdentity,
      altNames: JSON.parse(row.alt_names) as AltName[],
      validityDays: row.validity_days === null ? null : Number(row.validity_days),
      previousSerial: row.previous_serial,
      previousReason: row.previous_reason,
      enteredBy: row.entered_by,
      enteredAt: row.entered_at,
      decidedBy: row.decided_by,
      decidedAt: row.decided_at,
      decisionReason: row.decision_reason,
      selfApproved: Number(row.self_approved) === 1,
      certificateSerial: row.certificate_serial,
      materials,
      events,
    };
  }
}

function eventRow(e: { authorityId: string; applicationId: string | null; serial?: string | null; action: string; actor: Principal; at: string; reason?: string | null; details: Record<string, unknown> }): RaTables['ra_events'] {
  return { id: orderedId(), authority_id: e.authorityId, application_id: e.applicationId, serial: e.serial ?? null, action: e.action, actor: e.actor.id, at: e.at, reason: e.reason ?? null, details: JSON.stringify(e.details) };
}

function eventView(e: RaTables['ra_events']): EventView {
  return { action: e.action, actor: e.actor, at: e.at, serial: e.serial, reason: e.reason, details: JSON.parse(e.details) as Record<string, unknown> };
}

/** An application as decided: issued with `signed`, by `actor`. */
function decidedRow(app: RaTables['ra_applications'], actor: Principal, signed: SignedCertificate, selfApproved: boolean, comment: string | undefined): RaTables['ra_applications'] {
  return { ...app, state: 'issued', decided_by: actor.id, decided_at: nowIso(signed.at), decision_reason: comment ?? null, self_approved: selfApproved ? 1 : 0, certificate_serial: signed.facts.serialHex, version: Number(app.version) + 1 };
}

/** The RA's record of an approval. */
function approveEvent(app: RaTables['ra_applications'], actor: Principal, signed: SignedCertificate, selfApproved: boolean, comment: string | undefined): RaTables['ra_events'] {
  const note = selfApproved ? 'approved by the bootstrap administrator who entered it (demo deployment: maker-checker waived)' : undefined;
  return eventRow({ authorityId: app.authority_id, applicationId: app.id, serial: signed.facts.serialHex, action: 'approve', actor, at: nowIso(signed.at), reason: comment, details: { selfApproved, note, profile: app.profile } });
}

/** The audit entry of an application entered. */
function applyAudit(app: RaTables['ra_applications'], actor: Principal): TimedAuditEvent {
  return { actor, action: 'ra.apply', target: `ra:application:${app.id}`, details: { ca: app.authority_name, kind: app.kind, profile: app.profile }, at: new Date() };
}

/** The audit entry of an approval. */
function approveAudit(app: RaTables['ra_applications'], actor: Principal, signed: SignedCertificate, selfApproved: boolean): TimedAuditEvent {
  return { actor, action: 'ra.approve', target: `ra:application:${app.id}`, details: { ca: app.authority_name, serial: signed.facts.serialHex, selfApproved }, at: signed.at };
}

/** Inserts an application row as it is (the hot path's SQL: store/sql.ts). */
async function insertApplicationRow(tx: Executor, r: RaTables['ra_applications']): Promise<void> {
  await run(
    tx,
    hot`insert into ra_applications (id, authority_id, authority_name, kind, profile, state, subject, subject_der, spki, csr, applicant, identity, alt_names, validity_days, previous_serial, previous_reason, entered_by, entered_at, decided_by, decided_at, decision_reason, self_approved, certificate_serial, version)
        values (${r.id}, ${r.authority_id}, ${r.authority_name}, ${r.kind}, ${r.profile}, ${r.state}, ${r.subject}, ${r.subject_der}, ${r.spki}, ${r.csr}, ${r.applicant}, ${r.identity}, ${r.alt_names}, ${r.validity_days}, ${r.previous_serial}, ${r.previous_reason}, ${r.entered_by}, ${r.entered_at}, ${r.decided_by}, ${r.decided_at}, ${r.decision_reason}, ${r.self_approved}, ${r.certificate_serial}, ${r.version})`,
  );
}

/** The multi-row insert of n RA events, built once per n. */
const eventInserts: string[] = [];

/** Inserts RA events in one statement. */
async function insertEventRows(tx: Executor, rows: readonly RaTables['ra_events'][]): Promise<void> {
  const n = rows.length;
  const text = (eventInserts[n] ??= `insert into ra_events (id, authority_id, application_id, serial, action, actor, at, reason, details) values ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
  const params: unknown[] = [];
  for (const e of rows) params.push(e.id, e.authority_id, e.application_id, e.serial, e.action, e.actor, e.at, e.reason, e.details);
  await run(tx, statement(text, params));
}

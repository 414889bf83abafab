/**
 * The RA module: applications for certificates (identity data, materials, the request), their
 * review by RA officers, and the certificate lifecycle requests that follow (renewal, re-key,
 * reissue, revocation, hold, release). It decides; the CA module signs.
 *
 * Every state change runs in ONE transaction with its record: the application's new state, the
 * CA's certificate or status change, the RA event and the audit entry commit together or not at
 * all. Updates are guarded by the row's version, so concurrent decisions never both apply.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  Certificate,
  CertificationRequestDoc,
  EXT,
  decodeKnownExtension,
  getProfile,
  nameFromDer,
  nameToDer,
  publicKeyFromSpki,
  readIdentity,
  type AltName,
  type HealthIdentity,
  type PublicKey,
  type RevocationReason,
} from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError, TooLargeError } from '../errors.js';
import { spkiFingerprint, type CertificateAuthorities, type DistinguishedName, type CertificateRecord, type IssuedCertificate } from '../ca/authority.js';
import type { ApplicationKind, ApplicationState, RaTables } from './tables.js';

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

/** One application material (a scan, a form) as received. */
export interface MaterialInput {
  name: string;
  contentType: string;
  content: Buffer;
}

/** A stored material, without its bytes. */
export interface MaterialView {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  addedBy: string;
  addedAt: string;
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

/** Size and type limits for materials. */
export interface MaterialLimits {
  /** Largest material, in bytes. */
  maxBytes: number;
  /** Most materials one application may carry. */
  maxCount: number;
  /** Content types accepted (scans, forms, documents). */
  contentTypes: readonly string[];
}

/** Default limits: 4 MiB per material, 20 per application, scans and documents only. */
export const DEFAULT_MATERIAL_LIMITS: MaterialLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxCount: 20,
  contentTypes: ['application/pdf', 'image/jpeg', 'image/png', 'image/tiff', 'image/webp', 'application/ofd', 'text/plain', 'application/json', 'application/xml'],
};

/** The largest CSR accepted, in bytes of DER. Real ones are under 4 KiB. */
export const MAX_CSR_BYTES = 16 * 1024;

/** Options of the RA module. */
export interface RaOptions {
  database: Database;
  ca: CertificateAuthorities;
  limits?: Partial<MaterialLimits>;
  clock?: () => Date;
}

const CA_PROFILES = new Set(['root-ca', 'sub-ca']);

function tables(ex: Executor): Kysely<RaTables> {
  return ex as unknown as Kysely<RaTables>;
}

function requireOfficer(actor: Principal): void {
  if (actor.role !== 'officer' && actor.role !== 'admin') throw new ForbiddenError('ra.officer', 'only an RA officer or an administrator may do this');
}

/** Subject alternative names of decoded GeneralNames (certificate or CSR), as AltNames. */
function altNamesFrom(names: Iterable<{ dNSName?: string; rfc822Name?: string; uniformResourceIdentifier?: string; iPAddress?: string }>): AltName[] {
  const out: AltName[] = [];
  for (const g of names) {
    if (g.dNSName !== undefined) out.push({ type: 'dns', value: g.dNSName });
    else if (g.rfc822Name !== undefined) out.push({ type: 'email', value: g.rfc822Name });
    else if (g.uniformResourceIdentifier !== undefined) out.push({ type: 'uri', value: g.uniformResourceIdentifier });
    else if (g.iPAddress !== undefined) out.push({ type: 'ip', value: g.iPAddress });
  }
  return out;
}

/** Identity fields that are set, as a plain object (drops empty values so comparisons are fair). */
function cleanIdentity(id: HealthIdentity | undefined): HealthIdentity {
  const out: HealthIdentity = {};
  for (const [k, v] of Object.entries(id ?? {})) if (typeof v === 'string' && v !== '') (out as Record<string, string>)[k] = v;
  return out;
}

function sameIdentity(a: HealthIdentity, b: HealthIdentity): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && (a as Record<string, string>)[k] === (b as Record<string, string>)[k]);
}

/** The parsed, verified request of an application. */
interface ResolvedRequest {
  profile: string;
  subject: DistinguishedName;
  subjectDer: Buffer;
  subjectText: string;
  publicKey: PublicKey;
  spki: Buffer;
  csrDer: Buffer | null;
  identity: HealthIdentity;
  altNames: AltName[];
  previous?: CertificateRecord;
}

/** The registration authority of one deployment (all its CAs). */
export class RegistrationAuthority {
  private readonly database: Database;
  private readonly ca: CertificateAuthorities;
  readonly limits: MaterialLimits;
  private readonly clock: () => Date;

  constructor(opts: RaOptions) {
    this.database = opts.database;
    this.ca = opts.ca;
    this.limits = { ...DEFAULT_MATERIAL_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? (() => new Date());
  }

  /**
   * Records an application after checking everything that can be checked before review: the
   * CSR parses and is signed by its key (proof of possession), the request meets the profile,
   * the materials are within limits. A refused application leaves nothing behind.
   */
  async apply(actor: Principal, caName: string, input: ApplicationInput): Promise<ApplicationView> {
    requireOfficer(actor);
    const authority = await this.ca.getAuthority(caName);
    const kind = input.kind ?? 'new';
    const materials = input.materials ?? [];
    this.checkMaterials(materials, 0);
    const req = await this.resolveRequest(caName, kind, input);
    if (input.validityDays !== undefined && (!Number.isInteger(input.validityDays) || input.validityDays < 1)) {
      throw new InvalidRequestError('validityDays', 'validityDays must be a positive whole number');
    }
    await this.ca.precheck(caName, {
      profile: req.profile,
      subject: req.subject,
      publicKey: req.publicKey,
      identity: req.identity,
      altNames: req.altNames,
      validityDays: input.validityDays,
    });
    const id = randomUUID();
    const at = nowIso(this.clock());
    const previousReason = kind === 'reissue' ? (input.previousReason ?? 'keyCompromise') : kind === 'rekey' ? 'superseded' : null;
    await this.database.transaction(async (tx) => {
      await tables(tx)
        .insertInto('ra_applications')
        .values({
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
        })
        .execute();
      for (const m of materials) await this.insertMaterial(tx, id, m, actor, at);
      await this.recordEvent(tx, { authorityId: authority.id, applicationId: id, action: 'apply', actor, at, details: { kind, profile: req.profile, materials: materials.length, previous: req.previous?.serial } });
      await appendAudit(tx, { actor, action: 'ra.apply', target: `ra:application:${id}`, details: { ca: caName, kind, profile: req.profile } });
    });
    return this.getApplication(actor, caName, id);
  }

  /** Adds a material to an application still awaiting review. */
  async addMaterial(actor: Principal, caName: string, applicationId: string, material: MaterialInput): Promise<MaterialView> {
    requireOfficer(actor);
    return this.database.transaction(async (tx) => {
      const app = await this.row(tx, caName, applicationId);
      if (app.state !== 'submitted') throw new ConflictError(`application.${app.state}`, `materials can be added only before the decision; application ${app.id} is ${app.state}`);
      const count = await tables(tx).selectFrom('ra_materials').select((eb) => eb.fn.countAll<number>().as('n')).where('application_id', '=', app.id).executeTakeFirstOrThrow();
      this.checkMaterials([material], Number(count.n));
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

  /** Applications of a CA, oldest first, optionally in one state; `after` is the last id of the previous page. */
  async listApplications(actor: Principal, caName: string, q: { state?: ApplicationState; limit?: number; after?: string } = {}): Promise<ApplicationView[]> {
    requireOfficer(actor);
    const authority = await this.ca.getAuthority(caName);
    let query = tables(this.database.db).selectFrom('ra_applications').selectAll().where('authority_id', '=', authority.id);
    if (q.state) query = query.where('state', '=', q.state);
    if (q.after) {
      const last = await tables(this.database.db).selectFrom('ra_applications').select(['entered_at', 'id']).where('id', '=', q.after).executeTakeFirst();
      if (last) query = query.where((eb) => eb.or([eb('entered_at', '>', last.entered_at), eb.and([eb('entered_at', '=', last.entered_at), eb('id', '>', last.id)])]));
    }
    const rows = await query.orderBy('entered_at').orderBy('id').limit(Math.min(Math.max(q.limit ?? 50, 1), 500)).execute();
    const out: ApplicationView[] = [];
    for (const r of rows) out.push(await this.view(this.database.db, r));
    return out;
  }

  /** The bytes of one material. */
  async getMaterial(actor: Principal, caName: string, applicationId: string, materialId: string): Promise<{ view: MaterialView; content: Buffer }> {
    requireOfficer(actor);
    const app = await this.row(this.database.db, caName, applicationId);
    const m = await tables(this.database.db).selectFrom('ra_materials').selectAll().where('application_id', '=', app.id).where('id', '=', materialId).executeTakeFirst();
    if (!m) throw new NotFoundError('material.unknown', `application ${app.id} has no material ${materialId}`);
    return { view: materialView(m), content: Buffer.from(m.content) };
  }

  /**
   * Approves an application and issues its certificate, in one transaction. Maker-checker: the
   * officer who entered the application cannot approve it, except the bootstrap administrator of
   * a demo deployment, whose self-approval is recorded as such. A re-key revokes the previous
   * certificate as superseded; a reissue revokes it with the reason given at application.
   */
  async approve(actor: Principal, caName: string, id: string, opts: { comment?: string } = {}): Promise<{ application: ApplicationView; issued: IssuedCertificate }> {
    requireOfficer(actor);
    return this.database.transaction(async (tx) => {
      const app = await this.row(tx, caName, id);
      if (app.state !== 'submitted') throw new ConflictError(`application.${app.state}`, `application ${app.id} is already ${app.state}`);
      let selfApproved = false;
      if (app.entered_by === actor.id) {
        if (!actor.bootstrap) {
          throw new ForbiddenError('ra.maker-checker', `maker-checker: ${actor.id} entered application ${app.id} and cannot also approve it; another officer must`);
        }
        selfApproved = true;
      }
      const at = this.clock();
      if (app.previous_serial) await this.settlePrevious(tx, app, actor);
      const issued = await this.ca.issue(
        tx,
        caName,
        {
          profile: app.profile,
          subject: nameFromDer(Buffer.from(app.subject_der)),
          publicKey: publicKeyFromSpki(Buffer.from(app.spki)),
          identity: JSON.parse(app.identity) as HealthIdentity,
          altNames: JSON.parse(app.alt_names) as AltName[],
          validityDays: app.validity_days ?? undefined,
        },
        actor,
      );
      const r = await tables(tx)
        .updateTable('ra_applications')
        .set({ state: 'issued', decided_by: actor.id, decided_at: nowIso(at), decision_reason: opts.comment ?? null, self_approved: selfApproved ? 1 : 0, certificate_serial: issued.record.serial, version: Number(app.version) + 1 })
        .where('id', '=', app.id)
        .where('version', '=', app.version)
        .where('state', '=', 'submitted')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new ConflictError('application.concurrent', `application ${app.id} was decided by someone else meanwhile`);
      const note = selfApproved ? 'approved by the bootstrap administrator who entered it (demo deployment: maker-checker waived)' : undefined;
      await this.recordEvent(tx, { authorityId: app.authority_id, applicationId: app.id, serial: issued.record.serial, action: 'approve', actor, at: nowIso(at), reason: opts.comment, details: { selfApproved, note, profile: app.profile } });
      await appendAudit(tx, { actor, action: 'ra.approve', target: `ra:application:${app.id}`, details: { ca: caName, serial: issued.record.serial, selfApproved } }, at);
      return { application: await this.view(tx, (await this.row(tx, caName, id))), issued };
    });
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
    return this.statusChange(actor, caName, serial, { action: 'revoke', reason: opts.reason, invalidityDate: opts.invalidityDate }, opts.comment);
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
    requireOfficer(actor);
    if (change.action === 'revoke' && (change.reason === 'cACompromise' || change.reason === 'aACompromise')) {
      throw new RuleError('revocation.reason', `${change.reason} applies to CA and attribute-authority certificates, not to a holder's certificate`);
    }
    return this.database.transaction(async (tx) => {
      const current = await this.ca.getCertificate(caName, serial, tx);
      if (CA_PROFILES.has(current.profile)) throw new RuleError('ra.ca-certificate', `certificate ${current.serial} is a CA certificate; the RA manages holders' certificates only`);
      const record = await this.ca.changeStatus(tx, caName, current.serial, change, actor);
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

  /** Re-key and reissue replace the previous certificate: revoke it in the approving transaction. */
  private async settlePrevious(tx: Executor, app: RaTables['ra_applications'], actor: Principal): Promise<void> {
    const prev = await this.ca.getCertificate(app.authority_name, app.previous_serial!, tx);
    if (app.kind === 'renewal' || app.kind === 'rekey') {
      if (prev.status !== 'valid') throw new ConflictError(`previous.${prev.status}`, `the certificate being ${app.kind === 'renewal' ? 'renewed' : 're-keyed'} (${prev.serial}) is now ${prev.status}`);
    }
    if ((app.kind === 'rekey' || app.kind === 'reissue') && prev.status !== 'revoked') {
      const reason = (app.previous_reason ?? 'superseded') as RevocationReason;
      await this.ca.changeStatus(tx, app.authority_name, prev.serial, { action: 'revoke', reason }, actor);
      await this.recordEvent(tx, { authorityId: app.authority_id, applicationId: app.id, serial: prev.serial, action: 'revoke', actor, at: nowIso(this.clock()), reason, details: { because: `${app.kind} ${app.id}` } });
    }
  }

  /** Parses and checks the CSR and works out subject, key, identity and names for each kind. */
  private async resolveRequest(caName: string, kind: ApplicationKind, input: ApplicationInput): Promise<ResolvedRequest> {
    if (!['new', 'renewal', 'rekey', 'reissue'].includes(kind)) throw new InvalidRequestError('kind', `unknown application kind "${String(kind)}"`);
    let csr: CertificationRequestDoc | undefined;
    if (input.csr !== undefined) {
      const size = typeof input.csr === 'string' ? input.csr.length : input.csr.length;
      if (size > MAX_CSR_BYTES * 2) throw new TooLargeError('csr.size', `the CSR is ${size} bytes; at most ${MAX_CSR_BYTES} bytes of DER are accepted`);
      csr = CertificationRequestDoc.parse(input.csr);
      if (csr.der.length > MAX_CSR_BYTES) throw new TooLargeError('csr.size', `the CSR is ${csr.der.length} bytes of DER; at most ${MAX_CSR_BYTES} are accepted`);
      let ok = false;
      try {
        ok = csr.verifySignature();
      } catch {
        ok = false;
      }
      if (!ok) throw new RuleError('csr.signature', 'the CSR is not signed by the key it carries (proof of possession failed)');
    }
    const csrIdentity = csr ? cleanIdentity(readIdentity(csr.requestedExtensions)) : {};
    const explicitIdentity = cleanIdentity(input.identity);
    if (csr && Object.keys(csrIdentity).length > 0 && Object.keys(explicitIdentity).length > 0 && !sameIdentity(csrIdentity, explicitIdentity)) {
      throw new RuleError('identity.mismatch', 'the identity numbers in the CSR differ from those in the application');
    }
    const csrAltNames = csr ? this.csrAltNames(csr) : [];

    if (kind === 'new') {
      if (!csr) throw new InvalidRequestError('csr.missing', 'a new certificate needs a CSR');
      if (input.previousSerial !== undefined) throw new InvalidRequestError('previousSerial', 'a new certificate has no previous certificate; use kind renewal, rekey or reissue');
      if (!input.profile) throw new InvalidRequestError('profile.missing', 'a new certificate needs a profile');
      checkApplicableProfile(input.profile);
      return {
        profile: input.profile,
        subject: csr.subject,
        subjectDer: nameToDer(csr.subject),
        subjectText: csr.subjectText,
        publicKey: csr.publicKey,
        spki: csr.spkiDer,
        csrDer: csr.der,
        identity: Object.keys(explicitIdentity).length ? explicitIdentity : csrIdentity,
        altNames: input.altNames ?? csrAltNames,
      };
    }

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
    if (csr && !nameToDer(csr.subject).equals(prevCert.subjectDer)) {
      throw new RuleError('subject.changed', `a ${kind} keeps the subject of the certificate it replaces ("${prevCert.subjectText}"); apply for a new certificate to change it`);
    }
    const sameKey = csr ? spkiFingerprint(csr.spkiDer) === previous.spkiSha256 : true;
    if (kind === 'renewal' && !sameKey) throw new RuleError('renewal.key', 'a renewal keeps the key of the certificate it renews; apply for a re-key to change keys');
    if (kind !== 'renewal' && !csr) throw new InvalidRequestError('csr.missing', `a ${kind} needs a CSR for the new key`);
    if (kind !== 'renewal' && sameKey) throw new RuleError(`${kind}.key`, `a ${kind} needs a new key; the CSR carries the key of certificate ${previous.serial}`);
    const prevIdentity = cleanIdentity(prevCert.identity);
    return {
      profile: previous.profile,
      subject: prevCert.subject,
      subjectDer: prevCert.subjectDer,
      subjectText: prevCert.subjectText,
      publicKey: csr ? csr.publicKey : prevCert.publicKey,
      spki: csr ? csr.spkiDer : prevCert.spkiDer,
      csrDer: csr ? csr.der : null,
      identity: Object.keys(explicitIdentity).length ? explicitIdentity : Object.keys(csrIdentity).length ? csrIdentity : prevIdentity,
      altNames: input.altNames ?? (csrAltNames.length ? csrAltNames : altNamesFrom(prevCert.subjectAltNames)),
      previous,
    };
  }

  private csrAltNames(csr: CertificationRequestDoc): AltName[] {
    const ext = csr.requestedExtensions.find((e) => e.extnID === EXT.subjectAltName);
    if (!ext) return [];
    const decoded = decodeKnownExtension(ext) as Iterable<{ dNSName?: string }> | undefined;
    return decoded ? altNamesFrom(decoded) : [];
  }

  private checkMaterials(materials: MaterialInput[], existing: number): void {
    if (existing + materials.length > this.limits.maxCount) {
      throw new TooLargeError('material.count', `an application may carry at most ${this.limits.maxCount} materials`);
    }
    for (const m of materials) {
      if (m.content.length > this.limits.maxBytes) {
        throw new TooLargeError('material.size', `material "${m.name}" is ${m.content.length} bytes; the limit is ${this.limits.maxBytes} bytes`);
      }
      if (m.content.length === 0) throw new InvalidRequestError('material.empty', `material "${m.name}" is empty`);
      const type = m.contentType.split(';')[0]!.trim().toLowerCase();
      if (!this.limits.contentTypes.includes(type)) {
        throw new RuleError('material.type', `material "${m.name}" has content type "${m.contentType}"; accepted: ${this.limits.contentTypes.join(', ')}`);
      }
    }
  }

  private async insertMaterial(tx: Executor, applicationId: string, m: MaterialInput, actor: Principal, at: string): Promise<MaterialView> {
    const row: RaTables['ra_materials'] = {
      id: orderedId(),
      application_id: applicationId,
      name: m.name,
      content_type: m.contentType.split(';')[0]!.trim().toLowerCase(),
      size: m.content.length,
      sha256: createHash('sha256').update(m.content).digest('hex'),
      content: m.content,
      added_by: actor.id,
      added_at: at,
    };
    await tables(tx).insertInto('ra_materials').values(row).execute();
    return materialView(row);
  }

  private async recordEvent(
    tx: Executor,
    e: { authorityId: string; applicationId: string | null; serial?: string | null; action: string; actor: Principal; at: string; reason?: string | null; details: Record<string, unknown> },
  ): Promise<void> {
    await tables(tx)
      .insertInto('ra_events')
      .values({ id: orderedId(), authority_id: e.authorityId, application_id: e.applicationId, serial: e.serial ?? null, action: e.action, actor: e.actor.id, at: e.at, reason: e.reason ?? null, details: JSON.stringify(e.details) })
      .execute();
  }

  private async row(ex: Executor, caName: string, id: string): Promise<RaTables['ra_applications']> {
    const authority = await this.ca.getAuthority(caName, ex);
    const row = /^[0-9a-f-]{36}$/.test(id)
      ? await tables(ex).selectFrom('ra_applications').selectAll().where('id', '=', id).where('authority_id', '=', authority.id).executeTakeFirst()
      : undefined;
    if (!row) throw new NotFoundError('application.unknown', `CA "${caName}" has no application ${id.slice(0, 80)}`);
    return row;
  }

  private async view(ex: Executor, row: RaTables['ra_applications']): Promise<ApplicationView> {
    const materials = await tables(ex)
      .selectFrom('ra_materials')
      .select(['id', 'name', 'content_type', 'size', 'sha256', 'added_by', 'added_at'])
      .where('application_id', '=', row.id)
      .orderBy('id')
      .execute();
    const events = await tables(ex).selectFrom('ra_events').selectAll().where('application_id', '=', row.id).orderBy('id').execute();
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
      materials: materials.map((m) => materialView({ ...m, application_id: row.id, content: Buffer.alloc(0) })),
      events: events.map((e) => ({ action: e.action, actor: e.actor, at: e.at, serial: e.serial, reason: e.reason, details: JSON.parse(e.details) as Record<string, unknown> })),
    };
  }
}

/**
 * Holders apply for signing certificates. Encryption certificates need a key pair made and
 * escrowed by the KMC (GM/T 0014 dual certificates), which is a later module; CA, OCSP-signing
 * and time-stamping certificates belong to the service itself, not to applicants.
 */
function checkApplicableProfile(name: string): void {
  const profile = getProfile(name);
  if (profile.variant === 'sign') return;
  const why =
    profile.variant === 'enc'
      ? 'its key pair is made and escrowed by the key management centre (dual certificates), which this deployment does not run yet'
      : `it is a ${profile.variant === 'ca' ? 'CA' : 'service'} certificate of the certification service itself`;
  throw new RuleError('ra.profile', `profile ${profile.name} cannot be applied for: ${why}`);
}

function materialView(m: RaTables['ra_materials']): MaterialView {
  return { id: m.id, name: m.name, contentType: m.content_type, size: Number(m.size), sha256: m.sha256, addedBy: m.added_by, addedAt: m.added_at };
}

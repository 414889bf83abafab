/**
 * The CA module: certification service agencies ("authorities"), each with its own hierarchy
 * (a root CA and issuing CAs), issuing certificates under the health profiles and changing
 * their status. Like Boulder's CA + SA pair for our certificates: the only code that signs with
 * CA keys (it hands its keys only to its own signing work, work/pki-work.ts, which may run in
 * worker threads) and the only code that touches the ca_* tables.
 *
 * Issuance is two steps: `sign` (pure: build, sign, lint; outside any transaction) and `record`
 * (inside the caller's transaction), so that the RA's record of a decision and the CA's
 * certificate commit together or not at all, while no transaction waits for a signature.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  Certificate,
  KEY_ALGORITHMS,
  generateKey,
  getProfile,
  issueFromProfile,
  escapeDnValue,
  parseName,
  randomSerial,
  serialToHex,
  wholeSeconds,
  type AltName,
  type HealthIdentity,
  type KeyAlgorithm,
  type PrivateKey,
  type Profile,
  type PublicKey,
  type RevocationReason,
} from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { isUniqueViolation } from '../store/errors.js';
import { first, hot, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit, type TimedAuditEvent } from '../audit/log.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';
import type { CaTables, CertificateStatus } from './tables.js';
import { plaintextCustody, type KeyCustody } from './key-custody.js';
import { caKeyContext } from './master-key-custody.js';
import { PublicationUrls } from './urls.js';
import { CA_PROFILES, certificateFacts, precheckRequest, type ExaminedRequest, type ExamineTask, type PlannedSigning, type SignedResult } from '../work/pki-tasks.js';
import { InThreadPkiWork, type PkiWork, type SigningIssuer as WorkIssuer } from '../work/pki-work.js';
import { insertIdentityNumbers } from './search.js';

/** A distinguished name as the pki library builds it. */
export type DistinguishedName = ReturnType<typeof parseName>;

/** A CA of an authority with the key that signs for it (see `signingIssuers`). */
export interface SigningIssuer {
  authorityId: string;
  authority: string;
  issuerId: string;
  label: string;
  role: 'root' | 'issuing';
  active: boolean;
  cert: Certificate;
  key: PrivateKey;
}

/** What it takes to create an authority. */
export interface AuthoritySpec {
  /** URL-safe name, e.g. "demo-sm2". */
  name: string;
  algorithm: KeyAlgorithm;
  /** The O of the CA certificates' subjects. */
  organization: string;
  displayName?: string;
  /** The English display name, for English user interfaces (absent: displayName serves every language). */
  displayNameEn?: string;
}

/** One CA of an authority's hierarchy. */
export interface IssuerView {
  label: string;
  role: 'root' | 'issuing';
  /** Label of the CA that certified this one; null for the root. */
  parent: string | null;
  active: boolean;
  certificate: Certificate;
  keyProtection: string;
  url: string;
}

/** An authority and its hierarchy. */
export interface AuthorityView {
  id: string;
  name: string;
  displayName: string;
  /** The English display name; null when the CA has none. */
  displayNameEn: string | null;
  organization: string;
  algorithm: string;
  createdAt: string;
  createdBy: string;
  issuers: IssuerView[];
}

/** What a certificate will say about its holder, decoded; checked against the profile before signing. */
export interface PrecheckInput {
  profile: string;
  subject: DistinguishedName;
  publicKey: PublicKey;
  identity?: HealthIdentity;
  altNames?: AltName[];
  validityDays?: number;
}

/** What a certificate will say about its holder, as stored (DER): what signing takes. */
export interface IssueInput {
  profile: string;
  subjectDer: Buffer;
  spki: Buffer;
  identity?: HealthIdentity;
  altNames?: AltName[];
  validityDays?: number;
  /**
   * A serial chosen beforehand, for an encryption certificate whose key the KMC escrowed under
   * it; a repeat is then a 409, not a retry. Default: 128 fresh random bits.
   */
  serial?: Uint8Array;
}

/** A certificate as the CA records it. */
export interface CertificateRecord {
  authority: string;
  serial: string;
  issuer: string;
  profile: string;
  subject: string;
  spkiSha256: string;
  notBefore: string;
  notAfter: string;
  status: CertificateStatus;
  revokedAt: string | null;
  reason: RevocationReason | null;
  invalidityDate: string | null;
  issuedAt: string;
  version: number;
  der: Buffer;
}

/** A newly issued certificate with its chain (issuing CA first, root last). */
export interface IssuedCertificate {
  record: CertificateRecord;
  certificate: Certificate;
  chain: Certificate[];
}

/** A certificate signed and linted but not recorded yet (see CertificateAuthorities.sign). */
export interface SignedCertificate {
  authorityId: string;
  authority: string;
  issuerId: string;
  issuerLabel: string;
  profile: string;
  certificate: Certificate;
  /** The fields recorded, read once where the certificate was made. */
  facts: SignedResult;
  /** Start of validity and time of issuance. */
  at: Date;
  /** The CA certificates above it: issuing CA first, root last. */
  chain: Certificate[];
}

/** Everything `sign` decides before the work is sent (see CertificateAuthorities.plan). */
interface SigningPlan {
  a: LoadedAuthority;
  issuer: WorkIssuer;
  loaded: LoadedIssuer;
  at: Date;
  task: PlannedSigning;
}

/** The authority already used this serial number: the transaction must roll back and the certificate be signed anew. */
export class SerialTakenError extends Error {
  constructor(readonly serial: string) {
    super(`serial number ${serial} is already used by this CA`);
  }
}

/** A status change: revoke (RFC 5280 reason), hold (certificateHold) or release from hold. */
export type StatusChange =
  | { action: 'revoke'; reason: RevocationReason; invalidityDate?: Date }
  | { action: 'hold' }
  | { action: 'release' };

/** One entry of a certificate's status history. */
export interface StatusHistoryEntry {
  version: number;
  from: CertificateStatus | null;
  to: CertificateStatus;
  reason: string | null;
  at: string;
  actor: string;
}

/** Options of the CA module. */
export interface CaOptions {
  database: Database;
  urls: PublicationUrls;
  custody?: KeyCustody;
  /** Serial number source; tests inject collisions. Defaults to 128 random bits. */
  serials?: () => Uint8Array;
  clock?: () => Date;
  /** Where certificates are built, signed and linted (worker threads or this thread); default this thread. */
  work?: PkiWork;
}

/** The reasons an RA may give when revoking (certificateHold goes through hold; removeFromCRL is not a revocation). */
export const REVOCATION_REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
];

/** How often a serial-number collision is retried before giving up (each try draws 128 fresh bits). */
const SERIAL_ATTEMPTS = 8;
const AUTHORITY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

interface LoadedIssuer {
  row: Omit<CaTables['ca_issuers'], 'key_sealed'> & { key_sealed: Buffer };
  cert: Certificate;
  key?: PrivateKey;
}

interface LoadedAuthority {
  row: CaTables['ca_authorities'];
  issuers: LoadedIssuer[];
}

function tables(ex: Executor): Kysely<CaTables> {
  return ex as unknown as Kysely<CaTables>;
}

/** SHA-256 of a SubjectPublicKeyInfo, hex. */
export function spkiFingerprint(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('hex');
}

function isoSeconds(d: Date): string {
  return wholeSeconds(d).toISOString();
}

function toRecord(authority: string, issuerLabel: string, row: CaTables['ca_certificates']): CertificateRecord {
  return {
    authority,
    serial: row.serial,
    issuer: issuerLabel,
    profile: row.profile,
    subject: row.subject,
    spkiSha256: row.spki_sha256,
    notBefore: row.not_before,
    notAfter: row.not_after,
    status: row.status,
    revokedAt: row.revoked_at,
    reason: row.reason as RevocationReason | null,
    invalidityDate: row.invalidity_date,
    issuedAt: row.issued_at,
    version: Number(row.version),
    der: Buffer.from(row.der),
  };
}

/**
 * Told of every issuance and revocation inside the act's own transaction (the platform link's
 * outbox, platform-link/events.ts), so that the act and its report commit together.
 */
export interface CertificateEvents {
  /** A certificate was recorded; `replaces` names the certificate a renewal, re-key or reissue replaces. */
  issued(tx: Executor, e: { authority: string; serial: string; profile: string; at: Date; notAfter: string; replaces?: string }): Promise<void>;
  /** A certificate was revoked (holds and releases are not reported). */
  revoked(tx: Executor, e: { authority: string; serial: string; reason: RevocationReason; at: Date }): Promise<void>;
}

/** The certification authorities of one deployment. */
export class CertificateAuthorities {
  readonly urls: PublicationUrls;
  /** Told of issuances and revocations in their transactions (set by the platform link); none when unset. */
  events?: CertificateEvents;
  /** The CRL partition a certificate this CA signs at `at` belongs to (set by the CRL publisher); 0 when unset. */
  crlPartition?: (issuerId: string, at: Date) => Promise<number>;
  private readonly database: Database;
  private readonly custody: KeyCustody;
  private readonly serials: () => Uint8Array;
  private readonly clock: () => Date;
  private readonly work: PkiWork;
  /** Authorities never change once created, so each process caches them (and their opened keys). */
  private readonly cache = new Map<string, LoadedAuthority>();

  constructor(opts: CaOptions) {
    this.database = opts.database;
    this.urls = opts.urls;
    this.custody = opts.custody ?? plaintextCustody;
    this.serials = opts.serials ?? randomSerial;
    this.clock = opts.clock ?? (() => new Date());
    this.work = opts.work ?? new InThreadPkiWork();
  }

  /**
   * Creates an authority: a root CA (self-signed) and issuing CA "issuing-1" certified by it,
   * with fresh keys of the given algorithm. Fails with 409 if the name is taken.
   */
  async createAuthority(actor: Principal, spec: AuthoritySpec): Promise<AuthorityView> {
    if (actor.role !== 'admin') throw new ForbiddenError('ca.admin', 'only an administrator can create a CA');
    if (!AUTHORITY_NAME.test(spec.name)) {
      throw new RuleError('ca.name', 'a CA name is 1-63 lower-case letters, digits or "-", starting with a letter or digit');
    }
    const rootProfile = getProfile('root-ca');
    const subProfile = getProfile('sub-ca');
    if (!(KEY_ALGORITHMS as readonly string[]).includes(spec.algorithm) || !rootProfile.keyAlgorithms.includes(spec.algorithm)) {
      throw new RuleError('ca.algorithm', `a CA key must be one of ${rootProfile.keyAlgorithms.join(', ')}`);
    }
    if (await this.find(spec.name, this.database.db)) throw new ConflictError('ca.exists', `a CA named "${spec.name}" already exists`);
    const now = wholeSeconds(this.clock());
    const org = escapeDnValue(spec.organization);
    // A custody that keeps keys in a device (an HSM) makes them there; otherwise they are made here and sealed.
    const newKey = (label: string) => (this.custody.generate ? this.custody.generate(spec.algorithm, `${spec.name} ${label}`) : generateKey(spec.algorithm));
    const rootKey = newKey('root');
    const rootCert = issueFromProfile({
      profile: rootProfile,
      subject: parseName(`C=CN,O=${org},CN=${escapeDnValue(`${spec.name} Root CA`)}`),
      publicKey: rootKey.publicKey,
      issuerKey: rootKey,
      notBefore: now,
      serialNumber: this.serials(),
    });
    const issuingKey = newKey('issuing-1');
    const issuingCert = issueFromProfile({
      profile: subProfile,
      subject: parseName(`C=CN,O=${org},CN=${escapeDnValue(`${spec.name} Issuing CA 1`)}`),
      publicKey: issuingKey.publicKey,
      issuerCert: rootCert,
      issuerKey: rootKey,
      notBefore: now,
      serialNumber: this.serials(),
      urls: {
        crlUrls: [this.urls.crl(spec.name, 'root')],
        ocspUrls: [this.urls.ocsp(spec.name)],
        caIssuersUrls: [this.urls.caCertificate(spec.name, 'root')],
      },
    });
    const authorityId = randomUUID();
    const rootId = randomUUID();
    const issuingId = randomUUID();
    const at = nowIso(this.clock());
    try {
      await this.database.transaction(async (tx) => {
        const t = tables(tx);
        await t
          .insertInto('ca_authorities')
          .values({ id: authorityId, name: spec.name, display_name: spec.displayName ?? spec.name, display_name_en: spec.displayNameEn ?? null, organization: spec.organization, algorithm: spec.algorithm, created_at: at, created_by: actor.id })
          .execute();
        const issuerRow = (id: string, label: string, role: 'root' | 'issuing', parent: string | null, cert: Certificate, key: PrivateKey, active: number) => ({
          id,
          authority_id: authorityId,
          label,
          role,
          parent_id: parent,
          serial: cert.serialHex,
          cert_der: cert.der,
          key_sealed: this.custody.seal(key, caKeyContext(id)),
          key_protection: this.custody.protection,
          active,
          created_at: at,
        });
        await t.insertInto('ca_issuers').values(issuerRow(rootId, 'root', 'root', null, rootCert, rootKey, 0)).execute();
        await t.insertInto('ca_issuers').values(issuerRow(issuingId, 'issuing-1', 'issuing', rootId, issuingCert, issuingKey, 1)).execute();
        for (const [cert, profile] of [[rootCert, 'root-ca'], [issuingCert, 'sub-ca']] as const) {
          await this.insertCertificate(tx, authorityId, rootId, profile, certificateFacts(cert), at);
        }
        await appendAudit(tx, { actor, action: 'ca.create', target: `ca:${spec.name}`, details: { algorithm: spec.algorithm, root: rootCert.serialHex, issuing: issuingCert.serialHex, keyProtection: this.custody.protection } });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('ca.exists', `a CA named "${spec.name}" already exists`);
      throw e;
    }
    return this.getAuthority(spec.name);
  }

  /** Every authority, by name. */
  async listAuthorities(): Promise<AuthorityView[]> {
    const rows = await tables(this.database.db).selectFrom('ca_authorities').select('name').orderBy('name').execute();
    const out: AuthorityView[] = [];
    for (const r of rows) out.push(await this.getAuthority(r.name));
    return out;
  }

  /** One authority; 404 when there is none by that name. */
  async getAuthority(name: string, ex: Executor = this.database.db): Promise<AuthorityView> {
    const a = await this.load(name, ex);
    return {
      id: a.row.id,
      name: a.row.name,
      displayName: a.row.display_name,
      displayNameEn: a.row.display_name_en ?? null,
      organization: a.row.organization,
      algorithm: a.row.algorithm,
      createdAt: a.row.created_at,
      createdBy: a.row.created_by,
      issuers: a.issuers.map((i) => ({
        label: i.row.label,
        role: i.row.role,
        parent: a.issuers.find((p) => p.row.id === i.row.parent_id)?.row.label ?? null,
        active: i.row.active === 1,
        certificate: i.cert,
        keyProtection: i.row.key_protection,
        url: this.urls.caCertificate(a.row.name, i.row.label),
      })),
    };
  }

  /** The certificate of one CA of an authority ("root", "issuing-1"); 404 when unknown. */
  async caCertificate(name: string, label: string): Promise<Certificate> {
    const a = await this.load(name, this.database.db);
    const i = a.issuers.find((x) => x.row.label === label);
    if (!i) throw new NotFoundError('ca.issuer.unknown', `CA "${name}" has no CA certificate "${label}"; it has ${a.issuers.map((x) => x.row.label).join(', ')}`);
    return i.cert;
  }

  /**
   * The CAs of an authority with their opened keys, root first: for the publishing modules
   * (CRLs, OCSP responder certificates), which sign on a CA's behalf. Nothing else may call it.
   */
  async signingIssuers(name: string): Promise<SigningIssuer[]> {
    const a = await this.load(name, this.database.db);
    return a.issuers.map((i) => ({
      authorityId: a.row.id,
      authority: a.row.name,
      issuerId: i.row.id,
      label: i.row.label,
      role: i.row.role,
      active: i.row.active === 1,
      cert: i.cert,
      key: this.issuerKey(i),
    }));
  }

  /** Checks a request against its profile and this authority without signing anything. */
  async precheck(name: string, input: PrecheckInput, ex: Executor = this.database.db): Promise<Profile> {
    const a = await this.load(name, ex);
    return precheckRequest(input, this.activeIssuer(a).cert.notAfter, this.clock());
  }

  /** When the authority's active issuing CA expires: no certificate it signs may outlive it. */
  async issuingCaNotAfter(name: string): Promise<Date> {
    return this.activeIssuer(await this.load(name, this.database.db)).cert.notAfter;
  }

  /**
   * Signs a certificate from the authority's active issuing CA, outside any transaction: the
   * profile engine checks the request, builds and signs the certificate, and lints the result
   * against the profile. Nothing is stored and nothing leaves the service until `record`
   * commits it; a signed certificate whose transaction fails is simply dropped.
   */
  async sign(name: string, input: IssueInput): Promise<SignedCertificate> {
    const plan = await this.plan(name, input.serial);
    const profile = getProfile(input.profile);
    if (CA_PROFILES.has(profile.name)) throw new RuleError('ca.profile.ca', `profile ${profile.name} is for the CA's own hierarchy`);
    const facts = await this.work.sign(
      { profile: profile.name, subjectDer: input.subjectDer, spki: input.spki, identity: input.identity, altNames: input.altNames, validityDays: input.validityDays, notBefore: plan.task.notBefore, serial: plan.task.serial, urls: plan.task.urls },
      plan.issuer,
    );
    return this.signedFrom(plan, profile.name, facts);
  }

  /**
   * Examines a new certificate's request (`task.precheck` names its profile, which the examination
   * checks) and, once it passed, signs the certificate in the same pass: one trip to a worker
   * thread where `examine` then `sign` take two. The signed certificate is what `sign` would give.
   */
  async examineAndSign(name: string, task: ExamineTask & { precheck: NonNullable<ExamineTask['precheck']> }): Promise<{ examined: ExaminedRequest; signed: SignedCertificate }> {
    const plan = await this.plan(name);
    const examined = await this.work.examine({ ...task, sign: plan.task }, plan.issuer);
    if (!examined.signed) throw new Error('pki work: the examination did not sign');
    return { examined, signed: this.signedFrom(plan, task.precheck.profile, examined.signed) };
  }

  /** What signing for authority `name` now takes besides the request: its active issuer and key, time, serial and URLs. */
  private async plan(name: string, serial?: Uint8Array): Promise<SigningPlan> {
    const a = await this.load(name, this.database.db);
    const issuer = this.activeIssuer(a);
    const at = this.clock();
    return {
      a,
      issuer: { id: issuer.row.id, cert: issuer.cert, key: this.issuerKey(issuer) },
      loaded: issuer,
      at,
      task: {
        issuerId: issuer.row.id,
        notBefore: at.getTime(),
        serial: serial ?? this.serials(),
        urls: {
          crlUrls: [this.urls.crl(a.row.name, issuer.row.label, (await this.crlPartition?.(issuer.row.id, at)) ?? 0)],
          ocspUrls: [this.urls.ocsp(a.row.name)],
          caIssuersUrls: [this.urls.caCertificate(a.row.name, issuer.row.label)],
        },
      },
    };
  }

  /** The signed certificate as `record` takes it, from the plan it was signed under. */
  private signedFrom(plan: SigningPlan, profile: string, facts: SignedResult): SignedCertificate {
    // Parsing is lazy: the answer's fields are read from `facts`, not decoded again here.
    const certificate = Certificate.parse(facts.der);
    return { authorityId: plan.a.row.id, authority: plan.a.row.name, issuerId: plan.loaded.row.id, issuerLabel: plan.loaded.row.label, profile, certificate, facts, at: plan.at, chain: this.chainOf(plan.a, plan.loaded) };
  }

  /**
   * Records a signed certificate inside the caller's transaction: the certificate row (its
   * serial reserved by the (authority, serial) primary key), its first status record and the
   * audit entry. A serial the authority already used throws SerialTakenError, which must roll
   * the transaction back; `issueWith` then signs again with a fresh serial. With `opts.audits`
   * the audit entry is added to that list instead, which the caller appends with its own
   * entries (appendAudits: one chain append for all of them) before its transaction ends.
   */
  async record(tx: Executor, signed: SignedCertificate, actor: Principal, opts: { replaces?: string; audits?: TimedAuditEvent[] } = {}): Promise<IssuedCertificate> {
    const cert = signed.certificate;
    const row = await this.insertCertificate(tx, signed.authorityId, signed.issuerId, signed.profile, signed.facts, nowIso(signed.at));
    if (!row) throw new SerialTakenError(signed.facts.serialHex);
    const event: TimedAuditEvent = { actor, action: 'ca.issue', target: `ca:${signed.authority}/cert:${row.serial}`, details: { profile: signed.profile, subject: row.subject, issuer: signed.issuerLabel }, at: signed.at };
    if (opts.audits) opts.audits.push(event);
    else await appendAudit(tx, event, signed.at);
    await this.events?.issued(tx, { authority: signed.authority, serial: row.serial, profile: signed.profile, at: signed.at, notAfter: row.not_after, ...(opts.replaces ? { replaces: opts.replaces } : {}) });
    return { record: toRecord(signed.authority, signed.issuerLabel, row), certificate: cert, chain: signed.chain };
  }

  /**
   * Issues a certificate: `sign` outside any transaction, then `commit`, which opens the
   * transaction and calls `record` in it together with the caller's own writes. The serial is
   * 128 random bits; a repeat is refused by the database, rolled back and signed again with a
   * fresh serial, so a serial is never reused.
   */
  async issueWith<T>(name: string, input: IssueInput, commit: (signed: SignedCertificate) => Promise<T>, first?: SignedCertificate): Promise<T> {
    for (let attempt = 0; attempt < SERIAL_ATTEMPTS; attempt++) {
      // `first`: the certificate signed already for this request (examineAndSign), for the first try.
      const signed = attempt === 0 && first ? first : await this.sign(name, input);
      try {
        return await commit(signed);
      } catch (e) {
        if (e instanceof SerialTakenError) {
          if (input.serial) throw new ConflictError('ca.serial.taken', `serial ${e.serial} is already used by CA "${name}"`);
          continue; // serial already taken by this authority: draw again
        }
        throw e;
      }
    }
    throw new Error(`no unused serial number after ${SERIAL_ATTEMPTS} attempts: the serial source is broken`);
  }

  /** One certificate's record; 404 when this authority never issued that serial. */
  async getCertificate(name: string, serial: string, ex: Executor = this.database.db): Promise<CertificateRecord> {
    const a = await this.load(name, ex);
    const key = normalizeSerial(serial);
    const row = await first<CaTables['ca_certificates']>(ex, hot`select * from ca_certificates where authority_id = ${a.row.id} and serial = ${key}`);
    if (!row) throw new NotFoundError('ca.certificate.unknown', `CA "${name}" has no certificate with serial ${key}`);
    return toRecord(a.row.name, a.issuers.find((i) => i.row.id === row.issuer_id)?.row.label ?? '?', row);
  }

  /** The status history of one certificate, oldest first. */
  async statusHistory(name: string, serial: string, ex: Executor = this.database.db): Promise<StatusHistoryEntry[]> {
    const a = await this.load(name, ex);
    const rows = await tables(ex)
      .selectFrom('ca_status_changes')
      .selectAll()
      .where('authority_id', '=', a.row.id)
      .where('serial', '=', normalizeSerial(serial))
      .orderBy('version')
      .execute();
    return rows.map((r) => ({ version: Number(r.version), from: r.from_status, to: r.to_status, reason: r.reason, at: r.at, actor: r.actor }));
  }

  /**
   * Revokes, holds or releases a certificate inside the caller's transaction. The update is
   * guarded by the version read, so two concurrent changes cannot both apply (the loser gets 409).
   */
  async changeStatus(tx: Executor, name: string, serial: string, change: StatusChange, actor: Principal): Promise<CertificateRecord> {
    const current = await this.getCertificate(name, serial, tx);
    const a = await this.load(name, tx);
    const at = wholeSeconds(this.clock());
    let next: Pick<CaTables['ca_certificates'], 'status' | 'revoked_at' | 'reason' | 'invalidity_date'>;
    switch (change.action) {
      case 'revoke': {
        if (!REVOCATION_REASONS.includes(change.reason)) {
          throw new RuleError('revocation.reason', `"${change.reason}" is not a revocation reason; use hold/release for certificateHold, or one of ${REVOCATION_REASONS.join(', ')}`);
        }
        if (current.status === 'revoked') throw new ConflictError('certificate.revoked', `certificate ${current.serial} is already revoked (${current.reason})`);
        if (change.invalidityDate && change.invalidityDate > at) throw new RuleError('revocation.invalidityDate', 'the invalidity date cannot be in the future');
        next = { status: 'revoked', revoked_at: at.toISOString(), reason: change.reason, invalidity_date: change.invalidityDate ? isoSeconds(change.invalidityDate) : null };
        break;
      }
      case 'hold':
        if (current.status !== 'valid') throw new ConflictError(`certificate.${current.status}`, `only a valid certificate can be put on hold; ${current.serial} is ${current.status}`);
        next = { status: 'hold', revoked_at: at.toISOString(), reason: 'certificateHold', invalidity_date: null };
        break;
      case 'release':
        if (current.status !== 'hold') throw new ConflictError(`certificate.${current.status}`, `only a certificate on hold can be released; ${current.serial} is ${current.status}`);
        next = { status: 'valid', revoked_at: null, reason: null, invalidity_date: null };
        break;
    }
    const version = current.version + 1;
    const changed = await run(
      tx,
      hot`update ca_certificates set status = ${next.status}, revoked_at = ${next.revoked_at}, reason = ${next.reason}, invalidity_date = ${next.invalidity_date}, version = ${version}
          where authority_id = ${a.row.id} and serial = ${current.serial} and version = ${current.version}`,
    );
    if (changed !== 1) {
      throw new ConflictError('certificate.concurrent', `certificate ${current.serial} was changed by someone else meanwhile; read it again`);
    }
    const reason = change.action === 'revoke' ? change.reason : change.action === 'hold' ? 'certificateHold' : 'removeFromCRL';
    await run(
      tx,
      hot`insert into ca_status_changes (authority_id, serial, version, from_status, to_status, reason, at, actor) values (${a.row.id}, ${current.serial}, ${version}, ${current.status}, ${next.status}, ${reason}, ${at.toISOString()}, ${actor.id})`,
    );
    await appendAudit(tx, { actor, action: `ca.${change.action}`, target: `ca:${name}/cert:${current.serial}`, details: { reason, from: current.status, to: next.status } }, at);
    if (change.action === 'revoke') await this.events?.revoked(tx, { authority: name, serial: current.serial, reason: change.reason, at });
    return { ...current, ...{ status: next.status, revokedAt: next.revoked_at, reason: next.reason as RevocationReason | null, invalidityDate: next.invalidity_date }, version };
  }

  /** The chain above certificates of this authority's active issuing CA: issuing CA first, root last. */
  async chain(name: string): Promise<Certificate[]> {
    const a = await this.load(name, this.database.db);
    return this.chainOf(a, this.activeIssuer(a));
  }

  private chainOf(a: LoadedAuthority, issuer: LoadedIssuer): Certificate[] {
    const out: Certificate[] = [];
    let cur: LoadedIssuer | undefined = issuer;
    while (cur && out.length < 8) {
      out.push(cur.cert);
      const parentId: string | null = cur.row.parent_id;
      cur = parentId ? a.issuers.find((i) => i.row.id === parentId) : undefined;
    }
    return out;
  }

  private activeIssuer(a: LoadedAuthority): LoadedIssuer {
    const i = a.issuers.find((x) => x.row.active === 1);
    if (!i) throw new ConflictError('ca.inactive', `CA "${a.row.name}" has no active issuing CA`);
    return i;
  }

  private issuerKey(i: LoadedIssuer): PrivateKey {
    i.key ??= this.custody.open(Buffer.from(i.row.key_sealed), i.row.key_protection, caKeyContext(i.row.id));
    return i.key;
  }

  /** Inserts a certificate row unless its serial is taken; returns the row, or undefined on a repeat. */
  private async insertCertificate(tx: Executor, authorityId: string, issuerId: string, profile: string, cert: SignedResult, at: string): Promise<CaTables['ca_certificates'] | undefined> {
    const row: CaTables['ca_certificates'] = {
      authority_id: authorityId,
      serial: cert.serialHex,
      issuer_id: issuerId,
      profile,
      subject: cert.subjectText,
      spki_sha256: cert.spkiSha256,
      not_before: cert.notBefore,
      not_after: cert.notAfter,
      status: 'valid',
      revoked_at: null,
      reason: null,
      invalidity_date: null,
      der: cert.der,
      issued_at: at,
      version: 1,
    };
    // The hottest statements of the service are written as SQL (no query builder): see store/sql.ts.
    const inserted = await run(
      tx,
      hot`insert into ca_certificates (authority_id, serial, issuer_id, profile, subject, spki_sha256, not_before, not_after, status, revoked_at, reason, invalidity_date, der, issued_at, version, holder_org, holder_email)
          values (${row.authority_id}, ${row.serial}, ${row.issuer_id}, ${row.profile}, ${row.subject}, ${row.spki_sha256}, ${row.not_before}, ${row.not_after}, ${row.status}, ${null}, ${null}, ${null}, ${row.der}, ${row.issued_at}, ${row.version}, ${cert.holder.holderOrg}, ${cert.holder.holderEmail})
          on conflict (authority_id, serial) do nothing`,
    );
    if (inserted !== 1) return undefined;
    if (cert.holder.identityNumbers.length > 0) await insertIdentityNumbers(tx, authorityId, row.serial, cert.holder.identityNumbers);
    await run(
      tx,
      hot`insert into ca_status_changes (authority_id, serial, version, from_status, to_status, reason, at, actor) values (${authorityId}, ${row.serial}, ${1}, ${null}, ${'valid'}, ${null}, ${at}, ${'ca'})`,
    );
    return row;
  }

  private async find(name: string, ex: Executor): Promise<LoadedAuthority | undefined> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const t = tables(ex);
    const row = await t.selectFrom('ca_authorities').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) return undefined;
    const rows = await t.selectFrom('ca_issuers').selectAll().where('authority_id', '=', row.id).execute();
    // Root first, then issuing CAs in the order they were created.
    const issuers = rows.sort((x, y) => (x.role === y.role ? x.created_at.localeCompare(y.created_at) || x.label.localeCompare(y.label) : x.role === 'root' ? -1 : 1));
    const loaded: LoadedAuthority = {
      row,
      issuers: issuers.map((i) => ({ row: { ...i, key_sealed: Buffer.from(i.key_sealed), cert_der: Buffer.from(i.cert_der) }, cert: Certificate.parse(Buffer.from(i.cert_der)) })),
    };
    this.cache.set(name, loaded);
    return loaded;
  }

  /** Loads an authority through `ex` (inside a transaction, the transaction's connection). */
  private async load(name: string, ex: Executor): Promise<LoadedAuthority> {
    const a = await this.find(name, ex);
    if (!a) throw new NotFoundError('ca.unknown', `there is no CA named "${name}"`);
    return a;
  }
}

/** Canonical serial text: lower-case hex without colons, "0x" or a leading zero byte. */
export function normalizeSerial(serial: string): string {
  const clean = serial.trim().replace(/^0x/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(clean)) throw new InvalidRequestError('serial.format', `"${serial.slice(0, 80)}" is not a hexadecimal serial number`);
  return serialToHex(Buffer.from(clean.length % 2 ? '0' + clean : clean, 'hex'));
}

/**
 * The CA module: certification service agencies ("authorities"), each with its own hierarchy
 * (a root CA and issuing CAs), issuing certificates under the health profiles and changing
 * their status. Like Boulder's CA + SA pair for our certificates: the only code that signs with
 * CA keys and the only code that touches the ca_* tables.
 *
 * Operations that change state take the caller's transaction, so that the RA's record of a
 * decision and the CA's certificate commit together or not at all.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  Certificate,
  KEY_ALGORITHMS,
  checkRequest,
  generateKey,
  getProfile,
  issueFromProfile,
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
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';
import type { CaTables, CertificateStatus } from './tables.js';
import { plaintextCustody, type KeyCustody } from './key-custody.js';
import { PublicationUrls } from './urls.js';

/** A distinguished name as the pki library builds it. */
export type DistinguishedName = ReturnType<typeof parseName>;

/** What it takes to create an authority. */
export interface AuthoritySpec {
  /** URL-safe name, e.g. "demo-sm2". */
  name: string;
  algorithm: KeyAlgorithm;
  /** The O of the CA certificates' subjects. */
  organization: string;
  displayName?: string;
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
  organization: string;
  algorithm: string;
  createdAt: string;
  createdBy: string;
  issuers: IssuerView[];
}

/** What a certificate will say about its holder; checked against the profile before signing. */
export interface IssueInput {
  profile: string;
  subject: DistinguishedName;
  publicKey: PublicKey;
  identity?: HealthIdentity;
  altNames?: AltName[];
  validityDays?: number;
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
/** Profiles whose certificates belong to a CA hierarchy, never to a holder. */
const CA_PROFILES = new Set(['root-ca', 'sub-ca']);

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

/** Escapes a value for parseName (RFC 4514 special characters). */
function dnValue(v: string): string {
  return v.replace(/([,+=\\/])/g, '\\$1');
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

/** The certification authorities of one deployment. */
export class CertificateAuthorities {
  readonly urls: PublicationUrls;
  private readonly database: Database;
  private readonly custody: KeyCustody;
  private readonly serials: () => Uint8Array;
  private readonly clock: () => Date;
  /** Authorities never change once created, so each process caches them (and their opened keys). */
  private readonly cache = new Map<string, LoadedAuthority>();

  constructor(opts: CaOptions) {
    this.database = opts.database;
    this.urls = opts.urls;
    this.custody = opts.custody ?? plaintextCustody;
    this.serials = opts.serials ?? randomSerial;
    this.clock = opts.clock ?? (() => new Date());
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
    const org = dnValue(spec.organization);
    const rootKey = generateKey(spec.algorithm);
    const rootCert = issueFromProfile({
      profile: rootProfile,
      subject: parseName(`C=CN,O=${org},CN=${dnValue(`${spec.name} Root CA`)}`),
      publicKey: rootKey.publicKey,
      issuerKey: rootKey,
      notBefore: now,
      serialNumber: this.serials(),
    });
    const issuingKey = generateKey(spec.algorithm);
    const issuingCert = issueFromProfile({
      profile: subProfile,
      subject: parseName(`C=CN,O=${org},CN=${dnValue(`${spec.name} Issuing CA 1`)}`),
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
          .values({ id: authorityId, name: spec.name, display_name: spec.displayName ?? spec.name, organization: spec.organization, algorithm: spec.algorithm, created_at: at, created_by: actor.id })
          .execute();
        const issuerRow = (id: string, label: string, role: 'root' | 'issuing', parent: string | null, cert: Certificate, key: PrivateKey, active: number) => ({
          id,
          authority_id: authorityId,
          label,
          role,
          parent_id: parent,
          serial: cert.serialHex,
          cert_der: cert.der,
          key_sealed: this.custody.seal(key),
          key_protection: this.custody.protection,
          active,
          created_at: at,
        });
        await t.insertInto('ca_issuers').values(issuerRow(rootId, 'root', 'root', null, rootCert, rootKey, 0)).execute();
        await t.insertInto('ca_issuers').values(issuerRow(issuingId, 'issuing-1', 'issuing', rootId, issuingCert, issuingKey, 1)).execute();
        for (const [cert, profile] of [[rootCert, 'root-ca'], [issuingCert, 'sub-ca']] as const) {
          await this.insertCertificate(tx, authorityId, rootId, profile, cert, at);
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

  /** Checks a request against its profile and this authority without signing anything. */
  async precheck(name: string, input: IssueInput, ex: Executor = this.database.db): Promise<Profile> {
    const a = await this.load(name, ex);
    const profile = getProfile(input.profile);
    if (CA_PROFILES.has(profile.name)) {
      throw new RuleError('ca.profile.ca', `profile ${profile.name} is for the CA's own hierarchy; create a CA instead`);
    }
    const issuer = this.activeIssuer(a);
    // Dry run of everything but the signature: the profile's request rules and the issuer's validity.
    checkRequest(profile, { subject: input.subject, publicKey: input.publicKey, identity: input.identity, altNames: input.altNames, validityDays: input.validityDays });
    const days = input.validityDays ?? profile.validity.defaultDays;
    const notAfter = new Date(this.clock().getTime() + days * 86_400_000);
    if (notAfter > issuer.cert.notAfter) {
      throw new RuleError('profile.validity.issuer', `the certificate would outlive its issuing CA, which expires ${issuer.cert.notAfter.toISOString()}`);
    }
    return profile;
  }

  /**
   * Issues a certificate from the authority's active issuing CA, inside the caller's transaction.
   * The profile engine checks the request, signs, and lints the result against the profile
   * before it is stored. The serial is 128 random bits; the (authority, serial) primary key
   * refuses a repeat, and a repeat is retried with a fresh serial, so a serial is never reused.
   */
  async issue(tx: Executor, name: string, input: IssueInput, actor: Principal): Promise<IssuedCertificate> {
    const a = await this.load(name, tx);
    const issuer = this.activeIssuer(a);
    const issuerKey = this.issuerKey(issuer);
    const profile = getProfile(input.profile);
    if (CA_PROFILES.has(profile.name)) throw new RuleError('ca.profile.ca', `profile ${profile.name} is for the CA's own hierarchy`);
    const at = this.clock();
    for (let attempt = 0; attempt < SERIAL_ATTEMPTS; attempt++) {
      const cert = issueFromProfile({
        profile,
        subject: input.subject,
        publicKey: input.publicKey,
        issuerCert: issuer.cert,
        issuerKey,
        validityDays: input.validityDays,
        identity: input.identity,
        altNames: input.altNames,
        notBefore: at,
        serialNumber: this.serials(),
        urls: {
          crlUrls: [this.urls.crl(a.row.name, issuer.row.label)],
          ocspUrls: [this.urls.ocsp(a.row.name)],
          caIssuersUrls: [this.urls.caCertificate(a.row.name, issuer.row.label)],
        },
      });
      const row = await this.insertCertificate(tx, a.row.id, issuer.row.id, profile.name, cert, nowIso(at));
      if (!row) continue; // serial already taken by this authority: draw again
      await appendAudit(tx, { actor, action: 'ca.issue', target: `ca:${a.row.name}/cert:${row.serial}`, details: { profile: profile.name, subject: row.subject, issuer: issuer.row.label } }, at);
      return { record: toRecord(a.row.name, issuer.row.label, row), certificate: cert, chain: this.chainOf(a, issuer) };
    }
    throw new Error(`no unused serial number after ${SERIAL_ATTEMPTS} attempts: the serial source is broken`);
  }

  /** One certificate's record; 404 when this authority never issued that serial. */
  async getCertificate(name: string, serial: string, ex: Executor = this.database.db): Promise<CertificateRecord> {
    const a = await this.load(name, ex);
    const key = normalizeSerial(serial);
    const row = await tables(ex).selectFrom('ca_certificates').selectAll().where('authority_id', '=', a.row.id).where('serial', '=', key).executeTakeFirst();
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
    const r = await tables(tx)
      .updateTable('ca_certificates')
      .set({ ...next, version })
      .where('authority_id', '=', a.row.id)
      .where('serial', '=', current.serial)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      throw new ConflictError('certificate.concurrent', `certificate ${current.serial} was changed by someone else meanwhile; read it again`);
    }
    const reason = change.action === 'revoke' ? change.reason : change.action === 'hold' ? 'certificateHold' : 'removeFromCRL';
    await tables(tx)
      .insertInto('ca_status_changes')
      .values({ authority_id: a.row.id, serial: current.serial, version, from_status: current.status, to_status: next.status, reason, at: at.toISOString(), actor: actor.id })
      .execute();
    await appendAudit(tx, { actor, action: `ca.${change.action}`, target: `ca:${name}/cert:${current.serial}`, details: { reason, from: current.status, to: next.status } }, at);
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
    i.key ??= this.custody.open(Buffer.from(i.row.key_sealed), i.row.key_protection);
    return i.key;
  }

  /** Inserts a certificate row unless its serial is taken; returns the row, or undefined on a repeat. */
  private async insertCertificate(tx: Executor, authorityId: string, issuerId: string, profile: string, cert: Certificate, at: string): Promise<CaTables['ca_certificates'] | undefined> {
    const row: CaTables['ca_certificates'] = {
      authority_id: authorityId,
      serial: cert.serialHex,
      issuer_id: issuerId,
      profile,
      subject: cert.subjectText,
      spki_sha256: spkiFingerprint(cert.spkiDer),
      not_before: cert.notBefore.toISOString(),
      not_after: cert.notAfter.toISOString(),
      status: 'valid',
      revoked_at: null,
      reason: null,
      invalidity_date: null,
      der: cert.der,
      issued_at: at,
      version: 1,
    };
    const r = await tables(tx)
      .insertInto('ca_certificates')
      .values(row)
      .onConflict((oc) => oc.columns(['authority_id', 'serial']).doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return undefined;
    await tables(tx)
      .insertInto('ca_status_changes')
      .values({ authority_id: authorityId, serial: row.serial, version: 1, from_status: null, to_status: 'valid', reason: null, at, actor: 'ca' })
      .execute();
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

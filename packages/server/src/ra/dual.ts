/**
 * Dual certificates (regulation Art. 6; GM/T 0014 / GM/T 0034): an application for a signing
 * certificate of an SM2 CA may ask for the matching encryption certificate too. At approval the
 * CA asks its key management centre for an encryption key pair escrowed under the encryption
 * certificate's serial and enveloped to the applicant's signing key (SM2EnvelopedKey), certifies
 * the KMC's public key with the `*-enc` profile, and records both certificates with the
 * application in one transaction. The envelope goes to the applicant once, in the answer; only
 * their signing key opens it.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { getProfile, publicKeyFromSpki, randomSerial, type Certificate, type KmcKeyType } from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import type { ApplicationKind } from './tables.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { nowIso } from '../store/columns.js';
import { first, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import { SerialTakenError, type CertificateAuthorities, type IssueInput, type IssuedCertificate, type SignedCertificate } from '../ca/authority.js';
import type { KmcLink } from '../kmc/link.js';
import type { KmcOutbox } from '../kmc/outbox.js';
import { ConflictError, RuleError } from '../errors.js';

/** Migrations: which applications ask for a pair, and the encryption certificate they got. */
export const dualMigrations: ModuleMigrations = {
  module: 'radual',
  migrations: () => ({
    '0001_dual': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('ra_dual')
          .addColumn('application_id', 'text', (c) => c.primaryKey())
          .addColumn('enc_profile', 'text', (c) => c.notNull())
          .addColumn('enc_serial', 'text')
          .execute();
        await db.schema.createIndex('ra_dual_serial').on('ra_dual').column('enc_serial').unique().execute();
      },
    },
  }),
};

/** The encryption half of an approval, made before its transaction. */
export interface PreparedEncryption {
  signed: SignedCertificate;
  /** SM2EnvelopedKey DER: the encryption private key enveloped to the signing key. */
  envelope: Buffer;
  userCertNo: bigint;
}

/** The encryption certificate an approval issued, with its envelope. */
export interface IssuedEncryption {
  issued: IssuedCertificate;
  envelope: Buffer;
}

/** The refusal when a dual pair is asked of a service without a KMC. */
export function noKmc(): RuleError {
  return new RuleError('dual.kmc', 'this CA service has no key management centre, so it cannot issue encryption certificates; start it with --kmc-url and --kmc-cert');
}

/** The `*-enc` profile paired with a `*-sign` profile, or undefined. */
export function encryptionProfileOf(signProfile: string): string | undefined {
  if (!signProfile.endsWith('-sign')) return undefined;
  const enc = signProfile.slice(0, -'-sign'.length) + '-enc';
  try {
    getProfile(enc);
    return enc;
  } catch {
    return undefined;
  }
}

/** The KMC key type matching a signing key: the encryption key is of the same kind. */
function kmcKeyTypeOf(spki: Buffer): KmcKeyType | undefined {
  const key = publicKeyFromSpki(spki);
  if (key.kind === 'sm2') return 'sm2';
  if (key.kind === 'ec' && key.curve === 'P-256') return 'p256';
  if (key.kind === 'rsa' && key.bits === 2048) return 'rsa2048';
  return undefined;
}

/** Dual-certificate issuance for the RA. */
export class DualCertificates {
  constructor(
    private readonly ca: CertificateAuthorities,
    private readonly kmc: KmcLink,
    private readonly outbox: KmcOutbox,
  ) {}

  /** Checks that a pair can be issued for this request and records the wish, inside the application's transaction. */
  async request(tx: Executor, applicationId: string, signProfile: string, spki: Buffer): Promise<string> {
    const encProfile = this.check(signProfile, spki);
    await run(tx, sql`insert into ra_dual (application_id, enc_profile, enc_serial) values (${applicationId}, ${encProfile}, ${null})`);
    return encProfile;
  }

  /** Throws (422) unless an application of this kind, profile and key can get a pair. */
  checkApplication(kind: ApplicationKind, signProfile: string, spki: Buffer): string {
    if (kind !== 'new') throw new RuleError('dual.kind', 'a dual pair is issued for a new application; renew or re-key each certificate of a pair on its own');
    return this.check(signProfile, spki);
  }

  /** Throws (422) unless a pair can be issued: a KMC is configured, the profile has an `-enc` twin, the KMC makes keys of the signing key's kind. */
  check(signProfile: string, spki: Buffer): string {
    if (!this.kmc.configured) throw noKmc();
    const encProfile = encryptionProfileOf(signProfile);
    if (!encProfile) throw new RuleError('dual.profile', `profile ${signProfile} has no encryption twin; a dual application names a *-sign profile`);
    const keyType = kmcKeyTypeOf(spki);
    if (!keyType) throw new RuleError('dual.key', 'the KMC makes SM2, ECDSA P-256 and RSA-2048 encryption keys, enveloped to a signing key of the same kind; this signing key is none of them');
    if (!getProfile(encProfile).keyAlgorithms.includes(keyType)) throw new RuleError('dual.key', `profile ${encProfile} does not allow ${keyType} keys`);
    return encProfile;
  }

  /** The pair an application asked for, if any. */
  async of(ex: Executor, applicationId: string): Promise<{ encProfile: string; encSerial: string | null } | undefined> {
    const r = await first<{ enc_profile: string; enc_serial: string | null }>(ex, sql`select enc_profile, enc_serial from ra_dual where application_id = ${applicationId}`);
    return r ? { encProfile: r.enc_profile, encSerial: r.enc_serial } : undefined;
  }

  /** The application an encryption certificate belongs to (for recovery), if any. */
  async applicationOf(ex: Executor, encSerial: string): Promise<string | undefined> {
    return (await first<{ application_id: string }>(ex, sql`select application_id from ra_dual where enc_serial = ${encSerial}`))?.application_id;
  }

  /**
   * Outside any transaction: asks the KMC for a key pair escrowed under a fresh serial and
   * enveloped to the signing key, then signs the encryption certificate for it.
   */
  async prepare(caName: string, encProfile: string, signing: IssueInput, signed: SignedCertificate): Promise<PreparedEncryption> {
    const serial = randomSerial();
    const userCertNo = BigInt('0x' + Buffer.from(serial).toString('hex'));
    const cert: Certificate = signed.certificate;
    const keyType = kmcKeyTypeOf(signing.spki)!;
    // CMS EnvelopedData (RSA/ECDSA) names its recipient by certificate: the signing certificate just signed.
    const key = await this.kmc.applyKey({ keyType, userCertNo, recipientSpki: signing.spki, notBefore: cert.notBefore, notAfter: cert.notAfter, userName: cert.subjectText.slice(0, 200), ...(keyType === 'sm2' ? {} : { recipientCertificate: cert.der }) });
    const enc = await this.ca.sign(caName, { ...signing, profile: encProfile, spki: key.publicSpki, serial });
    return { signed: enc, envelope: key.envelope, userCertNo };
  }

  /** Inside the approval's transaction: records the encryption certificate and links it to the application. */
  async record(tx: Executor, applicationId: string, prepared: PreparedEncryption, actor: Principal): Promise<IssuedEncryption> {
    let issued: IssuedCertificate;
    try {
      issued = await this.ca.record(tx, prepared.signed, actor);
    } catch (e) {
      // The KMC escrowed under this serial: it cannot be drawn again, so the approval fails.
      if (e instanceof SerialTakenError) throw new ConflictError('dual.serial', `serial ${e.serial} of the encryption certificate is already used; approve again`);
      throw e;
    }
    const n = await run(tx, sql`update ra_dual set enc_serial = ${issued.record.serial} where application_id = ${applicationId} and enc_serial is null`);
    if (n !== 1) throw new ConflictError('dual.concurrent', `the encryption certificate of application ${applicationId} was issued meanwhile`);
    await appendAudit(tx, { actor, action: 'ra.dual.issue', target: `ra:application:${applicationId}`, details: { encSerial: issued.record.serial, envelope: createHash('sha256').update(prepared.envelope).digest('hex'), at: nowIso(prepared.signed.at) } }, prepared.signed.at);
    return { issued, envelope: prepared.envelope };
  }

  /**
   * Inside the transaction that revokes certificate `serial`: when it is an encryption
   * certificate, queues the KMC's notice that its key is retired (kmc/outbox.ts), so that the
   * revocation and the notice commit together. Queued also while no KMC is configured: the
   * sender delivers it once one is. Returns whether a notice was queued.
   */
  async retireWithin(tx: Executor, serial: string): Promise<boolean> {
    if ((await this.applicationOf(tx, serial)) === undefined) return false;
    await this.outbox.queueRetire(tx, serial);
    return true;
  }

  /** After the revocation of certificate `serial` committed: delivers its notice now, if it queued one (the sender retries what fails; never throws). */
  async deliverNotices(serial: string): Promise<void> {
    await this.outbox.deliver(serial);
  }

  /**
   * Runs an approval's transaction with the encryption certificate in it: the KMC's key and the
   * certificate are made first (outside the transaction), then `body` and the encryption record
   * commit together. If the transaction fails, the KMC is told through the outbox to retire the
   * key it escrowed for nothing.
   */
  async issueWithin<T>(
    database: Database,
    a: { caName: string; encProfile: string; request: IssueInput; signed: SignedCertificate; applicationId: string; actor: Principal },
    body: (tx: Executor) => Promise<T>,
  ): Promise<T & { encryption: IssuedEncryption }> {
    const prepared = await this.prepare(a.caName, a.encProfile, a.request, a.signed);
    try {
      return await database.transaction(async (tx) => ({ ...(await body(tx)), encryption: await this.record(tx, a.applicationId, prepared, a.actor) }));
    } catch (e) {
      await this.abandon(database, prepared).catch(() => undefined);
      throw e;
    }
  }

  /**
   * After a failed approval: queues the notice that the key escrowed for nothing is retired, in
   * a transaction of its own (the approval's rolled back), and delivers it. Only a crash between
   * the KMC's answer and this point leaves the escrow active, under a serial never issued,
   * which harms no one. When the outbox cannot be written (the database failing), the KMC is
   * told directly, once.
   */
  async abandon(database: Database, prepared: PreparedEncryption): Promise<void> {
    const serial = prepared.userCertNo.toString(16);
    try {
      await database.transaction((tx) => this.outbox.queueRetire(tx, serial));
    } catch {
      await this.kmc.revokeKey(prepared.userCertNo);
      return;
    }
    await this.outbox.deliver(serial);
  }
}

/**
 * The composition root: opens the store, runs every module's migrations, and wires the modules
 * (CA, RA, tokens) together. The HTTP layer and the tests both start from here.
 */
import { openDatabase, type Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { auditMigrations } from './audit/log.js';
import { AuditCheckpointer, type CheckpointOptions } from './audit/checkpoints.js';
import { AuditService } from './audit/service.js';
import { RecordsRetention } from './records/retention.js';
import { authMigrations, ensureBootstrapToken, TokenRegistry } from './auth/tokens.js';
import { AuthService } from './auth/service.js';
import { SYSTEM_PRINCIPAL } from './auth/principal.js';
import { caMigrations } from './ca/tables.js';
import { raMigrations } from './ra/tables.js';
import { CertificateAuthorities } from './ca/authority.js';
import { RegistrationAuthority, type MaterialLimits } from './ra/registration.js';
import { PublicationUrls } from './ca/urls.js';
import type { KeyCustody } from './ca/key-custody.js';
import { ConflictError, RuleError } from './errors.js';
import { openPkiWork, type PkiWork } from './work/pki-work.js';
import { tsaMigrations } from './tsa/tables.js';
import { TimeStampAuthority } from './tsa/authority.js';
import { securityMigrations } from './security/master-key.js';
import { openSealing, type Sealing, type SealingOptions } from './security/sealing.js';
import { MasterKeyCustody, resealLegacyCaKeys } from './ca/master-key-custody.js';
import { openConfiguredHsm, type OpenedHsm } from './ca/custody/pkcs11-open.js';
import type { Pkcs11TokenConfig } from './ca/custody/pkcs11-token.js';
import { ocspMigrations } from './publish/ocsp/tables.js';
import { OcspResponder, type OcspSettings } from './publish/ocsp/responder.js';
import { crlMigrations } from './publish/crl/tables.js';
import { CrlPublisher, type CrlPublisherOptions, type CrlService } from './publish/crl/publisher.js';
import { KmcLink, kmcLinkMigrations, type KmcEndpoint } from './kmc/link.js';
import { KmcOutbox, type KmcOutboxOptions } from './kmc/outbox.js';
import { DualCertificates, dualMigrations } from './ra/dual.js';
import { KeyRecovery, recoveryMigrations } from './ra/recovery.js';
import { CertificateMedia, mediaMigrations } from './media/pin-unblock.js';
import { SelfServiceRenewal, type SelfServiceSettings } from './ra/self-service.js';
import { outboxMigrations } from './platform/sync/tables.js';
import { PlatformLink, platformLinkMigrations, type LinkOptions, type PlatformEndpoint } from './platform-link/index.js';

/** Every module's migrations, in the order they run. */
export const ALL_MIGRATIONS = [auditMigrations, authMigrations, caMigrations, raMigrations, tsaMigrations, securityMigrations, crlMigrations, ocspMigrations, kmcLinkMigrations, dualMigrations, recoveryMigrations, mediaMigrations, outboxMigrations, platformLinkMigrations];

/** What the services need to start. */
export interface ServiceOptions {
  /** The data directory (SQLite file, admin.token). */
  dataDir: string;
  /** PostgreSQL URL; when absent the data directory's SQLite file is used. */
  dbUrl?: string;
  /** The public base URL that certificates point at (AIA, CRL distribution points, OCSP). */
  baseUrl: string;
  materialLimits?: Partial<MaterialLimits>;
  /** Default: the master-key custody (CA keys sealed under the master key of `sealing`). */
  custody?: KeyCustody;
  /** The master key and cipher that seal CA keys and materials at rest (security/sealing.ts). */
  sealing?: SealingOptions;
  /** Keep new CA keys in this PKCS#11 token (docs/hsm.md); default from HPKI_PKCS11_MODULE/TOKEN/PIN. */
  pkcs11?: Pkcs11TokenConfig;
  serials?: () => Uint8Array;
  clock?: () => Date;
  /**
   * Worker threads that parse and verify CSRs and build, sign and lint certificates, so that
   * this work uses the other cores; 0 keeps it in the service's thread. Default: one per core
   * beyond the first (at most 4).
   */
  pkiThreads?: number;
  /** OCSP responder settings (response validity, poll period, responder certificate lifetime). */
  ocsp?: OcspSettings;
  /** The key management centre for dual certificates (docs/kmc.md); without it, dual applications are refused. */
  kmc?: KmcEndpoint;
  /** Tuning of the sender of the KMC notices' outbox (tests). */
  kmcOutbox?: KmcOutboxOptions;
  /** Distinct officers' approvals a key recovery needs (default 2, at least 2). */
  recoveryApprovals?: number;
  /** CRL schedule (publish/crl/publisher.ts); `start: false` builds CRLs only when asked for. */
  crl?: Partial<CrlPublisherOptions> & { start?: boolean };
  /** When the audit chain is signed (audit/checkpoints.ts; default every 1000 entries or 5 minutes). */
  auditCheckpoints?: Pick<CheckpointOptions, 'every' | 'intervalMs' | 'pollMs'>;
  /** The national platform this service reports to (docs/platform.md "CA side"); none when absent. */
  platform?: PlatformEndpoint;
  /** Tuning of the platform link's senders (tests). */
  platformLink?: LinkOptions;
  /** Holders' self-service renewal: the renewal window, per CA (ra/self-service.ts; default the last 30 days or last third). */
  selfService?: SelfServiceSettings;
}

/** The running modules of one deployment. */
export interface Services {
  database: Database;
  ca: CertificateAuthorities;
  ra: RegistrationAuthority;
  tokens: TokenRegistry;
  /** Authentication: API tokens, sessions, certificate login, officer accounts. */
  auth: AuthService;
  /** The master key (checked against the database) and the envelope sealing keys and materials. */
  sealing: Sealing;
  /** The RFC 3161 time-stamp authority. */
  tsa: TimeStampAuthority;
  /** The CA's link to its key management centre (its access certificate, key requests). */
  kmc: KmcLink;
  /** The durable outbox of notices to the KMC (a revoked encryption certificate's key is retired) and its sender. */
  kmcOutbox: KmcOutbox;
  /** Key recovery with M-of-N approval (ra/recovery.ts). */
  recovery: KeyRecovery;
  /** Tokens handed out and PIN unblock (media/). */
  media: CertificateMedia;
  /** Holders renewing their own certificate, approved by policy (ra/self-service.ts). */
  selfService: SelfServiceRenewal;
  /** Where the pure issuance work runs. */
  work: PkiWork;
  /** The OCSP responder of every authority (/ocsp/<authority>). */
  ocsp: OcspResponder;
  /** The CRLs of every CA, kept current (publish/crl/). */
  crls: CrlService;
  /** The audit log for auditors: read, export, verify, checkpoints. */
  audit: AuditService;
  /** Retention of application records (records/): refuses early deletion, purges after 5 years. */
  records: RecordsRetention;
  /** The link to the national platform: access identities, outbox events, senders, the query interface. */
  platform: PlatformLink;
  close(): Promise<void>;
}

/** Opens the database, migrates it and builds the modules. */
export async function openServices(opts: ServiceOptions): Promise<Services> {
  const database = await openDatabase({ url: opts.dbUrl, dataDir: opts.dataDir });
  let sealing: Sealing;
  let custody: KeyCustody;
  let hsm: OpenedHsm | undefined;
  let checkpointer: AuditCheckpointer;
  try {
    await migrate(database, ALL_MIGRATIONS);
    sealing = await openSealing(database, opts.dataDir, opts.sealing);
    custody = opts.custody ?? new MasterKeyCustody(sealing.envelope);
    if (custody instanceof MasterKeyCustody) await resealLegacyCaKeys(database, custody);
    hsm = openConfiguredHsm(database, custody, opts.pkcs11);
    if (hsm) custody = hsm.custody;
    checkpointer = new AuditCheckpointer({ ...opts.auditCheckpoints, database, custody, clock: opts.clock, dataDir: opts.dataDir });
    await checkpointer.init();
  } catch (e) {
    await database.close();
    throw e;
  }
  const work = openPkiWork(opts.pkiThreads);
  // Certificates being signed in worker threads are about to be committed: let a batch wait for them.
  database.watchSiblings(() => work.inFlight);
  const ca = new CertificateAuthorities({ database, urls: new PublicationUrls(opts.baseUrl), serials: opts.serials, clock: opts.clock, work, custody });
  const kmc = new KmcLink(database, custody, opts.kmc, { clock: opts.clock });
  const kmcOutbox = new KmcOutbox(database, kmc, { clock: opts.clock, ...opts.kmcOutbox });
  kmcOutbox.start();
  const dual = new DualCertificates(ca, kmc, kmcOutbox);
  const ra = new RegistrationAuthority({ database, ca, limits: opts.materialLimits, clock: opts.clock, work, sealer: sealing.envelope, dual });
  const recovery = new KeyRecovery(database, ca, kmc, { requiredApprovals: opts.recoveryApprovals, clock: opts.clock, isEncryptionCertificate: async (ex, serial) => (await dual.applicationOf(ex, serial)) !== undefined });
  const tokens = new TokenRegistry(database);
  const auth = new AuthService(database, ca, tokens, opts.clock);
  const tsa = new TimeStampAuthority({ database, ca, custody, clock: opts.clock });
  const ocsp = new OcspResponder({ ...opts.ocsp, database, ca, custody, clock: opts.clock });
  ocsp.start();
  const crls = new CrlPublisher(database, ca, opts.crl);
  ca.crlPartition = (issuerId, at) => crls.partitionFor(issuerId, at);
  if (opts.crl?.start !== false) crls.start();
  checkpointer.start();
  const audit = new AuditService(database, checkpointer, opts.clock);
  const records = new RecordsRetention({ database, ca, clock: opts.clock });
  records.start();
  const platform = new PlatformLink(database, ca, custody, opts.platform, { clock: opts.clock, ...opts.platformLink });
  return {
    database,
    ca,
    ra,
    tokens,
    auth,
    sealing,
    tsa,
    kmc,
    kmcOutbox,
    recovery,
    media: new CertificateMedia(database, sealing.envelope, opts.clock),
    selfService: new SelfServiceRenewal(database, ca, ra, opts.selfService, opts.clock),
    work,
    crls,
    ocsp,
    audit,
    records,
    platform,
    async close() {
      records.stop();
      await platform.stop();
      await kmcOutbox.stop();
      // The shutdown checkpoint signs whatever the chain gained since the last one.
      await checkpointer.stop().catch(() => undefined);
      await ocsp.close();
      await crls.stop();
      await work.close();
      await hsm?.close();
      await database.close();
    },
  };
}

/** The demo CAs a fresh deployment gets: one SM2 hierarchy and one ECDSA P-256 hierarchy. */
export const DEMO_AUTHORITIES = [
  { name: 'demo-sm2', algorithm: 'sm2', organization: 'health-pki 演示认证机构', displayName: '演示CA（SM2）', displayNameEn: 'Demo CA (SM2)' },
  { name: 'demo-p256', algorithm: 'p256', organization: 'health-pki demo CA', displayName: 'Demo CA (ECDSA P-256)', displayNameEn: 'Demo CA (ECDSA P-256)' },
] as const;

/** The demo time-stamp units: POST /tsa (ECDSA P-256, the default) and POST /tsa/sm2. */
export const DEMO_TSA_UNITS = [
  { name: 'p256', authority: 'demo-p256', isDefault: true },
  { name: 'sm2', authority: 'demo-sm2', isDefault: false },
] as const;

/** Gives a deployment that has the demo CAs but no time-stamp unit the demo units. */
async function bootstrapTimeStamping(services: Services): Promise<void> {
  if ((await services.tsa.listUnits()).length > 0) return;
  const names = new Set((await services.ca.listAuthorities()).map((a) => a.name));
  for (const unit of DEMO_TSA_UNITS) {
    if (!names.has(unit.authority)) continue;
    try {
      await services.tsa.createUnit(SYSTEM_PRINCIPAL, { ...unit });
    } catch (e) {
      // Another process sharing the database created it first.
      if (!(e instanceof ConflictError)) throw e;
    }
  }
}

/**
 * First-start set-up: the bootstrap administrator's token in DIR/admin.token and, when the
 * deployment has no CA yet, the demo CAs. Safe to run on every start and from several processes.
 */
export async function bootstrap(services: Services, dataDir: string): Promise<{ tokenFile: string; tokenCreated: boolean; createdCas: string[] }> {
  const { file, created } = await ensureBootstrapToken(services.database, dataDir);
  const createdCas: string[] = [];
  const existing = await services.ca.listAuthorities();
  if (existing.length === 0) {
    for (const spec of DEMO_AUTHORITIES) {
      try {
        await services.ca.createAuthority(SYSTEM_PRINCIPAL, { ...spec });
        createdCas.push(spec.name);
      } catch (e) {
        // Another process sharing the database created it first; an HSM custody refuses SM2 (docs/hsm.md).
        if (!(e instanceof ConflictError) && !(e instanceof RuleError && e.code === 'ca.algorithm.hsm')) throw e;
      }
    }
  }
  await bootstrapTimeStamping(services);
  return { tokenFile: file, tokenCreated: created, createdCas };
}

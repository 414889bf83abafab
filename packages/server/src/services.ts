/**
 * The composition root: opens the store, runs every module's migrations, and wires the modules
 * (CA, RA, tokens) together. The HTTP layer and the tests both start from here.
 */
import { openDatabase, type Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { auditMigrations } from './audit/log.js';
import { authMigrations, ensureBootstrapToken, TokenRegistry } from './auth/tokens.js';
import { SYSTEM_PRINCIPAL } from './auth/principal.js';
import { caMigrations } from './ca/tables.js';
import { raMigrations } from './ra/tables.js';
import { CertificateAuthorities } from './ca/authority.js';
import { RegistrationAuthority, type MaterialLimits } from './ra/registration.js';
import { PublicationUrls } from './ca/urls.js';
import { plaintextCustody, type KeyCustody } from './ca/key-custody.js';
import { ConflictError } from './errors.js';
import { openPkiWork, type PkiWork } from './work/pki-work.js';
import { tsaMigrations } from './tsa/tables.js';
import { TimeStampAuthority } from './tsa/authority.js';

/** Every module's migrations, in the order they run. */
export const ALL_MIGRATIONS = [auditMigrations, authMigrations, caMigrations, raMigrations, tsaMigrations];

/** What the services need to start. */
export interface ServiceOptions {
  /** The data directory (SQLite file, admin.token). */
  dataDir: string;
  /** PostgreSQL URL; when absent the data directory's SQLite file is used. */
  dbUrl?: string;
  /** The public base URL that certificates point at (AIA, CRL distribution points, OCSP). */
  baseUrl: string;
  materialLimits?: Partial<MaterialLimits>;
  custody?: KeyCustody;
  serials?: () => Uint8Array;
  clock?: () => Date;
  /**
   * Worker threads that parse and verify CSRs and build, sign and lint certificates, so that
   * this work uses the other cores; 0 keeps it in the service's thread. Default: one per core
   * beyond the first (at most 4).
   */
  pkiThreads?: number;
}

/** The running modules of one deployment. */
export interface Services {
  database: Database;
  ca: CertificateAuthorities;
  ra: RegistrationAuthority;
  tokens: TokenRegistry;
  /** The RFC 3161 time-stamp authority. */
  tsa: TimeStampAuthority;
  /** Where the pure issuance work runs. */
  work: PkiWork;
  close(): Promise<void>;
}

/** Opens the database, migrates it and builds the modules. */
export async function openServices(opts: ServiceOptions): Promise<Services> {
  const database = await openDatabase({ url: opts.dbUrl, dataDir: opts.dataDir });
  try {
    await migrate(database, ALL_MIGRATIONS);
  } catch (e) {
    await database.close();
    throw e;
  }
  const work = openPkiWork(opts.pkiThreads);
  // Certificates being signed in worker threads are about to be committed: let a batch wait for them.
  database.watchSiblings(() => work.inFlight);
  const ca = new CertificateAuthorities({ database, urls: new PublicationUrls(opts.baseUrl), custody: opts.custody, serials: opts.serials, clock: opts.clock, work });
  const ra = new RegistrationAuthority({ database, ca, limits: opts.materialLimits, clock: opts.clock, work });
  const tokens = new TokenRegistry(database);
  const tsa = new TimeStampAuthority({ database, ca, custody: opts.custody ?? plaintextCustody, clock: opts.clock });
  return {
    database,
    ca,
    ra,
    tokens,
    tsa,
    work,
    async close() {
      await work.close();
      await database.close();
    },
  };
}

/** The demo CAs a fresh deployment gets: one SM2 hierarchy and one ECDSA P-256 hierarchy. */
export const DEMO_AUTHORITIES = [
  { name: 'demo-sm2', algorithm: 'sm2', organization: 'health-pki 演示认证机构', displayName: '演示CA（SM2）' },
  { name: 'demo-p256', algorithm: 'p256', organization: 'health-pki demo CA', displayName: 'Demo CA (ECDSA P-256)' },
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
        // Another process sharing the database created it first.
        if (!(e instanceof ConflictError)) throw e;
      }
    }
  }
  await bootstrapTimeStamping(services);
  return { tokenFile: file, tokenCreated: created, createdCas };
}

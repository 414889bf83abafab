/**
 * The platform's services: its own database (SQLite in its data directory, or PostgreSQL), every
 * platform module migrated, its custody for the trust list's signing key, and the parts wired
 * together — the registry's status changes republish the trust list.
 */
import { openDatabase, type Database } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { auditMigrations } from '../audit/log.js';
import type { KeyCustody } from '../ca/key-custody.js';
import { MasterKeyCustody } from '../ca/master-key-custody.js';
import { securityMigrations } from '../security/master-key.js';
import { openSealing, type SealingOptions } from '../security/sealing.js';
import type { KeyAlgorithm } from '@health-pki/pki';
import { registryMigrations } from './registry/tables.js';
import { CaRegistry } from './registry/registry.js';
import { Supervision } from './registry/supervision.js';
import { PlatformTokens } from './registry/roles.js';
import { TrustListPublisher, trustListMigrations } from './trust-list/index.js';
import { SyncApplier } from './sync/applier.js';
import { SyncStatistics } from './sync/stats.js';
import { syncMigrations } from './sync/tables.js';

/** Where the platform keeps its data, and how it runs. */
export interface PlatformServiceOptions {
  dataDir: string;
  dbUrl?: string;
  /** The platform's master key (default DIR/master.key, the demonstration key file). */
  sealing?: SealingOptions;
  custody?: KeyCustody;
  /** The trust list's signing algorithm at first start (default sm2). */
  identityAlgorithm?: KeyAlgorithm;
  /** Injected clock (tests of deadlines). */
  clock?: () => Date;
}

/** An open platform. */
export interface PlatformServices {
  database: Database;
  tokens: PlatformTokens;
  registry: CaRegistry;
  supervision: Supervision;
  trustList: TrustListPublisher;
  applier: SyncApplier;
  statistics: SyncStatistics;
  /** DIR/platform-admin.token, the bootstrap national-office token. */
  adminTokenFile: string;
  close(): Promise<void>;
}

/** Opens the platform's database, migrates every platform module and builds the parts. */
export async function openPlatformServices(opts: PlatformServiceOptions): Promise<PlatformServices> {
  const database = await openDatabase({ url: opts.dbUrl, dataDir: opts.dataDir });
  try {
    await migrate(database, [auditMigrations, securityMigrations, registryMigrations, syncMigrations, trustListMigrations]);
    const custody = opts.custody ?? new MasterKeyCustody((await openSealing(database, opts.dataDir, opts.sealing)).envelope);
    const clock = opts.clock ?? (() => new Date());
    const tokens = new PlatformTokens(database, clock);
    const { file } = await tokens.ensureBootstrap(opts.dataDir);
    const registry = new CaRegistry(database, clock);
    const supervision = new Supervision(database, registry, clock);
    const trustList = new TrustListPublisher({ database, directory: registry, custody, identityAlgorithm: opts.identityAlgorithm, clock });
    registry.onStatusChange(async (ca, status, reason) => {
      await trustList.republish(`${ca} ${status}: ${reason}`);
    });
    const applier = new SyncApplier({ database, directory: registry, clock });
    const statistics = new SyncStatistics(database, clock);
    await trustList.certificate();
    return { database, tokens, registry, supervision, trustList, applier, statistics, adminTokenFile: file, close: () => database.close() };
  } catch (e) {
    await database.close();
    throw e;
  }
}

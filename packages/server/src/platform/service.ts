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
import { ConformanceRunner } from './conformance/runner.js';
import { InformationSystems, systemsMigrations } from './systems/index.js';
import { FeeSchedules, FeeStatements, feesMigrations } from './fees/index.js';
import { Complaints, SubmissionLimiter, feedbackMigrations } from './feedback/index.js';
import { ProbeMonitor, probeMigrations } from './probe/index.js';

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
  /** Time limit of each fetch of the conformance test and of certificate queries, ms (default 5 s). */
  fetchTimeoutMs?: number;
  /** How often the OCSP/CRL probes run, ms (default 5 minutes); 0: not scheduled (tests call runOnce). */
  probeIntervalMs?: number;
  /** Time limit of each probe, ms (default 10 s). */
  probeTimeoutMs?: number;
  /** Public complaint submissions allowed per client address and window (default 5 per 10 minutes). */
  complaintRate?: { max: number; windowMs: number };
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
  /** The registry of health information systems and their holders (Art. 15–17). */
  systems: InformationSystems;
  feeSchedules: FeeSchedules;
  feeStatements: FeeStatements;
  /** The automated conformance test (its queries signed by the trust list's identity). */
  conformance: ConformanceRunner;
  /** The fetch time limit of the conformance test and certificate queries (undefined: 5 s). */
  fetchTimeoutMs?: number;
  /** Complaints about CAs' service quality (Art. 11). */
  complaints: Complaints;
  /** The throttle of public complaint submissions. */
  complaintLimiter: SubmissionLimiter;
  /** The OCSP/CRL availability and latency probes (Art. 11). */
  probes: ProbeMonitor;
  /** How often the probes run, ms (0: not scheduled). */
  probeIntervalMs: number;
  /** DIR/platform-admin.token, the bootstrap national-office token. */
  adminTokenFile: string;
  close(): Promise<void>;
}

/** Opens the platform's database, migrates every platform module and builds the parts. */
export async function openPlatformServices(opts: PlatformServiceOptions): Promise<PlatformServices> {
  const database = await openDatabase({ url: opts.dbUrl, dataDir: opts.dataDir });
  try {
    await migrate(database, [auditMigrations, securityMigrations, registryMigrations, syncMigrations, trustListMigrations, systemsMigrations, feesMigrations, feedbackMigrations, probeMigrations]);
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
    const systems = new InformationSystems(database, registry, clock);
    const feeSchedules = new FeeSchedules(database, clock);
    const feeStatements = new FeeStatements(systems, feeSchedules, clock);
    const conformance = new ConformanceRunner({ database, registry, signer: trustList, clock, timeoutMs: opts.fetchTimeoutMs });
    const complaints = new Complaints(database, registry, clock);
    const probes = new ProbeMonitor({ database, directory: registry, clock, timeoutMs: opts.probeTimeoutMs });
    await trustList.certificate();
    const complaintLimiter = new SubmissionLimiter(opts.complaintRate?.max, opts.complaintRate?.windowMs);
    return { complaints, complaintLimiter, probes, probeIntervalMs: opts.probeIntervalMs ?? 300_000, database, tokens, registry, supervision, trustList, applier, statistics, systems, feeSchedules, feeStatements, conformance, fetchTimeoutMs: opts.fetchTimeoutMs, adminTokenFile: file, close: () => database.close() };
  } catch (e) {
    await database.close();
    throw e;
  }
}

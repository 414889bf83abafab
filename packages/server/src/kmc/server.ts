/**
 * The KMC as its own service: its own database (SQLite in its data directory, or PostgreSQL), its
 * own keys, and an HTTP front with one protocol endpoint. Requests authenticate by their
 * signature (see centre.ts), so the endpoint needs no other credential; operators manage clients
 * with `hpki kmc client …` on the KMC's own machine.
 *
 *   POST /kmc              body: CARequest DER (application/x-kmc-request) → KMRespond DER
 *   GET  /kmc/certificate  the KMC's signing certificate (DER), for CAs to pin
 *   GET  /healthz
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { openDatabase, type Database } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { auditMigrations } from '../audit/log.js';
import type { KeyCustody } from '../ca/key-custody.js';
import { MasterKeyCustody } from '../ca/master-key-custody.js';
import { securityMigrations } from '../security/master-key.js';
import { openSealing, type SealingOptions } from '../security/sealing.js';
import { healthRoute, listenStandalone, standaloneApp, type RunningStandalone } from '../http/standalone.js';
import { KeyManagementCentre, type KmcOptions } from './centre.js';
import { kmcMigrations } from './tables.js';
import { KMC_REQUEST_TYPE, KMC_RESPONSE_TYPE } from './media-types.js';

export { KMC_REQUEST_TYPE, KMC_RESPONSE_TYPE };


/** A request carries at most 64 items of a few hundred bytes each. */
const REQUEST_LIMIT = 64 * 1024;

/** Where the KMC keeps its data, and how it runs. */
export interface KmcServiceOptions extends Omit<KmcOptions, 'database' | 'custody'> {
  dataDir: string;
  dbUrl?: string;
  /** The KMC's own master key (default: DIR/master.key, the demonstration key file, as for the CA service). */
  sealing?: SealingOptions;
  /** Default: the master-key custody; escrowed keys are never stored in the clear. */
  custody?: KeyCustody;
}

/** An open KMC: its database and centre. */
export interface KmcServices {
  database: Database;
  centre: KeyManagementCentre;
  close(): Promise<void>;
}

/** Opens the KMC's own database, migrates it (audit + kmc tables only) and makes its identity. */
export async function openKmcServices(opts: KmcServiceOptions): Promise<KmcServices> {
  const database = await openDatabase({ url: opts.dbUrl, dataDir: opts.dataDir });
  try {
    await migrate(database, [auditMigrations, securityMigrations, kmcMigrations]);
    const custody = opts.custody ?? new MasterKeyCustody((await openSealing(database, opts.dataDir, opts.sealing)).envelope);
    const centre = new KeyManagementCentre({ ...opts, database, custody });
    await centre.certificate();
    return { database, centre, close: () => database.close() };
  } catch (e) {
    await database.close();
    throw e;
  }
}

/** The KMC's HTTP app (not listening yet). */
export async function buildKmcApp(services: KmcServices, opts: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = standaloneApp({ logger: opts.logger, bodyLimit: REQUEST_LIMIT });
  app.addContentTypeParser(KMC_REQUEST_TYPE, { parseAs: 'buffer', bodyLimit: REQUEST_LIMIT }, (_req, body, done) => done(null, body));
  app.post('/kmc', async (req, reply) => {
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    const response = await services.centre.handle(body);
    return reply.type(KMC_RESPONSE_TYPE).header('cache-control', 'no-store').send(response);
  });
  app.get('/kmc/certificate', async (_req, reply) => reply.type('application/pkix-cert').send((await services.centre.certificate()).der));
  healthRoute(app, services.database);
  return app;
}

/** A running KMC. */
export type RunningKmc = RunningStandalone<KmcServices>;

/** Opens the KMC and listens on `port` (0: any free port). */
export async function startKmcServer(opts: KmcServiceOptions & { port?: number; host?: string; logger?: FastifyServerOptions['logger'] }): Promise<RunningKmc> {
  const services = await openKmcServices(opts);
  return listenStandalone(services, () => buildKmcApp(services, { logger: opts.logger }), { port: opts.port ?? 8090, host: opts.host ?? '127.0.0.1' });
}

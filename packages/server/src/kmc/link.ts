/**
 * The CA's side of the CA–KMC protocol: the CA's KMC-access identity (a key and a self-signed
 * certificate that the KMC's operators register with `hpki kmc client add`), and a client that
 * sends signed requests and accepts only answers signed by the pinned KMC certificate.
 *
 * A request that got no answer (network cut, KMC restart) is sent again with the same bytes,
 * hence the same task number: the KMC answers a repeated task from its record, so a retry never
 * makes a second key.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import {
  encodeKmcRequestBody,
  escapeDnValue,
  kmcSignatureValid,
  parseKmcResponseBody,
  parseSignedKmcMessage,
  signKmcMessage,
  wholeSeconds,
  KMC_MAX_REQUESTS,
  type Certificate,
  type KmcRequestItem,
  type KmcResponseItem,
  type RetKeyResponse,
} from '@health-pki/pki';
import type { Database } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import type { KeyCustody } from '../ca/key-custody.js';
import { createIdentityTable, loadOrCreateIdentity, type ServiceIdentity } from '../security/service-identity.js';
import { ServiceError } from '../errors.js';
import { KMC_REQUEST_TYPE, KMC_RESPONSE_TYPE } from './media-types.js';

/** Migrations of the CA's KMC link: its access identity, and the outbox of notices to the KMC (kmc/outbox.ts). */
export const kmcLinkMigrations: ModuleMigrations = {
  module: 'kmclink',
  migrations: (dialect) => ({
    '0001_identity': {
      up: (db: Kysely<any>) => createIdentityTable(db, dialect, 'kmclink_identity'),
    },
    '0002_outbox': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('kmclink_outbox')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('cert_no', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .addColumn('outcome', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .execute();
        // The sender reads the pending notices in id order; the delivered ones stay as the record.
        await sql`create index kmclink_outbox_pending on kmclink_outbox (id) where sent_at is null`.execute(db);
      },
    },
  }),
};

/** The KMC a CA service talks to. */
export interface KmcEndpoint {
  /** The KMC's base URL, e.g. http://kmc.example.cn:8090 (requests go to URL/kmc). */
  url: string;
  /** The KMC's signing certificate, pinned: answers signed by anything else are refused. */
  certificate: Certificate;
}

/** The KMC could not be reached or answered wrongly: 502, with what to do. */
export class KmcUnavailableError extends ServiceError {
  constructor(message: string) {
    super(502, 'kmc.unavailable', message);
  }
}

/** The KMC refused a request (an ErrorPkgRespond): 422 with its reason. */
export class KmcRefusedError extends ServiceError {
  constructor(
    readonly kmcCode: number,
    description: string,
  ) {
    super(422, 'kmc.refused', `the key management centre refused: ${description}`);
  }
}

const IDENTITY_CONTEXT = 'kmclink-identity';
const ATTEMPTS = 3;

/** The CA's connection to its KMC. */
export class KmcLink {
  private self?: ServiceIdentity;

  constructor(
    private readonly database: Database,
    private readonly custody: KeyCustody,
    private readonly endpoint: KmcEndpoint | undefined,
    private readonly opts: { timeoutMs?: number; clock?: () => Date; organization?: string } = {},
  ) {}

  /** Whether a KMC is configured (dual certificates need one). */
  get configured(): boolean {
    return this.endpoint !== undefined;
  }

  /** The certificate the KMC's operators register for this CA service (made at first call). */
  async accessCertificate(): Promise<Certificate> {
    return (await this.identity()).cert;
  }

  /** Asks the KMC for a new encryption key pair for certificate `userCertNo`, enveloped to `recipientSpki`. */
  async applyKey(item: Omit<Extract<KmcRequestItem, { type: 'apply' }>, 'type'>): Promise<RetKeyResponse> {
    return this.expectKey((await this.call([{ type: 'apply', ...item }]))[0]!);
  }

  /** Asks the KMC for the escrowed key of certificate `userCertNo`, enveloped to `recipientSpki` (with its certificate for RSA/ECDSA keys). */
  async restoreKey(userCertNo: bigint, recipientSpki: Buffer, recipientCertificate?: Buffer): Promise<RetKeyResponse> {
    return this.expectKey((await this.call([{ type: 'restore', userCertNo, recipientSpki, ...(recipientCertificate ? { recipientCertificate } : {}) }]))[0]!);
  }

  /** Tells the KMC that the key of certificate `userCertNo` is retired. */
  async revokeKey(userCertNo: bigint): Promise<void> {
    const [r] = await this.revokeKeys([userCertNo]);
    if (!r!.retired) throw new KmcRefusedError(r!.code, r!.description);
  }

  /**
   * Tells the KMC in one request that the keys of these certificates are retired; the answers
   * are in the same order, each "retired" (also when it already was) or the KMC's refusal.
   * Throws KmcUnavailableError when the KMC cannot be reached or answers wrongly.
   */
  async revokeKeys(userCertNos: bigint[]): Promise<Array<{ retired: true } | { retired: false; code: number; description: string }>> {
    if (userCertNos.length === 0 || userCertNos.length > KMC_MAX_REQUESTS) throw new RangeError(`a request retires 1 to ${KMC_MAX_REQUESTS} keys`);
    const answers = await this.call(userCertNos.map((userCertNo) => ({ type: 'revoke' as const, userCertNo })));
    return answers.map((r, i) => {
      if (r.type === 'error') return { retired: false, code: r.code, description: r.description };
      if (r.type !== 'revoked' || r.userCertNo !== userCertNos[i]) throw new KmcUnavailableError(`the key management centre answered "${r.type}" for another key to a retire request`);
      return { retired: true };
    });
  }

  private expectKey(r: KmcResponseItem): RetKeyResponse {
    if (r.type === 'error') throw new KmcRefusedError(r.code, r.description);
    if (r.type !== 'key') throw new KmcUnavailableError(`the key management centre answered "${r.type}" to a key request`);
    return r;
  }

  /** Sends one signed request with these items; the answers come in their order. */
  private async call(items: KmcRequestItem[]): Promise<KmcResponseItem[]> {
    if (!this.endpoint) throw new ServiceError(422, 'kmc.unconfigured', 'this CA service has no key management centre; start it with --kmc-url and --kmc-cert (docs/kmc.md)');
    const self = await this.identity();
    const taskNo = BigInt('0x' + randomBytes(8).toString('hex')) | 1n;
    const request = signKmcMessage(encodeKmcRequestBody({ caName: self.cert.subjectDer, requests: items, requestTime: wholeSeconds(this.now()), taskNo }), self.key);
    let lastError = '';
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.endpoint.url.replace(/\/+$/, '')}/kmc`, {
          method: 'POST',
          headers: { 'content-type': KMC_REQUEST_TYPE },
          body: request,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        });
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        continue; // same bytes, same task: the KMC answers a repeat from its record
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) {
        let message = body.toString('utf8').slice(0, 300);
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // not JSON: keep the text
        }
        if (res.status >= 500) {
          lastError = `HTTP ${res.status}: ${message}`;
          continue;
        }
        throw new KmcUnavailableError(`the key management centre refused the request (HTTP ${res.status}): ${message}`);
      }
      if (!(res.headers.get('content-type') ?? '').startsWith(KMC_RESPONSE_TYPE)) throw new KmcUnavailableError('the key management centre answered with something that is not a KMC response');
      let parsed;
      try {
        const msg = parseSignedKmcMessage(body);
        if (!kmcSignatureValid(msg, this.endpoint.certificate.publicKey)) throw new KmcUnavailableError('the answer is not signed by the pinned KMC certificate; refusing it');
        parsed = parseKmcResponseBody(msg.body);
      } catch (e) {
        if (e instanceof KmcUnavailableError) throw e;
        throw new KmcUnavailableError(`the key management centre's answer is malformed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (parsed.taskNo !== taskNo || parsed.responses.length !== items.length) throw new KmcUnavailableError('the key management centre answered another task');
      return parsed.responses;
    }
    throw new KmcUnavailableError(`the key management centre at ${this.endpoint.url} did not answer (${lastError}); try again later`);
  }

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  /** The access identity: read, or made at first call (two processes: the first insert wins). */
  private async identity(): Promise<ServiceIdentity> {
    const org = escapeDnValue(this.opts.organization ?? 'health-pki');
    this.self ??= await loadOrCreateIdentity(
      this.database,
      this.custody,
      { table: 'kmclink_identity', context: IDENTITY_CONTEXT, subject: `C=CN,O=${org},CN=health-pki CA service KMC access ${randomBytes(4).toString('hex')}`, algorithm: 'sm2', auditAction: 'kmc.access.create' },
      () => this.now(),
    );
    return this.self;
  }
}

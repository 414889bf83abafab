/**
 * The key management centre (KMC; GM/T 0014 / GM/T 0034): it makes the encryption key pairs of
 * dual-certificate holders, keeps the private keys in escrow (sealed by its key custody), and hands
 * a private key out only enveloped to the public key a CA names in a signed request — the holder's
 * signing key at enrolment, a fresh signing key or an authorised recipient's key at recovery.
 *
 * It trusts nothing but signatures: a request must come from a registered CA client, be signed by
 * that client's certificate, be fresh, and carry a task number never used for another request.
 * A repeated task (a CA retrying after a lost answer) is answered from the record, never twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  Certificate,
  KMC_ERRORS,
  ParseError,
  addDays,
  buildSm2EnvelopedKey,
  envelopePrivateKey,
  encodeKmcResponseBody,
  generateKey,
  kmcSignatureValid,
  parseKmcRequestBody,
  parseSignedKmcMessage,
  publicKeyFromSpki,
  signKmcMessage,
  wholeSeconds,
  type KeyAlgorithm,
  type KmcKeyType,
  type KmcRequestBody,
  type KmcRequestItem,
  type KmcResponseItem,
  type PrivateKey,
} from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { isUniqueViolation } from '../store/errors.js';
import { all, first, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import type { KeyCustody } from '../ca/key-custody.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';
import type { EscrowState, KmcTables } from './tables.js';
import { loadOrCreateIdentity } from '../security/service-identity.js';

/** Options of the KMC. */
export interface KmcOptions {
  database: Database;
  custody: KeyCustody;
  clock?: () => Date;
  /** How far a new request's time may be from the KMC's clock (default 300 s). */
  maxClockSkewSeconds?: number;
  /** Years an escrowed key is kept after its certificate expires (default 5, regulation Art. 13). */
  retentionYears?: number;
  /** The algorithm of the KMC's own signing key, made at first start (default sm2). */
  identityAlgorithm?: KeyAlgorithm;
}

/** A CA client as operators see it. */
export interface KmcClientView {
  name: string;
  subject: string;
  enabled: boolean;
  certificate: Certificate;
  createdAt: string;
}

/** An escrowed key's record (never the key). */
export interface EscrowView {
  client: string;
  certNo: string;
  keyType: string;
  state: EscrowState;
  notAfter: string;
  destroyAfter: string;
}

/** The principal the KMC records for requests signed by a CA client. */
function clientPrincipal(name: string): Principal {
  return { id: `kmc-client:${name}`, role: 'officer', bootstrap: false };
}

/** Custody contexts: a sealed key opens only for the row it was sealed for. */
const IDENTITY_CONTEXT = 'kmc-identity';
const escrowContext = (clientId: string, certNo: string) => `kmc-key:${clientId}:${certNo}`;
const TASK_ATTEMPTS = 3;

/** Key generation per KMC key type. */
const KEY_ALGORITHM: Record<KmcKeyType, KeyAlgorithm> = { sm2: 'sm2', p256: 'p256', rsa2048: 'rsa2048' };

interface Identity {
  cert: Certificate;
  key: PrivateKey;
}

interface ClientRow extends Omit<KmcTables['kmc_clients'], 'subject_der' | 'cert_der'> {
  subject_der: Buffer;
  cert_der: Buffer;
}

/** The KMC of one deployment. */
export class KeyManagementCentre {
  private readonly database: Database;
  private readonly custody: KeyCustody;
  private readonly clock: () => Date;
  private readonly maxSkewMs: number;
  private readonly retentionYears: number;
  private readonly identityAlgorithm: KeyAlgorithm;
  private self?: Identity;

  constructor(opts: KmcOptions) {
    this.database = opts.database;
    this.custody = opts.custody;
    this.clock = opts.clock ?? (() => new Date());
    this.maxSkewMs = (opts.maxClockSkewSeconds ?? 300) * 1000;
    this.retentionYears = opts.retentionYears ?? 5;
    this.identityAlgorithm = opts.identityAlgorithm ?? 'sm2';
  }

  /** The KMC's signing certificate, which CAs pin to check its answers; made at first call. */
  async certificate(): Promise<Certificate> {
    return (await this.identity()).cert;
  }

  /** Registers a CA as a client: its requests must be signed by `certificate`'s key. Audited. */
  async addClient(actor: Principal, name: string, certificate: Certificate): Promise<KmcClientView> {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new RuleError('kmc.client.name', 'a client name is 1-63 lower-case letters, digits or "-"');
    const clients = await this.clients();
    if (clients.some((c) => c.subject_der.equals(certificate.subjectDer))) {
      throw new ConflictError('kmc.client.exists', `a client with subject ${certificate.subjectText} is already registered`);
    }
    try {
      await this.database.transaction(async (tx) => {
        await run(
          tx,
          sql`insert into kmc_clients (id, name, subject_der, cert_der, enabled, created_at) values (${randomUUID()}, ${name}, ${certificate.subjectDer}, ${certificate.der}, ${1}, ${nowIso(this.clock())})`,
        );
        await appendAudit(tx, { actor, action: 'kmc.client.add', target: `kmc:client:${name}`, details: { subject: certificate.subjectText, serial: certificate.serialHex } });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('kmc.client.exists', `a client named "${name}" is already registered`);
      throw e;
    }
    return (await this.listClients()).find((c) => c.name === name)!;
  }

  /** Every registered client. */
  async listClients(): Promise<KmcClientView[]> {
    return (await this.clients()).map((r) => {
      const certificate = Certificate.parse(r.cert_der);
      return { name: r.name, subject: certificate.subjectText, enabled: r.enabled === 1, certificate, createdAt: r.created_at };
    });
  }

  /** Stops (or resumes) serving a client; its requests are then refused and audited. */
  async setClientEnabled(actor: Principal, name: string, enabled: boolean): Promise<void> {
    await this.database.transaction(async (tx) => {
      const n = await run(tx, sql`update kmc_clients set enabled = ${enabled ? 1 : 0} where name = ${name}`);
      if (n !== 1) throw new NotFoundError('kmc.client.unknown', `there is no client named "${name}"`);
      await appendAudit(tx, { actor, action: enabled ? 'kmc.client.enable' : 'kmc.client.disable', target: `kmc:client:${name}` });
    });
  }

  /** The escrow records of a client (states and dates, never keys). */
  async escrows(client: string): Promise<EscrowView[]> {
    const rows = await all<KmcTables['kmc_keys'] & { name: string }>(
      this.database.db,
      sql`select k.*, c.name from kmc_keys k join kmc_clients c on c.id = k.client_id where c.name = ${client} order by k.created_at`,
    );
    return rows.map((r) => ({ client: r.name, certNo: r.cert_no, keyType: r.key_type, state: r.state, notAfter: r.not_after, destroyAfter: r.destroy_after }));
  }

  /**
   * Answers a signed CA request (CARequest DER) with a signed KMRespond (DER). A message that is
   * malformed (400), from no registered client or wrongly signed (403), or a task number reused
   * for a different request (409) is refused without an answer, and audited.
   */
  async handle(requestDer: Uint8Array): Promise<Buffer> {
    const signed = guard(() => parseSignedKmcMessage(requestDer));
    const body = guard(() => parseKmcRequestBody(signed.body));
    const client = (await this.clients()).find((c) => c.subject_der.equals(body.caName));
    if (!client || client.enabled !== 1) {
      await this.refuse('kmc.refused.client', 'unknown', { reason: client ? 'client disabled' : 'no client with this caName', taskNo: body.taskNo.toString() });
      throw new ForbiddenError('kmc.client.unknown', client ? `client "${client.name}" is disabled` : 'this KMC serves no CA with that caName');
    }
    if (!kmcSignatureValid(signed, Certificate.parse(client.cert_der).publicKey)) {
      await this.refuse('kmc.refused.signature', client.name, { taskNo: body.taskNo.toString() });
      throw new ForbiddenError('kmc.signature', `the request is not signed by the key of client "${client.name}"`);
    }
    const digest = createHash('sha256').update(requestDer).digest('hex');
    for (let attempt = 0; attempt < TASK_ATTEMPTS; attempt++) {
      const done = await first<{ request_sha256: string; response_der: Buffer }>(
        this.database.db,
        sql`select request_sha256, response_der from kmc_tasks where client_id = ${client.id} and task_no = ${body.taskNo.toString()}`,
      );
      if (done) {
        if (done.request_sha256 !== digest) {
          await this.refuse('kmc.refused.task', client.name, { taskNo: body.taskNo.toString() });
          throw new ConflictError('kmc.task.reused', `task ${body.taskNo} of client "${client.name}" was used for another request; a task number is used once`);
        }
        return Buffer.from(done.response_der);
      }
      try {
        return await this.answer(client, body, digest);
      } catch (e) {
        // A concurrent copy of the same task (or the same apply) committed first: read its answer.
        if (!isUniqueViolation(e)) throw e;
      }
    }
    throw new ConflictError('kmc.task.busy', `task ${body.taskNo} is being answered concurrently; retry`);
  }

  /** Destroys escrowed keys whose retention ended (the key material is overwritten), audited. */
  async destroyExpired(): Promise<number> {
    const now = nowIso(this.clock());
    const due = await all<{ client_id: string; cert_no: string; name: string }>(
      this.database.db,
      sql`select k.client_id, k.cert_no, c.name from kmc_keys k join kmc_clients c on c.id = k.client_id where k.state <> 'destroyed' and k.destroy_after <= ${now}`,
    );
    for (const d of due) {
      await this.database.transaction(async (tx) => {
        await run(tx, sql`update kmc_keys set state = 'destroyed', key_sealed = ${Buffer.alloc(0)}, destroyed_at = ${now} where client_id = ${d.client_id} and cert_no = ${d.cert_no} and state <> 'destroyed'`);
        await appendAudit(tx, { actor: { id: 'kmc-retention', role: 'admin', bootstrap: false }, action: 'kmc.key.destroy', target: `kmc:${d.name}/key:${d.cert_no}`, details: { reason: `retention of ${this.retentionYears} years after expiry ended` } });
      });
    }
    return due.length;
  }

  private async answer(client: ClientRow, body: KmcRequestBody, digest: string): Promise<Buffer> {
    const now = this.clock();
    const actor = clientPrincipal(client.name);
    const skewed = Math.abs(now.getTime() - body.requestTime.getTime()) > this.maxSkewMs;
    // Keys are made before the transaction: generation is slow and needs no database.
    const fresh = body.requests.map((r) => (r.type === 'apply' && !skewed ? generateKey(KEY_ALGORITHM[r.keyType]) : undefined));
    const self = await this.identity();
    return this.database.transaction(async (tx) => {
      const responses: KmcResponseItem[] = [];
      for (const [i, r] of body.requests.entries()) {
        responses.push(skewed ? failure('badRequest', `requestTime ${body.requestTime.toISOString()} is more than ${this.maxSkewMs / 1000} s from the KMC's clock`) : await this.serve(tx, client, actor, r, fresh[i], now));
      }
      const response = signKmcMessage(encodeKmcResponseBody({ kmName: self.cert.subjectDer, responses, respondTime: wholeSeconds(now), taskNo: body.taskNo }), self.key);
      await run(
        tx,
        sql`insert into kmc_tasks (client_id, task_no, request_sha256, response_der, received_at) values (${client.id}, ${body.taskNo.toString()}, ${digest}, ${response}, ${nowIso(now)})`,
      );
      return response;
    });
  }

  private async serve(tx: Executor, client: ClientRow, actor: Principal, r: KmcRequestItem, fresh: PrivateKey | undefined, now: Date): Promise<KmcResponseItem> {
    const certNo = r.userCertNo.toString(16);
    const target = `kmc:${client.name}/key:${certNo}`;
    switch (r.type) {
      case 'apply': {
        const key = fresh!;
        const delivery = deliver(key, r.keyType, r.recipientSpki, r.recipientCertificate);
        if (typeof delivery === 'string') return failure('badRequest', delivery);
        const exists = await first(tx, sql`select 1 as x from kmc_keys where client_id = ${client.id} and cert_no = ${certNo}`);
        if (exists) return failure('duplicateKey', `a key for certificate ${certNo} is already escrowed; restore it instead`);
        const destroyAfter = addDays(r.notAfter, Math.round(this.retentionYears * 365.25));
        await run(
          tx,
          sql`insert into kmc_keys (client_id, cert_no, key_type, public_spki, key_sealed, key_protection, state, not_before, not_after, destroy_after, created_at, revoked_at, destroyed_at)
              values (${client.id}, ${certNo}, ${r.keyType}, ${key.publicKey.spki}, ${this.custody.seal(key, escrowContext(client.id, certNo))}, ${this.custody.protection}, ${'active'}, ${r.notBefore.toISOString()}, ${r.notAfter.toISOString()}, ${destroyAfter.toISOString()}, ${nowIso(now)}, ${null}, ${null})`,
        );
        await appendAudit(tx, { actor, action: 'kmc.key.generate', target, details: { keyType: r.keyType, recipient: spkiDigest(r.recipientSpki), userName: r.userName ?? null } }, now);
        return { type: 'key', userCertNo: r.userCertNo, publicSpki: key.publicKey.spki, envelope: delivery };
      }
      case 'restore': {
        const row = await first<KmcTables['kmc_keys']>(tx, sql`select * from kmc_keys where client_id = ${client.id} and cert_no = ${certNo}`);
        if (!row) return failure('unknownKey', `no key is escrowed for certificate ${certNo}`);
        if (row.state === 'destroyed') return failure('keyRevoked', `the key of certificate ${certNo} was destroyed when its retention ended`);
        const key = this.custody.open(Buffer.from(row.key_sealed), row.key_protection, escrowContext(client.id, certNo));
        const delivery = deliver(key, row.key_type as KmcKeyType, r.recipientSpki, r.recipientCertificate);
        if (typeof delivery === 'string') return failure('badRequest', delivery);
        // Revoked keys are restored too: a lost token's certificates are revoked, its data must stay readable.
        await appendAudit(tx, { actor, action: 'kmc.key.restore', target, details: { recipient: spkiDigest(r.recipientSpki), state: row.state } }, now);
        return { type: 'key', userCertNo: r.userCertNo, publicSpki: Buffer.from(row.public_spki), envelope: delivery };
      }
      case 'revoke': {
        const n = await run(tx, sql`update kmc_keys set state = 'revoked', revoked_at = ${nowIso(now)} where client_id = ${client.id} and cert_no = ${certNo} and state = 'active'`);
        if (n === 0) {
          const row = await first<{ state: string }>(tx, sql`select state from kmc_keys where client_id = ${client.id} and cert_no = ${certNo}`);
          if (!row) return failure('unknownKey', `no key is escrowed for certificate ${certNo}`);
          return { type: 'revoked', userCertNo: r.userCertNo }; // already revoked: the same answer again
        }
        await appendAudit(tx, { actor, action: 'kmc.key.revoke', target }, now);
        return { type: 'revoked', userCertNo: r.userCertNo };
      }
    }
  }

  private async refuse(action: string, client: string, details: Record<string, unknown>): Promise<void> {
    await this.database.transaction((tx) => appendAudit(tx, { actor: clientPrincipal(client), action, target: `kmc:client:${client}`, details }, this.clock()));
  }

  private async clients(): Promise<ClientRow[]> {
    const rows = await all<KmcTables['kmc_clients']>(this.database.db, sql`select * from kmc_clients order by name`);
    return rows.map((r) => ({ ...r, subject_der: Buffer.from(r.subject_der), cert_der: Buffer.from(r.cert_der) }));
  }

  /** The KMC's signing identity: read, or made at first start (two processes: the first insert wins). */
  private async identity(): Promise<Identity> {
    this.self ??= await loadOrCreateIdentity(
      this.database,
      this.custody,
      { table: 'kmc_identity', context: IDENTITY_CONTEXT, subject: 'C=CN,O=health-pki,CN=health-pki Key Management Centre', algorithm: this.identityAlgorithm, auditAction: 'kmc.identity.create' },
      this.clock,
    );
    return this.self;
  }
}

/** Malformed input becomes a 400 with the parser's reason. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof ParseError) throw new InvalidRequestError('kmc.malformed', `not a KMC request: ${e.message}`);
    throw e;
  }
}

function failure(kind: keyof typeof KMC_ERRORS, description: string): KmcResponseItem {
  return { type: 'error', code: KMC_ERRORS[kind], description };
}

/**
 * The private key enveloped for the recipient, or why it cannot be: an SM2 key as an
 * SM2EnvelopedKey to an SM2 key (GM/T 0009); an RSA/ECDSA key as CMS EnvelopedData to the
 * recipient's certificate, which must carry `recipientSpki`.
 */
function deliver(key: PrivateKey, keyType: KmcKeyType, recipientSpki: Buffer, recipientCertificate: Buffer | undefined): Buffer | string {
  let recipient: ReturnType<typeof publicKeyFromSpki>;
  try {
    recipient = publicKeyFromSpki(recipientSpki);
  } catch (e) {
    return `userPubKey is not a usable public key: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (keyType === 'sm2') {
    if (recipient.kind !== 'sm2') return 'an SM2 key is enveloped to an SM2 key (SM2EnvelopedKey); userPubKey is not SM2';
    return buildSm2EnvelopedKey(key, recipient);
  }
  if (!recipientCertificate) return `a ${keyType} key is delivered as CMS EnvelopedData, which names its recipient by certificate: send userCert`;
  let cert: Certificate;
  try {
    cert = Certificate.parse(recipientCertificate);
  } catch (e) {
    return `userCert is not a certificate: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!cert.spkiDer.equals(recipientSpki)) return 'userCert does not carry userPubKey';
  if (recipient.kind !== 'ec' && recipient.kind !== 'rsa') return `a ${keyType} key is enveloped to an RSA or EC key; userPubKey is ${recipient.kind}`;
  return envelopePrivateKey(key, cert);
}

function spkiDigest(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

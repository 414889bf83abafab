/**
 * PIN unblock as a CA service (密码解锁, regulation Art. 3 and 12). The CA keeps the admin (SO)
 * PIN of every token it hands out, sealed under the deployment's master key; the holder never
 * learns it. A holder whose user PIN is locked brings the token's unblock request (a challenge,
 * packages/token/src/unblock.ts); an RA officer checks the holder's identity and authorises it;
 * only then does the CA answer the challenge with the admin PIN. The token sets a new user PIN
 * chosen locally. Every step is audited; a request nobody authorised is never answered.
 */
import { sql, type Kysely } from 'kysely';
import { answerUnblockChallenge, parseUnblockRequest, TokenError, type UnblockResponse } from '@health-pki/token';
import type { Database } from '../store/database.js';
import type { ModuleMigrations } from '../store/migrate.js';
import { columnTypes, nowIso } from '../store/columns.js';
import { orderedId } from '../store/ids.js';
import { isUniqueViolation } from '../store/errors.js';
import { all, first, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import type { Sealer } from '../security/envelope.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, RuleError } from '../errors.js';

/** Migrations: the tokens a CA handed out and the unblock requests for them. */
export const mediaMigrations: ModuleMigrations = {
  module: 'media',
  migrations: (dialect) => ({
    '0001_tokens': {
      async up(db: Kysely<any>) {
        const t = columnTypes(dialect);
        await db.schema
          .createTable('media_tokens')
          .addColumn('token_id', 'text', (c) => c.primaryKey())
          .addColumn('authority_name', 'text', (c) => c.notNull())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('admin_pin_sealed', t.bytes, (c) => c.notNull())
          .addColumn('protection', 'text', (c) => c.notNull())
          .addColumn('registered_by', 'text', (c) => c.notNull())
          .addColumn('registered_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('media_unblocks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('token_id', 'text', (c) => c.notNull().references('media_tokens.token_id'))
          .addColumn('request', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('response', 'text')
          .execute();
        await db.schema.createIndex('media_unblocks_state').on('media_unblocks').columns(['state', 'requested_at']).execute();
      },
    },
  }),
};

/** Where an unblock request stands. */
export type UnblockState = 'pending' | 'answered' | 'rejected';

/** An unblock request as officers see it (the answer once given). */
export interface UnblockView {
  id: string;
  tokenId: string;
  ca: string;
  holder: string;
  state: UnblockState;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The CA's answer for the token (JSON), once authorised. */
  response: UnblockResponse | null;
}

type UnblockRow = { id: string; token_id: string; request: string; state: UnblockState; requested_by: string; requested_at: string; decided_by: string | null; decided_at: string | null; response: string | null };
type TokenRow = { token_id: string; authority_name: string; holder: string; admin_pin_sealed: Buffer; protection: string };

function requireOfficer(actor: Principal): void {
  if (actor.role !== 'officer' && actor.role !== 'admin') throw new ForbiddenError('ra.officer', 'only an RA officer or an administrator may do this');
}

const pinContext = (tokenId: string) => `token-admin-pin:${tokenId}`;

/** The certificate media (tokens) a CA handed out, and PIN unblock for them. */
export class CertificateMedia {
  constructor(
    private readonly database: Database,
    private readonly sealer: Sealer,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Records a token handed to a holder with its admin PIN (sealed), as the token was initialised. */
  async register(actor: Principal, caName: string, input: { tokenId: string; adminPin: string; holder: string }): Promise<void> {
    requireOfficer(actor);
    if (!/^[0-9a-f]{32}$/.test(input.tokenId)) throw new InvalidRequestError('token.id', 'a token id is 32 lower-case hex digits (as `hpki token list` shows it)');
    if (input.adminPin.length < 6 || input.adminPin.length > 64) throw new InvalidRequestError('token.adminPin', 'the admin PIN is 6-64 characters');
    try {
      await this.database.transaction(async (tx) => {
        await run(
          tx,
          sql`insert into media_tokens (token_id, authority_name, holder, admin_pin_sealed, protection, registered_by, registered_at)
              values (${input.tokenId}, ${caName}, ${input.holder}, ${this.sealer.seal(Buffer.from(input.adminPin, 'utf8'), pinContext(input.tokenId))}, ${this.sealer.protection}, ${actor.id}, ${nowIso(this.clock())})`,
        );
        await appendAudit(tx, { actor, action: 'media.token.register', target: `media:token:${input.tokenId}`, details: { ca: caName, holder: input.holder } });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('token.exists', `token ${input.tokenId} is already registered`);
      throw e;
    }
  }

  /** Records a token's unblock request; it is answered only after an officer authorises it. */
  async request(actor: Principal, caName: string, requestJson: unknown): Promise<UnblockView> {
    requireOfficer(actor);
    return this.enter(actor, caName, requestJson, false);
  }

  /**
   * A holder enters the unblock request of their token themselves (issue 10): the token must be
   * one their CA handed out, and only one of its requests waits at a time. Officers decide it in
   * their queue like any other, checking the holder's identity before they authorise; the holder
   * follows it with `holderRequests` and takes the answer from there to the token.
   */
  async requestByHolder(actor: Principal, requestJson: unknown): Promise<UnblockView> {
    if (actor.role !== 'holder' || !actor.holder) throw new ForbiddenError('holder.only', `${actor.id} is not a certificate holder: officers enter requests at POST /api/v1/cas/{ca}/unblocks`);
    return this.enter(actor, actor.holder.ca, requestJson, true);
  }

  /** The unblock requests this holder entered (their CA's), newest first. */
  async holderRequests(actor: Principal): Promise<UnblockView[]> {
    if (actor.role !== 'holder' || !actor.holder) throw new ForbiddenError('holder.only', `${actor.id} is not a certificate holder`);
    const caName = actor.holder.ca;
    const rows = await all<{ id: string }>(
      this.database.db,
      sql`select u.id from media_unblocks u join media_tokens t on t.token_id = u.token_id where t.authority_name = ${caName} and u.requested_by = ${actor.id} order by u.requested_at desc limit ${50}`,
    );
    return Promise.all(rows.map((r) => this.get(caName, r.id)));
  }

  /** Records a request (checked: format, registered token of this CA, not expired); `onePending` refuses a second waiting request for the token. */
  private async enter(actor: Principal, caName: string, requestJson: unknown, onePending: boolean): Promise<UnblockView> {
    let parsed: ReturnType<typeof parseUnblockRequest>;
    try {
      parsed = parseUnblockRequest(requestJson);
    } catch (e) {
      throw new InvalidRequestError('unblock.request', `not a token unblock request: ${e instanceof Error ? e.message : String(e)}`);
    }
    const token = await this.token(caName, parsed.tokenId);
    if (Date.parse(parsed.expiresAt) <= this.clock().getTime()) throw new RuleError('unblock.expired', 'this unblock request has expired; make a new one on the token');
    const id = orderedId();
    const { parsed: _binary, ...plain } = parsed;
    await this.database.transaction(async (tx) => {
      if (onePending) {
        const waiting = await first<{ id: string }>(tx, sql`select id from media_unblocks where token_id = ${token.token_id} and state = ${'pending'}`);
        if (waiting) throw new ConflictError('unblock.pending', `token ${token.token_id} already has an unblock request waiting for an officer (${waiting.id}); wait for its decision`);
      }
      await run(
        tx,
        sql`insert into media_unblocks (id, token_id, request, state, requested_by, requested_at, decided_by, decided_at, response)
            values (${id}, ${token.token_id}, ${JSON.stringify(plain)}, ${'pending'}, ${actor.id}, ${nowIso(this.clock())}, ${null}, ${null}, ${null})`,
      );
      await appendAudit(tx, { actor, action: 'media.unblock.request', target: `media:token:${token.token_id}`, details: { unblock: id, application: parsed.application } });
    });
    return this.get(caName, id);
  }

  /**
   * Authorises a pending request after the holder's identity was checked, and answers it with
   * the admin PIN the CA keeps. A request the token did not make (another token's, a tampered
   * one) cannot be answered: the admin key does not unwrap its data key.
   */
  async authorise(actor: Principal, caName: string, id: string): Promise<UnblockView> {
    requireOfficer(actor);
    const row = await this.row(caName, id);
    if (row.state !== 'pending') throw new ConflictError(`unblock.${row.state}`, `unblock request ${id} is already ${row.state}`);
    const token = await this.token(caName, row.token_id);
    const pin = this.sealer.open(Buffer.from(token.admin_pin_sealed), token.protection, pinContext(token.token_id)).toString('utf8');
    let response: UnblockResponse;
    try {
      response = answerUnblockChallenge(pin, token.token_id, row.request, { now: this.clock() });
    } catch (e) {
      if (e instanceof TokenError) throw new RuleError('unblock.refused', `the request cannot be answered: ${e.message}`);
      throw e;
    }
    const now = nowIso(this.clock());
    await this.database.transaction(async (tx) => {
      const n = await run(tx, sql`update media_unblocks set state = ${'answered'}, decided_by = ${actor.id}, decided_at = ${now}, response = ${JSON.stringify(response)} where id = ${id} and state = ${'pending'}`);
      if (n !== 1) throw new ConflictError('unblock.concurrent', `unblock request ${id} was decided meanwhile`);
      await appendAudit(tx, { actor, action: 'media.unblock.authorise', target: `media:token:${token.token_id}`, details: { unblock: id } });
    });
    return this.get(caName, id);
  }

  /** Refuses a pending request (e.g. the identity check failed), with a reason. */
  async reject(actor: Principal, caName: string, id: string, reason: string): Promise<UnblockView> {
    requireOfficer(actor);
    const row = await this.row(caName, id);
    await this.database.transaction(async (tx) => {
      const n = await run(tx, sql`update media_unblocks set state = ${'rejected'}, decided_by = ${actor.id}, decided_at = ${nowIso(this.clock())} where id = ${id} and state = ${'pending'}`);
      if (n !== 1) throw new ConflictError(`unblock.${row.state}`, `unblock request ${id} is already ${row.state}`);
      await appendAudit(tx, { actor, action: 'media.unblock.reject', target: `media:token:${row.token_id}`, details: { unblock: id, reason } });
    });
    return this.get(caName, id);
  }

  /** One request, with the answer once authorised. */
  async get(caName: string, id: string): Promise<UnblockView> {
    const r = await this.row(caName, id);
    const token = await this.token(caName, r.token_id);
    return {
      id: r.id,
      tokenId: r.token_id,
      ca: caName,
      holder: token.holder,
      state: r.state,
      requestedBy: r.requested_by,
      requestedAt: r.requested_at,
      decidedBy: r.decided_by,
      decidedAt: r.decided_at,
      response: r.response ? (JSON.parse(r.response) as UnblockResponse) : null,
    };
  }

  /** Pending requests of a CA (an officer's queue). */
  async pending(caName: string): Promise<UnblockView[]> {
    const rows = await all<{ id: string }>(
      this.database.db,
      sql`select u.id from media_unblocks u join media_tokens t on t.token_id = u.token_id where t.authority_name = ${caName} and u.state = ${'pending'} order by u.requested_at`,
    );
    return Promise.all(rows.map((r) => this.get(caName, r.id)));
  }

  private async token(caName: string, tokenId: string): Promise<TokenRow> {
    const t = await first<TokenRow>(this.database.db, sql`select * from media_tokens where token_id = ${tokenId} and authority_name = ${caName}`);
    if (!t) throw new NotFoundError('token.unknown', `CA "${caName}" has not registered token ${tokenId}; only tokens it handed out can be unblocked`);
    return t;
  }

  private async row(caName: string, id: string): Promise<UnblockRow> {
    const r = await first<UnblockRow & { authority_name: string }>(
      this.database.db,
      sql`select u.*, t.authority_name from media_unblocks u join media_tokens t on t.token_id = u.token_id where u.id = ${id}`,
    );
    if (!r || r.authority_name !== caName) throw new NotFoundError('unblock.unknown', `CA "${caName}" has no unblock request ${id}`);
    return r;
  }
}

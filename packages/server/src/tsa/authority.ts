/**
 * The time-stamp authority (RFC 3161; GM/T 0033 for SM2): TSA units, each a key and a certificate
 * of the `tsa` profile issued by one of this deployment's CAs, answering time-stamp requests.
 * The pure work (checking the request, building and signing the token) is the pki library's
 * `issueTimeStamp`; this module owns the clock, the serial numbers, the units' keys and the
 * journal of granted tokens, which is written durably before a token leaves the service.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  Certificate,
  TimeStampResponse,
  generateKey,
  getProfile,
  escapeDnValue,
  nameToDer,
  parseName,
  policyOidsFor,
  randomSerial,
  timeStampRejection,
  issueTimeStamp,
  type KeyAlgorithm,
  type PrivateKey,
} from '@health-pki/pki';
import type { Database } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { isUniqueViolation } from '../store/errors.js';
import { all, run } from '../store/sql.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/log.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import type { KeyCustody } from '../ca/key-custody.js';
import { ConflictError, NotFoundError, RuleError } from '../errors.js';
import type { TsaTables } from './tables.js';

/** The policy a token names when the request names none: the `tsa` profile's certificate policy. */
export const TSA_POLICY = policyOidsFor(getProfile('tsa'))[0]!;

/** How far the clock may step back before the TSA stops trusting it (ms). */
const CLOCK_STEP_BACK_TOLERANCE = 1_000;

/** One TSA unit as the API shows it. */
export interface TsaUnitView {
  name: string;
  isDefault: boolean;
  authority: string;
  certificate: Certificate;
  createdAt: string;
}

/** What it takes to create a unit. */
export interface TsaUnitSpec {
  /** URL-safe name: the unit answers at POST /tsa/<name>. */
  name: string;
  /** The authority whose active issuing CA certifies the unit's key (the unit uses its algorithm). */
  authority: string;
  /** Answer at POST /tsa as well. */
  isDefault?: boolean;
}

interface LoadedUnit {
  row: TsaTables['tsa_units'];
  authority: string;
  cert: Certificate;
  /** The CA certificates above the unit's, sent when a request sets certReq. */
  chain: Certificate[];
  key?: PrivateKey;
  /** The latest genTime this process granted: the clock must not run backwards past it. */
  lastGenTime: number;
}

/** Options of the TSA. */
export interface TsaOptions {
  database: Database;
  ca: CertificateAuthorities;
  custody: KeyCustody;
  clock?: () => Date;
  /** The accuracy the tokens state (default one second: an NTP-disciplined host clock). */
  accuracySeconds?: number;
  /** Told of errors that became systemFailure responses. */
  onSystemFailure?: (e: unknown) => void;
}

const UNIT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SERIAL_ATTEMPTS = 4;

/** The time-stamp authority of one deployment. */
export class TimeStampAuthority {
  private readonly database: Database;
  private readonly ca: CertificateAuthorities;
  private readonly custody: KeyCustody;
  private readonly clock: () => Date;
  private readonly accuracySeconds: number;
  private readonly onSystemFailure?: (e: unknown) => void;
  private readonly units = new Map<string, LoadedUnit>();

  constructor(opts: TsaOptions) {
    this.database = opts.database;
    this.ca = opts.ca;
    this.custody = opts.custody;
    this.clock = opts.clock ?? (() => new Date());
    this.accuracySeconds = opts.accuracySeconds ?? 1;
    this.onSystemFailure = opts.onSystemFailure;
  }

  /**
   * Creates a unit: a fresh key of the authority's algorithm and a `tsa` certificate from its
   * active issuing CA, recorded by the CA and here in one transaction, audited.
   */
  async createUnit(actor: Principal, spec: TsaUnitSpec): Promise<TsaUnitView> {
    if (!UNIT_NAME.test(spec.name)) throw new RuleError('tsa.name', 'a TSA unit name is 1-63 lower-case letters, digits or "-", starting with a letter or digit');
    const authority = await this.ca.getAuthority(spec.authority);
    if ((await this.listUnits()).some((u) => u.name === spec.name)) throw new ConflictError('tsa.exists', `a TSA unit named "${spec.name}" already exists`);
    const key = generateKey(authority.algorithm as KeyAlgorithm);
    const subject = parseName(`C=CN,O=${escapeDnValue(authority.organization)},CN=${escapeDnValue(`${spec.authority} TSA ${spec.name}`)}`);
    const id = randomUUID();
    try {
      await this.ca.issueWith(spec.authority, { profile: 'tsa', subjectDer: nameToDer(subject), spki: key.publicKey.spki }, (signed) =>
        this.database.transaction(async (tx) => {
          await this.ca.record(tx, signed, actor);
          if (spec.isDefault) await run(tx, sql`update tsa_units set is_default = 0 where is_default = 1`);
          await run(
            tx,
            sql`insert into tsa_units (id, name, is_default, authority_id, cert_der, key_sealed, key_protection, created_at)
                values (${id}, ${spec.name}, ${spec.isDefault ? 1 : 0}, ${authority.id}, ${signed.certificate.der}, ${this.custody.seal(key, `tsa-key:${id}`)}, ${this.custody.protection}, ${nowIso(this.clock())})`,
          );
          await appendAudit(tx, { actor, action: 'tsa.unit.create', target: `tsa:${spec.name}`, details: { authority: spec.authority, certificate: signed.certificate.serialHex, keyProtection: this.custody.protection } });
        }),
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError('tsa.exists', `a TSA unit named "${spec.name}" already exists`);
      throw e;
    }
    this.units.clear();
    return this.view(await this.load(spec.name));
  }

  /** Every unit, by name. */
  async listUnits(): Promise<TsaUnitView[]> {
    const rows = await all<{ name: string }>(this.database.db, sql`select name from tsa_units order by name`);
    const out: TsaUnitView[] = [];
    for (const r of rows) out.push(this.view(await this.load(r.name)));
    return out;
  }

  /** One unit; undefined name means the default unit (POST /tsa). 404 when there is none. */
  async getUnit(name?: string): Promise<TsaUnitView> {
    return this.view(await this.load(name));
  }

  /**
   * Answers a time-stamp request (DER as received) with a TimeStampResp (DER). Anything wrong with
   * the request is a rejection response, as RFC 3161 wants, not an HTTP error; an unknown unit is
   * a 404. A granted token is in the journal, durably, before it is returned.
   */
  async stamp(request: Uint8Array, unitName?: string): Promise<Buffer> {
    const unit = await this.load(unitName);
    for (let attempt = 0; attempt < SERIAL_ATTEMPTS; attempt++) {
      const now = this.clock();
      // A clock that jumped back would certify an earlier time after a later one: refuse instead.
      const trusted = now.getTime() >= unit.lastGenTime - CLOCK_STEP_BACK_TOLERANCE;
      const response = issueTimeStamp({
        request,
        tsaCert: unit.cert,
        tsaKey: this.keyOf(unit),
        serial: randomSerial(),
        genTime: trusted ? now : null,
        policy: TSA_POLICY,
        accuracy: { seconds: this.accuracySeconds },
        includeCerts: unit.chain,
        essHash: unit.cert.publicKey.kind === 'sm2' ? 'sm3' : 'sha256',
        onSystemFailure: this.onSystemFailure,
      });
      const token = TimeStampResponse.parse(response).token;
      if (!token) return response;
      const info = token.tstInfo;
      try {
        await this.database.transaction((tx) =>
          run(
            tx,
            sql`insert into tsa_tokens (unit_id, serial, gen_time, hash_algorithm, imprint, policy)
                values (${unit.row.id}, ${info.serialNumber.toString(16)}, ${info.genTimeText}, ${info.messageImprint.hashAlgorithm}, ${info.messageImprint.hashedMessage.toString('hex')}, ${info.policy})`,
          ),
        );
      } catch (e) {
        if (isUniqueViolation(e)) continue; // serial already used by this unit: draw again
        this.onSystemFailure?.(e);
        return timeStampRejection('systemFailure', 'the time-stamp journal could not be written; try again');
      }
      unit.lastGenTime = Math.max(unit.lastGenTime, info.genTime.getTime());
      return response;
    }
    return timeStampRejection('systemFailure', 'no unused serial number; the serial source is broken');
  }

  /** How many tokens a unit granted (for operators and tests). */
  async journalSize(unitName?: string): Promise<number> {
    const unit = await this.load(unitName);
    const rows = await all<{ n: number | string }>(this.database.db, sql`select count(*) as n from tsa_tokens where unit_id = ${unit.row.id}`);
    return Number(rows[0]?.n ?? 0);
  }

  private keyOf(unit: LoadedUnit): PrivateKey {
    unit.key ??= this.custody.open(Buffer.from(unit.row.key_sealed), unit.row.key_protection, `tsa-key:${unit.row.id}`);
    return unit.key;
  }

  private view(u: LoadedUnit): TsaUnitView {
    return { name: u.row.name, isDefault: u.row.is_default === 1, authority: u.authority, certificate: u.cert, createdAt: u.row.created_at };
  }

  private async load(name?: string): Promise<LoadedUnit> {
    const cacheKey = name ?? '';
    const hit = this.units.get(cacheKey);
    if (hit) return hit;
    const rows = await all<TsaTables['tsa_units'] & { authority_name: string }>(
      this.database.db,
      name === undefined
        ? sql`select u.*, a.name as authority_name from tsa_units u join ca_authorities a on a.id = u.authority_id where u.is_default = 1`
        : sql`select u.*, a.name as authority_name from tsa_units u join ca_authorities a on a.id = u.authority_id where u.name = ${name}`,
    );
    const row = rows[0];
    if (!row) {
      throw name === undefined
        ? new NotFoundError('tsa.unknown', 'this deployment has no default time-stamp unit; create one (POST /api/v1/tsa/units with "isDefault": true)')
        : new NotFoundError('tsa.unknown', `there is no time-stamp unit named "${name}"`);
    }
    const cert = Certificate.parse(Buffer.from(row.cert_der));
    const issuers = await this.ca.signingIssuers(row.authority_name);
    const chain = chainAbove(cert, issuers.map((i) => i.cert));
    const last = await all<{ t: string | null }>(this.database.db, sql`select max(gen_time) as t from tsa_tokens where unit_id = ${row.id}`);
    const loaded: LoadedUnit = { row: { ...row, cert_der: Buffer.from(row.cert_der), key_sealed: Buffer.from(row.key_sealed) }, authority: row.authority_name, cert, chain, lastGenTime: parseGenTime(last[0]?.t ?? null) };
    this.units.set(cacheKey, loaded);
    return loaded;
  }
}

/** The CA certificates above `cert` among `cas`, nearest first. */
function chainAbove(cert: Certificate, cas: Certificate[]): Certificate[] {
  const out: Certificate[] = [];
  let cur = cert;
  while (out.length < 8) {
    const parent = cas.find((c) => c.subjectDer.equals(cur.issuerDer) && !out.includes(c) && c !== cur);
    if (!parent) break;
    out.push(parent);
    if (parent.subjectDer.equals(parent.issuerDer)) break;
    cur = parent;
  }
  return out;
}

/** A GeneralizedTime text from the journal ("20261128093000.25Z") as epoch ms; 0 when none. */
function parseGenTime(t: string | null): number {
  const m = t ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(t) : null;
  if (!m) return 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ? Math.floor(Number(m[7]) * 1000) : 0);
}


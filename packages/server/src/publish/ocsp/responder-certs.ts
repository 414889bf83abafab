/**
 * Delegated OCSP responder certificates (RFC 6960 §4.2.2.2): one per CA of an authority, root
 * included, profile `ocsp-signing` (id-kp-OCSPSigning, id-pkix-ocsp-nocheck), issued by that CA
 * with its own key. The CA key then signs once per roll instead of once per response, and the
 * root key stays out of the hot path. The responder's key is sealed with the deployment's
 * KeyCustody and kept in ocsp_responders; a new generation is issued when the live one has less
 * than `renewBeforeDays` left. Several processes sharing one database may roll at once: the
 * (issuer, generation) primary key lets one insert win, and the others read the winner's (with
 * an HSM custody the loser's key stays unused in the device).
 */
import { sql, type Kysely } from 'kysely';
import {
  Certificate,
  escapeDnValue,
  generateKey,
  issueFromProfile,
  nameAttributes,
  parseName,
  randomSerial,
  wholeSeconds,
  type KeyAlgorithm,
  type PrivateKey,
} from '@health-pki/pki';
import type { Database } from '../../store/database.js';
import type { SigningIssuer } from '../../ca/authority.js';
import type { KeyCustody } from '../../ca/key-custody.js';
import { isUniqueViolation } from '../../store/errors.js';
import { first } from '../../store/sql.js';
import type { OcspTables } from './tables.js';

const DAY_MS = 86_400_000;

/** A responder certificate with its opened key. */
export interface ResponderKey {
  issuerId: string;
  generation: number;
  cert: Certificate;
  key: PrivateKey;
  /** When a new generation is due (not_after minus the renewal margin), ms since the epoch. */
  renewAt: number;
}

/** Options of ResponderCertificates. */
export interface ResponderCertOptions {
  database: Database;
  custody: KeyCustody;
  clock: () => Date;
  /** Validity of a new responder certificate (default 90 days, the profile's default). */
  validityDays?: number;
  /** Roll when less than this is left (default 30 days). */
  renewBeforeDays?: number;
}

type Row = OcspTables['ocsp_responders'];

/** What a responder key's sealing is bound to (KeyCustody context): its row. */
function keyContext(row: Pick<Row, 'issuer_id' | 'generation'>): string {
  return `ocsp-key:${row.issuer_id}/${row.generation}`;
}

/** Keeps the delegated responder certificate of every CA current. */
export class ResponderCertificates {
  private readonly opts: Required<ResponderCertOptions>;
  private readonly live = new Map<string, ResponderKey>();
  private readonly pending = new Map<string, Promise<ResponderKey>>();

  constructor(opts: ResponderCertOptions) {
    this.opts = { ...opts, validityDays: opts.validityDays ?? 90, renewBeforeDays: opts.renewBeforeDays ?? 30 };
  }

  /** The responder key of a CA, issuing or rolling its certificate first when needed. */
  current(issuer: SigningIssuer, algorithm: KeyAlgorithm): ResponderKey | Promise<ResponderKey> {
    const hit = this.live.get(issuer.issuerId);
    if (hit && hit.renewAt > this.opts.clock().getTime()) return hit;
    let p = this.pending.get(issuer.issuerId);
    if (!p) {
      p = this.ensure(issuer, algorithm).finally(() => this.pending.delete(issuer.issuerId));
      this.pending.set(issuer.issuerId, p);
    }
    // A certificate due for renewal is still valid: answer with it while the next one is made.
    if (hit && hit.cert.notAfter.getTime() > this.opts.clock().getTime()) {
      p.catch(() => undefined);
      return hit;
    }
    return p;
  }

  /** Reads the newest generation, and issues the next one when there is none or it is due. */
  private async ensure(issuer: SigningIssuer, algorithm: KeyAlgorithm): Promise<ResponderKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const latest = await this.latest(issuer.issuerId);
      const now = this.opts.clock();
      if (latest && this.renewAt(latest) > now.getTime()) return this.remember(latest);
      const row = this.issue(issuer, algorithm, (latest?.generation ?? 0) + 1, now);
      try {
        await (this.opts.database.db as Kysely<OcspTables>).insertInto('ocsp_responders').values(row).execute();
        return this.remember(row);
      } catch (e) {
        // Another process rolled this CA at the same moment: use its certificate.
        if (!isUniqueViolation(e)) throw e;
      }
    }
    throw new Error(`could not settle the OCSP responder certificate of CA ${issuer.authority}/${issuer.label}`);
  }

  private async latest(issuerId: string): Promise<Row | undefined> {
    const row = await first<Row>(this.opts.database.db, sql`select * from ocsp_responders where issuer_id = ${issuerId} order by generation desc limit 1`);
    return row ? { ...row, generation: Number(row.generation), cert_der: Buffer.from(row.cert_der), key_sealed: Buffer.from(row.key_sealed) } : undefined;
  }

  private renewAt(row: Pick<Row, 'not_after'>): number {
    return Date.parse(row.not_after) - this.opts.renewBeforeDays * DAY_MS;
  }

  private remember(row: Row): ResponderKey {
    const have = this.live.get(row.issuer_id);
    if (have && have.generation === row.generation) return have;
    const cert = Certificate.parse(row.cert_der);
    const key = this.opts.custody.open(row.key_sealed, row.key_protection, keyContext(row));
    const live: ResponderKey = { issuerId: row.issuer_id, generation: row.generation, cert, key, renewAt: this.renewAt(row) };
    this.live.set(row.issuer_id, live);
    return live;
  }

  /** Signs a new responder certificate with the CA's key; never outlives the CA. */
  private issue(issuer: SigningIssuer, algorithm: KeyAlgorithm, generation: number, now: Date): Row {
    const notBefore = wholeSeconds(now);
    const left = Math.floor((issuer.cert.notAfter.getTime() - notBefore.getTime()) / DAY_MS);
    const validityDays = Math.max(1, Math.min(this.opts.validityDays, left));
    const custody = this.opts.custody;
    // A device custody makes the key inside the device; otherwise it is made here and sealed.
    const key = custody.generate ? custody.generate(algorithm, `hpki ocsp ${issuer.authority}/${issuer.label} #${generation}`) : generateKey(algorithm);
    const attr = (t: string) => nameAttributes(issuer.cert.subject, t)[0];
    const cn = `${issuer.authority} OCSP responder (${issuer.label})`.slice(0, 64);
    const subject = parseName(`C=${escapeDnValue(attr('C') ?? 'CN')},O=${escapeDnValue(attr('O') ?? issuer.authority)},CN=${escapeDnValue(cn)}`);
    const cert = issueFromProfile({ profile: 'ocsp-signing', subject, publicKey: key.publicKey, issuerCert: issuer.cert, issuerKey: issuer.key, validityDays, notBefore, serialNumber: randomSerial() });
    return {
      issuer_id: issuer.issuerId,
      generation,
      authority_id: issuer.authorityId,
      serial: cert.serialHex,
      cert_der: cert.der,
      key_sealed: custody.seal(key, keyContext({ issuer_id: issuer.issuerId, generation })),
      key_protection: custody.protection,
      not_before: cert.notBefore.toISOString(),
      not_after: cert.notAfter.toISOString(),
      created_at: now.toISOString(),
    };
  }
}

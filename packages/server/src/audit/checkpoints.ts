/**
 * Signed checkpoints of the audit chain. Every `every` entries, or every `intervalMs` when the
 * chain moved, and once more when the service stops, the deployment's audit signing key signs
 * (seq, hash) of the chain's head. A checkpoint fixes every entry up to its seq: rewriting the
 * chain before it, or cutting the log back below it, no longer matches a signature that only the
 * key can make.
 *
 * The audit key is generated at first start, sealed by the deployment's KeyCustody like the CA
 * keys, and certified by a self-signed certificate (audit-1, …) kept in audit_keys and written to
 * DATA_DIR/audit-signing.crt, so that an auditor can pin it (`hpki audit verify --trust-cert`):
 * it is deliberately independent of any CA, whose keys and hierarchy come and go, and of the
 * database, which is what it protects.
 *
 * Signed bytes (UTF-8 text, each line ending in "\n"):
 *   hpki-audit-checkpoint-v1 / seq=<n> / hash=<64 hex> / at=<ISO-8601> / key=<key id>
 * signed as a plain signature (SM2 with SM3 and the default user ID by default; ECDSA or RSA
 * with SHA-256 for such keys), so `openssl dgst -verify` can check one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { generateKey, parseName, selfSignedSigningCertificate, signData, Certificate, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';
import type { Database, Executor } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { isUniqueViolation } from '../store/errors.js';
import { all, first, run } from '../store/sql.js';
import type { KeyCustody } from '../ca/key-custody.js';

/** The file in the data directory that holds the audit signing certificate (PEM). */
export const AUDIT_CERT_FILE = 'audit-signing.crt';

/** One signed checkpoint. */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  /** Signature algorithm OID. */
  algorithm: string;
  signature: Buffer;
}

/** The bytes a checkpoint's signature covers (see the module comment). */
export function checkpointEncoding(c: Pick<Checkpoint, 'seq' | 'hash' | 'at' | 'keyId'>): Buffer {
  return Buffer.from(`hpki-audit-checkpoint-v1\nseq=${c.seq}\nhash=${c.hash}\nat=${c.at}\nkey=${c.keyId}\n`, 'utf8');
}

/** What a sealed audit key is bound to (custodies that encrypt refuse it in another row). */
function keyContext(id: string): string {
  return `audit-key:${id}`;
}

/** An audit key as stored. */
export interface AuditKeyRecord {
  id: string;
  certificate: Certificate;
}

/** Every audit signing key of the deployment (their certificates), oldest first. */
export async function auditKeys(ex: Executor): Promise<AuditKeyRecord[]> {
  const rows = await all<{ id: string; cert_der: Buffer }>(ex, sql`select id, cert_der from audit_keys order by created_at, id`);
  return rows.map((r) => ({ id: r.id, certificate: Certificate.parse(Buffer.from(r.cert_der)) }));
}

/** Every checkpoint, in seq order. */
export async function listCheckpoints(ex: Executor): Promise<Checkpoint[]> {
  const rows = await all<{ seq: number | string; hash: string; at: string; key_id: string; algorithm: string; signature: Buffer }>(ex, sql`select seq, hash, at, key_id, algorithm, signature from audit_checkpoints order by seq`);
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, at: r.at, keyId: r.key_id, algorithm: r.algorithm, signature: Buffer.from(r.signature) }));
}

/** What the checkpointer needs. */
export interface CheckpointOptions {
  database: Database;
  custody: KeyCustody;
  clock?: () => Date;
  /** Sign after this many new entries (default 1000). */
  every?: number;
  /** Sign at least this often while entries arrive, in milliseconds (default 5 minutes). */
  intervalMs?: number;
  /** How often the head is looked at, in milliseconds (default 5 s). */
  pollMs?: number;
  /** Algorithm of a new audit key (default SM2; P-256 in a custody that generates keys, i.e. an HSM). */
  algorithm?: KeyAlgorithm;
  /** Where to write audit-signing.crt (when given). */
  dataDir?: string;
}

/** Signs checkpoints of the audit chain for one service process. */
export class AuditCheckpointer {
  private key?: { id: string; certificate: Certificate; privateKey: PrivateKey };
  private timer?: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();
  private lastSignedAt = Date.now();
  private readonly clock: () => Date;
  private readonly every: number;
  private readonly intervalMs: number;
  private readonly pollMs: number;

  constructor(private readonly opts: CheckpointOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.every = opts.every ?? 1000;
    this.intervalMs = opts.intervalMs ?? 300_000;
    this.pollMs = opts.pollMs ?? 5000;
  }

  /** Loads the deployment's audit key, generating and sealing it on first start (safe from several processes). */
  async init(): Promise<AuditKeyRecord> {
    const db = this.opts.database.db;
    let row = await first<{ id: string; cert_der: Buffer; key_sealed: Buffer; key_protection: string }>(db, sql`select id, cert_der, key_sealed, key_protection from audit_keys order by created_at desc, id desc limit 1`);
    if (!row) {
      const fresh = this.generate('audit-1');
      try {
        await this.opts.database.transaction((tx) =>
          run(tx, sql`insert into audit_keys (id, created_at, cert_der, key_sealed, key_protection) values (${fresh.id}, ${fresh.createdAt}, ${fresh.certificate.der}, ${fresh.sealed}, ${this.opts.custody.protection})`),
        );
      } catch (e) {
        // Another process sharing the database generated it first: use theirs.
        if (!isUniqueViolation(e)) throw e;
      }
      row = await first(db, sql`select id, cert_der, key_sealed, key_protection from audit_keys order by created_at desc, id desc limit 1`);
      if (!row) throw new Error('the audit signing key could not be stored');
    }
    const certificate = Certificate.parse(Buffer.from(row.cert_der));
    this.key = { id: row.id, certificate, privateKey: this.opts.custody.open(Buffer.from(row.key_sealed), row.key_protection, keyContext(row.id)) };
    if (this.opts.dataDir) {
      const file = join(this.opts.dataDir, AUDIT_CERT_FILE);
      if (!existsSync(file)) writeFileSync(file, certificate.toPem(), { mode: 0o644 });
    }
    return { id: row.id, certificate };
  }

  private generate(id: string): { id: string; createdAt: string; certificate: Certificate; sealed: Buffer } {
    const custody = this.opts.custody;
    // An HSM generates the key inside the device; SoftHSM and most HSMs have no SM2, hence P-256 there.
    const key = custody.generate ? custody.generate(this.opts.algorithm ?? 'p256', `hpki-${id}`) : generateKey(this.opts.algorithm ?? 'sm2');
    // Checkpoints are checked for as long as the log is kept (≥ 5 years after the last certificate expires): 30 years.
    const certificate = selfSignedSigningCertificate(key, parseName(`C=CN,O=health-pki,CN=health-pki audit signing key ${id}`), { notBefore: this.clock(), days: 30 * 365 + 8, usages: ['digitalSignature', 'nonRepudiation'] });
    return { id, createdAt: nowIso(this.clock()), certificate, sealed: custody.seal(key, keyContext(id)) };
  }

  /** Signs the chain's head unless it is already signed; returns the new checkpoint, if any. */
  checkpoint(): Promise<Checkpoint | undefined> {
    // One signing at a time per process; processes sharing a database settle on the primary key.
    const next = this.running.then(() => this.signHead());
    this.running = next.catch(() => undefined);
    return next;
  }

  private async signHead(): Promise<Checkpoint | undefined> {
    const db = this.opts.database.db;
    const head = await first<{ seq: number | string; hash: string }>(db, sql`select seq, hash from audit_head where id = 1`);
    const last = await first<{ seq: number | string | null }>(db, sql`select max(seq) as seq from audit_checkpoints`);
    const seq = Number(head?.seq ?? 0);
    if (!head || seq === 0 || Number(last?.seq ?? 0) >= seq) return undefined;
    if (!this.key) await this.init();
    const key = this.key!;
    const at = nowIso(this.clock());
    const fields = { seq, hash: head.hash, at, keyId: key.id };
    const { algorithm, signature } = signData(key.privateKey, checkpointEncoding(fields));
    await this.opts.database.transaction((tx) =>
      run(tx, sql`insert into audit_checkpoints (seq, hash, at, key_id, algorithm, signature) values (${seq}, ${head.hash}, ${at}, ${key.id}, ${algorithm.algorithm}, ${signature}) on conflict (seq) do nothing`),
    );
    this.lastSignedAt = Date.now();
    return { ...fields, algorithm: algorithm.algorithm, signature };
  }

  /** Whether the head moved enough, or long enough ago, to be signed now. */
  private async due(): Promise<boolean> {
    const db = this.opts.database.db;
    const head = await first<{ seq: number | string }>(db, sql`select seq from audit_head where id = 1`);
    const last = await first<{ seq: number | string | null }>(db, sql`select max(seq) as seq from audit_checkpoints`);
    const moved = Number(head?.seq ?? 0) - Number(last?.seq ?? 0);
    return moved >= this.every || (moved > 0 && Date.now() - this.lastSignedAt >= this.intervalMs);
  }

  /** Starts signing periodically (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.due()
        .then((yes) => (yes ? this.checkpoint() : undefined))
        // A failed periodic checkpoint is retried at the next tick; stop() reports failures.
        .catch(() => undefined);
    }, this.pollMs);
    this.timer.unref();
  }

  /** Stops the timer and signs the head one last time (the shutdown checkpoint). */
  async stop(): Promise<Checkpoint | undefined> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.checkpoint();
  }
}

/**
 * A service's own signing identity: a key sealed by the deployment's custody and a self-signed
 * certificate that peers pin (the KMC's, and a CA service's KMC-access identity). Made at first
 * use and kept in a one-row table of the owning module; when two processes start at once, the
 * first insert wins and both use it.
 */
import { sql, type Kysely } from 'kysely';
import { Certificate, generateKey, parseName, selfSignedSigningCertificate, wholeSeconds, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';
import type { Database } from '../store/database.js';
import { columnTypes, nowIso } from '../store/columns.js';
import type { DialectName } from '../store/database.js';
import { isUniqueViolation } from '../store/errors.js';
import { first, run } from '../store/sql.js';
import { appendAudit } from '../audit/log.js';
import { SYSTEM_PRINCIPAL } from '../auth/principal.js';
import type { KeyCustody } from '../ca/key-custody.js';

/** A service's key and the certificate peers pin. */
export interface ServiceIdentity {
  cert: Certificate;
  key: PrivateKey;
}

/** Where and how an identity is kept and made. */
export interface ServiceIdentitySpec {
  /** The owning module's one-row table (made by `createIdentityTable`). */
  table: string;
  /** The custody context the key is sealed under. */
  context: string;
  /** The certificate's subject, e.g. "C=CN,O=health-pki,CN=…". */
  subject: string;
  algorithm: KeyAlgorithm;
  /** The audit action recorded when the identity is made, e.g. "kmc.identity.create". */
  auditAction: string;
  days?: number;
}

const ID = 'self';

/** Creates an identity table in a module's migration. */
export async function createIdentityTable(db: Kysely<any>, dialect: DialectName, table: string): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable(table)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cert_der', t.bytes, (c) => c.notNull())
    .addColumn('key_sealed', t.bytes, (c) => c.notNull())
    .addColumn('key_protection', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

/** Reads the identity, or makes, stores and audits it on first use. */
export async function loadOrCreateIdentity(database: Database, custody: KeyCustody, spec: ServiceIdentitySpec, clock: () => Date = () => new Date()): Promise<ServiceIdentity> {
  type Row = { cert_der: Buffer; key_sealed: Buffer; key_protection: string };
  const read = () => first<Row>(database.db, sql`select cert_der, key_sealed, key_protection from ${sql.table(spec.table)} where id = ${ID}`);
  let row = await read();
  if (!row) {
    const key = generateKey(spec.algorithm);
    const now = wholeSeconds(clock());
    const cert = selfSignedSigningCertificate(key, parseName(spec.subject), { notBefore: now, days: spec.days ?? 3650 });
    try {
      await database.transaction(async (tx) => {
        await run(tx, sql`insert into ${sql.table(spec.table)} (id, cert_der, key_sealed, key_protection, created_at) values (${ID}, ${cert.der}, ${custody.seal(key, spec.context)}, ${custody.protection}, ${nowIso(now)})`);
        await appendAudit(tx, { actor: SYSTEM_PRINCIPAL, action: spec.auditAction, target: spec.context, details: { subject: cert.subjectText, serial: cert.serialHex, algorithm: spec.algorithm, keyProtection: custody.protection } });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    row = await read();
  }
  return { cert: Certificate.parse(Buffer.from(row!.cert_der)), key: custody.open(Buffer.from(row!.key_sealed), row!.key_protection, spec.context) };
}

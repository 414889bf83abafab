/**
 * Each CA's platform-access identity: a key of the CA's algorithm, sealed by the deployment's
 * custody, and a `device-sign` certificate issued under the CA's own active issuing CA, so the
 * platform sees an ordinary certificate of the CA it admits. It signs the CA's sync batches and
 * its answers to the platform's certificate queries. Made at first use, in one transaction with
 * the CA's record of the certificate; when two processes race, the first insert wins.
 */
import { sql } from 'kysely';
import { Certificate, escapeDnValue, generateKey, nameToDer, parseName, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';
import type { Database } from '../store/database.js';
import { nowIso } from '../store/columns.js';
import { isUniqueViolation } from '../store/errors.js';
import { first, run } from '../store/sql.js';
import { appendAudit } from '../audit/log.js';
import { SYSTEM_PRINCIPAL } from '../auth/principal.js';
import type { KeyCustody } from '../ca/key-custody.js';
import type { CertificateAuthorities } from '../ca/authority.js';

/** A CA's platform-access key and certificate. */
export interface AccessIdentity {
  key: PrivateKey;
  certificate: Certificate;
}

/** The profile of platform-access certificates: a device signing certificate (digitalSignature, client authentication). */
export const ACCESS_PROFILE = 'device-sign';

const context = (ca: string) => `platformlink-key:${ca}`;

/** Reads or makes the platform-access identities of the CAs of one deployment. */
export class AccessIdentities {
  private readonly cache = new Map<string, Promise<AccessIdentity>>();

  constructor(
    private readonly database: Database,
    private readonly ca: CertificateAuthorities,
    private readonly custody: KeyCustody,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The identity of CA `name`, made at first call. */
  get(name: string): Promise<AccessIdentity> {
    let p = this.cache.get(name);
    if (!p) {
      p = this.loadOrCreate(name);
      p.catch(() => this.cache.delete(name));
      this.cache.set(name, p);
    }
    return p;
  }

  private async read(name: string): Promise<AccessIdentity | undefined> {
    const row = await first<{ cert_der: Buffer; key_sealed: Buffer; key_protection: string }>(this.database.db, sql`select cert_der, key_sealed, key_protection from platformlink_identities where ca = ${name}`);
    if (!row) return undefined;
    return { certificate: Certificate.parse(Buffer.from(row.cert_der)), key: this.custody.open(Buffer.from(row.key_sealed), row.key_protection, context(name)) };
  }

  private async loadOrCreate(name: string): Promise<AccessIdentity> {
    const had = await this.read(name);
    if (had) return had;
    const authority = await this.ca.getAuthority(name);
    const key = generateKey(authority.algorithm as KeyAlgorithm);
    const subject = parseName(`C=CN,O=${escapeDnValue(authority.organization.slice(0, 64))},CN=${escapeDnValue(`platform-access.${name}`)}`);
    try {
      await this.ca.issueWith(name, { profile: ACCESS_PROFILE, subjectDer: nameToDer(subject), spki: key.publicKey.spki }, (signed) =>
        this.database.transaction(async (tx) => {
          await this.ca.record(tx, signed, SYSTEM_PRINCIPAL);
          await run(
            tx,
            sql`insert into platformlink_identities (ca, serial, cert_der, key_sealed, key_protection, created_at)
                values (${name}, ${signed.certificate.serialHex}, ${signed.certificate.der}, ${this.custody.seal(key, context(name))}, ${this.custody.protection}, ${nowIso(this.clock())})`,
          );
          await appendAudit(tx, { actor: SYSTEM_PRINCIPAL, action: 'platform.access.create', target: `ca:${name}`, details: { certificate: signed.certificate.serialHex, keyProtection: this.custody.protection } });
        }),
      );
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    const made = await this.read(name);
    if (!made) throw new Error(`the platform-access identity of CA "${name}" was not stored`);
    return made;
  }
}

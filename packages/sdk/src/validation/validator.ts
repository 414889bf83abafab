/**
 * Is this certificate one the health sector stands behind? A path (pki PathValidator, RFC 5280)
 * to a CA on the platform's current trust list (connected CAs only), a key usage fit for the
 * purpose, then revocation of every certificate below the trust anchor: OCSP first, CRL when OCSP
 * gives no answer (revocation.ts). When neither can be reached the stated policy decides:
 * 'reject' (default) or 'accept-with-warning', which says so in the result.
 */
import { createHash } from 'node:crypto';
import { PathValidator, type Certificate, type KeyUsageName } from '@health-pki/pki';
import type { TrustStore } from '../trust/trust-store.js';
import { RevocationChecker, type RevocationAnswer } from './revocation.js';

/** What a certificate is used for; decides the key usage it must allow. */
export type CertificateUsage = 'signing' | 'login' | 'encryption';

/** What happens when neither OCSP nor a CRL gives an answer. */
export type UnreachablePolicy = 'reject' | 'accept-with-warning';

/** The verdict on one certificate. */
export interface ValidationResult {
  valid: boolean;
  /** Why not (or, with a warning policy, nothing: see `warnings`). */
  reason?: string;
  /** A short machine-readable cause: a pki ValidationCode, or untrusted, usage, revoked, revocationUnknown, noTrustList. */
  code?: string;
  /** The certificate, its issuers, and the trust-list certificate it chains to, last. */
  path?: Certificate[];
  /** The trust-list name of the CA that issued it. */
  ca?: string;
  revocation?: {
    source: 'ocsp' | 'crl' | 'none';
    status: 'good' | 'revoked' | 'unknown';
    revokedAt?: Date;
    reason?: string;
    /** OCSP responses and CRLs (DER) used, for every certificate of the path. */
    evidence?: Uint8Array[];
  };
  /** Things the caller accepted by policy (revocation unknown) or should know. */
  warnings?: string[];
  /** The trust list version the decision was made with. */
  trustListVersion?: number;
}

/** Options of a CertificateValidator. */
export interface CertificateValidatorOptions {
  trust: TrustStore;
  fetch?: typeof fetch;
  /** Default 'reject'. */
  whenUnreachable?: UnreachablePolicy;
  /** Timeout of each OCSP or CRL request (default 5 s). */
  timeoutMs?: number;
  /** Ask OCSP (default true) / fetch CRLs (default true). */
  ocsp?: boolean;
  crl?: boolean;
  /** Refuse OCSP answers without our nonce (default false). */
  requireOcspNonce?: boolean;
  /** Largest CRL downloaded, bytes (default 64 MiB). */
  maxCrlBytes?: number;
  /** SM2 user ID for SM2 signatures (default GM/T 0009's 1234567812345678). */
  sm2UserId?: Uint8Array;
  /** Longest reuse of a cached OCSP answer or CRL (default 5 minutes; 0: ask every time; see RevocationCheckerOptions). */
  maxCacheAgeMs?: number;
  clock?: () => Date;
}

/** Per-call options. */
export interface ValidateOptions {
  /** When the certificate must have been valid (default now), e.g. a signature's time-stamp. */
  at?: Date;
  usage?: CertificateUsage;
  /** Untrusted certificates that may help build the path (e.g. from a TLS handshake or a CMS). */
  chain?: Certificate[];
}

const USAGE_BITS: Record<CertificateUsage, KeyUsageName[]> = {
  signing: ['digitalSignature', 'nonRepudiation'],
  login: ['digitalSignature'],
  encryption: ['keyEncipherment', 'keyAgreement', 'dataEncipherment'],
};

interface Anchors {
  version: number;
  validator: PathValidator;
  /** SHA-256 of each trust-list certificate → its CA's name. */
  caOf: Map<string, string>;
}

/** Validates certificates against the trust list, with online revocation checking. */
export class CertificateValidator {
  private anchors?: Anchors;
  private readonly revocation: RevocationChecker;
  private readonly clock: () => Date;

  constructor(private readonly opts: CertificateValidatorOptions) {
    this.clock = opts.clock ?? (() => new Date());
    const sigOpts = opts.sm2UserId ? { sm2UserId: opts.sm2UserId } : undefined;
    this.revocation = new RevocationChecker({
      fetch: opts.fetch ?? fetch,
      timeoutMs: opts.timeoutMs,
      ocsp: opts.ocsp,
      crl: opts.crl,
      requireOcspNonce: opts.requireOcspNonce,
      maxCrlBytes: opts.maxCrlBytes,
      maxCacheAgeMs: opts.maxCacheAgeMs,
      sigOpts,
      clock: this.clock,
    });
  }

  /** Validates `cert` for `usage` at `at`. Never throws for a bad certificate: the result says why. */
  async validate(cert: Certificate, opts: ValidateOptions = {}): Promise<ValidationResult> {
    if (this.opts.trust.version === undefined) return { valid: false, code: 'noTrustList', reason: 'no verified trust list is loaded: no CA can be trusted yet' };
    const anchors = this.currentAnchors();
    if (!anchors) return { valid: false, code: 'untrusted', reason: `the trust list (version ${this.opts.trust.version}) names no connected CA`, trustListVersion: this.opts.trust.version };
    const at = opts.at ?? this.clock();
    const trustListVersion = anchors.version;
    const path = anchors.validator.validate(cert, { time: at, checkRevocation: false, intermediates: opts.chain });
    if (!path.valid) {
      const untrusted = path.reason.code === 'noPath';
      return {
        valid: false,
        code: untrusted ? 'untrusted' : path.reason.code,
        reason: untrusted ? `the certificate is not issued by a CA on the platform's trust list (version ${anchors.version}): ${path.reason.message}` : path.reason.message,
        path: path.path,
        trustListVersion,
      };
    }
    const ca = anchors.caOf.get(sha256(path.path[path.path.length - 1]!.der));
    const base = { path: path.path, ca, trustListVersion };
    if (path.path.length < 2 || cert.isCa) return { ...base, valid: false, code: 'usage', reason: 'a CA certificate is not a holder\'s certificate' };
    const usage = opts.usage;
    if (usage) {
      const ku = cert.keyUsage;
      if (ku && !USAGE_BITS[usage].some((b) => ku.includes(b))) {
        return { ...base, valid: false, code: 'usage', reason: `the certificate's key usage (${ku.join(', ')}) does not allow ${usage} (needs one of ${USAGE_BITS[usage].join(', ')})` };
      }
    }

    // Revocation of every certificate below the trust-list certificate, leaf first.
    const evidence: Uint8Array[] = [];
    const warnings: string[] = [];
    let leaf: RevocationAnswer | undefined;
    for (let i = 0; i < path.path.length - 1; i++) {
      const subject = path.path[i]!;
      const outcome = await this.revocation.check(subject, path.path[i + 1]!);
      const who = i === 0 ? 'the certificate' : `CA certificate "${subject.subjectText}"`;
      if (!outcome.answer) {
        const why = `the revocation status of ${who} cannot be determined: ${outcome.problems.join('; ')}`;
        if ((this.opts.whenUnreachable ?? 'reject') === 'reject') {
          return { ...base, valid: false, code: 'revocationUnknown', reason: why, revocation: { source: 'none', status: 'unknown', evidence } };
        }
        warnings.push(`${why} — accepted by policy (accept-with-warning)`);
        continue;
      }
      evidence.push(...outcome.answer.evidence);
      if (i === 0) leaf = outcome.answer;
      const a = outcome.answer;
      if (a.status === 'revoked') {
        // Revoked after the time asked about (e.g. a signature time-stamped earlier): it was valid then.
        if (a.revokedAt && a.revokedAt > at) {
          warnings.push(`${who} was revoked at ${a.revokedAt.toISOString()} (${a.reason}), after ${at.toISOString()}`);
          continue;
        }
        return {
          ...base,
          valid: false,
          code: 'revoked',
          reason: `${who} is revoked (${a.reason ?? 'unspecified'}) since ${a.revokedAt?.toISOString() ?? 'an unknown time'}, according to ${a.source === 'ocsp' ? 'OCSP' : 'the CRL'}`,
          revocation: { source: a.source, status: 'revoked', revokedAt: a.revokedAt, reason: a.reason, evidence },
        };
      }
    }
    const revocation: NonNullable<ValidationResult['revocation']> = leaf
      ? { source: leaf.source, status: leaf.status, revokedAt: leaf.revokedAt, reason: leaf.reason, evidence }
      : { source: 'none', status: 'unknown', evidence };
    return { ...base, valid: true, revocation, ...(warnings.length ? { warnings } : {}) };
  }

  /** Drops cached OCSP responses and CRLs. */
  clearCache(): void {
    this.revocation.clear();
  }

  /** The path validator over the current trust list, rebuilt when its version changes. */
  private currentAnchors(): Anchors | undefined {
    const version = this.opts.trust.version;
    if (version === undefined) return undefined;
    if (this.anchors?.version === version) return this.anchors;
    const listed = this.opts.trust.certificates();
    const caOf = new Map(listed.map((c) => [sha256(c.certificate.der), c.ca]));
    // A CA's self-signed root is its anchor; its issuing CAs are intermediates (so their revocation
    // is checked). A CA that listed no root is anchored at the certificates it did list.
    const byCa = new Map<string, Certificate[]>();
    for (const c of listed) byCa.set(c.ca, [...(byCa.get(c.ca) ?? []), c.certificate]);
    const anchorCerts: Certificate[] = [];
    const intermediates: Certificate[] = [];
    for (const certs of byCa.values()) {
      const roots = certs.filter((c) => c.isSelfIssued && c.isCa);
      if (roots.length) {
        anchorCerts.push(...roots);
        intermediates.push(...certs.filter((c) => !roots.includes(c)));
      } else anchorCerts.push(...certs);
    }
    if (!anchorCerts.length) return undefined;
    this.anchors = { version, validator: new PathValidator({ anchors: anchorCerts, intermediates, sm2UserId: this.opts.sm2UserId }), caOf };
    return this.anchors;
  }
}

function sha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

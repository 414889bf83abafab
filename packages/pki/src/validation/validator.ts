/**
 * The public face of path validation: a reusable PathValidator that holds trust anchors, a bag of
 * untrusted certificates and CRLs, builds a path for a certificate (build-path.ts), validates it
 * (validate-path.ts, revocation.ts) and explains any rejection (result.ts).
 *
 * Caching is explicit and bounded: a PathValidator remembers prepared (decoded) certificates and
 * CRLs, imported public keys, and signature results keyed by (issuer key hash, signed object
 * hash). Results that depend on the validation time or policy inputs are never cached.
 */
import { PkiError } from '../errors.js';
import type { Certificate } from '../x509/certificate.js';
import type { Crl } from '../x509/crl.js';
import type { OcspResponse } from '../ocsp/response.js';
import type { SignatureOptions } from '../crypto/signature.js';
import { buildPath, WorkBudget, type BuildOutcome } from './build-path.js';
import { prepareCrl, type PreparedCrl } from './crl-prepared.js';
import { nameText, namesEqual, normalizeName } from './names.js';
import { ANY_POLICY, KU, prepareCertificate, sha256Hex, type PreparedCert } from './prepared.js';
import type { InvalidPath, PolicyInputs, ValidationFailure, ValidationResult } from './result.js';
import type { IssuerContext, RevocationInputs } from './revocation.js';
import { BoundedCache, SignatureChecker, workingKeyOf, type WorkingKey } from './signatures.js';
import { validatePath, type PathFailure, type PathSuccess, type PreparedAnchor } from './validate-path.js';

/** What a PathValidator trusts and may use. */
export interface PathValidatorOptions {
  /** Trust anchors (their name and key are trusted; their own validity and extensions are not checked). */
  anchors: Certificate[];
  /** Untrusted certificates that may serve as intermediates or CRL signers; order does not matter. */
  intermediates?: Certificate[];
  /** CRLs to check revocation with (complete and delta CRLs). */
  crls?: Crl[];
  /** OCSP responses to check revocation with; consulted before the CRLs. */
  ocspResponses?: OcspResponse[];
  /** Upper bound on each cache (signature results, prepared certificates); 0 disables caching. Default 10,000. */
  cacheSize?: number;
  /** SM2 user ID for SM2 signatures; default "1234567812345678" (GM/T 0009). */
  sm2UserId?: Uint8Array;
}

/** Per-call validation inputs. */
export interface ValidateOptions extends PolicyInputs {
  /** Validation time; default now. */
  time?: Date;
  /** Check revocation with the OCSP responses and CRLs; default true when the validator or the call has any. */
  checkRevocation?: boolean;
  /** Extra untrusted certificates for this call only. */
  intermediates?: Certificate[];
  /** Extra CRLs for this call only. */
  crls?: Crl[];
  /** Extra OCSP responses for this call only. */
  ocspResponses?: OcspResponse[];
  /** Most certificates a path may have below its trust anchor, the target included. Default 32. */
  maxDepth?: number;
  /** Work units the search may spend (one per candidate issuer, more per validated path). Default 20,000. */
  workBudget?: number;
}

const DEFAULT_CACHE = 10_000;
const DEFAULT_DEPTH = 32;
const DEFAULT_BUDGET = 20_000;
/** How deep CRL-signer paths may nest (a CRL signer whose own CRL has another signer, …). */
const MAX_CRL_SIGNER_DEPTH = 4;

/** State of one validate() call, shared by the nested CRL-signer searches it starts. */
interface CallContext {
  time: Date;
  budget: WorkBudget;
  maxDepth: number;
  pool: Pool;
  poolSize: number;
  crls?: PreparedCrl[];
  ocsp: readonly OcspResponse[];
  /** CRLs whose signer an outer search is validating right now, with the key being tried. */
  activeCrls: Map<string, WorkingKey>;
  signerResults: Map<string, { key: WorkingKey } | { error: string }>;
}

/** Validates certificates against fixed anchors, intermediates and CRLs, reusing decoded state. */
export class PathValidator {
  private readonly anchors: PreparedAnchor[];
  private readonly anchorsByName = new Map<string, PreparedAnchor[]>();
  /** (subject, key) of every anchor: a copy of an anchor in the untrusted bag is never an intermediate. */
  private readonly anchorIdentities = new Set<string>();
  private readonly pool: Pool = new Map();
  private readonly poolSize: number;
  private readonly crls: PreparedCrl[];
  private readonly ocsp: readonly OcspResponse[];
  private readonly sigOpts: SignatureOptions;
  private readonly signatures: SignatureChecker;
  private readonly preparedByObject = new WeakMap<Certificate, PreparedCert>();
  private readonly preparedByDer: BoundedCache<string, PreparedCert>;
  private readonly preparedCrls = new WeakMap<Crl, PreparedCrl>();

  constructor(opts: PathValidatorOptions) {
    const cacheSize = opts.cacheSize ?? DEFAULT_CACHE;
    this.signatures = new SignatureChecker(cacheSize, opts.sm2UserId);
    this.preparedByDer = new BoundedCache(cacheSize);
    if (!opts.anchors.length) throw new PkiError('validation.anchors', 'at least one trust anchor is needed');
    this.anchors = opts.anchors.map((c) => {
      const prepared = this.prepare(c);
      const anchor: PreparedAnchor = { prepared, name: prepared.subject, key: workingKeyOf(prepared) };
      this.anchorIdentities.add(`${prepared.subject.key}#${prepared.spkiHash}`);
      const list = this.anchorsByName.get(prepared.subject.key);
      if (list) list.push(anchor);
      else this.anchorsByName.set(prepared.subject.key, [anchor]);
      return anchor;
    });
    this.poolSize = addToPool(this.pool, opts.intermediates ?? []);
    this.crls = (opts.crls ?? []).map((c) => this.prepareCrl(c));
    this.ocsp = opts.ocspResponses ?? [];
    this.sigOpts = opts.sm2UserId ? { sm2UserId: opts.sm2UserId } : {};
  }

  /** Number of remembered signature verification results (for diagnostics and benchmarks). */
  get cachedSignatureResults(): number {
    return this.signatures.cachedResults;
  }

  /** Finds and validates a certification path for `target`. Never throws for bad certificates; returns the reason. */
  validate(target: Certificate, opts: ValidateOptions = {}): ValidationResult {
    let leaf: PreparedCert;
    try {
      leaf = this.prepare(target);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return { valid: false, reason: { code: 'malformedCertificate', message: `the certificate cannot be decoded: ${message}`, certIndex: 0 } };
    }
    const policy: Required<PolicyInputs> = {
      initialPolicySet: opts.initialPolicySet?.length ? [...opts.initialPolicySet] : [ANY_POLICY],
      explicitPolicy: opts.explicitPolicy ?? false,
      inhibitPolicyMapping: opts.inhibitPolicyMapping ?? false,
      inhibitAnyPolicy: opts.inhibitAnyPolicy ?? false,
    };
    const time = opts.time ?? new Date();
    const extraCrls = (opts.crls ?? []).map((c) => this.prepareCrl(c));
    const crls = extraCrls.length ? [...this.crls, ...extraCrls] : this.crls;
    const ocsp = opts.ocspResponses?.length ? [...this.ocsp, ...opts.ocspResponses] : this.ocsp;
    const checkRevocation = opts.checkRevocation ?? (crls.length > 0 || ocsp.length > 0);
    let pool = this.pool;
    let poolSize = this.poolSize;
    if (opts.intermediates?.length) {
      pool = new Map([...this.pool].map(([k, v]) => [k, [...v]]));
      poolSize += addToPool(pool, opts.intermediates);
    }
    const ctx: CallContext = {
      time,
      budget: new WorkBudget(opts.workBudget ?? DEFAULT_BUDGET),
      maxDepth: Math.max(1, opts.maxDepth ?? DEFAULT_DEPTH),
      pool,
      poolSize,
      crls: checkRevocation ? crls : undefined,
      ocsp,
      activeCrls: new Map(),
      signerResults: new Map(),
    };
    const warnings = checkRevocation ? [] : ['revocation was not checked (no CRLs or OCSP responses given)'];

    const selfAnchor = this.anchors.find((a) => a.prepared.fingerprint === leaf.fingerprint);
    if (selfAnchor) {
      return { valid: true, path: [target], userConstrainedPolicySet: policy.initialPolicySet, explicitPolicy: false, warnings: [...warnings, 'the certificate is itself a trust anchor'] };
    }
    const outcome = this.search(leaf, ctx, policy, 0);
    if (outcome.found) {
      return {
        valid: true,
        path: [...outcome.chain.map((p) => p.cert), outcome.anchor.prepared.cert],
        userConstrainedPolicySet: outcome.result.userConstrainedPolicySet,
        explicitPolicy: outcome.result.explicitPolicy,
        warnings,
      };
    }
    return this.explainFailure(outcome, leaf, ctx);
  }

  /** Runs the path builder for `target`; nested calls (CRL signers) restrict the anchors to `onlyAnchor`. */
  private search(target: PreparedCert, ctx: CallContext, policy: Required<PolicyInputs>, depth: number, onlyAnchor?: PreparedAnchor): BuildOutcome<PathSuccess> {
    return buildPath<PathSuccess>(
      target,
      {
        anchorsFor: (cert) => {
          const list = (this.anchorsByName.get(cert.issuer.key) ?? []).filter((a) => !onlyAnchor || a === onlyAnchor);
          return rankIssuers(cert, list, (a) => a.prepared, ctx.time);
        },
        issuersFor: (cert) => {
          const list = this.fromPool(ctx, cert.issuer.key).filter((p) => !this.anchorIdentities.has(`${p.subject.key}#${p.spkiHash}`));
          return rankIssuers(cert, list, (p) => p, ctx.time);
        },
        validate: (chain, anchor) =>
          validatePath(chain, anchor, {
            time: ctx.time,
            policy,
            signatures: this.signatures,
            revocation: ctx.crls ? this.revocationInputs(ctx, anchor, depth) : undefined,
          }),
        isSuccess: (r): r is PathSuccess => !('code' in r),
      },
      ctx.maxDepth,
      ctx.budget,
    );
  }

  private revocationInputs(ctx: CallContext, anchor: PreparedAnchor, depth: number): RevocationInputs {
    return {
      time: ctx.time,
      crls: ctx.crls!,
      ocsp: ctx.ocsp,
      ocspSigOpts: this.sigOpts,
      signatures: this.signatures,
      resolveSigner: (crl, issuer) => {
        const cacheKey = `${crl.fingerprint}|${issuer.key.hash}|${anchor.prepared.fingerprint}|${depth}`;
        const hit = ctx.signerResults.get(cacheKey);
        if (hit) return hit;
        const r = this.resolveCrlSigner(crl, issuer, ctx, anchor, depth);
        ctx.signerResults.set(cacheKey, r);
        return r;
      },
    };
  }

  /**
   * RFC 5280 §6.3.3 (f)-(g): the key that signed the CRL must belong to a certificate with a valid
   * path to the same trust anchor (and cRLSign in its keyUsage). The certificate's own issuer,
   * already validated as part of the path, is tried first; then other certificates bearing the
   * CRL issuer's name (separate CRL-signing keys, indirect CRL issuers), each with its own path.
   */
  private resolveCrlSigner(crl: PreparedCrl, issuer: IssuerContext, ctx: CallContext, anchor: PreparedAnchor, depth: number): { key: WorkingKey } | { error: string } {
    const notes: string[] = [];
    if (namesEqual(crl.issuer, issuer.name) && this.signatures.verifyCrl(crl.crl, crl.fingerprint, issuer.key).ok) {
      if (!issuer.cert || issuer.cert.keyUsage === undefined || (issuer.cert.keyUsage & KU.cRLSign)) return { key: issuer.key };
      notes.push(`the issuing certificate signed the CRL but its keyUsage lacks cRLSign`);
    }
    const active = ctx.activeCrls.get(crl.fingerprint);
    if (active && this.signatures.verifyCrl(crl.crl, crl.fingerprint, active).ok) return { key: active };
    if (depth >= MAX_CRL_SIGNER_DEPTH) return { error: 'CRL signer paths nest too deeply' };

    const anchorCandidates = (this.anchorsByName.get(crl.issuer.key) ?? []).filter((a) => a === anchor).map((a) => a.prepared);
    const candidates = [...anchorCandidates, ...this.fromPool(ctx, crl.issuer.key)];
    const byAki = (p: PreparedCert) => (crl.authorityKeyId && p.subjectKeyId === crl.authorityKeyId ? 0 : 1);
    candidates.sort((a, b) => byAki(a) - byAki(b));
    for (const cand of candidates) {
      if (!ctx.budget.spend()) return { error: 'work budget exhausted while looking for the CRL signer' };
      if (cand.keyUsage !== undefined && !(cand.keyUsage & KU.cRLSign)) continue;
      const key = workingKeyOf(cand);
      if (!this.signatures.verifyCrl(crl.crl, crl.fingerprint, key).ok) continue;
      if (cand === anchor.prepared) return { key };
      ctx.activeCrls.set(crl.fingerprint, key);
      let outcome: BuildOutcome<PathSuccess>;
      try {
        outcome = this.search(cand, ctx, { initialPolicySet: [ANY_POLICY], explicitPolicy: false, inhibitPolicyMapping: false, inhibitAnyPolicy: false }, depth + 1, anchor);
      } finally {
        ctx.activeCrls.delete(crl.fingerprint);
      }
      if (outcome.found) return { key };
      const why = outcome.failures[0]?.failure.message ?? (outcome.budgetExhausted ? 'work budget exhausted' : 'no path to the trust anchor');
      notes.push(`CRL signer "${nameText(cand.subject)}" is not valid: ${why}`);
    }
    if (notes.length === 0) notes.push('no certificate whose key verifies the CRL signature is available');
    return { error: notes.join('; ') };
  }

  private explainFailure(outcome: Extract<BuildOutcome<PathSuccess>, { found: false }>, leaf: PreparedCert, ctx: CallContext): InvalidPath {
    const toPath = (f: (typeof outcome.failures)[number]) => [...f.chain.map((p) => p.cert), f.anchor.prepared.cert];
    const toReason = (f: (typeof outcome.failures)[number]): ValidationFailure => failureOf(f.failure, [...f.chain, f.anchor.prepared]);
    if (outcome.budgetExhausted) {
      return {
        valid: false,
        reason: {
          code: 'workBudgetExceeded',
          message: `path building gave up after spending its work budget (${ctx.budget.limit} units); the untrusted certificates offer too many candidate paths`,
          details: { workBudget: ctx.budget.limit, pathsTried: outcome.failures.length, firstFailure: outcome.failures[0] ? toReason(outcome.failures[0]) : undefined },
        },
      };
    }
    if (outcome.failures.length) {
      // A signature failure often only means "wrong candidate issuer", so another reason, if any, is more telling.
      const main = outcome.failures.find((f) => f.failure.code !== 'badSignature') ?? outcome.failures[0]!;
      const others = outcome.failures.filter((f) => f !== main).slice(0, 4);
      return {
        valid: false,
        reason: toReason(main),
        path: toPath(main),
        otherFailures: others.length ? others.map((f) => ({ reason: toReason(f), path: toPath(f) })) : undefined,
      };
    }
    if (outcome.depthLimitHit) {
      return {
        valid: false,
        reason: { code: 'depthLimit', message: `every candidate path is longer than the depth limit of ${ctx.maxDepth} certificates`, details: { maxDepth: ctx.maxDepth } },
      };
    }
    const stuck = outcome.deadEnd ?? leaf;
    return {
      valid: false,
      reason: {
        code: 'noPath',
        message: `no path to a trust anchor: no certificate for the issuer "${nameText(stuck.issuer)}" of "${nameText(stuck.subject)}" among ${ctx.poolSize} untrusted certificates and ${this.anchors.length} trust anchors`,
        details: { missingIssuer: nameText(stuck.issuer), untrusted: ctx.poolSize, anchors: this.anchors.length },
      },
    };
  }

  private prepare(cert: Certificate): PreparedCert {
    const hit = this.preparedByObject.get(cert);
    if (hit) return hit;
    const byDer = this.preparedByDer.get(cert.der.toString('base64'));
    const p = byDer ?? prepareCertificate(cert);
    this.preparedByObject.set(cert, p);
    if (!byDer) this.preparedByDer.set(cert.der.toString('base64'), p);
    return p;
  }

  /** The untrusted certificates with this subject, prepared on first use. */
  private fromPool(ctx: CallContext, subjectKey: string): PreparedCert[] {
    const out: PreparedCert[] = [];
    for (const c of ctx.pool.get(subjectKey) ?? []) {
      const p = this.tryPrepare(c.cert);
      if (p) out.push(p);
    }
    return out;
  }

  private tryPrepare(cert: Certificate): PreparedCert | undefined {
    try {
      return this.prepare(cert);
    } catch {
      return undefined; // an undecodable untrusted certificate can never be part of a path
    }
  }

  private prepareCrl(crl: Crl): PreparedCrl {
    let p = this.preparedCrls.get(crl);
    if (!p) {
      p = prepareCrl(crl);
      this.preparedCrls.set(crl, p);
    }
    return p;
  }
}

/**
 * Untrusted certificates by normalized subject name. Only the subject is decoded up front; the
 * rest of a certificate is prepared when it first becomes a candidate, so a bag of thousands of
 * unrelated certificates costs little.
 */
type Pool = Map<string, Array<{ cert: Certificate; fingerprint: string }>>;

/** Adds certificates to the pool, skipping duplicates and undecodable subjects; returns how many were added. */
function addToPool(pool: Pool, certs: Certificate[]): number {
  let added = 0;
  for (const cert of certs) {
    let subjectKey: string;
    try {
      subjectKey = normalizeName(cert.subjectDer).key;
    } catch {
      continue; // an undecodable untrusted certificate can never be part of a path
    }
    const fingerprint = sha256Hex(cert.der);
    const list = pool.get(subjectKey);
    if (list?.some((q) => q.fingerprint === fingerprint)) continue;
    if (list) list.push({ cert, fingerprint });
    else pool.set(subjectKey, [{ cert, fingerprint }]);
    added++;
  }
  return added;
}

/** Orders candidate issuers: key identifier match, then valid at the time, then CA, then newest. */
function rankIssuers<T>(cert: PreparedCert, list: T[], prep: (t: T) => PreparedCert, time: Date): T[] {
  if (list.length < 2) return list;
  const score = (t: T): number => {
    const p = prep(t);
    let s = 0;
    if (cert.authorityKeyId && p.subjectKeyId) s += p.subjectKeyId === cert.authorityKeyId ? 0 : 8;
    else s += 4;
    if (time < p.notBefore || time > p.notAfter) s += 2;
    if (p.basicConstraints?.ca !== true) s += 1;
    return s;
  };
  return [...list].sort((a, b) => score(a) - score(b) || prep(b).notBefore.getTime() - prep(a).notBefore.getTime());
}

/** Converts a path failure into the public form with the certificate's subject. */
function failureOf(f: PathFailure, chainWithAnchor: PreparedCert[]): ValidationFailure {
  const p = chainWithAnchor[f.index];
  return { code: f.code, message: f.message, certIndex: f.index, subject: p ? nameText(p.subject) : undefined, details: f.details };
}

/** One-shot validation: builds a PathValidator for these inputs and validates `target`. */
export function validateCertificate(target: Certificate, opts: PathValidatorOptions & ValidateOptions): ValidationResult {
  return new PathValidator(opts).validate(target, { ...opts, intermediates: undefined, crls: undefined, ocspResponses: undefined });
}

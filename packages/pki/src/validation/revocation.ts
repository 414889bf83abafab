/**
 * CRL revocation checking of RFC 5280 §6.3.3 with the CRLs the caller supplies: distribution
 * points and their cRLIssuer, issuing distribution point scope (names, user/CA/attribute-only,
 * onlySomeReasons, indirect CRLs), reason masks across several CRLs, delta CRLs (§5.2.4), and
 * nextUpdate. Trusting the CRL signer (§6.3.3 (f)) is delegated to a resolver supplied by the
 * validator, which may build and validate a separate path for it.
 */
import type { RevocationReason } from '../x509/crl.js';
import type { GeneralNameValue } from './der-read.js';
import { ALL_REASONS, findEntry, type PreparedCrl } from './crl-prepared.js';
import { appendRdn, nameText, namesEqual, normalizeName, type NormalizedName } from './names.js';
import type { DistributionPoint, PreparedCert } from './prepared.js';
import type { SignatureChecker, WorkingKey } from './signatures.js';
import type { SignatureOptions } from '../crypto/signature.js';
import type { OcspResponse } from '../ocsp/response.js';
import { ocspStatus } from './ocsp-status.js';

/** The issuer of the certificate being checked, as known from the path. */
export interface IssuerContext {
  name: NormalizedName;
  key: WorkingKey;
  /** The issuing certificate; undefined when the issuer is the trust anchor given as a bare key. */
  cert?: PreparedCert;
  /** The issuer is the trust anchor. */
  isAnchor: boolean;
}

/** Finds the key trusted to have signed a CRL (RFC 5280 §6.3.3 (f)-(g)), or says why there is none. */
export type CrlSignerResolver = (crl: PreparedCrl, issuer: IssuerContext) => { key: WorkingKey } | { error: string };

/** The revocation status of one certificate. */
export type RevocationStatus =
  | { status: 'good' }
  | {
      status: 'revoked';
      reason: RevocationReason;
      revocationDate: Date;
      invalidityDate?: Date;
      crlIssuer: string;
      crlNumber?: string;
      fromDeltaCrl: boolean;
    }
  | { status: 'unknown'; problems: string[] };

interface Found {
  reason: RevocationReason;
  revocationDate: Date;
  invalidityDate?: Date;
  crl: PreparedCrl;
  fromDelta: boolean;
}

/** Inputs shared by every check in one validation. */
export interface RevocationInputs {
  time: Date;
  crls: PreparedCrl[];
  /** OCSP responses, consulted before the CRLs (ocsp-status.ts). */
  ocsp?: readonly OcspResponse[];
  /** Signature options for OCSP responses (the SM2 user ID). */
  ocspSigOpts?: SignatureOptions;
  resolveSigner: CrlSignerResolver;
  signatures: SignatureChecker;
}

/** Determines a certificate's status from the supplied OCSP responses, then CRLs (RFC 5280 §6.3.3). */
export function checkRevocation(cert: PreparedCert, issuer: IssuerContext, inputs: RevocationInputs): RevocationStatus {
  // OCSP first: a current, authorised good or revoked answer decides; otherwise the CRLs do.
  const viaOcsp = inputs.ocsp?.length && issuer.cert ? ocspStatus(cert, issuer.cert, inputs.ocsp, inputs.time, inputs.ocspSigOpts) : undefined;
  if (viaOcsp?.status === 'good') return { status: 'good' };
  if (viaOcsp?.status === 'revoked') return { status: 'revoked', reason: viaOcsp.reason, revocationDate: viaOcsp.revocationDate, crlIssuer: `OCSP: ${viaOcsp.responder}`, fromDeltaCrl: false };
  const fromCrls = checkCrls(cert, issuer, inputs);
  if (fromCrls.status === 'unknown' && viaOcsp?.problems.length) return { status: 'unknown', problems: [...viaOcsp.problems, ...fromCrls.problems] };
  return fromCrls;
}

/** Determines a certificate's status from the supplied CRLs alone. */
function checkCrls(cert: PreparedCert, issuer: IssuerContext, inputs: RevocationInputs): RevocationStatus {
  // Without cRLDistributionPoints the CRL issuer is the certificate issuer, for all reasons.
  const points: DistributionPoint[] = cert.crlDistributionPoints ?? [{ cRLIssuer: [{ kind: 'directory', bytes: cert.issuer.der, nameDer: cert.issuer.der }] }];
  const virtualPoint = cert.crlDistributionPoints === undefined;
  let reasonsMask = 0;
  let found: Found | undefined;
  const problems: string[] = [];
  for (const dp of points) {
    if (reasonsMask === ALL_REASONS || found) break;
    for (const crl of inputs.crls) {
      if (reasonsMask === ALL_REASONS || found) break;
      if (crl.isDelta) continue;
      const why = unusable(crl, cert, dp, virtualPoint, inputs.time);
      if (why) {
        if (why !== SKIP) problems.push(why);
        continue;
      }
      const interim = (crl.idp?.onlySomeReasons ?? ALL_REASONS) & (dp.reasons ?? ALL_REASONS) & ALL_REASONS;
      if ((interim & ~reasonsMask) === 0) continue; // (d): adds no reason not already covered
      const signer = inputs.resolveSigner(crl, issuer);
      if ('error' in signer) {
        problems.push(`CRL from ${nameText(crl.issuer)}: ${signer.error}`);
        continue;
      }
      const delta = pickDelta(crl, signer.key, inputs);
      if (isStale(crl, inputs.time) && !delta) {
        problems.push(`CRL from ${nameText(crl.issuer)} is out of date (nextUpdate ${crl.nextUpdate?.toISOString()}) and no current delta CRL applies`);
        continue;
      }
      // (i)-(k): the delta CRL speaks first; removeFromCRL there undoes a hold on the complete CRL.
      let status: { reason: RevocationReason; entry: { revocationDate: Date; invalidityDate?: Date }; crl: PreparedCrl; fromDelta: boolean } | undefined;
      if (delta) {
        const e = findEntry(delta, cert.cert.serialNumber, cert.issuer);
        if (e) status = { reason: e.reason ?? 'unspecified', entry: e, crl: delta, fromDelta: true };
      }
      if (!status) {
        const e = findEntry(crl, cert.cert.serialNumber, cert.issuer);
        if (e) status = { reason: e.reason ?? 'unspecified', entry: e, crl, fromDelta: false };
      }
      if (status && status.reason !== 'removeFromCRL') {
        found = { reason: status.reason, revocationDate: status.entry.revocationDate, invalidityDate: status.entry.invalidityDate, crl: status.crl, fromDelta: status.fromDelta };
      }
      reasonsMask |= interim;
    }
  }
  if (found) {
    return {
      status: 'revoked',
      reason: found.reason,
      revocationDate: found.revocationDate,
      invalidityDate: found.invalidityDate,
      crlIssuer: nameText(found.crl.issuer),
      crlNumber: found.crl.crlNumber?.toString(),
      fromDeltaCrl: found.fromDelta,
    };
  }
  if (reasonsMask === ALL_REASONS) return { status: 'good' };
  if (reasonsMask !== 0) problems.push(`the usable CRLs cover only some revocation reasons (${describeReasons(reasonsMask)})`);
  if (problems.length === 0) problems.push(`no CRL from ${dpIssuerText(points, cert)}${inputs.ocsp?.length ? ' and no OCSP response for it' : ''} was supplied`);
  return { status: 'unknown', problems: [...new Set(problems)] };
}

// Marker for CRLs that are simply about other certificates (wrong issuer): not worth reporting.
const SKIP = '\u0000skip';

/** Why a complete CRL cannot decide this certificate's status for this distribution point (§6.3.3 (b)). */
function unusable(crl: PreparedCrl, cert: PreparedCert, dp: DistributionPoint, virtualPoint: boolean, time: Date): string | undefined {
  // (b)(1): who must have issued the CRL.
  if (dp.cRLIssuer && !virtualPoint) {
    if (!dp.cRLIssuer.some((g) => g.kind === 'directory' && namesEqual(normalizeName(g.nameDer!), crl.issuer))) return SKIP;
    if (!crl.idp?.indirectCRL) return `CRL from ${nameText(crl.issuer)} is named as cRLIssuer but is not marked as an indirect CRL`;
  } else {
    if (!namesEqual(crl.issuer, cert.issuer)) {
      // An indirect CRL may still list this certificate's issuer in certificateIssuer entries, but
      // only a distribution point naming it as cRLIssuer authorises it (RFC 5280 §6.3.3 (b)(1)).
      return SKIP;
    }
  }
  const label = `CRL from ${nameText(crl.issuer)}`;
  if (crl.malformed) return `${label} cannot be decoded: ${crl.malformed}`;
  if (crl.unknownCritical.length) return `${label} has critical extensions this validator cannot process (${crl.unknownCritical.join(', ')})`;
  if (crl.thisUpdate > time) return `${label} is not yet valid (thisUpdate ${crl.thisUpdate.toISOString()})`;
  const idp = crl.idp;
  if (idp) {
    // (b)(2)(i): the CRL's scope must be this distribution point.
    const idpNames = idpFullNames(idp, crl);
    if (idpNames) {
      const dpNames = dp.fullName || dp.relativeName ? dpFullNames(dp, cert) : (dp.cRLIssuer ?? []);
      if (!idpNames.some((a) => dpNames.some((b) => generalNamesEqual(a, b)))) return `${label} covers a different distribution point`;
    }
    const isCa = cert.basicConstraints?.ca === true;
    if (idp.onlyContainsUserCerts && isCa) return `${label} covers only end-entity certificates`;
    if (idp.onlyContainsCACerts && !isCa) return `${label} covers only CA certificates`;
    if (idp.onlyContainsAttributeCerts) return `${label} covers only attribute certificates`;
  }
  return undefined;
}

function isStale(crl: PreparedCrl, time: Date): boolean {
  return crl.nextUpdate !== undefined && crl.nextUpdate < time;
}

/** The newest delta CRL that applies to this complete CRL (RFC 5280 §5.2.4, §6.3.3 (e), (h)). */
function pickDelta(complete: PreparedCrl, key: WorkingKey, inputs: RevocationInputs): PreparedCrl | undefined {
  if (complete.crlNumber === undefined) return undefined;
  let best: PreparedCrl | undefined;
  for (const d of inputs.crls) {
    if (!d.isDelta || d.malformed || d.unknownCritical.length) continue;
    if (!namesEqual(d.issuer, complete.issuer)) continue;
    if (d.baseCrlNumber === undefined || d.crlNumber === undefined) continue;
    if (d.baseCrlNumber > complete.crlNumber || d.crlNumber <= complete.crlNumber) continue;
    if ((d.idp?.der.toString('hex') ?? '') !== (complete.idp?.der.toString('hex') ?? '')) continue;
    if (complete.authorityKeyId && d.authorityKeyId && complete.authorityKeyId !== d.authorityKeyId) continue;
    if (d.thisUpdate > inputs.time || isStale(d, inputs.time)) continue;
    if (best && best.crlNumber! >= d.crlNumber) continue;
    if (!inputs.signatures.verifyCrl(d.crl, d.fingerprint, key).ok) continue;
    best = d;
  }
  return best;
}

/** The distribution point names of an IDP as GeneralNames (relative names resolved against the CRL issuer). */
function idpFullNames(idp: { fullName?: GeneralNameValue[]; relativeName?: Buffer }, crl: PreparedCrl): GeneralNameValue[] | undefined {
  if (idp.fullName) return idp.fullName;
  if (idp.relativeName) {
    const der = appendRdn(crl.issuer.der, idp.relativeName);
    return [{ kind: 'directory', bytes: der, nameDer: der }];
  }
  return undefined;
}

/** The names of a certificate's distribution point (relative names resolved against the CRL issuer). */
function dpFullNames(dp: DistributionPoint, cert: PreparedCert): GeneralNameValue[] {
  if (dp.fullName) return dp.fullName;
  const base = dp.cRLIssuer?.find((g) => g.kind === 'directory')?.nameDer ?? cert.issuer.der;
  const der = appendRdn(base, dp.relativeName!);
  return [{ kind: 'directory', bytes: der, nameDer: der }];
}

function generalNamesEqual(a: GeneralNameValue, b: GeneralNameValue): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'directory') {
    try {
      return namesEqual(normalizeName(a.nameDer!), normalizeName(b.nameDer!));
    } catch {
      return false; // a malformed nameRelativeToIssuer names nothing
    }
  }
  if (a.kind === 'dns' || a.kind === 'email') return a.text!.toLowerCase() === b.text!.toLowerCase();
  return a.bytes.equals(b.bytes);
}

function dpIssuerText(points: DistributionPoint[], cert: PreparedCert): string {
  const names = points.flatMap((p) => (p.cRLIssuer ?? []).filter((g) => g.kind === 'directory').map((g) => nameText(normalizeName(g.nameDer!))));
  return names.length ? [...new Set(names)].join(' or ') : nameText(cert.issuer);
}

const REASON_BITS: Array<[RevocationReason, number]> = (
  ['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'] as RevocationReason[]
).map((r, i) => [r, 1 << (i + 1)]);

function describeReasons(mask: number): string {
  return REASON_BITS.filter(([, bit]) => mask & bit).map(([r]) => r).join(', ');
}

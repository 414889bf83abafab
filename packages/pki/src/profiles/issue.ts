/**
 * Issuing a certificate under a profile: check the request, build and sign, then lint the result
 * before anyone sees it. Shared by the CLI and the CA service.
 */
import type { Name } from '@peculiar/asn1-x509';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { needsSignatureCheckEachTime, type SignatureOptions } from '../crypto/signature.js';
import { type Certificate } from '../x509/certificate.js';
import { buildCertificate } from '../x509/certificate-build.js';
import type { AltName } from '../x509/extensions.js';
import type { HealthIdentity } from '../x509/identity.js';
import { addDays, wholeSeconds } from '../x509/time.js';
import { certificateExtensionsFor, type RevocationUrls } from './extensions.js';
import { checkCertificate } from './lint.js';
import { getProfile } from './registry.js';
import { checkRequest } from './request.js';
import type { Profile } from './types.js';
import { ProfileRuleError, violation } from './violation.js';

/** Everything needed to issue one certificate under a profile. */
export interface IssueRequest {
  /** A profile or its name. */
  profile: Profile | string;
  subject: Name;
  publicKey: PublicKey;
  /** The issuing CA's certificate; absent for a self-signed root. */
  issuerCert?: Certificate;
  /** The key that signs: the CA's key, or for a root the subject's own key. */
  issuerKey: PrivateKey;
  validityDays?: number;
  identity?: HealthIdentity;
  altNames?: AltName[];
  urls?: RevocationUrls;
  /** Start of validity; defaults to now (whole seconds). */
  notBefore?: Date;
  serialNumber?: Uint8Array;
  signatureOptions?: SignatureOptions;
  /**
   * `issuerKey` passed `pairwiseConsistent` against `issuerCert` (or, for a root, its own public
   * key): then, for a key that `needsSignatureCheckEachTime` says no to, the lint does not verify
   * each new signature again (about a third of the cost of an ECDSA issuance).
   */
  issuerKeyTested?: boolean;
}

function issuerProblem(profile: Profile, rule: string, en: string, zh: string): never {
  throw new ProfileRuleError(profile.name, violation(rule, en, zh));
}

/** Checks that the signing key and certificate can issue under this profile. */
function checkIssuer(profile: Profile, req: IssueRequest): void {
  if (profile.class === 'root-ca') {
    if (req.issuerCert) issuerProblem(profile, 'issuer.unexpected', 'a root CA certificate is self-signed: give no issuing CA certificate', '根CA证书是自签名的：不应提供签发CA证书');
    if (!req.issuerKey.publicKey.spki.equals(req.publicKey.spki)) {
      issuerProblem(profile, 'issuer.key', "a root CA certificate must be signed with the root's own private key", '根CA证书必须用根CA自己的私钥签名');
    }
    return;
  }
  const ca = req.issuerCert;
  if (!ca) issuerProblem(profile, 'issuer.missing', 'the issuing CA certificate is needed', '需要提供签发CA证书');
  if (!ca.isCa || !(ca.keyUsage ?? ['keyCertSign']).includes('keyCertSign')) {
    issuerProblem(profile, 'issuer.ca', `"${ca.subjectText}" is not a CA certificate allowed to sign certificates`, `“${ca.subjectText}”不是可签发证书的CA证书`);
  }
  if (profile.basicConstraints && ca.basicConstraints?.pathLenConstraint === 0) {
    issuerProblem(profile, 'issuer.pathLen', `"${ca.subjectText}" has pathLen 0 and may not certify another CA`, `“${ca.subjectText}”的路径长度约束为0，不能签发下级CA证书`);
  }
  if (!req.issuerKey.publicKey.spki.equals(ca.spkiDer)) {
    issuerProblem(profile, 'issuer.key', "the CA private key does not belong to the CA certificate", 'CA私钥与CA证书不匹配');
  }
}

/** Checks the request, signs the certificate, re-checks it against the profile, and returns it. */
export function issueFromProfile(req: IssueRequest): Certificate {
  const profile = typeof req.profile === 'string' ? getProfile(req.profile) : req.profile;
  const validityDays = req.validityDays ?? profile.validity.defaultDays;
  checkRequest(profile, { subject: req.subject, publicKey: req.publicKey, identity: req.identity, altNames: req.altNames, validityDays });
  checkIssuer(profile, req);
  const notBefore = wholeSeconds(req.notBefore ?? new Date());
  const notAfter = addDays(notBefore, validityDays);
  if (req.issuerCert && notAfter > req.issuerCert.notAfter) {
    issuerProblem(profile, 'validity.issuer', `the certificate would outlive its issuing CA, which expires ${req.issuerCert.notAfter.toISOString()}`, `证书有效期将超过签发CA证书（${req.issuerCert.notAfter.toISOString()} 到期）`);
  }
  const extensions = certificateExtensionsFor(profile, {
    subjectKey: req.publicKey,
    issuerCert: req.issuerCert,
    identity: req.identity,
    altNames: req.altNames,
    ...req.urls,
  });
  const cert = buildCertificate(
    { serialNumber: req.serialNumber, subject: req.subject, issuer: req.issuerCert?.subject, notBefore, notAfter, publicKey: req.publicKey, extensions },
    req.issuerKey,
    req.signatureOptions,
  );
  checkCertificate(profile, cert, req.issuerCert, { signatureKnownGood: req.issuerKeyTested === true && !needsSignatureCheckEachTime(req.issuerKey) });
  return cert;
}

/**
 * The basic path validation algorithm of RFC 5280 §6.1 on one given path, from the certificate
 * the trust anchor issued down to the target. The structural checks of every certificate run
 * first (§6.1.3 (a)(1),(2),(4), (b)-(f); §6.1.4; §6.1.5); revocation (§6.1.3 (a)(3)) runs after
 * them, top-down, so that a path rejected for its shape never costs CRL work and the path builder
 * can move on quickly. The reason reported is the first failure in that order.
 */
import { NameConstraintState } from './name-constraints.js';
import { nameText, namesEqual, type NormalizedName } from './names.js';
import { PolicyGraph } from './policy-graph.js';
import { ANY_POLICY, mayCertSign, type PreparedCert } from './prepared.js';
import type { PolicyInputs, ValidationCode } from './result.js';
import { checkRevocation, type IssuerContext, type RevocationInputs } from './revocation.js';
import { workingKeyOf, type SignatureChecker, type WorkingKey } from './signatures.js';

/** A trust anchor: a name and a key (RFC 5280 §6.1.1 (d)), taken from a certificate. */
export interface PreparedAnchor {
  prepared: PreparedCert;
  name: NormalizedName;
  key: WorkingKey;
}

/** A failure found on a given path; `index` counts from the target (0) up to the anchor (path length). */
export interface PathFailure {
  code: ValidationCode;
  message: string;
  index: number;
  details?: Record<string, unknown>;
}

/** What a valid path yields (RFC 5280 §6.1.6). */
export interface PathSuccess {
  userConstrainedPolicySet: string[];
  explicitPolicy: boolean;
}

/** Everything §6.1 needs besides the path. */
export interface PathInputs {
  time: Date;
  policy: Required<PolicyInputs>;
  signatures: SignatureChecker;
  /** Revocation inputs; undefined skips revocation checking. */
  revocation?: RevocationInputs;
}

/**
 * Validates `chain` (target first, the certificate issued by the anchor last) against `anchor`.
 * Returns the policy outcome, or the first failure.
 */
export function validatePath(chain: PreparedCert[], anchor: PreparedAnchor, inputs: PathInputs): PathSuccess | PathFailure {
  const n = chain.length;
  const certs = [...chain].reverse(); // RFC order: certs[0] is certificate 1, issued by the anchor
  const fail = (i: number, code: ValidationCode, message: string, details?: Record<string, unknown>): PathFailure => ({ code, message, index: n - i, details });

  const pol = inputs.policy;
  const policy = new PolicyGraph();
  let explicitPolicy = pol.explicitPolicy ? 0 : n + 1;
  let inhibitAnyPolicy = pol.inhibitAnyPolicy ? 0 : n + 1;
  let policyMapping = pol.inhibitPolicyMapping ? 0 : n + 1;
  let explicitPolicySetBy: number | undefined;
  let workingKey = anchor.key;
  let workingIssuer = anchor.name;
  let maxPathLength = n;
  const names = new NameConstraintState();
  const issuerKeys: WorkingKey[] = [];

  for (let i = 1; i <= n; i++) {
    const cert = certs[i - 1]!;
    const last = i === n;
    const subject = nameText(cert.subject);
    issuerKeys.push(workingKey);
    if (cert.malformed) return fail(i, 'malformedCertificate', `the certificate cannot be decoded: ${cert.malformed}`);
    // (a)(1) signature
    const sig = inputs.signatures.verifyCertificate(cert, workingKey);
    if (!sig.ok) return fail(i, sig.code, `signature of "${subject}" is invalid: ${sig.message}`, { issuer: nameText(workingIssuer) });
    // (a)(2) validity
    if (inputs.time < cert.notBefore) {
      return fail(i, 'notYetValid', `"${subject}" is not valid before ${cert.notBefore.toISOString()}`, { notBefore: cert.notBefore.toISOString(), at: inputs.time.toISOString() });
    }
    if (inputs.time > cert.notAfter) {
      return fail(i, 'expired', `"${subject}" expired at ${cert.notAfter.toISOString()}`, { notAfter: cert.notAfter.toISOString(), at: inputs.time.toISOString() });
    }
    // (a)(4) name chaining
    if (!namesEqual(cert.issuer, workingIssuer)) {
      return fail(i, 'nameChaining', `issuer of "${subject}" is "${nameText(cert.issuer)}", not the issuing certificate's subject "${nameText(workingIssuer)}"`);
    }
    // (b), (c) name constraints; self-issued intermediates are exempt
    if (!(cert.selfIssued && !last)) {
      const v = names.check(cert);
      if (v) {
        const where = v.constraintType === 'excluded' ? 'is inside the excluded subtree' : 'is outside the permitted subtrees, e.g.';
        return fail(i, 'nameConstraints', `${v.nameType} name "${v.name}" of "${subject}" ${where} "${v.constraint}"`, { ...v });
      }
    }
    // (d), (e) certificate policies
    policy.processCertificate(cert.policies, inhibitAnyPolicy > 0 || (!last && cert.selfIssued));
    // (f)
    if (explicitPolicy === 0 && policy.isNull) return fail(i, 'policy', policyMessage(subject, explicitPolicySetBy, n), { explicitPolicyRequiredBy: explicitPolicySetBy });

    if (!last) {
      // §6.1.4 preparation for certificate i+1
      const mappings = cert.policyMappings;
      if (mappings) {
        const bad = mappings.find((m) => m.issuerDomain === ANY_POLICY || m.subjectDomain === ANY_POLICY);
        if (bad) return fail(i, 'policyMapping', `"${subject}" maps anyPolicy, which RFC 5280 §6.1.4 (a) forbids`);
        policy.applyMappings(mappings, policyMapping > 0);
      }
      workingIssuer = cert.subject;
      workingKey = workingKeyOf(cert, workingKey);
      if (cert.nameConstraints) names.add(cert.nameConstraints);
      if (!cert.selfIssued) {
        if (explicitPolicy !== 0) explicitPolicy--;
        if (policyMapping !== 0) policyMapping--;
        if (inhibitAnyPolicy !== 0) inhibitAnyPolicy--;
      }
      if (cert.requireExplicitPolicy !== undefined && cert.requireExplicitPolicy < explicitPolicy) {
        explicitPolicy = cert.requireExplicitPolicy;
        explicitPolicySetBy = n - i;
      }
      if (cert.inhibitPolicyMapping !== undefined && cert.inhibitPolicyMapping < policyMapping) policyMapping = cert.inhibitPolicyMapping;
      if (cert.inhibitAnyPolicy !== undefined && cert.inhibitAnyPolicy < inhibitAnyPolicy) inhibitAnyPolicy = cert.inhibitAnyPolicy;
      // (k) only a CA certificate may issue the next one
      if (cert.version < 3) return fail(i, 'notCa', `"${subject}" is a version ${cert.version} certificate and cannot act as a CA`);
      if (cert.basicConstraints?.ca !== true) {
        const why = cert.basicConstraints ? 'its basicConstraints has cA false' : 'it has no basicConstraints extension';
        return fail(i, 'notCa', `"${subject}" issued a certificate but is not a CA: ${why}`);
      }
      // (l), (m) path length
      if (!cert.selfIssued) {
        if (maxPathLength <= 0) return fail(i, 'pathLength', `"${subject}" exceeds the path length allowed by a CA above it`, { maxPathLength: 0 });
        maxPathLength--;
      }
      if (cert.basicConstraints.pathLen !== undefined && cert.basicConstraints.pathLen < maxPathLength) maxPathLength = cert.basicConstraints.pathLen;
      // (n) key usage
      if (!mayCertSign(cert)) return fail(i, 'keyUsage', `"${subject}" issued a certificate but its keyUsage lacks keyCertSign`);
      // (o) critical extensions
      if (cert.unknownCritical.length) {
        return fail(i, 'unknownCriticalExtension', `"${subject}" has critical extensions this validator does not process: ${cert.unknownCritical.join(', ')}`, { extensions: cert.unknownCritical });
      }
    } else {
      // §6.1.5 wrap-up
      if (explicitPolicy !== 0) explicitPolicy--;
      if (cert.requireExplicitPolicy === 0) {
        explicitPolicy = 0;
        explicitPolicySetBy ??= 0;
      }
      if (cert.unknownCritical.length) {
        return fail(i, 'unknownCriticalExtension', `"${subject}" has critical extensions this validator does not process: ${cert.unknownCritical.join(', ')}`, { extensions: cert.unknownCritical });
      }
    }
  }

  const userConstrainedPolicySet = policy.userConstrainedPolicySet(pol.initialPolicySet);
  if (explicitPolicy === 0 && userConstrainedPolicySet.length === 0) {
    return fail(n, 'policy', `no certificate policy of the path is in the acceptable set {${pol.initialPolicySet.join(', ')}}, and an explicit policy is required`, {
      initialPolicySet: pol.initialPolicySet,
      explicitPolicyRequiredBy: explicitPolicySetBy,
    });
  }

  if (inputs.revocation) {
    for (let i = 1; i <= n; i++) {
      const cert = certs[i - 1]!;
      const issuer: IssuerContext =
        i === 1
          ? { name: anchor.name, key: anchor.key, cert: anchor.prepared, isAnchor: true }
          : { name: certs[i - 2]!.subject, key: issuerKeys[i - 1]!, cert: certs[i - 2]!, isAnchor: false };
      const status = checkRevocation(cert, issuer, inputs.revocation);
      const subject = nameText(cert.subject);
      if (status.status === 'revoked') {
        const { status: _s, ...details } = status;
        return fail(i, 'revoked', `"${subject}" was revoked on ${status.revocationDate.toISOString()} (${status.reason})`, {
          ...details,
          revocationDate: status.revocationDate.toISOString(),
          invalidityDate: status.invalidityDate?.toISOString(),
        });
      }
      if (status.status === 'unknown') {
        return fail(i, 'revocationUnknown', `revocation status of "${subject}" cannot be determined: ${status.problems.join('; ')}`, { problems: status.problems });
      }
    }
  }
  return { userConstrainedPolicySet, explicitPolicy: explicitPolicy === 0 };
}

function policyMessage(subject: string, setBy: number | undefined, n: number): string {
  const by = setBy === undefined ? 'the validation inputs' : setBy === n ? 'the trust anchor' : `certificate ${setBy} of the path`;
  return `"${subject}" leaves no valid certificate policy, and an explicit policy is required (by ${by})`;
}

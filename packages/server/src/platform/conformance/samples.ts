/**
 * Checks of the sample certificates themselves: each chains to the CA's registered certificates
 * (pki's PathValidator, revocation left to the CRL and OCSP checks) and conforms to the health
 * profile its certificate policy names (pki's certificate lint, the same one the CA service runs
 * after signing).
 */
import { PathValidator, certificateViolations, listProfiles, policyOidsFor, type Certificate, type Profile } from '@health-pki/pki';
import { errorText, sampleName, type FaultList, type Sample } from './faults.js';

/** What the sample checks learnt: each sample's issuer among the registered certificates, and its profile. */
export interface SampleFacts {
  issuerOf: Map<Sample, Certificate>;
  profileOf: Map<Sample, string>;
}

/** The end-entity profile whose policy OIDs the certificate carries, if any. */
export function profileByPolicy(cert: Certificate): Profile | undefined {
  const policies = cert.policies;
  return listProfiles().find((p) => p.basicConstraints === null && p.policies.length > 0 && policyOidsFor(p).every((o) => policies.includes(o)) && policies.length === p.policies.length);
}

/** Runs the chain and profile checks on every sample. */
export function checkSamples(samples: Sample[], registered: Certificate[], faults: FaultList, now: Date): SampleFacts {
  const facts: SampleFacts = { issuerOf: new Map(), profileOf: new Map() };
  // Self-signed registered certificates are the anchors; the others may only be intermediates.
  const roots = registered.filter((c) => c.isSelfIssued);
  const anchors = roots.length ? roots : registered;
  let validator: PathValidator | undefined;
  try {
    validator = new PathValidator({ anchors, intermediates: registered.filter((c) => !anchors.includes(c)) });
  } catch (e) {
    faults.add('chain', 'registered certificates', `cannot serve as trust anchors: ${errorText(e)}`);
  }
  for (const s of samples) {
    const name = sampleName(s);
    const result = validator ? validator.validate(s.cert, { time: now, checkRevocation: false }) : ({ valid: false, reason: { code: 'noPath', message: 'no usable trust anchor' } } as const);
    if (result.valid) facts.issuerOf.set(s, result.path[1]!);
    else {
      faults.add('chain', name, `does not chain to the CA's registered certificates: ${result.reason.message}`);
      // The CRL and OCSP checks still need the issuer a certificate names, when it is registered.
      const named = registered.find((c) => c.subjectDer.equals(s.cert.issuerDer));
      if (named) facts.issuerOf.set(s, named);
    }
    try {
      const profile = profileByPolicy(s.cert);
      if (!profile) {
        faults.add('profile', name, `carries the certificate policies ${s.cert.policies.join(', ') || '(none)'}, which name no health certificate profile`);
        continue;
      }
      facts.profileOf.set(s, profile.name);
      for (const v of certificateViolations(profile, s.cert, facts.issuerOf.get(s))) faults.add('profile', name, `breaks profile ${profile.name} (${v.rule}): ${v.message}`);
    } catch (e) {
      faults.add('profile', name, `cannot be checked against the health profiles: ${errorText(e)}`);
    }
  }
  return facts;
}

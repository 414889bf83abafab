/**
 * The sample certificates a CA files with its platform application (protocol.md): one in good
 * standing and one revoked, both real certificates of the CA entered and approved through its RA
 * (the caller must be allowed to approve what it enters: the bootstrap administrator of a demo
 * deployment), and the revoked one listed in a complete CRL published at once, since the
 * conformance test reads the complete CRL at the distribution point.
 */
import { buildCsr, escapeDnValue, generateKey, parseName, type KeyAlgorithm } from '@health-pki/pki';
import type { Principal } from '../auth/principal.js';
import type { CertificateAuthorities } from '../ca/authority.js';
import type { RegistrationAuthority } from '../ra/registration.js';
import type { CrlService } from '../publish/crl/publisher.js';

/** The samples, PEM. */
export interface SampleSet {
  good: string[];
  revoked: string[];
}

/** Issues the two samples of CA `name`, revokes one and republishes the complete CRL of its issuing CA. */
export async function makeSamples(deps: { ca: CertificateAuthorities; ra: RegistrationAuthority; crls: CrlService }, actor: Principal, name: string): Promise<SampleSet> {
  const authority = await deps.ca.getAuthority(name);
  const issue = async (role: string) => {
    const key = generateKey(authority.algorithm as KeyAlgorithm);
    const csr = buildCsr(parseName(`C=CN,O=${escapeDnValue(authority.organization.slice(0, 64))},CN=${escapeDnValue(`conformance-${role}.${name}`)}`), key).toPem();
    return (await deps.ra.enroll(actor, name, { profile: 'device-sign', csr, applicant: { name: 'platform conformance sample', notes: `the ${role} sample of the platform application` } })).issued;
  };
  const good = await issue('good');
  const revoked = await issue('revoked');
  await deps.ra.revoke(actor, name, revoked.record.serial, { reason: 'superseded', comment: 'revoked sample for the platform conformance test' });
  await deps.crls.refreshNow(name, revoked.record.issuer, 'full');
  return { good: [good.certificate.toPem()], revoked: [revoked.certificate.toPem()] };
}

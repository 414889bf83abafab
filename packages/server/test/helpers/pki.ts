/** Keys and requests for tests: what a holder would bring to the RA. */
import { buildCsr, generateKey, identityExtensions, parseName, subjectAltNameExt, type HealthIdentity, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';

/** A valid resident ID number (GB 11643 check digit), the sample of the README. */
export const RESIDENT_ID = '11010519491231002X';

/** A fresh key and a PEM CSR for it with the given subject, identity numbers in extensionRequest, and an e-mail SAN. */
export function makeCsr(alg: KeyAlgorithm, subject = 'C=CN,O=示例医院,OU=心内科,CN=张三', identity: HealthIdentity = { residentId: RESIDENT_ID }, email?: string): { key: PrivateKey; pem: string; der: Buffer } {
  const key = generateKey(alg);
  const exts = [...identityExtensions(identity)];
  if (email) exts.push(subjectAltNameExt([{ type: 'email', value: email }]));
  const csr = buildCsr(parseName(subject), key, exts);
  return { key, pem: csr.toPem(), der: csr.der };
}

/** A CSR over an existing key. */
export function csrFor(key: PrivateKey, subject = 'C=CN,O=示例医院,OU=心内科,CN=张三', identity: HealthIdentity = { residentId: RESIDENT_ID }): string {
  return buildCsr(parseName(subject), key, identityExtensions(identity)).toPem();
}

/**
 * Demo holders: a software token per person with a signing key made on the token, a CSR carrying
 * the GB/T 20518 identity extension (resident ID number), enrolment at one of the deployment's CAs
 * over its HTTP API (the bootstrap administrator approves its own request — a demo shortcut for the
 * RA's review), and the certificate imported back into the token. The key never leaves the token.
 */
import { existsSync } from 'node:fs';
import { identityExtensions, type KeyAlgorithm } from '@health-pki/pki';
import { SoftToken, type KdfParams } from '@health-pki/token';

/** One person to equip. */
export interface DemoHolder {
  /** Token file to create (an existing file is left alone). */
  file: string;
  /** The CA that issues (demo-sm2 or demo-p256). */
  ca: string;
  alg: KeyAlgorithm;
  name: string;
  organization?: string;
  unit?: string;
  residentId: string;
  pin: string;
}

/** Where the CA is and who approves. */
export interface EnrolmentTarget {
  caUrl: string;
  adminToken: string;
  /** Token KDF (tests use a cheap one). */
  kdf?: KdfParams;
}

/** The result: the token file and the certificate's serial. */
export interface EquippedHolder {
  file: string;
  serial: string;
  certificatePem: string;
}

/** GB 11643 check character for the first 17 digits of a resident ID number. */
export function residentIdCheck(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * w[i]!, 0);
  return '10X98765432'[sum % 11]!;
}

/** Creates the token, key, certificate; returns what was issued. */
export async function equipHolder(h: DemoHolder, t: EnrolmentTarget): Promise<EquippedHolder> {
  if (existsSync(h.file)) throw new Error(`${h.file} exists already`);
  const adminPin = `admin-${h.pin}-${Math.random().toString(36).slice(2)}`;
  const token = SoftToken.init(h.file, { userPin: h.pin, adminPin, label: h.name, ...(t.kdf ? { kdf: t.kdf } : {}) });
  const session = token.login('HPKI', h.pin);
  try {
    session.createContainer('staff');
    session.generateKeyPair('staff', h.alg);
    const csr = session.certificationRequest('staff', `C=CN,O=${h.organization ?? '示例医院'},OU=${h.unit ?? '临床科室'},CN=${h.name}`, identityExtensions({ residentId: h.residentId }));
    const res = await fetch(`${t.caUrl}/api/v1/cas/${h.ca}/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'staff-sign', csr: csr.toPem(), applicant: { name: h.name } }),
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json()) as { certificate?: { pem: string; serial: string }; error?: string; message?: string };
    if (!res.ok || !json.certificate) throw new Error(`enrolment at ${h.ca} failed: HTTP ${res.status} ${json.message ?? json.error ?? ''}`);
    session.importCertificate('staff', 'signing', json.certificate.pem);
    return { file: h.file, serial: json.certificate.serial, certificatePem: json.certificate.pem };
  } finally {
    session.logout();
  }
}

/** Test helpers for authentication: certificates issued by the service, and certificate logins signed by OpenSSL. */
import { exportPrivateKey, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';
import type { Api } from './api.js';
import { makeCsr } from './pki.js';
import { outside } from './outside.js';

/** A certificate the service issued, with its key. */
export interface IssuedCert {
  ca: string;
  serial: string;
  pem: string;
  key: PrivateKey;
  alg: KeyAlgorithm;
}

let counter = 0;

/** Enrolls (bootstrap administrator: apply + self-approval) a staff-sign certificate. */
export async function issueCert(api: Api, admin: string, ca: string, alg: KeyAlgorithm, name = `测试${++counter}`): Promise<IssuedCert> {
  const csr = makeCsr(alg, `C=CN,O=示例医院,OU=信息科,CN=${name}`);
  const r = await api('POST', `/api/v1/cas/${ca}/enroll`, { profile: 'staff-sign', csr: csr.pem, applicant: { name } }, admin);
  if (r.status !== 201) throw new Error(`enroll failed: ${r.status} ${JSON.stringify(r.json)}`);
  return { ca, serial: r.json.certificate.serial, pem: r.json.certificate.pem, key: csr.key, alg };
}

/** Signs bytes with the OpenSSL CLI (not our code): SM2 with SM3 and the default user ID, ECDSA/RSA with SHA-256. */
export async function opensslSign(cert: IssuedCert, data: Buffer): Promise<Buffer> {
  const { openssl } = await outside();
  const files = { 'key.pem': exportPrivateKey(cert.key, 'pem'), 'msg.bin': data };
  const args =
    cert.alg === 'sm2'
      ? ['pkeyutl', '-sign', '-inkey', 'key.pem', '-rawin', '-in', 'msg.bin', '-digest', 'sm3', '-pkeyopt', 'distid:1234567812345678', '-out', 'sig.bin']
      : ['dgst', cert.alg === 'p384' ? '-sha384' : '-sha256', '-sign', 'key.pem', '-out', 'sig.bin', 'msg.bin'];
  const r = await openssl(args, { files, outputs: ['sig.bin'] });
  if (r.code !== 0 || !r.outputs['sig.bin']) throw new Error(`openssl sign failed: ${r.stderr}`);
  return r.outputs['sig.bin'];
}

/** Runs the signed-challenge login; returns the raw answer of /login. */
export async function certLogin(api: Api, cert: IssuedCert, sign: (data: Buffer) => Promise<Buffer> = (d) => opensslSign(cert, d)) {
  const ch = await api('POST', '/api/v1/auth/challenge', { certificate: cert.pem });
  if (ch.status !== 200) throw new Error(`challenge failed: ${ch.status} ${JSON.stringify(ch.json)}`);
  const signature = await sign(Buffer.from(ch.json.toBeSigned, 'base64'));
  return api('POST', '/api/v1/auth/login', { challenge: ch.json.challenge, certificate: cert.pem, signature: signature.toString('base64') });
}

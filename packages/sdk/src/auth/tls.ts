/**
 * Login by TLS client certificate: the TLS handshake already proved that the client holds the
 * certificate's key (its CertificateVerify), so what is left is the certificate itself — validated
 * against the trust list for usage "login", with revocation. The TLS server should request a
 * certificate without letting OpenSSL reject it (`requestCert: true, rejectUnauthorized: false`)
 * and may offer the trust list's CA certificates as hints (`trustListCaPems`): this check decides.
 * Node's TLS has no SM2 (TLCP) cipher suites, so SM2 certificates log in by challenge (login.ts).
 */
import type { TLSSocket } from 'node:tls';
import { Certificate } from '@health-pki/pki';
import type { CertificateValidator } from '../validation/validator.js';
import type { TrustStore } from '../trust/trust-store.js';
import { readHolderIdentity } from '../identity/identity.js';
import type { LoginFailure, LoginSuccess } from './login.js';

/** Validates the client certificate of an established TLS connection. Never throws for a bad peer. */
export async function fromTlsSocket(socket: TLSSocket, validator: CertificateValidator): Promise<LoginSuccess | LoginFailure> {
  if (!socket.encrypted) return { ok: false, reason: 'the connection is not TLS' };
  const peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) return { ok: false, reason: 'the client presented no certificate' };
  let cert: Certificate;
  const chain: Certificate[] = [];
  try {
    cert = Certificate.parse(peer.raw);
    // The rest of what the client sent, as far as Node kept it (it stops at a self-signed one).
    let next = peer.issuerCertificate;
    for (let i = 0; next && next.raw && next !== next.issuerCertificate && i < 8; i++, next = next.issuerCertificate) chain.push(Certificate.parse(next.raw));
  } catch (e) {
    return { ok: false, reason: `the client certificate cannot be read: ${e instanceof Error ? e.message : String(e)}` };
  }
  const validation = await validator.validate(cert, { usage: 'login', chain });
  if (!validation.valid) return { ok: false, reason: `the certificate is not accepted: ${validation.reason}`, validation };
  return { ok: true, identity: readHolderIdentity(cert), validation, certificate: cert };
}

/** The trust list's CA certificates as PEM: the `ca` option of a TLS server asking for client certificates. */
export function trustListCaPems(trust: TrustStore): string[] {
  return trust.certificates().map((c) => c.certificate.toPem());
}

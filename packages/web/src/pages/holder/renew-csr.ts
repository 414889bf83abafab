/**
 * The CSR of a holder's renewal, made in the browser: a new P-256 key from WebCrypto (it never
 * leaves the page unless the holder saves it) and a PKCS#10 request carrying the current
 * certificate's subject, copied byte for byte from the certificate so the RA sees the same name.
 * WebCrypto has no SM2: SM2 holders renew with their token or the CLI.
 */
import { ecdsaDer, toBase64 } from '../login/cert-sign.js';

/** One DER element: where its contents start and where it ends. */
interface Tlv {
  start: number;
  contentStart: number;
  end: number;
}

function tlv(der: Uint8Array, at: number): Tlv {
  let i = at + 1;
  let len = der[i++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[i++]!;
  }
  if (i + len > der.length) throw new Error('truncated DER');
  return { start: at, contentStart: i, end: i + len };
}

/** The subject Name of a certificate (DER), exactly as signed. */
export function subjectOf(certDer: Uint8Array): Uint8Array {
  const cert = tlv(certDer, 0);
  const tbs = tlv(certDer, cert.contentStart);
  let at = tbs.contentStart;
  if (certDer[at] === 0xa0) at = tlv(certDer, at).end; // [0] version
  for (let skip = 0; skip < 4; skip++) at = tlv(certDer, at).end; // serial, signature, issuer, validity
  const subject = tlv(certDer, at);
  return certDer.slice(subject.start, subject.end);
}

// OID 1.2.156.10197.1.301 (the SM2 curve), as DER bytes.
const SM2_CURVE = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];

/** Whether a certificate's key is SM2 (then the browser cannot make its renewal's CSR). */
export function isSm2(certDer: Uint8Array): boolean {
  outer: for (let i = 0; i + SM2_CURVE.length <= certDer.length; i++) {
    for (let j = 0; j < SM2_CURVE.length; j++) if (certDer[i + j] !== SM2_CURVE[j]) continue outer;
    return true;
  }
  return false;
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = len < 128 ? [tag, len] : len < 256 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), without parameters (RFC 5758).
const ECDSA_SHA256 = Uint8Array.from([0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);

function pem(label: string, bytes: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${toBase64(bytes).replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** A new key and the CSR for it (PEM both), with `subject` (DER) as the request's subject. */
export async function renewalRequest(subject: Uint8Array): Promise<{ csrPem: string; keyPem: string }> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const info = der(0x30, Uint8Array.from([0x02, 0x01, 0x00]), subject, spki, Uint8Array.from([0xa0, 0x00]));
  const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, info));
  const signature = der(0x03, Uint8Array.from([0]), ecdsaDer(raw));
  const csr = der(0x30, info, ECDSA_SHA256, signature);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { csrPem: pem('CERTIFICATE REQUEST', csr), keyPem: pem('PRIVATE KEY', pkcs8) };
}

/** The DER bytes of a PEM certificate. */
export function pemToDer(text: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new Error('not a PEM certificate');
  return Uint8Array.from(atob(m[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
}

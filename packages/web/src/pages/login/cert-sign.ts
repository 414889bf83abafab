/**
 * Certificate login in the browser: the challenge is signed with WebCrypto, so the private key
 * never leaves the page. WebCrypto has ECDSA (P-256, P-384) and RSA but no SM2; SM2 holders use
 * a token or `hpki login`.
 */

/** Why a key cannot sign here. */
export class KeyUnusable extends Error {
  constructor(readonly why: 'sm2' | 'mismatch') {
    super(why);
  }
}

function pemBody(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new KeyUnusable('mismatch');
  const bin = atob(m[1]!.replace(/\s+/g, ''));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function contains(hay: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

// OID 1.2.156.10197.1.301 (SM2), as DER bytes.
const SM2_OID = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];

/** DER INTEGER of an unsigned big-endian number. */
function derInteger(n: Uint8Array): number[] {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  const v = [...n.slice(i)];
  if (v[0]! & 0x80) v.unshift(0);
  return [0x02, v.length, ...v];
}

/** WebCrypto's ECDSA signature (r||s) as the DER SEQUENCE the API expects. */
export function ecdsaDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const body = [...derInteger(raw.slice(0, half)), ...derInteger(raw.slice(half))];
  const len = body.length < 128 ? [body.length] : [0x81, body.length];
  return Uint8Array.from([0x30, ...len, ...body]);
}

type Candidate = { importAlg: RsaHashedImportParams | EcKeyImportParams; signAlg: AlgorithmIdentifier | EcdsaParams; ec: boolean };
const CANDIDATES: Candidate[] = [
  { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' }, ec: true },
  { importAlg: { name: 'ECDSA', namedCurve: 'P-384' }, signAlg: { name: 'ECDSA', hash: 'SHA-384' }, ec: true },
  { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAlg: { name: 'RSASSA-PKCS1-v1_5' }, ec: false },
];

/** Signs `data` with a PKCS#8 PEM key; the signature in the API's encoding. */
export async function signChallenge(keyPem: string, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const der = pemBody(keyPem, 'PRIVATE KEY');
  if (contains(der, SM2_OID)) throw new KeyUnusable('sm2');
  for (const c of CANDIDATES) {
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey('pkcs8', der, c.importAlg, false, ['sign']);
    } catch {
      continue; // another algorithm or curve
    }
    const sig = new Uint8Array(await crypto.subtle.sign(c.signAlg, key, data));
    return c.ec ? ecdsaDer(sig) : sig;
  }
  throw new KeyUnusable('mismatch');
}

/** base64 of bytes. */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** bytes of base64. */
export function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

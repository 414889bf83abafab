/**
 * The ESS signing-certificate attributes that bind a time-stamp token to the TSA certificate
 * (RFC 3161 §2.4.1 via RFC 2634 §5.4, and RFC 5035 for other hashes; RFC 5816 lets a token carry
 * either):
 *
 *   SigningCertificate   ::= SEQUENCE { certs SEQUENCE OF ESSCertID,   policies ... OPTIONAL }
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
 *   ESSCertID   ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial IssuerSerial OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
 *                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 */
import { ParseError, parsing } from '../errors.js';
import { childTlvs, readOid, readTlv, tlvBytes } from '../encoding/der.js';
import { derOctetString, derOid, derTlv } from '../encoding/der-writer.js';
import { digest, hashOid, type HashName } from '../crypto/hash.js';
import type { Certificate } from '../x509/certificate.js';
import { namesEqual, normalizeName } from '../validation/names.js';
import { OID } from '../oids.js';
import { imprintHash } from './fields.js';

const WHAT = 'ESS signing certificate';

/** One ESSCertID or ESSCertIDv2 as read. */
export interface EssCertId {
  /** OID of the hash over the whole certificate DER (SHA-1 for v1; SHA-256 when v2 omits it). */
  hashAlgorithm: string;
  certHash: Buffer;
  issuerSerial?: {
    /** The issuer GeneralName DERs. */
    issuerNames: Buffer[];
    /** The serial INTEGER content bytes. */
    serialNumber: Buffer;
  };
}

/** Which attribute carries the certificate identifiers. */
export type EssVersion = 1 | 2;

/**
 * The attribute value DER naming `cert`: signingCertificate (v1, SHA-1) or signingCertificateV2
 * with `hash` (the DEFAULT SHA-256 is omitted, as DER requires), issuerSerial included. The
 * result is memoised per certificate and shared: write it out, never modify it.
 */
export function encodeSigningCertificate(cert: Certificate, version: EssVersion, hash: HashName = 'sha256'): Buffer {
  const h = version === 1 ? 'sha1' : hash;
  // The same few values go into every token a TSA signs: hash the certificate once.
  const key = `${version}:${h}`;
  let forCert = encoded.get(cert);
  const hit = forCert?.get(key);
  if (hit) return hit;
  const value = encode(cert, version, h);
  if (!forCert) encoded.set(cert, (forCert = new Map()));
  forCert.set(key, value);
  return value;
}

const encoded = new WeakMap<Certificate, Map<string, Buffer>>();

function encode(cert: Certificate, version: EssVersion, h: HashName): Buffer {
  const issuerSerial = derTlv(0x30, [derTlv(0x30, [derTlv(0xa4, [cert.issuerDer])]), derTlv(0x02, [cert.serialNumber])]);
  const fields = [derOctetString(digest(h, cert.der)), issuerSerial];
  if (version === 2 && h !== 'sha256') fields.unshift(derTlv(0x30, [derOid(hashOid(h))]));
  return derTlv(0x30, [derTlv(0x30, [derTlv(0x30, fields)])]);
}

/** Reads a signingCertificate (v1) or signingCertificateV2 attribute value. */
export function parseSigningCertificate(value: Buffer, version: EssVersion): EssCertId[] {
  return parsing(WHAT, () => {
    const top = readTlv(value, 0, WHAT);
    if (top.tag !== 0x30 || top.end !== value.length) throw new ParseError(WHAT, 'expected a SEQUENCE');
    const [certsT, policiesT, extra] = childTlvs(value, top, WHAT);
    if (!certsT || certsT.tag !== 0x30 || (policiesT && policiesT.tag !== 0x30) || extra) throw new ParseError(WHAT, 'expected { certs, policies OPTIONAL }');
    const ids = childTlvs(value, certsT, WHAT).map((t) => {
      if (t.tag !== 0x30) throw new ParseError(WHAT, 'ESSCertID must be a SEQUENCE');
      const f = childTlvs(value, t, WHAT);
      let i = 0;
      let hashAlgorithm: string = version === 1 ? OID.sha1 : OID.sha256;
      if (version === 2 && f[i]?.tag === 0x30) {
        const [oidT] = childTlvs(value, f[i++]!, WHAT);
        if (!oidT) throw new ParseError(WHAT, 'empty hashAlgorithm');
        hashAlgorithm = readOid(value, oidT, WHAT);
      }
      const hashT = f[i++];
      if (!hashT || hashT.tag !== 0x04) throw new ParseError(WHAT, 'certHash missing');
      const id: EssCertId = { hashAlgorithm, certHash: Buffer.from(value.subarray(hashT.valueStart, hashT.end)) };
      if (f[i]) {
        const [namesT, serialT, more] = childTlvs(value, f[i++]!, WHAT);
        if (!namesT || namesT.tag !== 0x30 || !serialT || serialT.tag !== 0x02 || more) throw new ParseError(WHAT, 'malformed issuerSerial');
        id.issuerSerial = { issuerNames: childTlvs(value, namesT, WHAT).map((n) => tlvBytes(value, n)), serialNumber: Buffer.from(value.subarray(serialT.valueStart, serialT.end)) };
      }
      if (i !== f.length) throw new ParseError(WHAT, 'unexpected fields in ESSCertID');
      return id;
    });
    if (ids.length === 0) throw new ParseError(WHAT, 'no ESSCertID');
    return ids;
  });
}

/** Why an ESSCertID does not name the certificate, or undefined when it does. */
export function essCertIdMismatch(id: EssCertId, cert: Certificate): string | undefined {
  const hash = imprintHash(id.hashAlgorithm);
  if (!hash) return `ESSCertID hash algorithm ${id.hashAlgorithm} is not supported`;
  if (!digest(hash.name, cert.der).equals(id.certHash)) return 'the ESSCertID certificate hash does not match the signer certificate';
  if (!id.issuerSerial) return undefined;
  if (!sameInteger(id.issuerSerial.serialNumber, cert.serialNumber)) return 'the ESSCertID issuerSerial serial number differs from the signer certificate';
  const issuer = normalizeName(cert.issuerDer);
  const named = id.issuerSerial.issuerNames.some((g) => {
    if (g[0] !== 0xa4) return false; // directoryName [4] EXPLICIT Name
    try {
      const inner = readTlv(g, readTlv(g, 0, WHAT).valueStart, WHAT);
      return namesEqual(normalizeName(g.subarray(inner.start, inner.end)), issuer);
    } catch {
      return false;
    }
  });
  return named ? undefined : 'the ESSCertID issuerSerial issuer differs from the signer certificate issuer';
}

function sameInteger(a: Buffer, b: Buffer): boolean {
  const trim = (s: Buffer) => (s.length > 1 && s[0] === 0 && s[1]! < 0x80 ? s.subarray(1) : s);
  return trim(a).equals(trim(b));
}

/**
 * OCSP CertID (RFC 6960 §4.1.1): which certificate a request or response is about, named by
 * hashes of its issuer's name and key plus its serial number.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { CertID } from '@peculiar/asn1-ocsp';
import { digest, hashFromOid, hashOid, type HashName } from '../crypto/hash.js';
import { PkiError } from '../errors.js';
import type { Certificate } from '../x509/certificate.js';

/** A CertID in plain form. */
export interface CertId {
  /** OID of the hash used for the two issuer hashes. */
  hashAlgorithm: string;
  /** Hash of the issuer's Name DER (the certificate's issuer field). */
  issuerNameHash: Buffer;
  /** Hash of the issuer's subjectPublicKey BIT STRING value (without tag, length, unused-bits byte). */
  issuerKeyHash: Buffer;
  /** The certificate's serial number, INTEGER content bytes as encoded. */
  serialNumber: Buffer;
}

/** The subjectPublicKey bits of a certificate, which CertIDs and responder key hashes hash. */
export function publicKeyBits(cert: Certificate): Buffer {
  return Buffer.from(cert.tbs.subjectPublicKeyInfo.subjectPublicKey);
}

/** The CertID of `cert` issued by `issuer`, hashed with `hash` (SHA-1 is what most clients send). */
export function certId(cert: Certificate | { serialNumber: Uint8Array }, issuer: Certificate, hash: HashName = 'sha1'): CertId {
  return {
    hashAlgorithm: hashOid(hash),
    issuerNameHash: digest(hash, issuer.subjectDer),
    issuerKeyHash: digest(hash, publicKeyBits(issuer)),
    serialNumber: Buffer.from(cert.serialNumber),
  };
}

/** Serial numbers compared by value: a redundant leading sign byte does not matter. */
function sameSerial(a: Uint8Array, b: Uint8Array): boolean {
  const trim = (s: Uint8Array) => {
    let i = 0;
    while (i < s.length - 1 && ((s[i] === 0 && s[i + 1]! < 0x80) || (s[i] === 0xff && s[i + 1]! >= 0x80))) i++;
    return Buffer.from(s.subarray(i));
  };
  return trim(a).equals(trim(b));
}

/** True when two CertIDs name the same certificate (same hash algorithm, hashes and serial). */
export function sameCertId(a: CertId, b: CertId): boolean {
  return a.hashAlgorithm === b.hashAlgorithm && a.issuerNameHash.equals(b.issuerNameHash) && a.issuerKeyHash.equals(b.issuerKeyHash) && sameSerial(a.serialNumber, b.serialNumber);
}

/**
 * True when `id` names `cert` as issued by `issuer`, whatever hash the CertID used; false for a
 * hash this library does not know.
 */
export function matchesCertId(id: CertId, cert: Certificate | { serialNumber: Uint8Array }, issuer: Certificate): boolean {
  let hash: HashName;
  try {
    hash = hashFromOid(id.hashAlgorithm);
  } catch (e) {
    if (e instanceof PkiError) return false;
    throw e;
  }
  return sameCertId(id, certId(cert, issuer, hash));
}

/** The @peculiar CertID for a CertId (hash parameters NULL, as OpenSSL writes them). */
export function certIdToAsn(id: CertId): CertID {
  return new CertID({
    hashAlgorithm: new x.AlgorithmIdentifier({ algorithm: id.hashAlgorithm, parameters: null }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: new Uint8Array(id.serialNumber).buffer,
  });
}

/** A CertId from a parsed @peculiar CertID. */
export function certIdFromAsn(asn: CertID): CertId {
  return {
    hashAlgorithm: asn.hashAlgorithm.algorithm,
    issuerNameHash: Buffer.from(asn.issuerNameHash.buffer),
    issuerKeyHash: Buffer.from(asn.issuerKeyHash.buffer),
    serialNumber: Buffer.from(asn.serialNumber),
  };
}

/** DER of a CertID. */
export function certIdToDer(id: CertId): Buffer {
  return Buffer.from(AsnConvert.serialize(certIdToAsn(id)));
}

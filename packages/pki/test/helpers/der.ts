/**
 * A minimal DER reader for the test harness. It is deliberately independent of the library under
 * test (packages/pki/src), so that a bug there cannot make the outside verifiers agree with it.
 */

/** One TLV: where it starts, where its value starts, where it ends, and its tag byte. */
export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

/** Reads the TLV at `offset` (single-byte tags only, definite lengths only). */
export function readTlv(der: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > der.length) throw new Error(`DER: truncated header at ${offset}`);
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error(`DER: multi-byte tag at ${offset}`);
  let len = der[offset + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error(`DER: unsupported length form 0x${len.toString(16)} at ${offset}`);
    if (offset + 2 + n > der.length) throw new Error(`DER: truncated length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[offset + 2 + i]!;
    header = 2 + n;
  }
  const end = offset + header + len;
  if (end > der.length) throw new Error(`DER: value overruns input at ${offset}`);
  return { tag, start: offset, valueStart: offset + header, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.valueStart; p < parent.end; ) {
    const t = readTlv(der, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** Decodes the value of an OBJECT IDENTIFIER TLV to dotted form. */
export function oidToString(der: Uint8Array, t: Tlv): string {
  const v = der.subarray(t.valueStart, t.end);
  const parts: number[] = [];
  let acc = 0;
  for (const b of v) {
    acc = acc * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/**
 * A SIGNED{...} structure (certificate, CRL, CSR, BasicOCSPResponse): the signed part, the
 * signature algorithm OID with its parameters, and the signature BIT STRING.
 */
export interface SignedParts {
  tbs: Buffer;
  algorithmOid: string;
  algorithmParams: Buffer;
  signature: Buffer;
  /** Offset of the signature BIT STRING's last byte in the input, for tamper tests. */
  signatureLastByte: number;
}

/** Splits a SIGNED{...} DER structure into its parts. */
export function signedParts(der: Uint8Array): SignedParts {
  const outer = readTlv(der, 0);
  const [tbs, alg, sig] = children(der, outer);
  if (!tbs || !alg || !sig || sig.tag !== 0x03) throw new Error('DER: not a SIGNED{} structure');
  const algParts = children(der, alg);
  const oid = algParts[0];
  if (!oid || oid.tag !== 0x06) throw new Error('DER: AlgorithmIdentifier without OID');
  return {
    tbs: Buffer.from(der.subarray(tbs.start, tbs.end)),
    algorithmOid: oidToString(der, oid),
    algorithmParams: Buffer.from(der.subarray(oid.end, alg.end)),
    // Skip the BIT STRING's unused-bits byte.
    signature: Buffer.from(der.subarray(sig.valueStart + 1, sig.end)),
    signatureLastByte: sig.end - 1,
  };
}

/** The signature algorithm OID of a SIGNED{...} structure. */
export function signatureAlgorithmOid(der: Uint8Array): string {
  return signedParts(der).algorithmOid;
}

/** Returns a copy of a SIGNED{...} structure with one bit of its signature flipped. */
export function flipSignatureBit(der: Uint8Array): Buffer {
  const copy = Buffer.from(der);
  copy[signedParts(der).signatureLastByte]! ^= 0x01;
  return copy;
}

/** Returns a copy with one bit flipped at `offset` (negative counts from the end). */
export function flipBit(der: Uint8Array, offset: number, mask = 0x01): Buffer {
  const copy = Buffer.from(der);
  const i = offset < 0 ? copy.length + offset : offset;
  copy[i]! ^= mask;
  return copy;
}

/**
 * The BasicOCSPResponse inside an OCSPResponse (or the input itself when it already is one):
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
 * responseType OID, response OCTET STRING } }.
 */
export function basicOcspResponse(der: Uint8Array): { basic: Buffer; offset: number } {
  const outer = readTlv(der, 0);
  const kids = children(der, outer);
  if (kids[0]?.tag !== 0x0a) return { basic: Buffer.from(der), offset: 0 };
  const wrapped = kids[1];
  if (!wrapped || wrapped.tag !== 0xa0) throw new Error('OCSP response has no responseBytes');
  const rb = children(der, wrapped)[0]!;
  const octets = children(der, rb)[1];
  if (!octets || octets.tag !== 0x04) throw new Error('OCSP responseBytes without OCTET STRING');
  return { basic: Buffer.from(der.subarray(octets.valueStart, octets.end)), offset: octets.valueStart };
}

/** The certificates embedded in a BasicOCSPResponse ([0] EXPLICIT SEQUENCE OF Certificate). */
export function ocspEmbeddedCerts(basic: Uint8Array): Buffer[] {
  const kids = children(basic, readTlv(basic, 0));
  const certs = kids[3];
  if (!certs || certs.tag !== 0xa0) return [];
  const seq = children(basic, certs)[0]!;
  return children(basic, seq).map((t) => Buffer.from(basic.subarray(t.start, t.end)));
}

/** The subject Name DER of a certificate. */
export function certSubject(cert: Uint8Array): Buffer {
  return certField(cert, 'subject');
}

/** The issuer Name DER of a certificate. */
export function certIssuer(cert: Uint8Array): Buffer {
  return certField(cert, 'issuer');
}

/** The issuer Name DER of a CRL. */
export function crlIssuer(crl: Uint8Array): Buffer {
  const tbs = children(crl, readTlv(crl, 0))[0]!;
  const f = children(crl, tbs);
  const t = f[f[0]?.tag === 0x02 ? 2 : 1]!; // optional version INTEGER, then signature, issuer
  return Buffer.from(crl.subarray(t.start, t.end));
}

/** The SubjectPublicKeyInfo DER of a certificate, or the input itself when it is an SPKI. */
export function spkiOf(certOrSpki: Uint8Array): Buffer {
  const first = children(certOrSpki, readTlv(certOrSpki, 0))[0];
  if (first && readTlv(certOrSpki, first.valueStart).tag === 0x06) return Buffer.from(certOrSpki);
  return certField(certOrSpki, 'spki');
}

function certField(cert: Uint8Array, which: 'issuer' | 'subject' | 'spki'): Buffer {
  const tbs = children(cert, readTlv(cert, 0))[0]!;
  const f = children(cert, tbs);
  const base = f[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
  const t = f[base + { issuer: 2, subject: 4, spki: 5 }[which]]!;
  return Buffer.from(cert.subarray(t.start, t.end));
}

/**
 * Converts PEM (first block) to DER; DER input is returned as a copy. Input starting with a
 * SEQUENCE tag is DER even if it contains PEM text (a CMS message may carry a PEM file).
 */
export function pemToDer(input: Uint8Array | string): Buffer {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  if (bytes[0] === 0x30 || !bytes.subarray(0, 8192).toString('latin1').includes('-----BEGIN ')) return bytes;
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(bytes.toString('latin1'));
  if (!m) throw new Error('PEM: no complete block');
  return Buffer.from(m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, ''), 'base64');
}

/** Encodes DER as PEM with the given label. */
export function derToPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Returns a copy of an OCSPResponse (or BasicOCSPResponse) with one bit of its signature flipped. */
export function flipOcspSignatureBit(der: Uint8Array): Buffer {
  const { basic, offset } = basicOcspResponse(der);
  const copy = Buffer.from(der);
  copy[offset + signedParts(basic).signatureLastByte]! ^= 0x01;
  return copy;
}

/** OCSP requests (RFC 6960 §4.1), with the nonce extension of RFC 8954. */
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { OCSPRequest, Request, TBSRequest, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { ParseError, PkiError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { childTlvs, readBoolean, readIntegerBytes, readOid, readTlv, sequenceChildren, tlvBytes, type Tlv } from '../encoding/der.js';
import { derBitString, derOctetString, derTlv } from '../encoding/der-writer.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { signData, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { Certificate } from '../x509/certificate.js';
import { certIdFromAsn, certIdToAsn, type CertId } from './cert-id.js';

/** OID of the OCSP nonce extension. */
export const OCSP_NONCE_OID = id_pkix_ocsp_nonce;

/** One certificate asked about, with its per-request extensions. */
export interface OcspRequestItem {
  certId: CertId;
  extensions: readonly x.Extension[];
}

/**
 * The nonce inside a nonce extension. RFC 8954 wraps it in an OCTET STRING inside extnValue (and
 * OpenSSL does too); older clients put the raw bytes in extnValue, so both are read.
 */
export function nonceValue(ext: x.Extension): Buffer {
  const v = Buffer.from(ext.extnValue.buffer);
  try {
    const t = readTlv(v, 0);
    if (t.tag === 0x04 && t.end === v.length) return v.subarray(t.valueStart);
  } catch {
    // not wrapped: the raw form
  }
  return v;
}

/** A nonce extension carrying `nonce` wrapped in an OCTET STRING (RFC 8954). */
export function nonceExtension(nonce: Uint8Array): x.Extension {
  if (nonce.length < 1 || nonce.length > 32) throw new PkiError('options.ocsp', 'an OCSP nonce is 1 to 32 bytes (RFC 8954)');
  return new x.Extension({ extnID: OCSP_NONCE_OID, critical: false, extnValue: new OctetString(derOctetString(nonce)) });
}

/** What readUsualShape lifts out of a request. */
interface HandRead {
  items: OcspRequestItem[];
  extensions: x.Extension[];
}

/** Extensions ::= SEQUENCE OF Extension, inside the [n] EXPLICIT wrapper `t`. */
function readExtensions(buf: Buffer, t: Tlv): x.Extension[] {
  const [seq, ...rest] = childTlvs(buf, t, 'OCSP request extensions');
  if (!seq || rest.length || seq.tag !== 0x30) throw new ParseError('OCSP request', 'malformed extensions');
  return childTlvs(buf, seq, 'OCSP request extensions').map((e) => {
    if (e.tag !== 0x30) throw new ParseError('OCSP request', 'an extension must be a SEQUENCE');
    const parts = childTlvs(buf, e, 'OCSP request extension');
    let i = 1;
    const critical = parts[i]?.tag === 0x01 ? readBoolean(buf, parts[i++]!) : false;
    const value = parts[i];
    if (!parts[0] || !value || value.tag !== 0x04 || i + 1 !== parts.length) throw new ParseError('OCSP request', 'malformed extension');
    return new x.Extension({ extnID: readOid(buf, parts[0]), critical, extnValue: new OctetString(new Uint8Array(buf.subarray(value.valueStart, value.end))) });
  });
}

/**
 * Reads by hand a request of the shape nearly every client sends: unsigned, no version, no
 * requestorName. The schema decoder costs about 0.6 ms a request, which a responder that signs
 * fresh answers (nonces) or meets a flood of distinct requests cannot afford; anything of another
 * shape, or that this reader refuses, goes to the schema decoder as before.
 */
function readUsualShape(der: Buffer, top: Tlv[]): HandRead {
  const what = 'OCSP request';
  if (top.length !== 1 || top[0]!.tag !== 0x30) throw new ParseError(what, 'signed, or not a SEQUENCE');
  const tbs = childTlvs(der, top[0]!, what);
  const [list, exts, ...rest] = tbs;
  if (!list || list.tag !== 0x30 || rest.length || (exts && exts.tag !== 0xa2)) throw new ParseError(what, 'not the usual shape');
  const items = childTlvs(der, list, what).map((r): OcspRequestItem => {
    if (r.tag !== 0x30) throw new ParseError(what, 'a Request must be a SEQUENCE');
    const [cid, single, ...more] = childTlvs(der, r, what);
    if (!cid || cid.tag !== 0x30 || more.length || (single && single.tag !== 0xa0)) throw new ParseError(what, 'malformed Request');
    const [alg, nameHash, keyHash, serial, ...extra] = childTlvs(der, cid, 'CertID');
    if (!alg || alg.tag !== 0x30 || nameHash?.tag !== 0x04 || keyHash?.tag !== 0x04 || !serial || extra.length) throw new ParseError(what, 'malformed CertID');
    const [oid, params, ...junk] = childTlvs(der, alg, 'CertID hashAlgorithm');
    if (!oid || junk.length || (params && params.tag !== 0x05)) throw new ParseError(what, 'malformed CertID hashAlgorithm');
    return {
      certId: {
        hashAlgorithm: readOid(der, oid),
        issuerNameHash: Buffer.from(der.subarray(nameHash.valueStart, nameHash.end)),
        issuerKeyHash: Buffer.from(der.subarray(keyHash.valueStart, keyHash.end)),
        serialNumber: readIntegerBytes(der, serial, 'CertID serialNumber'),
      },
      extensions: single ? readExtensions(der, single) : [],
    };
  });
  if (items.length === 0) throw new ParseError(what, 'requestList is empty');
  return { items, extensions: exts ? readExtensions(der, exts) : [] };
}

/** A parsed OCSP request that keeps its exact bytes. */
export class OcspRequest {
  readonly der: Buffer;
  /** The TBSRequest exactly as received (what a request signature covers). */
  readonly tbsDer: Buffer;
  /** Certificates sent with a signed request, exactly as encoded. */
  readonly certs: Certificate[];
  private cachedAsn?: OCSPRequest;
  private readonly hand?: HandRead;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'OCSP request');
    if (top.length < 1 || top.length > 2) throw new ParseError('OCSP request', 'expected tbsRequest and an optional signature');
    this.tbsDer = tlvBytes(der, top[0]!);
    try {
      this.hand = readUsualShape(der, top);
    } catch {
      this.cachedAsn = AsnConvert.parse(der, OCSPRequest);
      if (this.cachedAsn.tbsRequest.requestList.length === 0) throw new ParseError('OCSP request', 'requestList is empty');
    }
    this.certs = [];
    if (top[1]) {
      if (top[1].tag !== 0xa0) throw new ParseError('OCSP request', 'optionalSignature must be [0]');
      const sig = sequenceChildren(der.subarray(top[1].valueStart, top[1].end), 'OCSP request signature');
      const sigDer = der.subarray(top[1].valueStart, top[1].end);
      const certsT = sig[2];
      if (certsT) {
        if (certsT.tag !== 0xa0) throw new ParseError('OCSP request', 'signature certs must be [0]');
        const seq = sigDer.subarray(certsT.valueStart, certsT.end);
        this.certs = sequenceChildren(seq, 'OCSP request certs').map((t) => Certificate.parse(tlvBytes(seq, t)));
      }
    }
  }

  /** Parses an OCSP request from DER (or PEM); bad input is a ParseError. */
  static parse(input: Uint8Array | string): OcspRequest {
    const der = toDer(input, ['OCSP REQUEST'], 'OCSP request');
    return parsing('OCSP request', () => new OcspRequest(der));
  }

  /** The whole request as @peculiar objects (decoded on first use for a request read by hand). */
  get asn(): OCSPRequest {
    this.cachedAsn ??= parsing('OCSP request', () => AsnConvert.parse(this.der, OCSPRequest));
    return this.cachedAsn;
  }

  /** The certificates asked about. */
  get requests(): OcspRequestItem[] {
    if (this.hand) return this.hand.items;
    return this.asn.tbsRequest.requestList.map((r) => ({ certId: certIdFromAsn(r.reqCert), extensions: r.singleRequestExtensions ?? [] }));
  }
  get extensions(): readonly x.Extension[] {
    if (this.hand) return this.hand.extensions;
    return this.asn.tbsRequest.requestExtensions ?? [];
  }
  /** The request extension with this OID, if present. */
  extension(oid: string): x.Extension | undefined {
    return this.extensions.find((e) => e.extnID === oid);
  }
  /** The nonce the client sent, if any. */
  get nonce(): Buffer | undefined {
    const e = this.extension(OCSP_NONCE_OID);
    return e ? nonceValue(e) : undefined;
  }
  get requestorName(): x.GeneralName | undefined {
    return this.hand ? undefined : this.asn.tbsRequest.requestorName;
  }
  get isSigned(): boolean {
    return !this.hand && this.asn.optionalSignature !== undefined;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier | undefined {
    return this.hand ? undefined : this.asn.optionalSignature?.signatureAlgorithm;
  }
  /** Checks a signed request's signature; false for an unsigned request. */
  verifySignature(key: PublicKey, opts?: SignatureOptions): boolean {
    if (this.hand) return false;
    const sig = this.asn.optionalSignature;
    if (!sig) return false;
    return verifyData(key, sig.signatureAlgorithm, this.tbsDer, Buffer.from(sig.signature), opts);
  }
  toPem(): string {
    return toPem('OCSP REQUEST', this.der);
  }
}

/** Options of buildOcspRequest. */
export interface OcspRequestOptions {
  certIds: CertId[];
  /** A nonce (1-32 bytes), `true` for 16 random bytes (the default), `false` for none. */
  nonce?: Uint8Array | boolean;
  /** Sign the request: the requestor's key and certificate (its subject becomes requestorName). */
  signer?: { key: PrivateKey; cert: Certificate; chain?: Certificate[] };
}

/** Builds an OCSP request, unsigned unless a signer is given. */
export function buildOcspRequest(opts: OcspRequestOptions, sigOpts?: SignatureOptions): OcspRequest {
  if (opts.certIds.length === 0) throw new PkiError('options.ocsp', 'an OCSP request asks about at least one certificate');
  const nonce = opts.nonce === false ? undefined : opts.nonce === true || opts.nonce === undefined ? randomBytes(16) : opts.nonce;
  const tbs = new TBSRequest({
    requestorName: opts.signer ? new x.GeneralName({ directoryName: opts.signer.cert.subject }) : undefined,
    requestList: opts.certIds.map((id) => new Request({ reqCert: certIdToAsn(id) })),
    requestExtensions: nonce ? [nonceExtension(nonce)] : undefined,
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  if (!opts.signer) return OcspRequest.parse(derTlv(0x30, [tbsDer]));
  const { algorithm, signature } = signData(opts.signer.key, tbsDer, sigOpts);
  const certs = [opts.signer.cert, ...(opts.signer.chain ?? [])].map((c) => c.der);
  const sig = derTlv(0x30, [Buffer.from(AsnConvert.serialize(algorithm)), derBitString(signature), derTlv(0xa0, [derTlv(0x30, certs)])]);
  return OcspRequest.parse(derTlv(0x30, [tbsDer, derTlv(0xa0, [sig])]));
}

/** OCSP requests (RFC 6960 §4.1), with the nonce extension of RFC 8954. */
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { OCSPRequest, Request, TBSRequest, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { ParseError, PkiError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { readTlv, sequenceChildren, tlvBytes } from '../encoding/der.js';
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

/** A parsed OCSP request that keeps its exact bytes. */
export class OcspRequest {
  readonly der: Buffer;
  /** The TBSRequest exactly as received (what a request signature covers). */
  readonly tbsDer: Buffer;
  readonly asn: OCSPRequest;
  /** Certificates sent with a signed request, exactly as encoded. */
  readonly certs: Certificate[];

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'OCSP request');
    if (top.length < 1 || top.length > 2) throw new ParseError('OCSP request', 'expected tbsRequest and an optional signature');
    this.tbsDer = tlvBytes(der, top[0]!);
    this.asn = AsnConvert.parse(der, OCSPRequest);
    if (this.asn.tbsRequest.requestList.length === 0) throw new ParseError('OCSP request', 'requestList is empty');
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

  /** The certificates asked about. */
  get requests(): OcspRequestItem[] {
    return this.asn.tbsRequest.requestList.map((r) => ({ certId: certIdFromAsn(r.reqCert), extensions: r.singleRequestExtensions ?? [] }));
  }
  get extensions(): readonly x.Extension[] {
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
    return this.asn.tbsRequest.requestorName;
  }
  get isSigned(): boolean {
    return this.asn.optionalSignature !== undefined;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier | undefined {
    return this.asn.optionalSignature?.signatureAlgorithm;
  }
  /** Checks a signed request's signature; false for an unsigned request. */
  verifySignature(key: PublicKey, opts?: SignatureOptions): boolean {
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

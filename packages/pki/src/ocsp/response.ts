/** OCSP responses (RFC 6960 §4.2): building, parsing and verifying BasicOCSPResponses. */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertStatus,
  KeyHash,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  id_pkix_ocsp_basic,
} from '@peculiar/asn1-ocsp';
import { ParseError, PkiError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { readTlv, sequenceChildren, tlvBytes } from '../encoding/der.js';
import { derBitString, derTlv } from '../encoding/der-writer.js';
import { digest } from '../crypto/hash.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { signData, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { Certificate } from '../x509/certificate.js';
import { wholeSeconds } from '../x509/time.js';
import { reasonCode, reasonFromCode, type RevocationReason } from '../x509/crl.js';
import { OID } from '../oids.js';
import { certIdFromAsn, certIdToAsn, matchesCertId, publicKeyBits, sameCertId, type CertId } from './cert-id.js';
import { OCSP_NONCE_OID, nonceExtension, nonceValue, type OcspRequest } from './request.js';

/** The responseStatus values of RFC 6960 §4.2.1. */
export type OcspResponseStatus = 'successful' | 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const STATUS_CODES: Record<OcspResponseStatus, OCSPResponseStatus> = {
  successful: OCSPResponseStatus.successful,
  malformedRequest: OCSPResponseStatus.malformedRequest,
  internalError: OCSPResponseStatus.internalError,
  tryLater: OCSPResponseStatus.tryLater,
  sigRequired: OCSPResponseStatus.sigRequired,
  unauthorized: OCSPResponseStatus.unauthorized,
};

/** A certificate's status as one SingleResponse states it. */
export interface OcspSingleResponse {
  certId: CertId;
  status: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  reason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate?: Date;
  extensions: readonly x.Extension[];
}

/** Who signed a response: the responder's Name DER or the SHA-1 hash of its public key bits. */
export interface ResponderIdInfo {
  byName?: Buffer;
  byKeyHash?: Buffer;
}

/** The parts only a successful response has. */
interface BasicParts {
  der: Buffer;
  tbsDer: Buffer;
  asn: BasicOCSPResponse;
  responderId: ResponderIdInfo;
  certs: Certificate[];
  sigValue: Buffer;
  sigUnusedBits: number;
}

/** A parsed OCSP response (any status) that keeps the exact signed bytes. */
export class OcspResponse {
  readonly der: Buffer;
  readonly asn: OCSPResponse;
  readonly status: OcspResponseStatus;
  private readonly basic?: BasicParts;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'OCSP response');
    if (top.length < 1 || top.length > 2 || top[0]!.tag !== 0x0a) throw new ParseError('OCSP response', 'expected responseStatus and optional responseBytes');
    this.asn = AsnConvert.parse(der, OCSPResponse);
    const status = (Object.keys(STATUS_CODES) as OcspResponseStatus[]).find((s) => STATUS_CODES[s] === this.asn.responseStatus);
    if (!status) throw new ParseError('OCSP response', `unknown responseStatus ${this.asn.responseStatus}`);
    this.status = status;
    const rb = this.asn.responseBytes;
    if (status === 'successful') {
      if (!rb) throw new ParseError('OCSP response', 'a successful response must carry responseBytes');
      if (rb.responseType !== id_pkix_ocsp_basic) throw new ParseError('OCSP response', `unsupported response type ${rb.responseType}`);
      this.basic = parseBasic(Buffer.from(rb.response.buffer));
    } else if (rb) {
      throw new ParseError('OCSP response', 'an error response must not carry responseBytes');
    }
  }

  /** Parses an OCSP response from DER (or PEM); bad input is a ParseError. */
  static parse(input: Uint8Array | string): OcspResponse {
    const der = toDer(input, ['OCSP RESPONSE'], 'OCSP response');
    return parsing('OCSP response', () => new OcspResponse(der));
  }

  private need(): BasicParts {
    if (!this.basic) throw new PkiError('ocsp.status', `the OCSP response status is ${this.status}; it has no response data`);
    return this.basic;
  }
  get isSuccessful(): boolean {
    return this.status === 'successful';
  }
  /** The BasicOCSPResponse DER (successful responses only). */
  get basicDer(): Buffer {
    return this.need().der;
  }
  /** The ResponseData exactly as received: what the signature covers. */
  get tbsDer(): Buffer {
    return this.need().tbsDer;
  }
  get basicAsn(): BasicOCSPResponse {
    return this.need().asn;
  }
  get responderId(): ResponderIdInfo {
    return this.need().responderId;
  }
  get producedAt(): Date {
    return this.need().asn.tbsResponseData.producedAt;
  }
  get responses(): OcspSingleResponse[] {
    return this.need().asn.tbsResponseData.responses.map(singleFromAsn);
  }
  get extensions(): readonly x.Extension[] {
    return this.need().asn.tbsResponseData.responseExtensions ?? [];
  }
  /** The response extension with this OID, if present. */
  extension(oid: string): x.Extension | undefined {
    return this.extensions.find((e) => e.extnID === oid);
  }
  /** The nonce echoed from the request, if any. */
  get nonce(): Buffer | undefined {
    const e = this.extension(OCSP_NONCE_OID);
    return e ? nonceValue(e) : undefined;
  }
  /** Certificates included to help verify the response (a delegated responder's), exactly as encoded. */
  get certs(): Certificate[] {
    return this.need().certs;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier {
    return this.need().asn.signatureAlgorithm;
  }
  get signatureValue(): Buffer {
    return this.need().sigValue;
  }
  /** The SingleResponse about `cert` issued by `issuer`, whatever hash its CertID used. */
  responseFor(cert: Certificate | { serialNumber: Uint8Array }, issuer: Certificate): OcspSingleResponse | undefined {
    return this.responses.find((r) => matchesCertId(r.certId, cert, issuer));
  }
  /** The SingleResponse with exactly this CertID. */
  responseForId(id: CertId): OcspSingleResponse | undefined {
    return this.responses.find((r) => sameCertId(r.certId, id));
  }
  /** True when `cert` is the certificate the responder ID names. */
  isSignedBy(cert: Certificate): boolean {
    const id = this.responderId;
    if (id.byName) return id.byName.equals(cert.subjectDer);
    return id.byKeyHash!.equals(digest('sha1', publicKeyBits(cert)));
  }
  /** Checks the signature with the responder's public key (only the signature; see verifyOcspResponse). */
  verifySignature(key: PublicKey, opts?: SignatureOptions): boolean {
    const b = this.need();
    if (b.sigUnusedBits !== 0) return false;
    return verifyData(key, b.asn.signatureAlgorithm, b.tbsDer, b.sigValue, opts);
  }
  toPem(): string {
    return toPem('OCSP RESPONSE', this.der);
  }
}

function parseBasic(der: Buffer): BasicParts {
  const top = sequenceChildren(der, 'BasicOCSPResponse');
  if (top.length < 3 || top.length > 4) throw new ParseError('OCSP response', 'BasicOCSPResponse has the wrong number of fields');
  const tbsDer = tlvBytes(der, top[0]!);
  const sigT = top[2]!;
  if (sigT.tag !== 0x03 || sigT.end - sigT.valueStart < 1 || der[sigT.valueStart]! > 7) throw new ParseError('OCSP response', 'malformed signature BIT STRING');
  const asn = AsnConvert.parse(der, BasicOCSPResponse);
  if (asn.tbsResponseData.version !== 0) throw new ParseError('OCSP response', `unsupported ResponseData version ${asn.tbsResponseData.version}`);
  let certs: Certificate[] = [];
  if (top[3]) {
    if (top[3].tag !== 0xa0) throw new ParseError('OCSP response', 'certs must be [0]');
    const seq = der.subarray(top[3].valueStart, top[3].end);
    certs = sequenceChildren(seq, 'OCSP response certs').map((t) => Certificate.parse(tlvBytes(seq, t)));
  }
  // ResponseData: [0] version (optional), then the responderID choice [1] Name or [2] KeyHash.
  const parts = sequenceChildren(tbsDer, 'ResponseData');
  const ridT = parts[parts[0]?.tag === 0xa0 ? 1 : 0];
  if (!ridT || (ridT.tag !== 0xa1 && ridT.tag !== 0xa2)) throw new ParseError('OCSP response', 'responderID missing');
  const inner = readTlv(tbsDer, ridT.valueStart, 'responderID');
  if (inner.end !== ridT.end) throw new ParseError('OCSP response', 'responderID has trailing bytes');
  const responderId: ResponderIdInfo =
    ridT.tag === 0xa1 ? { byName: tlvBytes(tbsDer, inner) } : { byKeyHash: Buffer.from(tbsDer.subarray(inner.valueStart, inner.end)) };
  if (responderId.byKeyHash && (inner.tag !== 0x04 || responderId.byKeyHash.length !== 20)) throw new ParseError('OCSP response', 'responder KeyHash must be a 20-byte OCTET STRING');
  return {
    der,
    tbsDer,
    asn,
    responderId,
    certs,
    sigValue: Buffer.from(der.subarray(sigT.valueStart + 1, sigT.end)),
    sigUnusedBits: der[sigT.valueStart]!,
  };
}

function singleFromAsn(r: SingleResponse): OcspSingleResponse {
  const out: OcspSingleResponse = {
    certId: certIdFromAsn(r.certID),
    status: r.certStatus.revoked ? 'revoked' : r.certStatus.unknown !== undefined ? 'unknown' : 'good',
    thisUpdate: r.thisUpdate,
    nextUpdate: r.nextUpdate,
    extensions: r.singleExtensions ?? [],
  };
  if (r.certStatus.revoked) {
    out.revocationTime = r.certStatus.revoked.revocationTime;
    const code = r.certStatus.revoked.revocationReason?.reason;
    if (code !== undefined) {
      out.reason = reasonFromCode(code);
      if (!out.reason) throw new ParseError('OCSP response', `unknown revocation reason ${code}`);
    }
  }
  return out;
}

/** One certificate's status for buildOcspResponse. */
export interface OcspStatusEntry {
  certId: CertId;
  status: 'good' | 'revoked' | 'unknown';
  /** Required for 'revoked'. */
  revocationTime?: Date;
  reason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** Options of buildOcspResponse. */
export interface OcspResponseOptions {
  /** The certificate of the key that signs: the CA itself or a delegated responder. */
  responderCert: Certificate;
  signer: PrivateKey;
  /** Name the responder by its subject or by its key hash (default: key hash, the smaller). */
  responderIdBy?: 'name' | 'key';
  producedAt: Date;
  responses: OcspStatusEntry[];
  /** A nonce to put in the response (1-32 bytes), or the request whose nonce extension to echo verbatim. */
  nonce?: Uint8Array | OcspRequest;
  /** Certificates to include (a delegated responder's certificate, and its chain if wanted). */
  certs?: Certificate[];
}

/** Builds and signs a successful OCSP response. */
export function buildOcspResponse(opts: OcspResponseOptions, sigOpts?: SignatureOptions): OcspResponse {
  if (opts.responses.length === 0) throw new PkiError('options.ocsp', 'an OCSP response states at least one certificate status');
  const by = opts.responderIdBy ?? 'key';
  const responderID =
    by === 'name'
      ? new ResponderID({ byName: AsnConvert.parse(opts.responderCert.subjectDer, x.Name) })
      : new ResponderID({ byKey: new KeyHash(digest('sha1', publicKeyBits(opts.responderCert))) });
  let nonceExt: x.Extension | undefined;
  if (opts.nonce instanceof Uint8Array) nonceExt = nonceExtension(opts.nonce);
  else if (opts.nonce) nonceExt = opts.nonce.extension(OCSP_NONCE_OID); // echoed byte for byte, as clients compare extnValue
  const data = new ResponseData({
    responderID,
    producedAt: wholeSeconds(opts.producedAt),
    responses: opts.responses.map(singleToAsn),
    responseExtensions: nonceExt ? [nonceExt] : undefined,
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(data));
  const { algorithm, signature } = signData(opts.signer, tbsDer, sigOpts);
  const parts = [tbsDer, Buffer.from(AsnConvert.serialize(algorithm)), derBitString(signature)];
  if (opts.certs?.length) parts.push(derTlv(0xa0, [derTlv(0x30, opts.certs.map((c) => c.der))]));
  const basic = derTlv(0x30, parts);
  const resp = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basic) }),
  });
  return OcspResponse.parse(Buffer.from(AsnConvert.serialize(resp)));
}

function singleToAsn(e: OcspStatusEntry): SingleResponse {
  let certStatus: CertStatus;
  if (e.status === 'revoked') {
    if (!e.revocationTime) throw new PkiError('options.ocsp', 'a revoked status needs its revocation time');
    certStatus = new CertStatus({
      revoked: new RevokedInfo({
        revocationTime: wholeSeconds(e.revocationTime),
        revocationReason: e.reason !== undefined ? new x.CRLReason(reasonCode(e.reason)) : undefined,
      }),
    });
  } else if (e.status === 'unknown') {
    certStatus = new CertStatus({ unknown: null });
  } else {
    certStatus = new CertStatus({ good: null });
  }
  return new SingleResponse({
    certID: certIdToAsn(e.certId),
    certStatus,
    thisUpdate: wholeSeconds(e.thisUpdate),
    nextUpdate: e.nextUpdate ? wholeSeconds(e.nextUpdate) : undefined,
  });
}

/** Builds an unsuccessful OCSP response: only a status, no signature (RFC 6960 §2.3). */
export function buildOcspErrorResponse(status: Exclude<OcspResponseStatus, 'successful'>): OcspResponse {
  return OcspResponse.parse(Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: STATUS_CODES[status] }))));
}

/** The outcome of verifyOcspResponse. */
export interface OcspVerification {
  valid: boolean;
  /** The certificate whose key signed the response, when one was found. */
  signer?: Certificate;
  /** Why the response is not valid. */
  error?: string;
}

/**
 * Checks that a response was signed by an authorized responder for certificates of `issuer`
 * (RFC 6960 §4.2.2.2): the issuer itself, or a certificate embedded in the response (or given in
 * `responders`) that the issuer signed and that has the id-kp-OCSPSigning extended key usage.
 * Responder certificate validity and revocation are the caller's policy and are not checked here.
 */
export function verifyOcspResponse(resp: OcspResponse, issuer: Certificate, opts: { responders?: Certificate[]; sigOpts?: SignatureOptions; issuerSigOpts?: SignatureOptions } = {}): OcspVerification {
  if (!resp.isSuccessful) return { valid: false, error: `response status is ${resp.status}` };
  const foreign = resp.responses.find((r) => !matchesCertId(r.certId, { serialNumber: r.certId.serialNumber }, issuer));
  if (foreign) return { valid: false, error: 'the response covers a certificate of another issuer' };
  const candidates = [issuer, ...resp.certs, ...(opts.responders ?? [])];
  const signer = candidates.find((c) => resp.isSignedBy(c));
  if (!signer) return { valid: false, error: 'no certificate matches the responder ID' };
  if (signer !== issuer && !signer.der.equals(issuer.der)) {
    if (!signer.issuerDer.equals(issuer.subjectDer)) return { valid: false, signer, error: 'delegated responder certificate is not issued by the CA' };
    if (!signer.verifySignature(issuer.publicKey, opts.issuerSigOpts)) return { valid: false, signer, error: 'delegated responder certificate signature is invalid' };
    if (!(signer.extKeyUsage ?? []).includes(OID.kpOcspSigning)) return { valid: false, signer, error: 'delegated responder certificate lacks id-kp-OCSPSigning' };
  }
  if (!resp.verifySignature(signer.publicKey, opts.sigOpts)) return { valid: false, signer, error: 'response signature is invalid' };
  return { valid: true, signer };
}

/**
 * Verifying a time-stamp token (RFC 3161 §2.4.2, RFC 5816): the TSA's signature, the ESS
 * attribute binding it to the TSA certificate, that certificate's timeStamping purpose and trust
 * at genTime, and that the token stamps the data (imprint) of this request (nonce, policy).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { PkiError } from '../errors.js';
import { digest, hashOid, type HashName } from '../crypto/hash.js';
import { verifyCms } from '../cms/verify.js';
import type { Certificate } from '../x509/certificate.js';
import { namesEqual, normalizeName } from '../validation/names.js';
import { validateCertificate } from '../validation/validator.js';
import type { ValidationFailure } from '../validation/result.js';
import type { Crl } from '../x509/crl.js';
import { readTlv } from '../encoding/der.js';
import { OID } from '../oids.js';
import { essCertIdMismatch, parseSigningCertificate, type EssCertId } from './ess.js';
import { bigIntHex, imprintHash, sameImprint, type MessageImprint } from './fields.js';
import { TimeStampResponse } from './response.js';
import { tsaCertificateProblem } from './tsa-cert.js';
import { TimeStampToken } from './token.js';
import type { Accuracy, TstInfo } from './tst-info.js';

/** Why a token was refused. */
export type TimeStampFailureCode =
  /** The response's status is not granted (the failInfo and text are in the message). */
  | 'notGranted'
  /** The token has not exactly one SignerInfo, or its TSTInfo version is not 1. */
  | 'malformedToken'
  /** No certificate (embedded or given) matches the SignerInfo. */
  | 'noSignerCertificate'
  /** The token is signed by another certificate than the expected TSA certificate. */
  | 'wrongTsa'
  /** Signature, messageDigest, contentType or algorithm-protection check failed. */
  | 'badSignature'
  /** Neither signingCertificate nor signingCertificateV2 is among the signed attributes. */
  | 'signingCertificateMissing'
  /** The ESS certificate identifier does not name the signer certificate. */
  | 'signingCertificateMismatch'
  /** The signer certificate lacks the critical, sole timeStamping extended key usage. */
  | 'eku'
  /** The TSTInfo tsa name is not a name of the signer certificate. */
  | 'tsaNameMismatch'
  /** genTime is outside the TSA certificate's validity period. */
  | 'tsaCertificateNotValid'
  /** The TSA certificate does not chain to the trusted certificates at genTime. */
  | 'untrustedTsa'
  /** The token stamps other data (or uses another hash) than the one given. */
  | 'imprintMismatch'
  /** The imprint's hash algorithm is not one this library computes. */
  | 'unsupportedAlgorithm'
  /** The nonce differs from the request's, or is missing. */
  | 'nonceMismatch'
  /** The token's policy is not one of those accepted. */
  | 'policyMismatch';

/** A token that verified, with what it certifies. */
export interface TimeStampValid {
  valid: true;
  genTime: Date;
  genTimeText: string;
  serialNumber: bigint;
  serialHex: string;
  policy: string;
  accuracy?: Accuracy;
  ordering: boolean;
  nonce?: bigint;
  messageImprint: MessageImprint;
  tsaCert: Certificate;
  /** The TSA certificate's path to a trusted certificate (anchor last), when `trusted` was given. */
  path?: Certificate[];
  tstInfo: TstInfo;
  token: TimeStampToken;
}

/** A refused token, with a typed reason. */
export interface TimeStampInvalid {
  valid: false;
  code: TimeStampFailureCode;
  message: string;
  /** Path validation's own reason, for untrustedTsa. */
  pathFailure?: ValidationFailure;
  tsaCert?: Certificate;
  tstInfo?: TstInfo;
}

export type TimeStampVerification = TimeStampValid | TimeStampInvalid;

/** What the verifier knows: the data (or its imprint), the request's nonce, and whom it trusts. */
export interface VerifyTimeStampOptions {
  /** The time-stamped data; hashed with the token's imprint algorithm. */
  data?: Uint8Array;
  /** Or the imprint the request sent (hash algorithm OID or name, and the hash). */
  messageImprint?: { hashAlgorithm: string | HashName; hashedMessage: Uint8Array };
  /** The request's nonce: the token must echo it. */
  nonce?: bigint;
  /** Acceptable TSA policies (default: any). */
  policies?: string[];
  /** The TSA certificate expected to have signed (directly trusted: no path is built). */
  tsaCert?: Certificate;
  /** Trust anchors: the TSA certificate must chain to one of them, valid at genTime. */
  trusted?: Certificate[];
  /** Intermediates for that path besides those in the token. */
  intermediates?: Certificate[];
  /** CRLs for that path (revocation is checked when given). */
  crls?: Crl[];
  /** Candidate signer certificates when the token carries none (requests without certReq). */
  certificates?: Certificate[];
  sm2UserId?: Uint8Array;
}

/**
 * Verifies a TimeStampToken (or a TimeStampResp holding one). Malformed input is a ParseError; a
 * token that fails a check gives `valid: false` with a code. At least one of `tsaCert` and
 * `trusted`, and one of `data` and `messageImprint`, must be given (PkiError otherwise): a token
 * checked against nothing proves nothing.
 */
export function verifyTimeStampToken(input: Uint8Array | string | TimeStampToken | TimeStampResponse, opts: VerifyTimeStampOptions): TimeStampVerification {
  if (!opts.tsaCert && !opts.trusted?.length) throw new PkiError('options.tsp', 'verifying a time stamp needs the TSA certificate or trusted certificates');
  if (!opts.data && !opts.messageImprint) throw new PkiError('options.tsp', 'verifying a time stamp needs the data or its messageImprint');
  const token = tokenOf(input);
  if (!(token instanceof TimeStampToken)) return token;
  const tst = token.tstInfo;
  const sd = token.signedData;
  const fail = (code: TimeStampFailureCode, message: string, more: Partial<TimeStampInvalid> = {}): TimeStampInvalid => ({ valid: false, code, message, tstInfo: tst, ...more });

  if (sd.signerInfos.length !== 1) return fail('malformedToken', `a time-stamp token carries exactly one signature, this one ${sd.signerInfos.length}`);
  if (tst.version !== 1) return fail('malformedToken', `TSTInfo version ${tst.version} is not 1`);
  const candidates = [...(opts.tsaCert ? [opts.tsaCert] : []), ...(opts.certificates ?? [])];
  const cms = verifyCms(sd, { certificates: candidates, sm2UserId: opts.sm2UserId });
  const signer = cms.signers[0]!;
  const cert = signer.certificate;
  if (!cert) return fail('noSignerCertificate', 'no certificate in the token or given matches its SignerInfo');
  if (opts.tsaCert && !cert.der.equals(opts.tsaCert.der)) return fail('wrongTsa', `the token is signed by "${cert.subjectText}", not the expected TSA certificate`, { tsaCert: cert });
  if (!signer.valid) return fail('badSignature', signer.error ?? 'the signature does not verify', { tsaCert: cert });

  const ess = essProblem(sd.signerInfos[0]!.signedAttributes ?? [], cert);
  if (ess) return fail(ess.code, ess.message, { tsaCert: cert });
  const purpose = tsaCertificateProblem(cert);
  if (purpose) return fail('eku', `"${cert.subjectText}" may not sign time stamps: ${purpose}`, { tsaCert: cert });
  if (tst.tsaDer && !namesCertificate(tst.tsaDer, cert)) return fail('tsaNameMismatch', 'the TSTInfo tsa name is not a name of the signer certificate', { tsaCert: cert });
  if (tst.genTime < cert.notBefore || tst.genTime > cert.notAfter) {
    return fail('tsaCertificateNotValid', `genTime ${tst.genTimeText} is outside the TSA certificate's validity`, { tsaCert: cert });
  }
  let path: Certificate[] | undefined;
  if (opts.trusted?.length) {
    const v = validateCertificate(cert, {
      anchors: opts.trusted,
      intermediates: [...sd.certificates, ...(opts.intermediates ?? [])],
      crls: opts.crls,
      time: tst.genTime,
      sm2UserId: opts.sm2UserId,
    });
    if (!v.valid) return fail('untrustedTsa', `the TSA certificate is not trusted at genTime: ${v.reason.message}`, { tsaCert: cert, pathFailure: v.reason });
    path = v.path;
  }

  const imprint = imprintProblem(tst.messageImprint, opts);
  if (imprint) return fail(imprint.code, imprint.message, { tsaCert: cert });
  if (opts.nonce !== undefined && tst.nonce !== opts.nonce) {
    return fail('nonceMismatch', tst.nonce === undefined ? 'the token has no nonce' : `the token's nonce ${bigIntHex(tst.nonce)} is not the request's ${bigIntHex(opts.nonce)}`, { tsaCert: cert });
  }
  if (opts.policies && !opts.policies.includes(tst.policy)) return fail('policyMismatch', `policy ${tst.policy} is not among the accepted ones`, { tsaCert: cert });

  return {
    valid: true,
    genTime: tst.genTime,
    genTimeText: tst.genTimeText,
    serialNumber: tst.serialNumber,
    serialHex: tst.serialHex,
    policy: tst.policy,
    accuracy: tst.accuracy,
    ordering: tst.ordering,
    nonce: tst.nonce,
    messageImprint: tst.messageImprint,
    tsaCert: cert,
    path,
    tstInfo: tst,
    token,
  };
}

function tokenOf(input: Uint8Array | string | TimeStampToken | TimeStampResponse): TimeStampToken | TimeStampInvalid {
  if (input instanceof TimeStampToken) return input;
  const resp = input instanceof TimeStampResponse ? input : isResponse(input) ? TimeStampResponse.parse(input) : undefined;
  if (!resp) return TimeStampToken.parse(input as Uint8Array | string);
  if (!resp.token) {
    const why = [...resp.failInfo, ...resp.statusText].join('; ');
    return { valid: false, code: 'notGranted', message: `the TSA answered ${resp.status}${why ? `: ${why}` : ''}` };
  }
  return resp.token;
}

/** Tells a TimeStampResp from a token: by PEM label, or in DER by the first field (PKIStatusInfo is a SEQUENCE, a ContentInfo starts with an OID). */
function isResponse(input: Uint8Array | string): boolean {
  const bytes = Buffer.from(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  const head = bytes.subarray(0, 4096).toString('latin1');
  if (head.includes('-----BEGIN ')) return head.includes('-----BEGIN TIMESTAMP RESPONSE-----');
  try {
    return readTlv(bytes, readTlv(bytes, 0).valueStart).tag === 0x30;
  } catch {
    return false; // let the token parser say what is wrong
  }
}

function essProblem(attrs: Array<{ type: string; values: Buffer[] }>, cert: Certificate): { code: TimeStampFailureCode; message: string } | undefined {
  const v2 = attrs.filter((a) => a.type === OID.aaSigningCertificateV2);
  const v1 = attrs.filter((a) => a.type === OID.aaSigningCertificate);
  if (v1.length + v2.length === 0) return { code: 'signingCertificateMissing', message: 'the token has neither a signingCertificate nor a signingCertificateV2 attribute' };
  const attr = v2[0] ?? v1[0]!;
  if (v1.length > 1 || v2.length > 1 || attr.values.length !== 1) return { code: 'signingCertificateMismatch', message: 'the ESS signing certificate attribute must occur once with one value' };
  let ids: EssCertId[];
  try {
    ids = parseSigningCertificate(attr.values[0]!, v2.length ? 2 : 1);
  } catch (e) {
    if (e instanceof PkiError) return { code: 'signingCertificateMismatch', message: e.message };
    throw e;
  }
  // RFC 2634 §5.4: the first identifier names the signing certificate.
  const problem = essCertIdMismatch(ids[0]!, cert);
  return problem ? { code: 'signingCertificateMismatch', message: problem } : undefined;
}

/** True when the GeneralName DER names the certificate: its subject, or one of its alternative names. */
function namesCertificate(generalName: Buffer, cert: Certificate): boolean {
  try {
    if (generalName[0] === 0xa4) {
      const inner = readTlv(generalName, readTlv(generalName, 0).valueStart);
      return namesEqual(normalizeName(generalName.subarray(inner.start, inner.end)), normalizeName(cert.subjectDer));
    }
    return cert.subjectAltNames.some((n) => Buffer.from(AsnConvert.serialize(n)).equals(generalName));
  } catch (e) {
    if (e instanceof PkiError) return false;
    throw e;
  }
}

function imprintProblem(tokenImprint: MessageImprint, opts: VerifyTimeStampOptions): { code: TimeStampFailureCode; message: string } | undefined {
  if (opts.messageImprint) {
    const alg = opts.messageImprint.hashAlgorithm;
    const oid = alg.includes('.') ? alg : hashOid(alg as HashName);
    if (!oid) throw new PkiError('options.tsp', `unknown hash ${alg}`);
    const expected: MessageImprint = { hashAlgorithm: oid, hashedMessage: Buffer.from(opts.messageImprint.hashedMessage) };
    if (!sameImprint(tokenImprint, expected)) return { code: 'imprintMismatch', message: 'the token stamps another messageImprint than the one given' };
  }
  if (opts.data) {
    const hash = imprintHash(tokenImprint.hashAlgorithm);
    const params = tokenImprint.hashParameters;
    if (!hash || (params && !(params.length === 2 && params[0] === 0x05 && params[1] === 0x00))) {
      return { code: 'unsupportedAlgorithm', message: `the imprint hash algorithm ${tokenImprint.hashAlgorithm} is not supported (or has parameters)` };
    }
    if (!digest(hash.name, opts.data).equals(tokenImprint.hashedMessage)) return { code: 'imprintMismatch', message: `the token stamps other data (its ${hash.name} imprint differs)` };
  }
  return undefined;
}

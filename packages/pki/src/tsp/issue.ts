/**
 * The time-stamp authority's decision and signature, as a pure function: a TimeStampReq in, a
 * TimeStampResp out. Clock, serial numbers and audit belong to the caller (the TSA service);
 * every problem with the request is answered with a rejection and the PKIFailureInfo RFC 3161
 * (and OpenSSL's TSA) gives it, never with an exception.
 */
import { PkiError } from '../errors.js';
import { derTlv } from '../encoding/der-writer.js';
import type { HashName } from '../crypto/hash.js';
import type { PrivateKey } from '../crypto/keys.js';
import { signCmsDer, type Sm2CmsSignatureOid } from '../cms/sign.js';
import type { Certificate } from '../x509/certificate.js';
import { OID } from '../oids.js';
import { encodeSigningCertificate, type EssVersion } from './ess.js';
import { imprintHash } from './fields.js';
import { TimeStampRequest } from './request.js';
import { encodeTimeStampResp, timeStampRejection } from './response.js';
import { tsaCertificateProblem } from './tsa-cert.js';
import { encodeTstInfo, type Accuracy } from './tst-info.js';

/** Hashes a TSA accepts by default: SHA-2 and SM3; SHA-1 and unknown OIDs get badAlg. */
export const DEFAULT_TSA_HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512', 'sm3'];

/** Everything issueTimeStamp needs; the request is the only untrusted input. */
export interface IssueTimeStampOptions {
  /** The TimeStampReq as received (DER), or already parsed. */
  request: Uint8Array | TimeStampRequest;
  /** The TSA certificate: extendedKeyUsage timeStamping only, critical (profile `tsa`). */
  tsaCert: Certificate;
  tsaKey: PrivateKey;
  /** Unique serial number chosen by the caller: positive, 64 to 160 bits. */
  serial: bigint | Uint8Array;
  /** The time to certify, from the TSA's trusted clock; null when the clock cannot be trusted (timeNotAvailable). */
  genTime: Date | null;
  /** The TSA policy used when the request names none. */
  policy: string;
  /** Policies a request may ask for (default: only `policy`). */
  acceptedPolicies?: string[];
  accuracy?: Accuracy;
  ordering?: boolean;
  /** Certificates to add after the TSA certificate (its CA chain) when the request sets certReq. */
  includeCerts?: Certificate[];
  /** Put the TSA certificate subject in TSTInfo.tsa as a directoryName (default true). */
  includeTsaName?: boolean;
  /** Hashes accepted in the messageImprint (default DEFAULT_TSA_HASHES). */
  acceptedHashes?: readonly HashName[];
  /** Request extension OIDs this TSA understands (default none). */
  acceptedExtensions?: readonly string[];
  /**
   * Which unknown request extensions are refused with unacceptedExtension: 'all' (default, RFC 3161
   * §2.4.1 and GM/T 0033 §7.1: "whether marked critical or not") or only the 'critical' ones.
   */
  refuseUnknownExtensions?: 'all' | 'critical';
  /** ESS attribute: signingCertificateV2 (2, default) or signingCertificate with SHA-1 (1, RFC 5816 compatibility). */
  essVersion?: EssVersion;
  /** Hash of the ESSCertIDv2 (default SHA-256; SM3 for an SM2 TSA, so that a GM-only verifier can check it). */
  essHash?: HashName;
  /** Signature hash for RSA/ECDSA (default SHA-256; SHA-384 for P-384). SM2 always uses SM3. */
  signatureHash?: HashName;
  /** SM2 only: write GM/T 0010's signedData OID as the ContentInfo type (default false: id-signedData). */
  gm?: boolean;
  /** SM2 only, with gm: the SignerInfo signature OID (default sm2-1, as GM/T 0010 specifies). */
  sm2SignatureOid?: Sm2CmsSignatureOid;
  /** Add the RFC 6211 CMSAlgorithmProtection signed attribute (default true; GM/T 0033-2023 asks for algorithm protection). */
  algorithmProtection?: boolean;
  sm2UserId?: Uint8Array;
  /** Told of an unexpected error that became a systemFailure response (for the caller's log). */
  onSystemFailure?: (error: unknown) => void;
}

/**
 * Answers a time-stamp request: a TimeStampResp (DER) that is either granted with a token or a
 * rejection with its failInfo. Throws PkiError only for the caller's own mistakes (a TSA
 * certificate without the timeStamping purpose, a key that does not match it, a bad serial).
 */
export function issueTimeStamp(o: IssueTimeStampOptions): Buffer {
  const certProblem = tsaCertificateProblem(o.tsaCert);
  if (certProblem) throw new PkiError('options.tsp', `the TSA certificate cannot sign time stamps: ${certProblem}`);
  if (!o.tsaCert.spkiDer.equals(o.tsaKey.publicKey.spki)) throw new PkiError('options.tsp', 'the TSA key does not belong to the TSA certificate');
  const serial = serialOf(o.serial);

  let req: TimeStampRequest;
  try {
    req = o.request instanceof TimeStampRequest ? o.request : TimeStampRequest.parse(o.request);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    return timeStampRejection('badDataFormat', `the request is not a DER TimeStampReq (${e.message})`);
  }
  if (req.version !== 1) return timeStampRejection('badRequest', `unsupported request version ${req.version}`);
  const mi = req.messageImprint;
  const hash = imprintHash(mi.hashAlgorithm);
  if (!hash || !(o.acceptedHashes ?? DEFAULT_TSA_HASHES).includes(hash.name)) return timeStampRejection('badAlg', `hash algorithm ${mi.hashAlgorithm} is not accepted`);
  if (mi.hashParameters && !mi.hashParameters.equals(NULL)) return timeStampRejection('badAlg', 'the hash AlgorithmIdentifier has parameters');
  if (mi.hashedMessage.length !== hash.length) return timeStampRejection('badDataFormat', `a ${hash.name} imprint is ${hash.length} bytes, not ${mi.hashedMessage.length}`);
  const policies = o.acceptedPolicies ?? [o.policy];
  if (req.reqPolicy && !policies.includes(req.reqPolicy)) return timeStampRejection('unacceptedPolicy', `policy ${req.reqPolicy} is not offered by this TSA`);
  const unknown = req.extensions.filter((e) => !(o.acceptedExtensions ?? []).includes(e.oid) && (e.critical || o.refuseUnknownExtensions !== 'critical'));
  if (unknown.length) return timeStampRejection('unacceptedExtension', `unsupported extension ${unknown.map((e) => e.oid).join(', ')}`);
  const genTime = o.genTime;
  if (!genTime || Number.isNaN(genTime.getTime()) || genTime.getUTCFullYear() < 1 || genTime.getUTCFullYear() > 9999) {
    return timeStampRejection('timeNotAvailable', 'the TSA has no trustworthy time');
  }

  try {
    const tstInfo = encodeTstInfo({
      policy: req.reqPolicy ?? o.policy,
      messageImprint: req.messageImprintDer,
      serialNumber: serial,
      genTime,
      accuracy: o.accuracy,
      ordering: o.ordering,
      nonce: req.nonce,
      tsa: o.includeTsaName === false ? undefined : directoryName(o.tsaCert.subjectDer),
    });
    const sm2 = o.tsaKey.kind === 'sm2';
    const essVersion = o.essVersion ?? 2;
    const essType = essVersion === 1 ? OID.aaSigningCertificate : OID.aaSigningCertificateV2;
    const token = signCmsDer({
      content: tstInfo,
      eContentType: OID.ctTstInfo,
      signer: o.tsaKey,
      cert: o.tsaCert,
      chain: o.includeCerts,
      // RFC 3161 §2.4.1: the certificates field is present exactly when the request asks for it.
      includeCertificates: req.certReq,
      signingTime: false,
      hash: o.signatureHash,
      gm: sm2 && !!o.gm,
      sm2SignatureOid: o.sm2SignatureOid,
      sm2UserId: o.sm2UserId,
      algorithmProtection: o.algorithmProtection ?? true,
      signedAttributes: [{ type: essType, values: [encodeSigningCertificate(o.tsaCert, essVersion, o.essHash ?? (sm2 ? 'sm3' : 'sha256'))] }],
    });
    return encodeTimeStampResp({ status: 'granted', token });
  } catch (e) {
    o.onSystemFailure?.(e);
    return timeStampRejection('systemFailure', 'the TSA could not produce a token');
  }
}

const NULL = Buffer.from([0x05, 0x00]);

/** GeneralName directoryName [4] EXPLICIT Name. */
function directoryName(nameDer: Buffer): Buffer {
  return derTlv(0xa4, [nameDer]);
}

/** The serial as a positive bigint of 64 to 160 bits (RFC 3161 asks clients to handle up to 160). */
function serialOf(s: bigint | Uint8Array): bigint {
  const n = typeof s === 'bigint' ? s : s.length ? BigInt('0x' + Buffer.from(s).toString('hex')) : 0n;
  if (n < 1n << 63n || n >= 1n << 160n) throw new PkiError('options.tsp', 'the time-stamp serial number must be a positive integer of 64 to 160 bits');
  return n;
}

/**
 * The messages between a CA and a key management centre (KMC), modelled on GM/T 0014's CA–KMC
 * protocol: the CA asks for an encryption key pair for a holder (apply), for a copy of an escrowed
 * one (restore) or for its retirement (revoke); the KMC answers each request with the public key
 * and the private key enveloped to a recipient, with an acknowledgement, or with an error.
 *
 * The GM/T 0014 text was not available to us; the structures follow its published shape
 * (CARequest/KSRequest/ApplyKeyReq/RestoreKeyReq/RevokeKeyReq and KMRespond/KSRespond/
 * RetKeyRespond/RevokeKeyRespond/ErrorPkgRespond) as far as it is known, and deviate where noted:
 * names are X.501 Names, the user name is a UTF8String (Chinese names), and the enveloped private
 * key is the GM/T 0009 SM2EnvelopedKey (SM2) or a CMS EnvelopedData (RSA/ECDSA). See docs/kmc.md.
 *
 *   CARequest  ::= SEQUENCE { ksRequest KSRequest, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 *   KSRequest  ::= SEQUENCE { version INTEGER (0), caName Name, requestList SEQUENCE OF Request,
 *                             requestTime GeneralizedTime, taskNO INTEGER }
 *   Request    ::= CHOICE { applyKeyReq [0] ApplyKeyReq, restoreKeyReq [1] RestoreKeyReq, revokeKeyReq [2] RevokeKeyReq }
 *   ApplyKeyReq ::= SEQUENCE { appKeyType AlgorithmIdentifier, appKeyLen INTEGER, appUserInfo AppUserInfo }
 *   AppUserInfo ::= SEQUENCE { userCertNO INTEGER, userPubKey SubjectPublicKeyInfo,
 *                              notBefore GeneralizedTime, notAfter GeneralizedTime, userName [0] UTF8String OPTIONAL,
 *                              userCert [1] EXPLICIT Certificate OPTIONAL }
 *   RestoreKeyReq ::= SEQUENCE { userCertNO INTEGER, userPubKey SubjectPublicKeyInfo, userCert [0] EXPLICIT Certificate OPTIONAL }
 *   RevokeKeyReq  ::= SEQUENCE { userCertNO INTEGER }
 *   KMRespond  ::= SEQUENCE { ksRespond KSRespond, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 *   KSRespond  ::= SEQUENCE { version INTEGER (0), kmName Name, respondList SEQUENCE OF Respond,
 *                             respondTime GeneralizedTime, taskNO INTEGER }
 *   Respond    ::= CHOICE { retKeyRespond [0] RetKeyRespond, revokeKeyRespond [1] RevokeKeyRespond, errorPkgRespond [2] ErrorPkgRespond }
 *   RetKeyRespond ::= SEQUENCE { userCertNO INTEGER, retPubKey SubjectPublicKeyInfo, retPriKey ANY (the envelope) }
 *   RevokeKeyRespond ::= SEQUENCE { userCertNO INTEGER }
 *   ErrorPkgRespond  ::= SEQUENCE { errNum INTEGER, errDesc UTF8String }
 *
 * userPubKey is the public key the private key is enveloped to: the holder's signing key when
 * applying, a fresh signing key or a named recipient's key when restoring. userCert (our
 * addition) is that key's certificate: CMS EnvelopedData, used for RSA/ECDSA keys, names its
 * recipient by issuer and serial number, so those requests must carry it. Serials (userCertNO)
 * are the encryption certificate's serial number, positive.
 */
import { derAlgorithm, derGeneralizedTime, derIntegerFromBigInt, derNode, derOid, derTlv, derTree, derUtf8 } from '../encoding/der-writer.js';
import { childTlvs, readDerTime, readOid, readSmallInteger, sequenceChildren, tlvBytes, type Tlv } from '../encoding/der.js';
import { ParseError, parsing } from '../errors.js';
import { OID } from '../oids.js';

const WHAT = 'KMC message';

/** The key types a KMC generates. */
export type KmcKeyType = 'sm2' | 'p256' | 'rsa2048';

const KEY_TYPES: Record<KmcKeyType, { oid: string; param?: string; bits: number }> = {
  sm2: { oid: OID.ecPublicKey, param: OID.sm2Curve, bits: 256 },
  p256: { oid: OID.ecPublicKey, param: OID.secp256r1, bits: 256 },
  rsa2048: { oid: OID.rsaEncryption, bits: 2048 },
};

/** Apply for a new encryption key pair for the holder of certificate `userCertNo`. */
export interface ApplyKeyRequest {
  type: 'apply';
  keyType: KmcKeyType;
  userCertNo: bigint;
  /** The public key the private key is enveloped to (the holder's signing key), SPKI DER. */
  recipientSpki: Buffer;
  notBefore: Date;
  notAfter: Date;
  userName?: string;
  /** The certificate of `recipientSpki` (DER): needed to envelope RSA/ECDSA keys as CMS EnvelopedData. */
  recipientCertificate?: Buffer;
}

/** Ask for a copy of the escrowed key of certificate `userCertNo`, enveloped to `recipientSpki`. */
export interface RestoreKeyRequest {
  type: 'restore';
  userCertNo: bigint;
  recipientSpki: Buffer;
  /** The certificate of `recipientSpki` (DER), for CMS EnvelopedData. */
  recipientCertificate?: Buffer;
}

/** Retire the escrowed key of certificate `userCertNo` (its certificate was revoked). */
export interface RevokeKeyRequest {
  type: 'revoke';
  userCertNo: bigint;
}

/** One request of a KSRequest. */
export type KmcRequestItem = ApplyKeyRequest | RestoreKeyRequest | RevokeKeyRequest;

/** A KSRequest: what the CA asks, before signing. */
export interface KmcRequestBody {
  /** The CA's Name (DER), as in its KMC-access certificate's subject. */
  caName: Buffer;
  requests: KmcRequestItem[];
  requestTime: Date;
  /** Unique per CA: the KMC answers a repeated taskNo from its record, never twice. */
  taskNo: bigint;
}

/** The key pair the KMC returns: public key and the private key enveloped to the recipient. */
export interface RetKeyResponse {
  type: 'key';
  userCertNo: bigint;
  publicSpki: Buffer;
  /** SM2EnvelopedKey (SM2 keys) or CMS ContentInfo EnvelopedData (others), DER. */
  envelope: Buffer;
}

/** The KMC retired a key. */
export interface RevokeKeyResponse {
  type: 'revoked';
  userCertNo: bigint;
}

/** The KMC refused one request. */
export interface ErrorResponse {
  type: 'error';
  code: number;
  description: string;
}

/** One answer of a KSRespond, in the order of the requests. */
export type KmcResponseItem = RetKeyResponse | RevokeKeyResponse | ErrorResponse;

/** A KSRespond: what the KMC answers, before signing. */
export interface KmcResponseBody {
  kmName: Buffer;
  responses: KmcResponseItem[];
  respondTime: Date;
  taskNo: bigint;
}

/** Error numbers of ErrorPkgRespond (our own numbering; GM/T 0014 leaves them to the implementer). */
export const KMC_ERRORS = {
  badRequest: 1,
  unsupportedAlgorithm: 2,
  unknownKey: 3,
  keyRevoked: 4,
  duplicateKey: 5,
  notAuthorized: 6,
  internal: 99,
} as const;

// ---------------------------------------------------------------------------------------------
// Encoding

const SEQ = 0x30;

function keyTypeAlgorithm(t: KmcKeyType): Buffer {
  const k = KEY_TYPES[t];
  return k.param ? derTlv(SEQ, [derOid(k.oid), derOid(k.param)]) : derAlgorithm(k.oid, true);
}

function positive(n: bigint, what: string): Buffer {
  if (n <= 0n) throw new ParseError(WHAT, `${what} must be a positive INTEGER`);
  return derIntegerFromBigInt(n);
}

function encodeRequestItem(r: KmcRequestItem): Buffer {
  switch (r.type) {
    case 'apply': {
      if (!(r.notBefore < r.notAfter)) throw new ParseError(WHAT, 'notBefore must be before notAfter');
      const info = [positive(r.userCertNo, 'userCertNO'), r.recipientSpki, derGeneralizedTime(r.notBefore), derGeneralizedTime(r.notAfter)];
      if (r.userName !== undefined) info.push(derUtf8(0x80, r.userName));
      if (r.recipientCertificate !== undefined) info.push(derTlv(0xa1, [r.recipientCertificate]));
      return derTlv(0xa0, [keyTypeAlgorithm(r.keyType), derIntegerFromBigInt(BigInt(KEY_TYPES[r.keyType].bits)), derTlv(SEQ, info)]);
    }
    case 'restore':
      return derTlv(0xa1, [positive(r.userCertNo, 'userCertNO'), r.recipientSpki, ...(r.recipientCertificate ? [derTlv(0xa0, [r.recipientCertificate])] : [])]);
    case 'revoke':
      return derTlv(0xa2, [positive(r.userCertNo, 'userCertNO')]);
  }
}

function encodeResponseItem(r: KmcResponseItem): Buffer {
  switch (r.type) {
    case 'key':
      return derTlv(0xa0, [positive(r.userCertNo, 'userCertNO'), r.publicSpki, r.envelope]);
    case 'revoked':
      return derTlv(0xa1, [positive(r.userCertNo, 'userCertNO')]);
    case 'error':
      return derTlv(0xa2, [derIntegerFromBigInt(BigInt(r.code)), derUtf8(0x0c, r.description)]);
  }
}

/** Encodes a KSRequest (the part the CA signs). */
export function encodeKmcRequestBody(b: KmcRequestBody): Buffer {
  if (b.requests.length === 0) throw new ParseError(WHAT, 'a KSRequest needs at least one request');
  return encodeBody(b.caName, b.requests.map(encodeRequestItem), b.requestTime, b.taskNo);
}

/** Encodes a KSRespond (the part the KMC signs). */
export function encodeKmcResponseBody(b: KmcResponseBody): Buffer {
  return encodeBody(b.kmName, b.responses.map(encodeResponseItem), b.respondTime, b.taskNo);
}

/** KSRequest and KSRespond share their shape: version 0, a Name, the list, a time, the task number. */
function encodeBody(name: Buffer, items: Buffer[], time: Date, taskNo: bigint): Buffer {
  return derTree(derNode(SEQ, [derIntegerFromBigInt(0n), name, derNode(SEQ, items), derGeneralizedTime(time), positive(taskNo, 'taskNO')]));
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readPositive(buf: Buffer, t: Tlv, what: string): bigint {
  if (t.tag !== 0x02 || t.end === t.valueStart) throw new ParseError(WHAT, `${what} is not an INTEGER`);
  const v = buf.subarray(t.valueStart, t.end);
  if (v[0]! & 0x80) throw new ParseError(WHAT, `${what} must be positive`);
  if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new ParseError(WHAT, `${what} is not minimally encoded`);
  if (v.length > 21) throw new ParseError(WHAT, `${what} is longer than 20 octets`);
  const n = BigInt('0x' + Buffer.from(v).toString('hex'));
  if (n === 0n) throw new ParseError(WHAT, `${what} must be positive`);
  return n;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new ParseError(WHAT, `${what} missing or malformed`);
  return t;
}

function readUtf8(buf: Buffer, t: Tlv, what: string): string {
  const text = buf.subarray(t.valueStart, t.end).toString('utf8');
  if (Buffer.byteLength(text) !== t.end - t.valueStart) throw new ParseError(WHAT, `${what} is not valid UTF-8`);
  return text;
}

/** The Certificate inside an [n] EXPLICIT tag, as DER (its contents are the caller's to judge). */
function explicitCertificate(buf: Buffer, t: Tlv, what: string): Buffer {
  const inner = childTlvs(buf, t, WHAT);
  if (inner.length !== 1 || inner[0]!.tag !== SEQ) throw new ParseError(WHAT, `${what} must hold one Certificate`);
  return tlvBytes(buf, inner[0]!);
}

function readKeyType(buf: Buffer, t: Tlv): KmcKeyType {
  const f = childTlvs(buf, expect(t, SEQ, 'appKeyType'), WHAT);
  const oid = readOid(buf, expect(f[0], 0x06, 'appKeyType algorithm'), WHAT);
  const param = f[1]?.tag === 0x06 ? readOid(buf, f[1], WHAT) : undefined;
  for (const [name, k] of Object.entries(KEY_TYPES) as Array<[KmcKeyType, (typeof KEY_TYPES)[KmcKeyType]]>) {
    if (k.oid === oid && k.param === param) return name;
  }
  throw new ParseError(WHAT, `unsupported key type ${oid}${param ? ` (${param})` : ''}`);
}

function readSpki(buf: Buffer, t: Tlv | undefined, what: string): Buffer {
  return tlvBytes(buf, expect(t, SEQ, what));
}

function readRequestItem(buf: Buffer, t: Tlv): KmcRequestItem {
  const f = childTlvs(buf, t, WHAT);
  switch (t.tag) {
    case 0xa0: {
      const keyType = readKeyType(buf, f[0]!);
      const bits = readSmallInteger(buf, expect(f[1], 0x02, 'appKeyLen'), WHAT);
      if (bits !== KEY_TYPES[keyType].bits) throw new ParseError(WHAT, `appKeyLen ${bits} does not fit a ${keyType} key`);
      const info = childTlvs(buf, expect(f[2], SEQ, 'appUserInfo'), WHAT);
      if (f.length !== 3) throw new ParseError(WHAT, 'ApplyKeyReq has extra fields');
      const out: ApplyKeyRequest = {
        type: 'apply',
        keyType,
        userCertNo: readPositive(buf, expect(info[0], 0x02, 'userCertNO'), 'userCertNO'),
        recipientSpki: readSpki(buf, info[1], 'userPubKey'),
        notBefore: readDerTime(buf, expect(info[2], 0x18, 'notBefore'), WHAT),
        notAfter: readDerTime(buf, expect(info[3], 0x18, 'notAfter'), WHAT),
      };
      let k = 4;
      if (info[k]?.tag === 0x80) out.userName = readUtf8(buf, info[k++]!, 'userName');
      if (info[k]?.tag === 0xa1) out.recipientCertificate = explicitCertificate(buf, info[k++]!, 'userCert');
      if (info.length > k) throw new ParseError(WHAT, 'AppUserInfo has extra or misordered fields');
      if (!(out.notBefore < out.notAfter)) throw new ParseError(WHAT, 'notBefore must be before notAfter');
      return out;
    }
    case 0xa1: {
      if (f.length !== 2 && !(f.length === 3 && f[2]!.tag === 0xa0)) throw new ParseError(WHAT, 'RestoreKeyReq must have userCertNO, userPubKey and optionally userCert [0]');
      const out: RestoreKeyRequest = { type: 'restore', userCertNo: readPositive(buf, expect(f[0], 0x02, 'userCertNO'), 'userCertNO'), recipientSpki: readSpki(buf, f[1], 'userPubKey') };
      if (f[2]) out.recipientCertificate = explicitCertificate(buf, f[2], 'userCert');
      return out;
    }
    case 0xa2:
      if (f.length !== 1) throw new ParseError(WHAT, 'RevokeKeyReq must have only userCertNO');
      return { type: 'revoke', userCertNo: readPositive(buf, expect(f[0], 0x02, 'userCertNO'), 'userCertNO') };
    default:
      throw new ParseError(WHAT, `unknown request choice [${t.tag & 0x1f}]`);
  }
}

function readResponseItem(buf: Buffer, t: Tlv): KmcResponseItem {
  const f = childTlvs(buf, t, WHAT);
  switch (t.tag) {
    case 0xa0:
      if (f.length !== 3) throw new ParseError(WHAT, 'RetKeyRespond must have userCertNO, retPubKey and retPriKey');
      return { type: 'key', userCertNo: readPositive(buf, expect(f[0], 0x02, 'userCertNO'), 'userCertNO'), publicSpki: readSpki(buf, f[1], 'retPubKey'), envelope: readSpki(buf, f[2], 'retPriKey') };
    case 0xa1:
      return { type: 'revoked', userCertNo: readPositive(buf, expect(f[0], 0x02, 'userCertNO'), 'userCertNO') };
    case 0xa2: {
      const code = readSmallInteger(buf, expect(f[0], 0x02, 'errNum'), WHAT);
      return { type: 'error', code, description: readUtf8(buf, expect(f[1], 0x0c, 'errDesc'), 'errDesc') };
    }
    default:
      throw new ParseError(WHAT, `unknown response choice [${t.tag & 0x1f}]`);
  }
}

function readHeader(buf: Buffer, what: string): { f: Tlv[]; name: Buffer; list: Tlv[]; time: Date; taskNo: bigint } {
  const f = sequenceChildren(buf, WHAT);
  if (f.length !== 5) throw new ParseError(WHAT, `${what} must have 5 fields, found ${f.length}`);
  const version = readSmallInteger(buf, expect(f[0], 0x02, 'version'), WHAT);
  if (version !== 0) throw new ParseError(WHAT, `unsupported ${what} version ${version}`);
  return {
    f,
    name: tlvBytes(buf, expect(f[1], SEQ, 'name')),
    list: childTlvs(buf, expect(f[2], SEQ, 'list'), WHAT),
    time: readDerTime(buf, expect(f[3], 0x18, 'time'), WHAT),
    taskNo: readPositive(buf, expect(f[4], 0x02, 'taskNO'), 'taskNO'),
  };
}

/** Most requests a KSRequest may carry: a batch, not a flood. */
export const KMC_MAX_REQUESTS = 64;

/** Parses a KSRequest; anything malformed is a ParseError. */
export function parseKmcRequestBody(der: Uint8Array): KmcRequestBody {
  return parsing(WHAT, () => {
    const buf = Buffer.from(der);
    const h = readHeader(buf, 'KSRequest');
    if (h.list.length === 0 || h.list.length > KMC_MAX_REQUESTS) throw new ParseError(WHAT, `requestList must hold 1 to ${KMC_MAX_REQUESTS} requests`);
    return { caName: h.name, requests: h.list.map((t) => readRequestItem(buf, t)), requestTime: h.time, taskNo: h.taskNo };
  });
}

/** Parses a KSRespond; anything malformed is a ParseError. */
export function parseKmcResponseBody(der: Uint8Array): KmcResponseBody {
  return parsing(WHAT, () => {
    const buf = Buffer.from(der);
    const h = readHeader(buf, 'KSRespond');
    return { kmName: h.name, responses: h.list.map((t) => readResponseItem(buf, t)), respondTime: h.time, taskNo: h.taskNo };
  });
}

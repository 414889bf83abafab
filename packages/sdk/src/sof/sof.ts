/**
 * A GM/T 0020-style facade (证书应用综合服务接口, the "SOF_" functions of the ActiveX era) over the
 * SDK: the same names, strings and Base64 in and out, errors as SOR_ codes with messages through
 * SOF_GetLastError instead of exceptions. Every function is a thin mapping onto signRecord,
 * verifyRecord, the TsaClient, the trust list and the CertificateValidator; docs/sdk.md has the
 * table. Unlike the old controls, functions that may touch the network return Promises.
 */
import { randomBytes } from 'node:crypto';
import {
  Certificate,
  OID,
  ParseError,
  SignedDataDoc,
  TimeStampResponse,
  TimeStampToken,
  buildTimeStampRequest,
  childTlvs,
  readTlv,
  nameAttributes,
  signData,
  signatureAlgorithmFor,
  verifyData,
  verifyTimeStampToken,
  type HashName,
  type TimeStampValid,
} from '@health-pki/pki';
import type { TrustStore } from '../trust/trust-store.js';
import { CertificateValidator } from '../validation/validator.js';
import { signRecord } from '../signing/sign-record.js';
import { verifyRecord, type RecordFailureCode } from '../signing/verify-record.js';
import { resolveTrust } from '../signing/trust.js';
import type { RecordSigner } from '../signing/signer.js';
import { TimestampError, type TsaClient } from '../timestamp/tsa-client.js';
import { SGD_CERT, SOR, STF, SofError, VALIDATE_CERT } from './codes.js';
import type { SofContainer } from './containers.js';

/** What the facade works with. */
export interface SofOptions {
  containers: SofContainer[];
  /** The verified trust list (sdk TrustStore): whom certificates and TSAs must chain to. */
  trust: TrustStore;
  /** The TSA: SOF_SignMessage time-stamps with it, SOF_CreateTimeStampResponse asks it. */
  tsa?: TsaClient;
  /** Certificate validation (default a CertificateValidator over `trust`). */
  validator?: CertificateValidator;
  /** Accept signed messages without a time-stamp (default false). */
  allowUntimestamped?: boolean;
  fetch?: typeof fetch;
}

/** SOF_SignMessage flags: 0 the message carries the data, 1 detached. */
export const SOF_FLAG = { ATTACHED: 0, DETACHED: 1 } as const;

/** Items of SOF_GetInfoFromSignedMessage. */
export const SIGNED_MESSAGE_INFO = { CONTENT: 1, SIGNER_CERT: 2, SIGNATURE: 3 } as const;

type Input = string | Uint8Array;

/** The facade; one instance per application (it remembers logins and the last error). */
export class Sof {
  private lastError: { code: number; message: string } = { code: SOR.OK, message: '' };
  private readonly sessions = new Map<string, RecordSigner>();
  private readonly validator: CertificateValidator;

  constructor(private readonly opts: SofOptions) {
    this.validator = opts.validator ?? new CertificateValidator({ trust: opts.trust, fetch: opts.fetch });
  }

  /** The facade's version. */
  SOF_GetVersion(): string {
    return '1.0';
  }

  /** The code of the last failure (SOR.OK after a success). */
  SOF_GetLastError(): number {
    return this.lastError.code;
  }

  /** Ours: the message of the last failure, for a person. */
  SOF_GetLastErrorMessage(): string {
    return this.lastError.message;
  }

  /** The containers as "userName||containerName", joined by "&&&" (the old list format). */
  SOF_GetUserList(): string {
    return this.attempt('', () => this.opts.containers.map((c) => `${c.userName ?? nameAttributes(c.certificate.subject, 'CN')[0] ?? c.name}||${c.name}`).join('&&&'));
  }

  /** The container's signing certificate, Base64 DER. */
  SOF_ExportUserCert(container: string): string {
    return this.attempt('', () => this.container(container).certificate.der.toString('base64'));
  }

  /** The container's encryption certificate (of a dual pair), Base64 DER. */
  SOF_ExportExChangeUserCert(container: string): string {
    return this.attempt('', () => {
      const cert = this.container(container).encryptionCertificate;
      if (!cert) throw new SofError(SOR.CERTNOTFOUNTERR, `container ${container} holds no encryption certificate`);
      return cert.der.toString('base64');
    });
  }

  /** Opens the container with its PIN; later signing functions use it. */
  async SOF_Login(container: string, pin: string): Promise<boolean> {
    return this.attemptAsync(false, async () => {
      const signer = await this.container(container).login(String(pin));
      if (!signer) throw new SofError(SOR.PINERR, `wrong PIN for container ${container}`);
      this.sessions.set(container, signer);
      return true;
    });
  }

  /** Closes the container's session. */
  SOF_Logout(container: string): boolean {
    return this.attempt(false, () => this.sessions.delete(container) || true);
  }

  /** PIN attempts left (-1 when the medium does not say). */
  async SOF_GetPinRetryCount(container: string): Promise<number> {
    return this.attemptAsync(-1, async () => (await this.container(container).retriesLeft?.()) ?? -1);
  }

  /** One item of a certificate (SGD_CERT), as text. */
  SOF_GetCertInfo(cert: string, type: number): string {
    return this.attempt('', () => certInfo(this.cert(cert), type));
  }

  /**
   * An extension of a certificate by OID: its value as text when it is a string (the sector's
   * identity extensions), otherwise the extnValue contents in Base64.
   */
  SOF_GetCertInfoByOid(cert: string, oid: string): string {
    return this.attempt('', () => {
      const c = this.cert(cert);
      const ext = c.rawExtension(String(oid));
      if (!ext) throw new SofError(SOR.PARAMETERNOTSUPPORTERR, `the certificate has no extension ${oid}`);
      // The sector's identity code (GB/T 20518): the old controls answered the ID number itself.
      if (ext.extnID === OID.identityCode) {
        const id = c.identity;
        const text = id.residentId ?? id.militaryOfficerId ?? id.passportNumber;
        if (text) return text;
      }
      return stringValue(ext.value) ?? ext.value.toString('base64');
    });
  }

  /** Validates a certificate now against the trust list, with revocation: 0, or a negative VALIDATE_CERT code. */
  async SOF_ValidateCert(cert: string): Promise<number> {
    return this.attemptAsync(VALIDATE_CERT.OTHER as number, async () => {
      const r = await this.validator.validate(this.cert(cert), { usage: undefined });
      if (r.valid) return VALIDATE_CERT.OK;
      const mapped = validateCode(r.code);
      this.fail(mapped.sor, r.reason ?? 'the certificate is not valid');
      return mapped.result;
    }, true);
  }

  /** Signs data with the logged-in container's key: the raw signature, Base64 (SM2 with SM3, ECDSA/RSA with SHA-256). */
  async SOF_SignData(container: string, inData: Input): Promise<string> {
    return this.attemptAsync('', async () => {
      const signer = this.session(container);
      const data = bytes(inData);
      const hash: HashName = signer.certificate.publicKey.kind === 'sm2' ? 'sm3' : 'sha256';
      const sig = 'key' in signer ? signData(signer.key, data, { hash }).signature : Buffer.from(await signer.sign(data, hash));
      return sig.toString('base64');
    });
  }

  /** Verifies a raw signature and that the certificate is valid now for signing. */
  async SOF_VerifySignedData(cert: string, inData: Input, signValue: string): Promise<boolean> {
    return this.attemptAsync(false, async () => {
      const c = this.cert(cert);
      const hash: HashName = c.publicKey.kind === 'sm2' ? 'sm3' : 'sha256';
      const ok = verifyData(c.publicKey, signatureAlgorithmFor(c.publicKey, { hash }), bytes(inData), base64(signValue, 'signature'));
      if (!ok) throw new SofError(SOR.VERIFYSIGNERR, 'the signature does not verify with this certificate');
      const v = await this.validator.validate(c, { usage: 'signing' });
      if (!v.valid) throw new SofError(validateCode(v.code).sor, `the signer's certificate is not valid: ${v.reason}`);
      return true;
    });
  }

  /**
   * A signed message (CMS SignedData, Base64): signing time, the signature time-stamped by the TSA
   * when one is configured, validation data archived. flag 0 carries the data, 1 is detached.
   */
  async SOF_SignMessage(flag: number, container: string, inData: Input): Promise<string> {
    return this.attemptAsync('', async () => {
      if (flag !== SOF_FLAG.ATTACHED && flag !== SOF_FLAG.DETACHED) throw new SofError(SOR.PARAMETERNOTSUPPORTERR, `flag ${flag} is neither 0 (attached) nor 1 (detached)`);
      const signer = this.session(container);
      try {
        const s = await signRecord(bytes(inData), signer, { tsa: this.opts.tsa, trust: this.opts.trust, attached: flag === SOF_FLAG.ATTACHED, fetch: this.opts.fetch });
        return s.der.toString('base64');
      } catch (e) {
        if (e instanceof TimestampError) throw new SofError(e.code === 'network' ? SOR.TIMEOUTERR : SOR.TSAERR, e.message);
        throw e;
      }
    });
  }

  /** Verifies a signed message (with `inData` when detached; empty when it carries the data). */
  async SOF_VerifySignedMessage(messageData: string, inData?: Input): Promise<boolean> {
    return this.attemptAsync(false, async () => {
      const data = inData === undefined || inData.length === 0 ? undefined : bytes(inData);
      const v = await verifyRecord(data, base64(messageData, 'signed message'), { trust: this.opts.trust, allowUntimestamped: this.opts.allowUntimestamped, fetch: this.opts.fetch });
      if (!v.valid) throw new SofError(recordCode(v.reason!.code), v.reason!.message);
      return true;
    });
  }

  /** One item of a signed message: 1 the content, 2 the signer's certificate, 3 the signature value (each Base64). */
  SOF_GetInfoFromSignedMessage(messageData: string, type: number): string {
    return this.attempt('', () => {
      const doc = parse(() => SignedDataDoc.parse(base64(messageData, 'signed message')), 'signed message');
      const si = doc.signerInfos[0];
      if (!si) throw new SofError(SOR.INDATAERR, 'the signed message has no signer');
      if (type === SIGNED_MESSAGE_INFO.CONTENT) return doc.content?.toString('base64') ?? '';
      if (type === SIGNED_MESSAGE_INFO.SIGNATURE) return si.signature.toString('base64');
      if (type === SIGNED_MESSAGE_INFO.SIGNER_CERT) {
        const cert = doc.certificates.find((c) => (si.sid.keyId ? c.subjectKeyId?.equals(si.sid.keyId) : si.sid.issuerDer!.equals(c.issuerDer) && sameSerial(si.sid.serialNumber!, c.serialNumber)));
        if (!cert) throw new SofError(SOR.CERTNOTFOUNTERR, 'the signed message does not carry its signer\'s certificate');
        return cert.der.toString('base64');
      }
      throw new SofError(SOR.PARAMETERNOTSUPPORTERR, `unknown signed-message item ${type}`);
    });
  }

  /** Random bytes, Base64. */
  SOF_GenRandom(length: number): string {
    return this.attempt('', () => {
      if (!Number.isInteger(length) || length < 1 || length > 65536) throw new SofError(SOR.INDATALENERR, 'length must be 1..65536');
      return randomBytes(length).toString('base64');
    });
  }

  /** A TimeStampReq for the data (the TSA's hash, a nonce, certReq), Base64. */
  SOF_CreateTimeStampRequest(inData: Input): string {
    return this.attempt('', () => buildTimeStampRequest({ data: bytes(inData), hash: this.tsa().hash, nonce: true, certReq: true }).der.toString('base64'));
  }

  /** Sends a TimeStampReq (Base64) to the TSA and returns its TimeStampResp, Base64 (verify it with SOF_VerifyTimeStamp). */
  async SOF_CreateTimeStampResponse(tsRequest: string): Promise<string> {
    return this.attemptAsync('', async () => {
      try {
        const resp = await this.tsa().exchange(base64(tsRequest, 'time-stamp request'));
        parse(() => TimeStampResponse.parse(resp), 'time-stamp response');
        return resp.toString('base64');
      } catch (e) {
        if (e instanceof TimestampError) throw new SofError(e.code === 'network' ? SOR.TIMEOUTERR : SOR.TSAERR, e.message);
        throw e;
      }
    });
  }

  /** Verifies a TimeStampResp or token (Base64) over the data: the TSA chains to the trust list at genTime. */
  async SOF_VerifyTimeStamp(inData: Input, tsResponseData: string): Promise<boolean> {
    return this.attemptAsync(false, async () => {
      const v = this.verifyStamp(tsResponseData, bytes(inData));
      if (!v.valid) throw new SofError(SOR.TSAERR, `the time-stamp is refused (${v.code}): ${v.message}`);
      return true;
    });
  }

  /** One item (STF) of a time-stamp (TimeStampResp or token, Base64), as text. Does not verify it. */
  SOF_GetTimeStampInfo(tsResponseData: string, type: number): string {
    return this.attempt('', () => {
      const token = stampToken(tsResponseData);
      const tst = token.tstInfo;
      const si = token.signedData.signerInfos[0];
      const tsaCert = token.signedData.certificates.find((c) => si?.sid.issuerDer?.equals(c.issuerDer) && sameSerial(si.sid.serialNumber!, c.serialNumber));
      switch (type) {
        case STF.TIME_OF_STAMP:
          return tst.genTime.toISOString();
        case STF.CN_OF_TSSIGNER:
          if (!tsaCert) throw new SofError(SOR.CERTNOTFOUNTERR, 'the token does not carry the TSA certificate');
          return nameAttributes(tsaCert.subject, 'CN')[0] ?? tsaCert.subjectText;
        case STF.ORINGINAL_DATA:
          return tst.messageImprint.hashedMessage.toString('base64'); // a TSA sees only the hash
        case STF.CERT_OF_TSSERVER:
          if (!tsaCert) throw new SofError(SOR.CERTNOTFOUNTERR, 'the token does not carry the TSA certificate');
          return tsaCert.der.toString('base64');
        case STF.CERTCHAIN_OF_TSSERVER:
          return token.signedData.certificates.map((c) => c.der.toString('base64')).join(',');
        case STF.TIME_PRECISION: {
          const a = tst.accuracy;
          return a ? String((a.seconds ?? 0) + (a.millis ?? 0) / 1e3 + (a.micros ?? 0) / 1e6) : '';
        }
        default:
          throw new SofError(SOR.PARAMETERNOTSUPPORTERR, `time-stamp item ${type} is not supported`);
      }
    });
  }

  /** Ours (no GM/T 0020 counterpart): the current trust list as JSON { version, cas: [{ name, displayName, status }] }. */
  SOF_GetTrustList(): string {
    return this.attempt('', () => {
      if (this.opts.trust.version === undefined) throw new SofError(SOR.NOTINITIALIZEERR, 'no verified trust list is loaded');
      const doc = this.opts.trust.document();
      return JSON.stringify({ version: doc.version, cas: doc.cas.map((c) => ({ name: c.name, displayName: c.displayName, status: c.status })) });
    });
  }

  /** Ours: fetches the newest trust list from the platform; true when one is loaded afterwards. */
  async SOF_UpdateTrustList(): Promise<boolean> {
    return this.attemptAsync(false, async () => {
      const u = await this.opts.trust.refresh();
      if (!u.accepted) throw new SofError(SOR.NOTINITIALIZEERR, `the trust list was not updated: ${u.reason}`);
      return true;
    });
  }

  // --- helpers -------------------------------------------------------------------------------

  private verifyStamp(tsResponseData: string, data: Buffer): { valid: true; v: TimeStampValid } | { valid: false; code: string; message: string } {
    const trust = resolveTrust(this.opts.trust);
    const raw = base64(tsResponseData, 'time-stamp');
    const v = parse(() => verifyTimeStampToken(raw, { data, trusted: trust.anchors, intermediates: trust.intermediates }), 'time-stamp');
    return v.valid ? { valid: true, v } : { valid: false, code: v.code, message: v.message };
  }

  private tsa(): TsaClient {
    if (!this.opts.tsa) throw new SofError(SOR.NOTINITIALIZEERR, 'no TSA is configured');
    return this.opts.tsa;
  }

  private container(name: string): SofContainer {
    const c = this.opts.containers.find((x) => x.name === name);
    if (!c) throw new SofError(SOR.KEYNOTFOUNTERR, `no container named ${name}`);
    return c;
  }

  private session(name: string): RecordSigner {
    this.container(name);
    const s = this.sessions.get(name);
    if (!s) throw new SofError(SOR.NOTLOGINERR, `not logged in to container ${name} (SOF_Login first)`);
    return s;
  }

  private cert(input: string): Certificate {
    const text = String(input ?? '').trim();
    return parse(() => Certificate.parse(text.startsWith('-----BEGIN') ? text : base64(text, 'certificate')), 'certificate', SOR.CERTENCODEERR);
  }

  private fail(code: number, message: string): void {
    this.lastError = { code, message };
  }

  /** Runs `fn`; a SofError (or anything else) becomes the last error and the fallback value. */
  private attempt<T>(fallback: T, fn: () => T): T {
    try {
      const r = fn();
      this.lastError = { code: SOR.OK, message: '' };
      return r;
    } catch (e) {
      this.record(e);
      return fallback;
    }
  }

  private async attemptAsync<T>(fallback: T, fn: () => Promise<T>, keepError = false): Promise<T> {
    try {
      this.lastError = { code: SOR.OK, message: '' };
      const r = await fn();
      if (!keepError) this.lastError = { code: SOR.OK, message: '' };
      return r;
    } catch (e) {
      this.record(e);
      return fallback;
    }
  }

  private record(e: unknown): void {
    this.lastError = e instanceof SofError ? { code: e.code, message: e.message } : { code: SOR.UNKNOWNERR, message: e instanceof Error ? e.message : String(e) };
  }
}

function bytes(input: Input): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof Uint8Array) return Buffer.from(input);
  throw new SofError(SOR.INDATAERR, 'the data must be a string or bytes');
}

/** Strict Base64: the old controls' BSTR parameters; anything else is SOR_INDATAERR. */
function base64(text: string, what: string): Buffer {
  const t = String(text ?? '').replace(/\s+/g, '');
  if (!t || !/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) throw new SofError(SOR.INDATAERR, `the ${what} is not Base64`);
  return Buffer.from(t, 'base64');
}

function parse<T>(fn: () => T, what: string, code: number = SOR.INDATAERR): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ParseError) throw new SofError(code, `the ${what} cannot be read: ${e.message}`);
    throw e;
  }
}

function stampToken(text: string): TimeStampToken {
  const raw = base64(text, 'time-stamp');
  return parse(() => {
    try {
      const resp = TimeStampResponse.parse(raw);
      if (!resp.token) throw new SofError(SOR.TSAERR, `the TSA answered ${resp.status}`);
      return resp.token;
    } catch (e) {
      if (e instanceof ParseError) return TimeStampToken.parse(raw);
      throw e;
    }
  }, 'time-stamp');
}

function sameSerial(a: Buffer, b: Buffer): boolean {
  const trim = (s: Buffer) => (s.length > 1 && s[0] === 0 && s[1]! < 0x80 ? s.subarray(1) : s);
  return trim(a).equals(trim(b));
}

function certInfo(c: Certificate, type: number): string {
  const first = (name: 'subject' | 'issuer', attr: string) => nameAttributes(c[name], attr).join(',');
  switch (type) {
    case SGD_CERT.VERSION:
      return `V${c.version}`;
    case SGD_CERT.SERIAL:
      return c.serialHex.toUpperCase();
    case SGD_CERT.ISSUER:
      return c.issuerText;
    case SGD_CERT.SUBJECT:
      return c.subjectText;
    case SGD_CERT.VALID_TIME:
      return `${c.notBefore.toISOString()} - ${c.notAfter.toISOString()}`;
    case SGD_CERT.NOTBEFORE_TIME:
      return c.notBefore.toISOString();
    case SGD_CERT.NOTAFTER_TIME:
      return c.notAfter.toISOString();
    case SGD_CERT.DER_PUBLIC_KEY:
      return c.spkiDer.toString('base64');
    case SGD_CERT.DER_EXTENSIONS:
      return extensionsDer(c).toString('base64');
    case SGD_CERT.ISSUER_CN:
      return first('issuer', 'CN');
    case SGD_CERT.ISSUER_O:
      return first('issuer', 'O');
    case SGD_CERT.ISSUER_OU:
      return first('issuer', 'OU');
    case SGD_CERT.SUBJECT_CN:
      return first('subject', 'CN');
    case SGD_CERT.SUBJECT_O:
      return first('subject', 'O');
    case SGD_CERT.SUBJECT_OU:
      return first('subject', 'OU');
    case SGD_CERT.SUBJECT_EMAIL:
      return [...nameAttributes(c.subject, 'E'), ...c.subjectAltNames.map((n) => n.rfc822Name).filter((x): x is string => !!x)].join(',');
    default:
      throw new SofError(SOR.PARAMETERNOTSUPPORTERR, `certificate item ${type} is not supported`);
  }
}

/** The Extensions SEQUENCE exactly as the certificate carries it (the contents of TBSCertificate's [3]). */
function extensionsDer(c: Certificate): Buffer {
  const tbs = c.tbsDer;
  const field = childTlvs(tbs, readTlv(tbs, 0, 'TBSCertificate'), 'TBSCertificate').find((t) => t.tag === 0xa3);
  return field ? Buffer.from(tbs.subarray(field.valueStart, field.end)) : Buffer.alloc(0);
}

/** A string value (UTF8String, PrintableString, IA5String, BMPString) as text; undefined for anything else. */
function stringValue(der: Buffer): string | undefined {
  let t;
  try {
    t = readTlv(der, 0, 'extension');
  } catch {
    return undefined;
  }
  if (t.end !== der.length) return undefined;
  const body = der.subarray(t.valueStart, t.end);
  if (t.tag === 0x0c || t.tag === 0x13 || t.tag === 0x16) return body.toString('utf8');
  if (t.tag === 0x1e) return Buffer.from(body).swap16().toString('utf16le');
  return undefined;
}

function validateCode(code: string | undefined): { result: number; sor: number } {
  switch (code) {
    case 'untrusted':
    case 'noTrustList':
    case 'noPath':
      return { result: VALIDATE_CERT.UNTRUSTED, sor: SOR.CERTVERIFYERR };
    case 'expired':
      return { result: VALIDATE_CERT.EXPIRED, sor: SOR.CERTHASEXPIREDERR };
    case 'notYetValid':
      return { result: VALIDATE_CERT.NOT_YET_VALID, sor: SOR.CERTNOTYETVALIDERR };
    case 'revoked':
      return { result: VALIDATE_CERT.REVOKED, sor: SOR.CERTREVOKEDERR };
    case 'revocationUnknown':
      return { result: VALIDATE_CERT.STATUS_UNKNOWN, sor: SOR.CERTVERIFYERR };
    case 'usage':
      return { result: VALIDATE_CERT.OTHER, sor: SOR.KEYUSAGEERR };
    default:
      return { result: VALIDATE_CERT.OTHER, sor: SOR.CERTVERIFYERR };
  }
}

function recordCode(code: RecordFailureCode): number {
  switch (code) {
    case 'tampered':
      return SOR.HASHNOTEQUALERR;
    case 'badSignature':
      return SOR.VERIFYSIGNERR;
    case 'noTimestamp':
    case 'badTimestamp':
    case 'signingTimeAfterTimestamp':
      return SOR.TSAERR;
    case 'revokedBeforeSigning':
      return SOR.CERTREVOKEDERR;
    case 'keyUsage':
      return SOR.KEYUSAGEERR;
    case 'malformed':
      return SOR.INDATAERR;
    default:
      return SOR.CERTVERIFYERR;
  }
}

/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5): parsing that keeps the exact signed bytes,
 * and building. A CRL may hold a million entries, so the revoked-certificates list is walked and
 * written with a small hand-rolled DER reader/writer instead of one schema object per entry; the
 * rest of the CRL (names, algorithm, extensions) goes through the @peculiar schemas.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { ParseError, PkiError, parsing } from '../errors.js';
import { toDer, toPem } from '../encoding/pem.js';
import { readTlv, sequenceChildren, tlvBytes, type Tlv, readOid } from '../encoding/der.js';
import { DerWriter, derHeader, derTlv as tlv, derIntegerFromBigInt as integerTlv, derTime as timeTlv, derTimeLength } from '../encoding/der-writer.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { signData, signatureAlgorithmFor, verifyData, type SignatureOptions } from '../crypto/signature.js';
import { EXT, decodeExtension, extension, keyIdentifier } from './extensions.js';
import { Certificate, serialToHex } from './certificate.js';
import { nameToDer } from './name.js';

/** CRL entry reason codes of RFC 5280 §5.3.1 (value 7 is unused). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

const REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** The reason name for a CRLReason code, or undefined for an unassigned code. */
export function reasonFromCode(code: number): RevocationReason | undefined {
  return (Object.keys(REASON_CODES) as RevocationReason[]).find((r) => REASON_CODES[r] === code);
}

/** The CRLReason code of a reason name. */
export function reasonCode(reason: RevocationReason): number {
  return REASON_CODES[reason];
}

/** One revoked certificate as listed in a CRL. */
export interface RevokedEntry {
  /** Serial number bytes as encoded. */
  serial: Buffer;
  serialHex: string;
  revocationDate: Date;
  reason?: RevocationReason;
  invalidityDate?: Date;
  /**
   * For indirect CRLs: the certificate issuer this entry applies to, as the DER Names of the
   * directoryName entries of certificateIssuer. Per RFC 5280 §5.3.3 the extension carries over to
   * the entries that follow it; undefined means the CRL issuer.
   */
  certificateIssuer?: Buffer[];
  extensions: readonly x.Extension[];
}

/**
 * Where the revoked entries sit in the TBS bytes, and the certificate issuer each one inherited.
 * Offsets only, so that parsing a million-entry CRL allocates next to nothing per entry.
 */
interface EntryTable {
  starts: Uint32Array;
  /** Per entry, the certificateIssuer in force (indirect CRLs); undefined when no entry has one. */
  issuers?: Array<Buffer[] | undefined>;
}

/** A parsed CRL that keeps the exact bytes it was read from. */
export class Crl {
  /** The whole CRL, DER. */
  readonly der: Buffer;
  /** The signed TBSCertList exactly as received. */
  readonly tbsDer: Buffer;
  /** The issuer Name exactly as encoded. */
  readonly issuerDer: Buffer;
  private readonly fields: {
    version: number;
    signature: x.AlgorithmIdentifier;
    issuer: x.Name;
    thisUpdate: Date;
    nextUpdate?: Date;
    extensions: x.Extension[];
    sigAlg: x.AlgorithmIdentifier;
    sigValue: Buffer;
    sigUnusedBits: number;
  };
  private readonly entries: EntryTable;
  private readonly decodedEntries: Array<RevokedEntry | undefined> = [];
  private cachedAsn?: x.CertificateList;
  private cachedRevoked?: RevokedEntry[];
  private cachedIndex?: Map<string, number | number[]>;

  private constructor(der: Buffer) {
    this.der = der;
    const top = sequenceChildren(der, 'CRL');
    if (top.length !== 3) throw new ParseError('CRL', 'expected tbsCertList, signatureAlgorithm, signatureValue');
    this.tbsDer = tlvBytes(der, top[0]!);
    const parts = sequenceChildren(this.tbsDer, 'tbsCertList');
    let i = 0;
    let version = 1;
    if (parts[i]?.tag === 0x02) {
      const v = this.tbsDer.subarray(parts[i]!.valueStart, parts[i]!.end);
      if (v.length !== 1 || v[0] !== 1) throw new ParseError('CRL', 'version, when present, must be v2');
      version = 2;
      i++;
    }
    const sigT = expect(parts[i++], 0x30, 'signature');
    const issuerT = expect(parts[i++], 0x30, 'issuer');
    const thisT = parts[i++];
    if (!thisT || (thisT.tag !== 0x17 && thisT.tag !== 0x18)) throw new ParseError('CRL', 'thisUpdate missing');
    let nextUpdate: Date | undefined;
    if (parts[i] && (parts[i]!.tag === 0x17 || parts[i]!.tag === 0x18)) nextUpdate = decodeTime(this.tbsDer, parts[i++]!);
    let revokedT: Tlv | undefined;
    if (parts[i]?.tag === 0x30) revokedT = parts[i++];
    let extensions: x.Extension[] = [];
    if (parts[i]?.tag === 0xa0) {
      const inner = readTlv(this.tbsDer, parts[i]!.valueStart, 'CRL');
      if (inner.end !== parts[i]!.end) throw new ParseError('CRL', 'crlExtensions has trailing bytes');
      extensions = [...AsnConvert.parse(this.tbsDer.subarray(inner.start, inner.end), x.Extensions)];
      i++;
    }
    if (i !== parts.length) throw new ParseError('CRL', 'unexpected fields in tbsCertList');
    this.issuerDer = tlvBytes(this.tbsDer, issuerT);
    const sigAlgT = expect(top[1], 0x30, 'signatureAlgorithm');
    const sigValT = expect(top[2], 0x03, 'signatureValue');
    if (sigValT.end - sigValT.valueStart < 1 || der[sigValT.valueStart]! > 7) throw new ParseError('CRL', 'malformed signature BIT STRING');
    this.fields = {
      version,
      signature: AsnConvert.parse(this.tbsDer.subarray(sigT.start, sigT.end), x.AlgorithmIdentifier),
      issuer: AsnConvert.parse(this.issuerDer, x.Name),
      thisUpdate: decodeTime(this.tbsDer, thisT),
      nextUpdate,
      extensions,
      sigAlg: AsnConvert.parse(der.subarray(sigAlgT.start, sigAlgT.end), x.AlgorithmIdentifier),
      sigValue: Buffer.from(der.subarray(sigValT.valueStart + 1, sigValT.end)),
      sigUnusedBits: der[sigValT.valueStart]!,
    };
    this.entries = revokedT ? locateEntries(this.tbsDer, revokedT) : { starts: new Uint32Array(0) };
  }

  /** Parses a CRL from PEM or DER; bad input is a ParseError. */
  static parse(input: Uint8Array | string): Crl {
    const der = toDer(input, ['X509 CRL', 'CRL'], 'CRL');
    return parsing('CRL', () => new Crl(der));
  }
  /** Parses DER that the caller hands over without copying it (buildCrl's own output); the caller must not change it. */
  static ownDer(der: Buffer): Crl {
    return parsing('CRL', () => new Crl(der));
  }

  /** The whole CRL as @peculiar schema objects (decoded on first use: slow for huge CRLs). */
  get asn(): x.CertificateList {
    this.cachedAsn ??= parsing('CRL', () => AsnConvert.parse(this.der, x.CertificateList));
    return this.cachedAsn;
  }
  /** CRL version: 1 or 2. */
  get version(): number {
    return this.fields.version;
  }
  get issuer(): x.Name {
    return this.fields.issuer;
  }
  get thisUpdate(): Date {
    return this.fields.thisUpdate;
  }
  get nextUpdate(): Date | undefined {
    return this.fields.nextUpdate;
  }
  /** The signature algorithm inside the signed part (RFC 5280 requires it to equal signatureAlgorithm). */
  get tbsSignatureAlgorithm(): x.AlgorithmIdentifier {
    return this.fields.signature;
  }
  get signatureAlgorithm(): x.AlgorithmIdentifier {
    return this.fields.sigAlg;
  }
  get signatureValue(): Buffer {
    return this.fields.sigValue;
  }
  get extensions(): readonly x.Extension[] {
    return this.fields.extensions;
  }
  /** The CRL extension with this OID, if present. */
  extension(oid: string): x.Extension | undefined {
    return this.fields.extensions.find((e) => e.extnID === oid);
  }
  /** The cRLNumber extension's value. */
  get crlNumber(): bigint | undefined {
    const e = this.extension(EXT.crlNumber);
    return e ? decodeIntegerExtension(e) : undefined;
  }
  /** The deltaCRLIndicator's base CRL number; present only on delta CRLs. */
  get baseCrlNumber(): bigint | undefined {
    const e = this.extension(EXT.deltaCrlIndicator);
    return e ? decodeIntegerExtension(e) : undefined;
  }
  get issuingDistributionPoint(): x.IssuingDistributionPoint | undefined {
    const e = this.extension(EXT.issuingDistributionPoint);
    return e ? decodeExtension(e, x.IssuingDistributionPoint) : undefined;
  }
  /** The authorityKeyIdentifier's key identifier, if present. */
  get authorityKeyId(): Buffer | undefined {
    const e = this.extension(EXT.authorityKeyIdentifier);
    const aki = e ? decodeExtension(e, x.AuthorityKeyIdentifier) : undefined;
    return aki?.keyIdentifier ? Buffer.from(aki.keyIdentifier.buffer) : undefined;
  }
  /** True for a delta CRL (it carries a deltaCRLIndicator). */
  get isDelta(): boolean {
    return this.extension(EXT.deltaCrlIndicator) !== undefined;
  }
  /** How many entries the CRL lists (without decoding them). */
  get revokedCount(): number {
    return this.entries.starts.length;
  }
  /** Every entry, decoded once and cached. */
  get revoked(): RevokedEntry[] {
    this.cachedRevoked ??= Array.from(this.entries.starts, (_, i) => this.entry(i));
    return this.cachedRevoked;
  }
  /** The i-th entry, decoded on first use. */
  private entry(i: number): RevokedEntry {
    let e = this.decodedEntries[i];
    if (!e) {
      e = decodeEntry(this.tbsDer, this.entries.starts[i]!, this.entries.issuers?.[i]);
      this.decodedEntries[i] = e;
    }
    return e;
  }
  /**
   * The entry revoking the certificate with this serial (INTEGER content bytes, two's complement,
   * as Certificate.serialNumber gives them: 0xff is -1, 0x00ff is 255), issued by `certIssuerDer`
   * (default: the CRL issuer). Issuer names are compared byte for byte. Only the matching entries
   * are decoded; the serial map is built on first use.
   */
  findRevoked(serial: Uint8Array, certIssuerDer?: Buffer): RevokedEntry | undefined {
    this.cachedIndex ??= indexSerials(this.tbsDer, this.entries.starts);
    const hit = this.cachedIndex.get(serialKey(serial));
    if (hit === undefined) return undefined;
    const wanted = certIssuerDer ?? this.issuerDer;
    for (const i of typeof hit === 'number' ? [hit] : hit) {
      const issuers = this.entries.issuers?.[i] ?? [this.issuerDer];
      if (issuers.some((n) => n.equals(wanted))) return this.entry(i);
    }
    return undefined;
  }
  /** Checks the CRL signature with the issuer's public key. */
  verifySignature(issuerKey: PublicKey, opts?: SignatureOptions): boolean {
    if (this.fields.sigUnusedBits !== 0) return false; // no signature algorithm here yields a partial octet
    return verifyData(issuerKey, this.signatureAlgorithm, this.tbsDer, this.signatureValue, opts);
  }
  toPem(): string {
    return toPem('X509 CRL', this.der);
  }
}

/** A serial number's value as a map key: hex with redundant sign bytes removed, so 00 01 and 01 match. */
function serialKey(serial: Uint8Array, start = 0, end = serial.length): string {
  let i = start;
  while (i < end - 1 && ((serial[i] === 0x00 && serial[i + 1]! < 0x80) || (serial[i] === 0xff && serial[i + 1]! >= 0x80))) i++;
  return Buffer.from(serial.buffer, serial.byteOffset + i, end - i).toString('hex');
}

/** Maps each serial key to the entry index (or indices, for an indirect CRL repeating a serial). */
function indexSerials(tbs: Buffer, starts: Uint32Array): Map<string, number | number[]> {
  const index = new Map<string, number | number[]>();
  for (let i = 0; i < starts.length; i++) {
    const t = readTlv(tbs, readTlv(tbs, starts[i]!).valueStart);
    const key = serialKey(tbs, t.valueStart, t.end);
    const prev = index.get(key);
    if (prev === undefined) index.set(key, i);
    else if (typeof prev === 'number') index.set(key, [prev, i]);
    else prev.push(i);
  }
  return index;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new ParseError('CRL', `${what} missing or of the wrong type`);
  return t;
}

/**
 * Walks the revoked list, checking each entry's shape and resolving the certificateIssuer
 * carry-over of indirect CRLs (which depends on entry order, so it cannot be done lazily per entry).
 */
function locateEntries(tbs: Buffer, list: Tlv): EntryTable {
  let starts = new Uint32Array(1024);
  let n = 0;
  let issuers: Array<Buffer[] | undefined> | undefined;
  let currentIssuer: Buffer[] | undefined;
  for (let off = list.valueStart; off < list.end; ) {
    const t = readTlv(tbs, off, 'CRL entry');
    if (t.tag !== 0x30 || t.end > list.end) throw new ParseError('CRL entry', 'expected a SEQUENCE inside the revoked list');
    const serialT = readTlv(tbs, t.valueStart, 'CRL entry');
    if (serialT.tag !== 0x02 || serialT.valueStart === serialT.end) throw new ParseError('CRL entry', 'userCertificate must be an INTEGER');
    if (serialT.end >= t.end) throw new ParseError('CRL entry', 'revocationDate missing');
    const timeT = readTlv(tbs, serialT.end, 'CRL entry');
    if (timeT.tag !== 0x17 && timeT.tag !== 0x18) throw new ParseError('CRL entry', 'revocationDate must be a Time');
    if (timeT.end < t.end) {
      const extT = readTlv(tbs, timeT.end, 'CRL entry');
      if (extT.tag !== 0x30 || extT.end !== t.end) throw new ParseError('CRL entry', 'crlEntryExtensions malformed');
      // Only entries with extensions can change the issuer, so only they pay for a look here.
      const ci = findEntryExtension(tbs, extT, CERT_ISSUER_OID_DER);
      if (ci) {
        currentIssuer = directoryNames(ci);
        issuers ??= new Array<Buffer[] | undefined>(n).fill(undefined);
      }
    } else if (timeT.end !== t.end) throw new ParseError('CRL entry', 'trailing bytes');
    if (n === starts.length) {
      const bigger = new Uint32Array(n * 2);
      bigger.set(starts);
      starts = bigger;
    }
    starts[n] = t.start;
    if (issuers) issuers[n] = currentIssuer;
    n++;
    off = t.end;
  }
  return { starts: starts.slice(0, n), issuers };
}

// 2.5.29.29 as DER OBJECT IDENTIFIER bytes, to spot certificateIssuer without decoding every extension.
const CERT_ISSUER_OID_DER = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1d]);

/** The extnValue OCTET STRING contents of the extension with this OID, from an Extensions SEQUENCE. */
function findEntryExtension(buf: Buffer, exts: Tlv, oidDer: Buffer): Buffer | undefined {
  for (let off = exts.valueStart; off < exts.end; ) {
    const e = readTlv(buf, off, 'CRL entry extension');
    if (e.tag !== 0x30 || e.end > exts.end) throw new ParseError('CRL entry extension', 'expected a SEQUENCE');
    const oidT = readTlv(buf, e.valueStart, 'CRL entry extension');
    if (oidT.tag !== 0x06) throw new ParseError('CRL entry extension', 'extnID must be an OID');
    if (buf.subarray(oidT.start, oidT.end).equals(oidDer)) {
      let v = readTlv(buf, oidT.end, 'CRL entry extension');
      if (v.tag === 0x01) v = readTlv(buf, v.end, 'CRL entry extension'); // critical BOOLEAN
      if (v.tag !== 0x04 || v.end !== e.end) throw new ParseError('CRL entry extension', 'extnValue must be an OCTET STRING');
      return Buffer.from(buf.subarray(v.valueStart, v.end));
    }
    off = e.end;
  }
  return undefined;
}

/** The Name DERs of the directoryName choices in a GeneralNames value. */
function directoryNames(generalNames: Buffer): Buffer[] {
  const names: Buffer[] = [];
  for (const g of sequenceChildren(generalNames, 'certificateIssuer')) {
    if (g.tag !== 0xa4) continue;
    const inner = readTlv(generalNames, g.valueStart, 'certificateIssuer');
    if (inner.tag !== 0x30 || inner.end !== g.end) throw new ParseError('certificateIssuer', 'directoryName must hold one Name');
    names.push(tlvBytes(generalNames, inner));
  }
  return names;
}

/**
 * Decodes one entry. Entry extensions are read by hand (they are few and simple: reasonCode,
 * invalidityDate, certificateIssuer), which is ~50 times faster than a schema decode per entry.
 */
function decodeEntry(tbs: Buffer, start: number, certificateIssuer: Buffer[] | undefined): RevokedEntry {
  return parsing('CRL entry', () => {
    const t = readTlv(tbs, start);
    const serialT = readTlv(tbs, t.valueStart);
    const timeT = readTlv(tbs, serialT.end);
    const serial = Buffer.from(tbs.subarray(serialT.valueStart, serialT.end));
    const entry: RevokedEntry = { serial, serialHex: serialToHex(serial), revocationDate: decodeTime(tbs, timeT), extensions: [] };
    if (timeT.end < t.end) {
      const extensions: x.Extension[] = [];
      const list = readTlv(tbs, timeT.end);
      for (let off = list.valueStart; off < list.end; ) {
        const e = readExtension(tbs, off);
        extensions.push(e.ext);
        if (e.ext.extnID === EXT.crlReason) {
          const v = readTlv(tbs, e.valueStart);
          if (v.tag !== 0x0a || v.end !== e.valueEnd || v.end - v.valueStart !== 1) throw new ParseError('CRL entry', 'reasonCode must be one ENUMERATED');
          entry.reason = reasonFromCode(tbs[v.valueStart]!);
          if (entry.reason === undefined) throw new ParseError('CRL entry', `unknown reason code ${tbs[v.valueStart]}`);
        } else if (e.ext.extnID === EXT.invalidityDate) {
          const v = readTlv(tbs, e.valueStart);
          if (v.tag !== 0x18 || v.end !== e.valueEnd) throw new ParseError('CRL entry', 'invalidityDate must be a GeneralizedTime');
          entry.invalidityDate = decodeTime(tbs, v);
        }
        off = e.end;
      }
      entry.extensions = extensions;
    }
    if (certificateIssuer) entry.certificateIssuer = certificateIssuer;
    return entry;
  });
}

/** Reads one Extension TLV at `off` into a schema object, noting where its value bytes are. */
function readExtension(buf: Buffer, off: number): { ext: x.Extension; valueStart: number; valueEnd: number; end: number } {
  const e = readTlv(buf, off, 'extension');
  if (e.tag !== 0x30) throw new ParseError('extension', 'expected a SEQUENCE');
  const oidT = readTlv(buf, e.valueStart, 'extension');
  if (oidT.tag !== 0x06) throw new ParseError('extension', 'extnID must be an OID');
  let v = readTlv(buf, oidT.end, 'extension');
  let critical = false;
  if (v.tag === 0x01) {
    if (v.end - v.valueStart !== 1) throw new ParseError('extension', 'malformed critical flag');
    critical = buf[v.valueStart] !== 0;
    v = readTlv(buf, v.end, 'extension');
  }
  if (v.tag !== 0x04 || v.end !== e.end) throw new ParseError('extension', 'extnValue must be an OCTET STRING ending the extension');
  const ext = new x.Extension({ extnID: readOid(buf, oidT, 'extension'), critical, extnValue: new OctetString(buf.subarray(v.valueStart, v.end)) });
  return { ext, valueStart: v.valueStart, valueEnd: v.end, end: e.end };
}


/**
 * Decodes UTCTime or GeneralizedTime. DER demands seconds and "Z"; older CRLs in the wild (and
 * PKITS) are DER, but minutes-only and offset forms are read too rather than rejected.
 */
function decodeTime(buf: Buffer, t: Tlv): Date {
  const s = buf.toString('latin1', t.valueStart, t.end);
  const m =
    t.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?(Z|[+-]\d{4})$/.exec(s);
  if (!m) throw new ParseError('time', `malformed ${t.tag === 0x17 ? 'UTCTime' : 'GeneralizedTime'} "${s}"`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  let ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const zone = m[7]!;
  if (zone !== 'Z') ms -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  if (Number.isNaN(ms)) throw new ParseError('time', `invalid date "${s}"`);
  return new Date(ms);
}

/** Reads a non-negative INTEGER extension value (cRLNumber, deltaCRLIndicator) as a bigint. */
function decodeIntegerExtension(e: x.Extension): bigint {
  const v = Buffer.from(e.extnValue.buffer);
  const t = parsing(`extension ${e.extnID}`, () => readTlv(v, 0));
  if (t.tag !== 0x02 || t.end !== v.length || t.valueStart === t.end) throw new ParseError(`extension ${e.extnID}`, 'expected one INTEGER');
  const bytes = v.subarray(t.valueStart, t.end);
  if (bytes[0]! & 0x80) throw new ParseError(`extension ${e.extnID}`, 'CRL numbers are non-negative');
  return BigInt('0x' + bytes.toString('hex'));
}

// ---------------------------------------------------------------------------------------------
// Building

/** Options of buildCrl. */
export interface CrlOptions {
  /** The CRL issuer: its certificate (name and key identifier taken from it) or a name. */
  issuer: Certificate | { name: x.Name; keyId?: Buffer };
  signer: PrivateKey;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
  /** The base CRL number: when set, the result is a delta CRL (deltaCRLIndicator, critical). */
  deltaOf?: bigint;
  /** The revoked certificates: a list, or a CrlEntryWriter they were streamed into. */
  entries: readonly CrlEntryInput[] | CrlEntryWriter;
  issuingDistributionPoint?: {
    urls?: string[];
    onlyContainsUserCerts?: boolean;
    onlyContainsCACerts?: boolean;
    onlySomeReasons?: RevocationReason[];
    indirectCRL?: boolean;
  };
  /** Where the delta CRLs are published (freshestCRL; complete CRLs only). */
  freshestCrlUrls?: string[];
}

const REASON_FLAGS: Partial<Record<RevocationReason, number>> = {
  keyCompromise: x.ReasonFlags.keyCompromise,
  cACompromise: x.ReasonFlags.cACompromise,
  affiliationChanged: x.ReasonFlags.affiliationChanged,
  superseded: x.ReasonFlags.superseded,
  cessationOfOperation: x.ReasonFlags.cessationOfOperation,
  certificateHold: x.ReasonFlags.certificateHold,
  privilegeWithdrawn: x.ReasonFlags.privilegeWithdrawn,
  aACompromise: x.ReasonFlags.aACompromise,
};

/** Builds and signs a v2 CRL. Entries are written straight to DER, so large lists stay fast. */
export function buildCrl(opts: CrlOptions, sigOpts?: SignatureOptions): Crl {
  const issuerNameDer = opts.issuer instanceof Certificate ? opts.issuer.subjectDer : nameToDer(opts.issuer.name);
  const keyId = opts.issuer instanceof Certificate ? (opts.issuer.subjectKeyId ?? keyIdentifier(opts.issuer.publicKey)) : opts.issuer.keyId;
  if (opts.deltaOf !== undefined && opts.freshestCrlUrls?.length) throw new PkiError('options.crl', 'freshestCRL belongs in complete CRLs, not delta CRLs');
  if (opts.crlNumber < 0n || (opts.deltaOf !== undefined && opts.deltaOf < 0n)) throw new PkiError('options.crl', 'CRL numbers are non-negative');

  const exts: x.Extension[] = [];
  if (keyId) exts.push(extension(EXT.authorityKeyIdentifier, false, new x.AuthorityKeyIdentifier({ keyIdentifier: new x.KeyIdentifier(keyId) })));
  exts.push(rawExtension(EXT.crlNumber, false, integerTlv(opts.crlNumber)));
  if (opts.deltaOf !== undefined) exts.push(rawExtension(EXT.deltaCrlIndicator, true, integerTlv(opts.deltaOf)));
  const idp = opts.issuingDistributionPoint;
  if (idp) {
    const reasons = idp.onlySomeReasons?.reduce((acc, r) => {
      const flag = REASON_FLAGS[r];
      if (flag === undefined) throw new PkiError('options.crl', `onlySomeReasons cannot name "${r}"`);
      return acc | flag;
    }, 0);
    const value = new x.IssuingDistributionPoint({
      distributionPoint: idp.urls?.length
        ? new x.DistributionPointName({ fullName: idp.urls.map((u) => new x.GeneralName({ uniformResourceIdentifier: u })) })
        : undefined,
      onlyContainsUserCerts: idp.onlyContainsUserCerts ?? false,
      onlyContainsCACerts: idp.onlyContainsCACerts ?? false,
      onlySomeReasons: reasons !== undefined ? new x.Reason(reasons) : undefined,
      indirectCRL: idp.indirectCRL ?? false,
    });
    exts.push(extension(EXT.issuingDistributionPoint, true, value));
  }
  if (opts.freshestCrlUrls?.length) {
    const points = opts.freshestCrlUrls.map(
      (u) => new x.DistributionPoint({ distributionPoint: new x.DistributionPointName({ fullName: [new x.GeneralName({ uniformResourceIdentifier: u })] }) }),
    );
    exts.push(extension(EXT.freshestCrl, false, new x.FreshestCRL(points)));
  }

  const sigAlgDer = Buffer.from(AsnConvert.serialize(signatureAlgorithmFor(opts.signer, sigOpts)));
  const extsDer = Buffer.from(AsnConvert.serialize(new x.Extensions(exts)));
  const revoked = entryPieces(opts.entries);
  // The CRL is written once into one buffer (a million entries are tens of MB): the TBS goes in
  // after room for the outer header, is signed where it lies, and the signature follows it.
  const head = [
    Buffer.from([0x02, 0x01, 0x01]), // version v2
    sigAlgDer,
    issuerNameDer,
    timeTlv(opts.thisUpdate),
    timeTlv(opts.nextUpdate),
    // RFC 5280 §5.1.2.6: the revoked list is absent, not empty, when nothing is revoked.
    ...(revoked ? [derHeader(0x30, revoked.length)] : []),
  ];
  const tail = tlv(0xa0, [extsDer]);
  const tbsContent = head.reduce((n, p) => n + p.length, 0) + (revoked?.length ?? 0) + tail.length;
  const tbsHeader = derHeader(0x30, tbsContent);
  const tbsLength = tbsHeader.length + tbsContent;
  const out = Buffer.allocUnsafe(6 + tbsLength + sigAlgDer.length + 6 + 1 + MAX_SIGNATURE);
  let pos = 6;
  for (const part of [tbsHeader, ...head, ...(revoked?.pieces ?? []), tail]) pos += part.copy(out, pos);
  const tbsDer = out.subarray(6, pos);
  const { signature } = signData(opts.signer, tbsDer, sigOpts);
  if (signature.length > MAX_SIGNATURE) throw new PkiError('options.crl', `a ${signature.length}-byte signature is larger than CRLs allow for`);
  pos += sigAlgDer.copy(out, pos);
  pos += derHeader(0x03, signature.length + 1).copy(out, pos);
  out[pos++] = 0; // no unused bits
  pos += signature.copy(out, pos);
  const outerHeader = derHeader(0x30, pos - 6);
  const start = 6 - outerHeader.length;
  outerHeader.copy(out, start);
  return Crl.ownDer(out.subarray(start, pos));
}

/** Room for the signature value: RSA-16384 is 2,048 bytes; ECDSA and SM2 are far smaller. */
const MAX_SIGNATURE = 2048;

/** An extension whose value is already DER. */
function rawExtension(oid: string, critical: boolean, valueDer: Buffer): x.Extension {
  return new x.Extension({ extnID: oid, critical, extnValue: new OctetString(valueDer) });
}

/** One revoked certificate to list in a CRL being built. */
export interface CrlEntryInput {
  /** Serial number as INTEGER content bytes (a leading 00 when the top bit is set). */
  serial: Uint8Array;
  revocationDate: Date;
  reason?: RevocationReason;
  invalidityDate?: Date;
}

/** Entries go into chunks of this size, so a million entries are never copied to grow a buffer. */
const ENTRY_CHUNK = 1 << 20;

/**
 * Encodes revoked entries one by one straight into DER, so that a caller streaming a million
 * rows from a database never holds a million entry objects; pass it to buildCrl as `entries`.
 */
export class CrlEntryWriter {
  private readonly chunks: DerWriter[] = [];
  private w: DerWriter;
  private n = 0;
  constructor(expectedEntries = 64) {
    this.w = new DerWriter(Math.min(ENTRY_CHUNK, Math.max(64, expectedEntries * 48)) + 512);
    this.chunks.push(this.w);
  }
  /** How many entries were added. */
  get count(): number {
    return this.n;
  }
  /** How many bytes the entries take (the revokedCertificates SEQUENCE's content). */
  get length(): number {
    let n = 0;
    for (const c of this.chunks) n += c.position;
    return n;
  }
  /** The encoded entries in order, as written (views, not copies). */
  pieces(): Buffer[] {
    return this.chunks.map((c) => c.result());
  }
  /** Appends one entry. */
  add(e: CrlEntryInput): void {
    if (e.serial.length === 0 || e.serial.length > 126) throw new PkiError('options.crl', 'serial number must be 1 to 126 bytes');
    if (Number.isNaN(e.revocationDate.getTime())) throw new PkiError('options.crl', 'invalid revocation date');
    const w = this.writer();
    const reason = reasonByte(e.reason);
    const extsLen = entryExtensionsLength(reason, e.invalidityDate !== undefined);
    w.header(0x30, 2 + e.serial.length + derTimeLength(e.revocationDate) + (extsLen ? 2 + extsLen : 0));
    w.header(0x02, e.serial.length);
    w.bytes(e.serial);
    w.time(e.revocationDate);
    if (extsLen) {
      w.header(0x30, extsLen);
      writeEntryExtensions(w, reason, e.invalidityDate !== undefined);
      if (e.invalidityDate) w.generalizedTime(e.invalidityDate);
    }
    this.n++;
  }
  /**
   * Appends one entry as a database stores it: the serial as hex digits of a positive number and
   * ISO-8601 UTC times ("2026-01-02T03:04:05.000Z", fractions dropped). No Date or Buffer is made.
   */
  addStored(serialHex: string, revokedAt: string, reason?: RevocationReason, invalidityDate?: string): void {
    if (serialHex.length === 0 || serialHex.length > 250) throw new PkiError('options.crl', 'serial number must be 1 to 126 bytes');
    const w = this.writer();
    const mark = w.position;
    const code = reasonByte(reason);
    const extsLen = entryExtensionsLength(code, invalidityDate !== undefined);
    // Written with a one-byte placeholder length, then moved into place if the length needs more.
    w.header(0x30, 0);
    const body = w.position;
    w.hexInteger(serialHex);
    w.isoTime(revokedAt);
    if (extsLen) {
      w.header(0x30, extsLen);
      writeEntryExtensions(w, code, invalidityDate !== undefined);
      if (invalidityDate !== undefined) w.isoTime(invalidityDate, true);
    }
    w.patchLength(mark, w.position - body);
    this.n++;
  }
  /** The revokedCertificates SEQUENCE, or undefined when no entry was added. */
  encoded(): Buffer | undefined {
    return this.n === 0 ? undefined : tlv(0x30, this.pieces());
  }
  private writer(): DerWriter {
    if (this.w.position > ENTRY_CHUNK) {
      this.w = new DerWriter(ENTRY_CHUNK + 512);
      this.chunks.push(this.w);
    }
    return this.w;
  }
}

/** The CRLReason code to write, or undefined (RFC 5280 §5.3.1: unspecified is omitted). */
function reasonByte(reason: RevocationReason | undefined): number | undefined {
  return reason && reason !== 'unspecified' ? REASON_CODES[reason] : undefined;
}

/** Length of an entry's crlEntryExtensions content: reasonCode and invalidityDate (GeneralizedTime, 15 bytes of value). */
function entryExtensionsLength(reason: number | undefined, invalidity: boolean): number {
  return (reason !== undefined ? REASON_EXT_LEN : 0) + (invalidity ? INVALIDITY_PREFIX.length + 17 : 0);
}

/** Writes the reasonCode extension and, when invalidity follows, the invalidityDate extension's header. */
function writeEntryExtensions(w: DerWriter, reason: number | undefined, invalidity: boolean): void {
  if (reason !== undefined) {
    w.bytes(REASON_EXT_PREFIX);
    w.byte(reason);
  }
  if (invalidity) w.bytes(INVALIDITY_PREFIX);
}

/** The revokedCertificates SEQUENCE's content in pieces with its length, or undefined for an empty list. */
function entryPieces(entries: readonly CrlEntryInput[] | CrlEntryWriter): { pieces: Buffer[]; length: number } | undefined {
  let w: CrlEntryWriter;
  if (entries instanceof CrlEntryWriter) w = entries;
  else {
    w = new CrlEntryWriter(entries.length);
    for (const e of entries) w.add(e);
  }
  return w.count === 0 ? undefined : { pieces: w.pieces(), length: w.length };
}

// reasonCode extension: SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED n } }
const REASON_EXT_PREFIX = Buffer.from([0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01]);
const REASON_EXT_LEN = REASON_EXT_PREFIX.length + 1;
// invalidityDate extension up to its GeneralizedTime: SEQUENCE { OID 2.5.29.24, OCTET STRING { ...
const INVALIDITY_PREFIX = Buffer.from([0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11]);

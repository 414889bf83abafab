/**
 * A CRL decoded once for revocation checking: normalized issuer, issuing distribution point,
 * CRL numbers, critical extensions, and an index of its entries by serial number with each
 * entry's certificate issuer (for indirect CRLs).
 */
import { childTlvs } from '../encoding/der.js';
import { ParseError } from '../errors.js';
import { EXT } from '../x509/extensions.js';
import type { Crl, RevokedEntry } from '../x509/crl.js';
import { namedBits, valueOf, wholeTlv, type GeneralNameValue } from './der-read.js';
import { normalizeName, type NormalizedName } from './names.js';
import { readDistributionPointName, sameAlgorithm, sha256Hex } from './prepared.js';

/** issuingDistributionPoint (RFC 5280 §5.2.5). */
export interface IssuingDistributionPoint {
  fullName?: GeneralNameValue[];
  relativeName?: Buffer;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  /** ReasonFlags bits; undefined means all reasons. */
  onlySomeReasons?: number;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
  /** The extension value DER, to compare the scopes of a complete and a delta CRL. */
  der: Buffer;
}

/** A revoked entry with its certificate issuer resolved. */
export interface IndexedEntry {
  entry: RevokedEntry;
  /** The issuers this entry applies to (certificateIssuer, or the CRL issuer). */
  issuers: NormalizedName[];
}

/** A CRL prepared for revocation checking. */
export interface PreparedCrl {
  crl: Crl;
  fingerprint: string;
  issuer: NormalizedName;
  idp?: IssuingDistributionPoint;
  isDelta: boolean;
  crlNumber?: bigint;
  baseCrlNumber?: bigint;
  authorityKeyId?: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Critical CRL or entry extensions this validator cannot process: the CRL must not be used. */
  unknownCritical: string[];
  /** Set when the CRL's extensions or entries cannot be decoded: it is not used. */
  malformed?: string;
  /** Entries by serialKey(). */
  entries: Map<string, IndexedEntry[]>;
}

const KNOWN_CRL_EXTENSIONS = new Set<string>([
  EXT.authorityKeyIdentifier,
  EXT.crlNumber,
  EXT.deltaCrlIndicator,
  EXT.issuingDistributionPoint,
  EXT.freshestCrl,
  EXT.issuerAltName,
  EXT.authorityInfoAccess,
]);
const HOLD_INSTRUCTION_CODE = '2.5.29.23';
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([EXT.crlReason, EXT.invalidityDate, EXT.certificateIssuer, HOLD_INSTRUCTION_CODE]);

/** Every reason of ReasonFlags (bits 1 to 8; bit 0 is "unused"). */
export const ALL_REASONS = 0x1fe;

/** Decodes what revocation checking needs; problems are recorded, never thrown. */
export function prepareCrl(crl: Crl): PreparedCrl {
  const p: PreparedCrl = {
    crl,
    fingerprint: sha256Hex(crl.der),
    issuer: issuerOf(crl),
    isDelta: false,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    unknownCritical: [],
    entries: new Map(),
  };
  try {
    if (!sameAlgorithm(crl.tbsSignatureAlgorithm, crl.signatureAlgorithm)) throw new ParseError('CRL', 'the signature algorithm inside the signed part differs from the outer one (RFC 5280 §5.1.1.2)');
    p.isDelta = crl.isDelta;
    p.crlNumber = crl.crlNumber;
    p.baseCrlNumber = crl.baseCrlNumber;
    p.authorityKeyId = crl.authorityKeyId?.toString('hex');
    const seen = new Set<string>();
    for (const e of crl.extensions) {
      if (seen.has(e.extnID)) throw new ParseError('CRL', `extension ${e.extnID} appears more than once`);
      seen.add(e.extnID);
      if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.extnID)) p.unknownCritical.push(e.extnID);
      if (e.extnID === EXT.issuingDistributionPoint) p.idp = readIdp(Buffer.from(e.extnValue.buffer));
    }
    for (const entry of crl.revoked) {
      for (const e of entry.extensions) if (e.critical && !KNOWN_ENTRY_EXTENSIONS.has(e.extnID)) p.unknownCritical.push(`entry ${e.extnID}`);
      const issuers = entry.certificateIssuer ? entry.certificateIssuer.map((d) => normalizeName(d)) : [p.issuer];
      const key = serialKey(entry.serial);
      const list = p.entries.get(key);
      if (list) list.push({ entry, issuers });
      else p.entries.set(key, [{ entry, issuers }]);
    }
  } catch (e) {
    p.malformed = e instanceof Error ? e.message : String(e);
  }
  return p;
}

/** The CRL issuer; an undecodable one becomes an empty name that matches no certificate issuer. */
function issuerOf(crl: Crl): NormalizedName {
  try {
    return normalizeName(crl.issuerDer);
  } catch {
    return { der: crl.issuerDer, rdns: [], key: `undecodable:${crl.issuerDer.toString('hex')}`, emails: [], empty: true };
  }
}

function readIdp(v: Buffer): IssuingDistributionPoint {
  const top = wholeTlv(v, 'issuingDistributionPoint', 0x30);
  const idp: IssuingDistributionPoint = {
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    indirectCRL: false,
    onlyContainsAttributeCerts: false,
    der: v,
  };
  const bool = (t: { valueStart: number; end: number }) => {
    if (t.end - t.valueStart !== 1) throw new ParseError('issuingDistributionPoint', 'bad BOOLEAN');
    return v[t.valueStart] !== 0;
  };
  for (const t of childTlvs(v, top, 'issuingDistributionPoint')) {
    switch (t.tag) {
      case 0xa0:
        Object.assign(idp, readDistributionPointName(v, t, 'issuingDistributionPoint'));
        break;
      case 0x81:
        idp.onlyContainsUserCerts = bool(t);
        break;
      case 0x82:
        idp.onlyContainsCACerts = bool(t);
        break;
      case 0x83:
        idp.onlySomeReasons = namedBits(valueOf(v, t), 'onlySomeReasons');
        break;
      case 0x84:
        idp.indirectCRL = bool(t);
        break;
      case 0x85:
        idp.onlyContainsAttributeCerts = bool(t);
        break;
      default:
        throw new ParseError('issuingDistributionPoint', `unexpected tag 0x${t.tag.toString(16)}`);
    }
  }
  return idp;
}

/**
 * A serial number's identity: the minimal two's-complement bytes in hex. Unlike a hex rendering
 * without the sign byte, it keeps 255 (00 FF) and -1 (FF) apart (PKITS 4.4.14 / 4.4.15).
 */
export function serialKey(serial: Uint8Array): string {
  let i = 0;
  while (i + 1 < serial.length && ((serial[i] === 0x00 && serial[i + 1]! < 0x80) || (serial[i] === 0xff && serial[i + 1]! >= 0x80))) i++;
  return Buffer.from(serial.subarray(i)).toString('hex');
}

/** The entry for a certificate (serial and issuer), if the CRL lists it. */
export function findEntry(p: PreparedCrl, serial: Uint8Array, certIssuer: NormalizedName): RevokedEntry | undefined {
  const list = p.entries.get(serialKey(serial));
  if (!list) return undefined;
  for (const e of list) if (e.issuers.some((n) => n.key === certIssuer.key)) return e.entry;
  return undefined;
}

/**
 * Signature checks for path validation, with the working public key of RFC 5280 §6.1.4 (d)-(f)
 * (DSA keys without parameters inherit them from the issuer's key) and an explicit, bounded
 * cache of results: a verified (issuer key, signed object) pair is not verified again.
 */
import { readTlv } from '../encoding/der.js';
import { PkiError, UnsupportedError } from '../errors.js';
import { OID } from '../oids.js';
import { publicKeyFromSpki, type PublicKey } from '../crypto/keys.js';
import { verifyData, type SignatureOptions } from '../crypto/signature.js';
import type { Crl } from '../x509/crl.js';
import { sha256Hex, type PreparedCert } from './prepared.js';

/** The key that verifies the next certificate in a path. */
export interface WorkingKey {
  /** SubjectPublicKeyInfo DER, with inherited DSA parameters filled in. */
  spki: Buffer;
  /** SHA-256 hex of `spki`. */
  hash: string;
  algorithm: string;
  /** Set when the key cannot be used (e.g. DSA without parameters and nothing to inherit). */
  unusable?: string;
}

/** The outcome of one signature check. */
export type SignatureCheck = { ok: true } | { ok: false; code: 'badSignature' | 'unsupportedAlgorithm'; message: string };

/** A bounded map that forgets its oldest entries first. */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly limit: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  set(k: K, v: V): void {
    if (this.limit <= 0) return;
    if (this.map.size >= this.limit && !this.map.has(k)) this.map.delete(this.map.keys().next().value as K);
    this.map.set(k, v);
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

/** The working key a certificate hands to the next one (RFC 5280 §6.1.4 (d)-(f)). */
export function workingKeyOf(p: PreparedCert, previous?: WorkingKey): WorkingKey {
  const spki = p.spki;
  if (p.spkiAlgorithm !== OID.dsa || p.spkiHasParams) return { spki, hash: p.spkiHash, algorithm: p.spkiAlgorithm };
  if (!previous || previous.algorithm !== OID.dsa || previous.unusable) {
    return { spki, hash: p.spkiHash, algorithm: p.spkiAlgorithm, unusable: 'DSA key without parameters and no DSA issuer key to inherit them from' };
  }
  const merged = withDsaParameters(spki, previous.spki);
  return { spki: merged, hash: sha256Hex(merged), algorithm: p.spkiAlgorithm };
}

/** Rebuilds a DSA SubjectPublicKeyInfo with the parameters of another DSA key (§6.1.4 (e)). */
function withDsaParameters(spki: Buffer, parentSpki: Buffer): Buffer {
  const top = readTlv(spki, 0);
  const alg = readTlv(spki, top.valueStart);
  const bits = readTlv(spki, alg.end);
  const pTop = readTlv(parentSpki, 0);
  const pAlg = readTlv(parentSpki, pTop.valueStart);
  const pOid = readTlv(parentSpki, pAlg.valueStart);
  const params = parentSpki.subarray(pOid.end, pAlg.end);
  const oid = spki.subarray(readTlv(spki, alg.valueStart).start, readTlv(spki, alg.valueStart).end);
  const algSeq = tlv(0x30, Buffer.concat([oid, params]));
  return tlv(0x30, Buffer.concat([algSeq, spki.subarray(bits.start, bits.end)]));
}

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

/** Verifies certificate and CRL signatures, remembering results and imported keys. */
export class SignatureChecker {
  private readonly results: BoundedCache<string, boolean>;
  private readonly keys: BoundedCache<string, PublicKey | string>;
  private readonly opts: SignatureOptions;

  /** `cacheSize` bounds both caches (0 disables caching); `sm2UserId` defaults to the GM/T 0009 ID. */
  constructor(cacheSize: number, sm2UserId?: Uint8Array) {
    this.results = new BoundedCache(cacheSize);
    this.keys = new BoundedCache(Math.max(0, Math.min(cacheSize, 4096)));
    this.opts = sm2UserId ? { sm2UserId } : {};
  }

  /** Number of remembered signature results. */
  get cachedResults(): number {
    return this.results.size;
  }

  /** Checks a certificate's signature with a working key. */
  verifyCertificate(p: PreparedCert, key: WorkingKey): SignatureCheck {
    return this.check(`c|${key.hash}|${p.fingerprint}`, key, p.cert.signatureAlgorithm.algorithm, p.cert.tbsDer, p.cert.signatureValue, p.cert.signatureAlgorithm);
  }

  /** Checks a CRL's signature with a working key; `crlFingerprint` identifies the CRL's DER. */
  verifyCrl(crl: Crl, crlFingerprint: string, key: WorkingKey): SignatureCheck {
    const cacheKey = `l|${key.hash}|${crlFingerprint}`;
    const hit = this.results.get(cacheKey);
    if (hit !== undefined) return hit ? { ok: true } : { ok: false, code: 'badSignature', message: 'the CRL signature does not verify' };
    const pub = this.publicKey(key);
    if (typeof pub === 'string') return { ok: false, code: 'badSignature', message: pub };
    let ok: boolean;
    try {
      ok = crl.verifySignature(pub, this.opts);
    } catch (e) {
      if (e instanceof UnsupportedError) return { ok: false, code: 'unsupportedAlgorithm', message: e.message };
      throw e;
    }
    this.results.set(cacheKey, ok);
    return ok ? { ok: true } : { ok: false, code: 'badSignature', message: 'the CRL signature does not verify' };
  }

  private check(cacheKey: string, key: WorkingKey, algOid: string, data: Buffer, sig: Buffer, alg: Parameters<typeof verifyData>[1]): SignatureCheck {
    const hit = this.results.get(cacheKey);
    if (hit !== undefined) return hit ? { ok: true } : { ok: false, code: 'badSignature', message: 'the signature does not verify with the issuer key' };
    const pub = this.publicKey(key);
    if (typeof pub === 'string') return { ok: false, code: 'badSignature', message: pub };
    let ok: boolean;
    try {
      ok = verifyData(pub, alg, data, sig, this.opts);
    } catch (e) {
      if (e instanceof UnsupportedError) return { ok: false, code: 'unsupportedAlgorithm', message: `${e.message} (${algOid})` };
      if (e instanceof PkiError) return { ok: false, code: 'badSignature', message: e.message };
      throw e;
    }
    this.results.set(cacheKey, ok);
    return ok ? { ok: true } : { ok: false, code: 'badSignature', message: 'the signature does not verify with the issuer key' };
  }

  /** The imported key, or a message saying why it cannot be used. */
  private publicKey(key: WorkingKey): PublicKey | string {
    if (key.unusable) return `the issuer key cannot be used: ${key.unusable}`;
    const hit = this.keys.get(key.hash);
    if (hit !== undefined) return hit;
    let out: PublicKey | string;
    try {
      out = publicKeyFromSpki(key.spki);
    } catch (e) {
      out = `the issuer key cannot be used: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.keys.set(key.hash, out);
    return out;
  }
}

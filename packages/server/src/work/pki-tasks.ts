/**
 * The CPU-heavy pure work of issuance: examining a certification request (parse, proof of
 * possession, requested identity numbers and names, the profile's request rules) and signing a
 * certificate under its profile (check, build, sign, lint). Plain data in, plain data out, so the
 * same code runs in the service's own thread or in worker threads (see pool.ts); it never
 * touches the database. A Workbench keeps, per thread, the issuers it signs for and the requests
 * it recently examined, so that signing right after examining does not decode them again.
 */
import { createHash } from 'node:crypto';
import {
  Certificate,
  CertificationRequestDoc,
  EXT,
  checkRequest,
  decodeKnownExtension,
  getProfile,
  importPrivateKey,
  issueFromProfile,
  nameDer,
  nameFromDer,
  pairwiseConsistent,
  publicKeyFromSpki,
  rawExtension,
  readIdentity,
  type AltName,
  type HealthIdentity,
  type PrivateKey,
  type Profile,
  type PublicKey,
  type RevocationUrls,
} from '@health-pki/pki';
import { RuleError, TooLargeError } from '../errors.js';
import { holderFacts, type HolderFacts } from '../ca/holder.js';

/** The largest CSR accepted, in bytes of DER. Real ones are under 4 KiB. */
export const MAX_CSR_BYTES = 16 * 1024;

/** Profiles whose certificates belong to a CA hierarchy, never to a holder. */
export const CA_PROFILES: ReadonlySet<string> = new Set(['root-ca', 'sub-ca']);

/** A distinguished name as the pki library builds it. */
type Name = ReturnType<typeof nameFromDer>;

/** What examining a request needs. */
export interface ExamineTask {
  /** PKCS#10, PEM or DER. */
  csr: string | Uint8Array;
  /** Identity numbers the officer entered; they must agree with those in the CSR, if any. */
  identity?: HealthIdentity;
  /**
   * For a new certificate: check the request against this profile (and the issuing CA's
   * validity) right away, with the identity numbers and names the certificate would carry.
   */
  precheck?: { profile: string; altNames?: AltName[]; validityDays?: number; issuerNotAfter: number; now: number };
  /**
   * With `precheck`: once the request passed, sign its certificate right away with what the
   * precheck checked (profile, identity, names, validity), so that an enrollment takes one trip
   * to a worker thread instead of two. The answer's `signed` then holds the certificate.
   */
  sign?: PlannedSigning;
}

/** What signing takes besides the request itself: chosen by the CA before the work is sent. */
export type PlannedSigning = Pick<SignTask, 'notBefore' | 'serial' | 'urls' | 'issuerId'>;

/** What a request says, as plain data. */
export interface ExaminedRequest {
  der: Buffer;
  subjectDer: Buffer;
  subjectText: string;
  spki: Buffer;
  /** Identity numbers requested in the CSR (extensionRequest), empty values dropped. */
  csrIdentity: HealthIdentity;
  /** Subject alternative names requested in the CSR. */
  csrAltNames: AltName[];
  /** The certificate, when the task asked for it to be signed too (`ExamineTask.sign`). */
  signed?: SignedResult;
}

/** What signing a certificate needs, as plain data. */
export interface SignTask {
  profile: string;
  subjectDer: Buffer;
  spki: Buffer;
  identity?: HealthIdentity;
  altNames?: AltName[];
  validityDays?: number;
  /** Start of validity, milliseconds since the epoch. */
  notBefore: number;
  serial: Uint8Array;
  urls: RevocationUrls;
  /** The issuing CA; its key was given to the workbench with `addIssuer`. */
  issuerId: string;
}

/** A signed and linted certificate, with the fields the CA records. */
export interface SignedResult {
  der: Buffer;
  serialHex: string;
  subjectText: string;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, hex. */
  spkiSha256: string;
  notBefore: string;
  notAfter: string;
  /** What query and the directory search by (ca/holder.ts). */
  holder: HolderFacts;
}

/** The fields the CA records of a certificate. */
export function certificateFacts(cert: Certificate): SignedResult {
  return {
    der: cert.der,
    serialHex: cert.serialHex,
    subjectText: cert.subjectText,
    spkiSha256: createHash('sha256').update(cert.spkiDer).digest('hex'),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    holder: holderFacts(cert),
  };
}

/** Identity fields that are set, as a plain object (drops empty values so comparisons are fair). */
export function cleanIdentity(id: HealthIdentity | undefined): HealthIdentity {
  const out: HealthIdentity = {};
  for (const [k, v] of Object.entries(id ?? {})) if (typeof v === 'string' && v !== '') (out as Record<string, string>)[k] = v;
  return out;
}

/** True when two cleaned identities carry the same numbers. */
export function sameIdentity(a: HealthIdentity, b: HealthIdentity): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && (a as Record<string, string>)[k] === (b as Record<string, string>)[k]);
}

/** Subject alternative names of decoded GeneralNames (certificate or CSR), as AltNames. */
export function altNamesFrom(names: Iterable<{ dNSName?: string; rfc822Name?: string; uniformResourceIdentifier?: string; iPAddress?: string }>): AltName[] {
  const out: AltName[] = [];
  for (const g of names) {
    if (g.dNSName !== undefined) out.push({ type: 'dns', value: g.dNSName });
    else if (g.rfc822Name !== undefined) out.push({ type: 'email', value: g.rfc822Name });
    else if (g.uniformResourceIdentifier !== undefined) out.push({ type: 'uri', value: g.uniformResourceIdentifier });
    else if (g.iPAddress !== undefined) out.push({ type: 'ip', value: g.iPAddress });
  }
  return out;
}

/**
 * Holders apply for signing certificates. Encryption certificates need a key pair made and
 * escrowed by the KMC (GM/T 0014 dual certificates), which is a later module; CA, OCSP-signing
 * and time-stamping certificates belong to the service itself, not to applicants.
 */
export function checkApplicableProfile(name: string): void {
  const profile = getProfile(name);
  if (profile.variant === 'sign') return;
  const why =
    profile.variant === 'enc'
      ? 'its key pair is made and escrowed by the key management centre (dual certificates), which this deployment does not run yet'
      : `it is a ${profile.variant === 'ca' ? 'CA' : 'service'} certificate of the certification service itself`;
  throw new RuleError('ra.profile', `profile ${profile.name} cannot be applied for: ${why}`);
}

/** The profile's request rules and the issuing CA's validity, checked without signing anything. */
export function precheckRequest(
  spec: { profile: string; subject: Name; publicKey: PublicKey; identity?: HealthIdentity; altNames?: AltName[]; validityDays?: number },
  issuerNotAfter: Date,
  now: Date,
): Profile {
  const profile = getProfile(spec.profile);
  if (CA_PROFILES.has(profile.name)) throw new RuleError('ca.profile.ca', `profile ${profile.name} is for the CA's own hierarchy; create a CA instead`);
  checkRequest(profile, { subject: spec.subject, publicKey: spec.publicKey, identity: spec.identity, altNames: spec.altNames, validityDays: spec.validityDays });
  const days = spec.validityDays ?? profile.validity.defaultDays;
  if (now.getTime() + days * 86_400_000 > issuerNotAfter.getTime()) {
    throw new RuleError('profile.validity.issuer', `the certificate would outlive its issuing CA, which expires ${issuerNotAfter.toISOString()}`);
  }
  return profile;
}

interface Decoded {
  subjectDer: Buffer;
  subject: Name;
  publicKey: PublicKey;
}

/** Requests examined recently, kept for the signature that usually follows. */
const RECENT = 512;

/** The pure issuance work of one thread. */
export class Workbench {
  private readonly issuers = new Map<string, { cert: Certificate; key: PrivateKey }>();
  private readonly recent = new Map<string, Decoded>();

  /** Whether the key of this issuer was given already. */
  hasIssuer(id: string): boolean {
    return this.issuers.has(id);
  }

  /**
   * Gives the workbench an issuing CA's certificate and key, after a pairwise consistency test
   * (the key must sign what the certificate's key verifies): each signature it makes later is
   * then re-verified only where that still adds something (pki `needsSignatureCheckEachTime`).
   */
  addIssuer(id: string, certDer: Uint8Array, key: PrivateKey | Uint8Array): void {
    const cert = Certificate.parse(Buffer.from(certDer));
    const opened = key instanceof Uint8Array ? importPrivateKey(key) : key;
    if (!pairwiseConsistent(opened, cert.publicKey)) throw new Error(`the key of issuer ${id} does not sign for its certificate "${cert.subjectText}" (pairwise consistency test failed)`);
    this.issuers.set(id, { cert, key: opened });
  }

  /**
   * Examines a certification request: size, structure, proof of possession, the identity
   * numbers and names it asks for and, for a new certificate, the profile's request rules.
   * Typed errors (400, 413, 422) name what is wrong.
   */
  examine(task: ExamineTask): ExaminedRequest {
    const size = typeof task.csr === 'string' ? task.csr.length : task.csr.length;
    if (size > MAX_CSR_BYTES * 2) throw new TooLargeError('csr.size', `the CSR is ${size} bytes; at most ${MAX_CSR_BYTES} bytes of DER are accepted`);
    const csr = CertificationRequestDoc.parse(task.csr);
    if (csr.der.length > MAX_CSR_BYTES) throw new TooLargeError('csr.size', `the CSR is ${csr.der.length} bytes of DER; at most ${MAX_CSR_BYTES} are accepted`);
    let ok = false;
    try {
      ok = csr.verifySignature();
    } catch {
      ok = false;
    }
    if (!ok) throw new RuleError('csr.signature', 'the CSR is not signed by the key it carries (proof of possession failed)');
    const requested = csr.rawRequestedExtensions;
    const csrIdentity = cleanIdentity(readIdentity(requested));
    const explicitIdentity = cleanIdentity(task.identity);
    if (Object.keys(csrIdentity).length > 0 && Object.keys(explicitIdentity).length > 0 && !sameIdentity(csrIdentity, explicitIdentity)) {
      throw new RuleError('identity.mismatch', 'the identity numbers in the CSR differ from those in the application');
    }
    const san = requested.find((e) => e.extnID === EXT.subjectAltName);
    const sanNames = san ? (decodeKnownExtension(rawExtension(san.extnID, san.critical, san.value)) as Iterable<{ dNSName?: string }> | undefined) : undefined;
    const csrAltNames = sanNames ? altNamesFrom(sanNames) : [];
    const subject = csr.subject;
    // The subject as the certificate will carry it (the builder's encoding of the decoded name).
    const subjectDer = nameDer(subject);
    const spki = csr.spkiDer;
    const publicKey = csr.publicKey;
    const examined: ExaminedRequest = { der: csr.der, subjectDer, subjectText: csr.subjectText, spki, csrIdentity, csrAltNames };
    if (task.precheck) {
      const p = task.precheck;
      const identity = Object.keys(explicitIdentity).length ? explicitIdentity : csrIdentity;
      const altNames = p.altNames ?? csrAltNames;
      checkApplicableProfile(p.profile);
      precheckRequest({ profile: p.profile, subject, publicKey, identity, altNames, validityDays: p.validityDays }, new Date(p.issuerNotAfter), new Date(p.now));
      if (task.sign) {
        examined.signed = this.signDecoded({ profile: p.profile, subjectDer, spki, identity, altNames, validityDays: p.validityDays, ...task.sign }, { subjectDer, subject, publicKey });
        return examined;
      }
    }
    this.remember(spki, { subjectDer, subject, publicKey });
    return examined;
  }

  /** Checks the request against the profile, builds and signs the certificate, and lints it. */
  sign(task: SignTask): SignedResult {
    return this.signDecoded(task, this.decoded(Buffer.from(task.subjectDer), Buffer.from(task.spki)));
  }

  private signDecoded(task: SignTask, d: Decoded): SignedResult {
    const issuer = this.issuers.get(task.issuerId);
    if (!issuer) throw new Error(`workbench: no key for issuer ${task.issuerId}`);
    const cert = issueFromProfile({
      profile: task.profile,
      subject: d.subject,
      publicKey: d.publicKey,
      issuerCert: issuer.cert,
      issuerKey: issuer.key,
      validityDays: task.validityDays,
      identity: task.identity,
      altNames: task.altNames,
      notBefore: new Date(task.notBefore),
      serialNumber: task.serial,
      urls: task.urls,
      issuerKeyTested: true,
    });
    return certificateFacts(cert);
  }

  private remember(spki: Buffer, d: Decoded): void {
    const key = spki.toString('base64');
    this.recent.delete(key);
    this.recent.set(key, d);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
  }

  private decoded(subjectDer: Buffer, spki: Buffer): Decoded {
    const hit = this.recent.get(spki.toString('base64'));
    if (hit && hit.subjectDer.equals(subjectDer)) return hit;
    return { subjectDer, subject: nameFromDer(subjectDer), publicKey: publicKeyFromSpki(spki) };
  }
}

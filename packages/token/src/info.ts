/** What anyone may read from a token without a PIN: labels, PIN counters, containers, public keys and certificates. */
import { Certificate, keyAlgorithmOf, publicKeyFromSpki, type PublicKey } from '@health-pki/pki';
import type { ApplicationRecord, ContainerPublic, PinRecord, SlotPublic, TokenRecord } from './format.js';

/** A PIN's retry counter. */
export interface PinStatus {
  maxRetries: number;
  remaining: number;
  locked: boolean;
}

/** A key slot as listed. */
export interface SlotInfo {
  hasKey: boolean;
  /** "sm2", "p256", "rsa2048", … (or the key kind when it is none of those). */
  keyAlgorithm?: string;
  certificate?: { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string };
}

/** A container as listed. */
export interface ContainerInfo {
  name: string;
  signing: SlotInfo;
  encryption: SlotInfo;
}

/** An application as listed. */
export interface ApplicationInfo {
  name: string;
  kdf: string;
  cipher: string;
  userPin: PinStatus;
  adminPin: PinStatus;
  /** Set while an unblock request waits for the CA's answer. */
  unblockPending?: { createdAt: string; expiresAt: string };
  containers: ContainerInfo[];
}

/** The device as listed. */
export interface TokenInfo {
  tokenId: string;
  label: string;
  createdAt: string;
  applications: ApplicationInfo[];
}

/** A PIN record's counter. */
export function pinStatus(p: PinRecord): PinStatus {
  return { maxRetries: p.maxRetries, remaining: p.remaining, locked: p.remaining === 0 };
}

function slotInfo(s: SlotPublic): SlotInfo {
  const info: SlotInfo = { hasKey: s.publicKey !== undefined };
  if (s.publicKey) {
    const pub: PublicKey = publicKeyFromSpki(s.publicKey);
    info.keyAlgorithm = keyAlgorithmOf(pub) ?? pub.kind;
  }
  if (s.certificate) {
    const c = Certificate.parse(s.certificate);
    info.certificate = { subject: c.subjectText, issuer: c.issuerText, serial: c.serialHex, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
  }
  return info;
}

/** A container's listing. */
export function containerInfo(c: ContainerPublic): ContainerInfo {
  return { name: c.name, signing: slotInfo(c.signing), encryption: slotInfo(c.encryption) };
}

function applicationInfo(a: ApplicationRecord): ApplicationInfo {
  return {
    name: a.name,
    kdf: a.kdf.alg === 'scrypt' ? `scrypt N=${a.kdf.N} r=${a.kdf.r} p=${a.kdf.p}` : `pbkdf2-sm3 iterations=${a.kdf.iterations}`,
    cipher: a.cipher,
    userPin: pinStatus(a.user),
    adminPin: pinStatus(a.admin),
    ...(a.pendingUnblock ? { unblockPending: { createdAt: a.pendingUnblock.createdAt, expiresAt: a.pendingUnblock.expiresAt } } : {}),
    containers: a.containers.map(containerInfo),
  };
}

/** The whole device's listing. */
export function tokenInfo(t: TokenRecord): TokenInfo {
  return { tokenId: t.tokenId, label: t.label, createdAt: t.createdAt, applications: t.applications.map(applicationInfo) };
}

/** The JSON shapes of the API answers the interface reads (see packages/server/src/http/views.ts). */

export interface Grant {
  role: 'admin' | 'officer' | 'auditor';
  ca: string;
}

export interface Whoami {
  id: string;
  role: 'admin' | 'officer' | 'auditor' | 'holder' | 'public';
  via: string;
  grants: Grant[];
  holder: { ca: string; serial: string; subject: string } | null;
}

export interface Issuer {
  label: string;
  role: 'root' | 'issuing';
  parent: string | null;
  active: boolean;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  keyProtection: string;
  url: string;
}

export interface Ca {
  name: string;
  displayName: string;
  /** The display name per language ('zh-CN', 'en'), as profiles give theirs. */
  displayNames?: Record<string, string>;
  organization: string;
  algorithm: string;
  createdAt: string;
  issuers: Issuer[];
}

export interface CertificateView {
  ca: string;
  serial: string;
  issuer: string;
  profile: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  status: 'valid' | 'hold' | 'revoked';
  revokedAt: string | null;
  reason: string | null;
  issuedAt?: string;
  holderOrg?: string | null;
  current?: boolean;
  /** When its holder may renew it (GET /api/v1/me/certificates). */
  renewableFrom?: string;
}

export interface Material {
  id: string;
  name: string;
  contentType: string;
  size: number;
  addedBy: string;
  addedAt: string;
}

export interface Application {
  id: string;
  ca: string;
  kind: 'new' | 'renewal' | 'rekey' | 'reissue';
  profile: string;
  state: 'submitted' | 'issued' | 'rejected';
  subject: string;
  applicant: Record<string, string>;
  identity: Record<string, string>;
  enteredBy: string;
  enteredAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  certificateSerial: string | null;
  materials: Material[];
  events: Array<{ action: string; actor: string; at: string; reason: string | null }>;
}

export interface Profile {
  name: string;
  class: string;
  variant: string;
  displayName: Record<string, string>;
  keyAlgorithms: string[];
  defaultDays: number;
  maxDays: number;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: unknown;
}

/** A caller of the national platform (GET /platform/whoami). */
export interface PlatformMe {
  id: string;
  role: 'national' | 'provincial' | 'ca' | 'auditor';
  /** A provincial office's province code. */
  province?: string;
  /** The CA a CA principal is. */
  ca?: string;
  bootstrap: boolean;
}

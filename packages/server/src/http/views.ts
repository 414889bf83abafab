/** The JSON shapes of the API, built from the modules' views, with their JSON schemas (for validation of answers and for OpenAPI). */
import type { Certificate } from '@health-pki/pki';
import type { AuthorityView, CertificateRecord } from '../ca/authority.js';
import type { ApplicationView } from '../ra/registration.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;

/** Schema of a CA and its hierarchy. */
export const caSchema = {
  type: 'object',
  properties: {
    name: str,
    displayName: str,
    /** Per language, as profiles give theirs: zh-CN is displayName, en the English name (displayName when the CA has none). */
    displayNames: { type: 'object', properties: { 'zh-CN': str, en: str } },
    organization: str,
    algorithm: str,
    createdAt: str,
    createdBy: str,
    issuers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          label: str,
          role: { type: 'string', enum: ['root', 'issuing'] },
          parent: nullableStr,
          active: { type: 'boolean' },
          subject: str,
          serial: str,
          notBefore: str,
          notAfter: str,
          keyProtection: str,
          url: str,
          pem: str,
        },
      },
    },
  },
} as const;

/** A CA as JSON. */
export function caJson(a: AuthorityView) {
  return {
    name: a.name,
    displayName: a.displayName,
    displayNames: { 'zh-CN': a.displayName, en: a.displayNameEn ?? a.displayName },
    organization: a.organization,
    algorithm: a.algorithm,
    createdAt: a.createdAt,
    createdBy: a.createdBy,
    issuers: a.issuers.map((i) => ({
      label: i.label,
      role: i.role,
      parent: i.parent,
      active: i.active,
      subject: i.certificate.subjectText,
      serial: i.certificate.serialHex,
      notBefore: i.certificate.notBefore.toISOString(),
      notAfter: i.certificate.notAfter.toISOString(),
      keyProtection: i.keyProtection,
      url: i.url,
      pem: i.certificate.toPem(),
    })),
  };
}

/** Schema of a certificate record. */
export const certificateSchema = {
  type: 'object',
  properties: {
    ca: str,
    serial: str,
    issuer: str,
    profile: str,
    subject: str,
    notBefore: str,
    notAfter: str,
    status: { type: 'string', enum: ['valid', 'hold', 'revoked'] },
    revokedAt: nullableStr,
    reason: nullableStr,
    invalidityDate: nullableStr,
    issuedAt: str,
    pem: str,
  },
} as const;

function pemOf(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A certificate record as JSON. */
export function certificateJson(r: CertificateRecord) {
  return {
    ca: r.authority,
    serial: r.serial,
    issuer: r.issuer,
    profile: r.profile,
    subject: r.subject,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    status: r.status,
    revokedAt: r.revokedAt,
    reason: r.reason,
    invalidityDate: r.invalidityDate,
    issuedAt: r.issuedAt,
    pem: pemOf(r.der),
  };
}

const freeObject = { type: 'object', additionalProperties: true } as const;

/** Schema of an application. */
export const applicationSchema = {
  type: 'object',
  properties: {
    id: str,
    ca: str,
    kind: { type: 'string', enum: ['new', 'renewal', 'rekey', 'reissue'] },
    profile: str,
    state: { type: 'string', enum: ['submitted', 'issued', 'rejected'] },
    subject: str,
    applicant: freeObject,
    identity: freeObject,
    altNames: { type: 'array', items: { type: 'object', properties: { type: str, value: str } } },
    validityDays: { type: ['integer', 'null'] },
    previousSerial: nullableStr,
    previousReason: nullableStr,
    enteredBy: str,
    enteredAt: str,
    decidedBy: nullableStr,
    decidedAt: nullableStr,
    decisionReason: nullableStr,
    selfApproved: { type: 'boolean' },
    certificateSerial: nullableStr,
    materials: {
      type: 'array',
      items: { type: 'object', properties: { id: str, name: str, contentType: str, size: { type: 'integer' }, sha256: str, addedBy: str, addedAt: str } },
    },
    events: {
      type: 'array',
      items: { type: 'object', properties: { action: str, actor: str, at: str, serial: nullableStr, reason: nullableStr, details: freeObject } },
    },
  },
} as const;

/** An application as JSON (already plain data). */
export function applicationJson(a: ApplicationView): ApplicationView {
  return a;
}

/** PEM text of several certificates. */
export function chainPem(chain: Certificate[]): string {
  return chain.map((c) => c.toPem()).join('');
}

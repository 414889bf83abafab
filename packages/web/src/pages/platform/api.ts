/**
 * The platform's API as the pages use it: /platform/* on the same origin (the CA service passes it
 * through to its platform) with the platform's own bearer token, and the shapes it answers.
 */
import { api, download, storedPlatformToken } from '../../api/client.js';

/** Calls the platform with the platform token of this tab ('' sends no credential). */
export function papi<T>(method: string, path: string, body?: unknown): Promise<T> {
  return api<T>(method, path, body, storedPlatformToken() ?? '');
}

/** Downloads a platform CSV with the platform token. */
export function pdownload(path: string, filename: string): Promise<void> {
  return download(path, filename, storedPlatformToken() ?? '');
}

/** A CA's platform status. */
export type CaStatus = 'applied' | 'province-reviewed' | 'tested' | 'connected' | 'suspended' | 'terminated' | 'rejected';

/** Every status, in lifecycle order. */
export const CA_STATUSES: readonly CaStatus[] = ['applied', 'province-reviewed', 'tested', 'connected', 'suspended', 'terminated', 'rejected'];

/** One fault of a conformance run. */
export interface Fault {
  check: string;
  subject: string;
  message: string;
}

/** The document of an automated conformance run. */
export interface ConformanceDocument {
  startedAt?: string;
  finishedAt?: string;
  passed?: boolean;
  samples?: Array<{ kind: 'good' | 'revoked'; serial: string; subject: string; profile?: string; ocsp?: string; crl?: 'listed' | 'not listed'; query?: string }>;
  checks?: Array<{ check: string; faults: number }>;
  faults?: Fault[];
}

/** A CA's record on the platform. */
export interface PlatformCa {
  name: string;
  displayName: string;
  status: CaStatus;
  homeProvince: string;
  provinces: string[];
  licenceNumber: string;
  licenceNotBefore: string;
  licenceNotAfter: string;
  licenceExpired: boolean;
  company: Record<string, string>;
  servicePlan: string;
  materials: Array<{ title: string; sha256?: string; url?: string }>;
  conformanceReport?: { passed: boolean; faults: string[]; testedAt: string; source?: 'automated' | 'offline'; document?: ConformanceDocument };
  history: Array<{ at: string; by: string; from: CaStatus | null; to: CaStatus; note: string }>;
  createdAt: string;
  updatedAt: string;
}

/** An inspection (Art. 10). */
export interface Inspection {
  id: string;
  ca: string;
  scope: string;
  plannedFor: string;
  status: 'planned' | 'done';
  findings: string[];
  createdAt: string;
  createdBy: string;
  recordedAt?: string;
}

/** A rectification order (Art. 21). */
export interface Rectification {
  id: string;
  ca: string;
  evaluationId: string;
  deadline: string;
  status: 'open' | 'passed' | 'expired';
  openedAt: string;
  closedAt?: string;
}

/** An evaluation by a province. */
export interface Evaluation {
  id: string;
  ca: string;
  province: string;
  passed: boolean;
  findings: string[];
  at: string;
  createdBy: string;
  rectification?: Rectification;
}

/** Complaint states. */
export const COMPLAINT_STATUSES = ['received', 'handling', 'resolved', 'rejected'] as const;

/** A complaint (contact absent for the CA role). */
export interface Complaint {
  id: string;
  ca: string;
  handler: string;
  category: string;
  complainantKind: 'unit' | 'holder';
  contact?: { name: string; organisation?: string; phone?: string; email?: string };
  subject: string;
  description: string;
  serial?: string;
  status: (typeof COMPLAINT_STATUSES)[number];
  outcome?: string;
  history: Array<{ at: string; by: string; action: string; note: string }>;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

/** A statistics row. */
export interface StatsRow {
  ca?: string;
  province?: string;
  class?: string;
  issued: number;
  renewed: number;
  revoked: number;
  active: number;
}

/** A point of the issuance timeseries. */
export interface TimeseriesPoint {
  period: string;
  series?: string;
  issued: number;
  renewed: number;
  revoked: number;
}

/** Uptime of one CA's OCSP or CRL service. */
export interface ProbeSummary {
  ca: string;
  kind: 'ocsp' | 'crl';
  probes: number;
  up: number;
  uptime: number;
  p50: number | null;
  p95: number | null;
  lastAt: string;
  lastOk: boolean;
  lastError: string | null;
}

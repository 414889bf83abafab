/**
 * What each platform role may do, mirrored from the platform's rules (platform/registry/*.ts,
 * platform/feedback/complaints.ts) so that no control is shown that the role cannot use; the
 * platform still decides every call.
 */
import type { PlatformMe } from '../../api/types.js';
import type { CaStatus, Complaint, PlatformCa } from './api.js';

type Me = PlatformMe | null | undefined;

/** Whether the caller is the national office. */
export const isNational = (me: Me): boolean => me?.role === 'national';

/** The home province's office reviews an applied CA. */
export const canProvinceReview = (me: Me, ca: PlatformCa): boolean => me?.role === 'provincial' && me.province === ca.homeProvince && ca.status === 'applied';

/** The national office runs the conformance test of a reviewed or tested CA. */
export const canRunConformance = (me: Me, ca: PlatformCa): boolean => isNational(me) && (ca.status === 'province-reviewed' || ca.status === 'tested');

/** The national office approves a tested CA with a passing report and a licence still valid. */
export const canApprove = (me: Me, ca: PlatformCa): boolean => isNational(me) && ca.status === 'tested' && Boolean(ca.conformanceReport?.passed) && !ca.licenceExpired;

const BEFORE_CONNECTION: readonly CaStatus[] = ['applied', 'province-reviewed', 'tested'];

/** National, or the home province, rejects a CA not yet connected. */
export const canReject = (me: Me, ca: PlatformCa): boolean =>
  BEFORE_CONNECTION.includes(ca.status) && (isNational(me) || (me?.role === 'provincial' && me.province === ca.homeProvince));

/** The national office's status decisions on a CA, by its status. */
export function nationalDecisions(me: Me, ca: PlatformCa): Array<'suspend' | 'resume' | 'terminate'> {
  if (!isNational(me)) return [];
  if (ca.status === 'connected') return ['suspend', 'terminate'];
  if (ca.status === 'suspended') return ca.licenceExpired ? ['terminate'] : ['resume', 'terminate'];
  return [];
}

/** National, or a province the CA serves, plans inspections. */
export const canPlanInspection = (me: Me, ca: PlatformCa): boolean =>
  isNational(me) || (me?.role === 'provincial' && (ca.homeProvince === me.province || ca.provinces.includes(me.province ?? '')));

/** Only the office that planned an inspection records it. */
export const canRecordInspection = (me: Me, scope: string): boolean =>
  (isNational(me) && scope === 'national') || (me?.role === 'provincial' && me.province === scope);

/** A province the CA serves evaluates a connected or suspended CA. */
export const canEvaluate = (me: Me, ca: PlatformCa): boolean =>
  me?.role === 'provincial' && (ca.homeProvince === me.province || ca.provinces.includes(me.province ?? '')) && (ca.status === 'connected' || ca.status === 'suspended');

/** The handling office (the CA's home province) or the national office handles a complaint. */
export const canHandleComplaint = (me: Me, c: Complaint): boolean => isNational(me) || (me?.role === 'provincial' && me.province === c.handler);

/** The handling office, the national office, or the CA itself writes on an open complaint. */
export const canNoteComplaint = (me: Me, c: Complaint): boolean =>
  (c.status === 'received' || c.status === 'handling') && (canHandleComplaint(me, c) || (me?.role === 'ca' && me.ca === c.ca));

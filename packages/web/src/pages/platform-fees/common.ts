/** What the system and fee pages share: their texts' hook, errors, money in yuan, the role rules of systems/fees routes. */
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client.js';
import type { PlatformMe } from '../../api/types.js';
import { isNational } from '../platform/access.js';
import { platformError, usePT } from '../platform/common.js';
import './texts.js';

/** This area's translate function, with the platform's and the shell's for shared words. */
export function useFT() {
  const { t } = useTranslation('platformFees');
  const { t: pt, ts, lng } = usePT();
  /** A failure in the user's language: this area's own sentences first, then the platform's. */
  const failure = (e: unknown): string => {
    const own = e instanceof ApiError ? (t('errors', { returnObjects: true }) as Record<string, string>)[e.code] : undefined;
    const base = platformError(pt, ts, e);
    return own ? `${own}${lng.startsWith('zh') ? '。' : '. '}${base}` : base;
  };
  return { t, pt, ts, lng, failure };
}

type Me = PlatformMe | null | undefined;

/** National and provincial offices register systems (a province only for itself): platform/systems/routes.ts. */
export const canRegisterSystem = (me: Me): boolean => isNational(me) || me?.role === 'provincial';

/** Offices and auditors read statements; CAs do not (fees are between the offices and the units): platform/fees/routes.ts. */
export const canReadStatements = (me: Me): boolean => isNational(me) || me?.role === 'provincial' || me?.role === 'auditor';

/** Only the national office sets fee schedules. */
export const canSetSchedule = (me: Me): boolean => isNational(me);

/** The certificate classes a schedule prices (USER_GROUPS of platform/systems/systems.ts). */
export const CLASSES = ['internal-staff', 'internal-organization', 'external-person', 'external-organization'] as const;

/** Art. 15 categories (SYSTEM_CATEGORIES). */
export const CATEGORIES = ['public-health', 'medical-care', 'administrative-approval', 'tendering-procurement', 'other'] as const;

/** Fen as yuan with two decimals, by integer arithmetic (as the platform's CSV). */
export function yuan(fen: number): string {
  const a = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** A typed yuan amount ("12", "12.5", "12.05") as whole fen, or undefined when not one of at most 100 000 yuan (the platform's MAX_PRICE_FEN). */
export function toFen(v: string): number | undefined {
  const m = /^(\d{1,6})(?:\.(\d{1,2}))?$/.exec(v.trim());
  if (!m) return undefined;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return fen <= 10_000_000 ? fen : undefined;
}

/** An organisation code or unified social credit code in shape (the platform checks the check character). */
export function organisationShape(v: string): boolean {
  const raw = v.replace(/[\s-]/g, '');
  return /^[0-9A-Za-z]{9}$/.test(raw) || /^[0-9A-Za-z]{18}$/.test(raw);
}

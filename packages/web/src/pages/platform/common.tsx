/** What the platform pages share: their texts' hook, the caller's identity bar, statuses, errors, dates. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { useNavigate } from 'react-router-dom';
import type { PlatformMe } from '../../api/types.js';
import { ApiError } from '../../api/client.js';
import { errorText } from '../../format.js';
import i18n from '../../i18n/index.js';
import { useSession } from '../../session.js';
import './texts.js';

/** The platform namespace's translate function, and the shell's for shared words. */
export function usePT() {
  const { t, i18n } = useTranslation('platform');
  const { t: ts } = useTranslation();
  return { t, ts, lng: i18n.language };
}

/** The role of a platform caller in words. */
export function roleText(t: TFunction, me: PlatformMe): string {
  return t(`roles.${me.role}`, { province: me.province ?? '', ca: me.ca ?? '' });
}

/**
 * A platform failure in the user's language: the platform's scope and state refusals have their
 * own sentences; everything else is the shell's wording with the service's words as detail.
 */
export function platformError(t: TFunction, ts: TFunction, e: unknown): string {
  const base = errorText(ts, e);
  if (!(e instanceof ApiError)) return base;
  // Codes contain dots, so they are looked up in the table, not as nested keys.
  const own = (t('errors', { returnObjects: true }) as Record<string, string>)[e.code];
  return own ? `${own}${i18n.language.startsWith('zh') ? '。' : '. '}${base}` : base;
}

/** The signed-in platform identity with a way out. */
export function PlatformBar() {
  const { t } = usePT();
  const session = useSession();
  const navigate = useNavigate();
  const me = session.platform;
  if (!me) return null;
  return (
    <div className="platform-bar">
      <span data-testid="platform-who">{t('who', { id: me.id, role: roleText(t, me) })}</span>
      <button
        type="button"
        className="link"
        onClick={() => {
          session.platformSignOut();
          navigate('/app/platform/login');
        }}
      >
        {t('signOut')}
      </button>
    </div>
  );
}

/** A status word with a class for its colour. */
export function StatusText(props: { status: string }) {
  const { t } = usePT();
  return <span className={`pstatus pstatus-${props.status}`}>{t(`status.${props.status}`)}</span>;
}

/** A calendar date in the user's language ('—' when absent). */
export function formatDay(iso: string | null | undefined, lng: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lng, { dateStyle: 'medium' }).format(d);
}

/** Lines of a textarea, trimmed, empty ones left out. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** A yyyy-mm-dd date input's value as the start of that day in the browser's time zone (ISO), or undefined when not a date. */
export function dayStart(v: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const d = new Date(`${v}T00:00:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * Paging of a list the platform answers whole (its list routes have no paging: tens of CAs, at most
 * 1000 complaints): the rows of the current page; back to the first page when the list changes.
 */
export function useLocalPages<T>(rows: T[], size = 20) {
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), [rows]);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const current = Math.min(page, pages);
  return {
    rows: rows.slice((current - 1) * size, current * size),
    pager: { page: current, hasNext: current < pages, onPrevious: () => setPage((p) => Math.max(1, p - 1)), onNext: () => setPage((p) => Math.min(pages, p + 1)) },
    paged: rows.length > size,
  };
}

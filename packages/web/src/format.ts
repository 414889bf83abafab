/** Formatting in the user's language: dates in local form, statuses and reasons translated, error sentences. */
import type { TFunction } from 'i18next';
import { ApiError } from './api/client.js';
import i18n from './i18n/index.js';

/** A date-time in the user's language and time zone ('—' when absent). */
export function formatDate(iso: string | null | undefined, lng: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lng, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** The user-facing sentence for a failure, in the user's language, with the service's own words as detail. */
export function errorText(t: TFunction, e: unknown): string {
  if (!(e instanceof ApiError)) return t('errors.generic', { status: '?' });
  if (e.status === 0) return t('errors.network');
  const head =
    e.status === 401 ? t('errors.unauthenticated')
    : e.status === 403 ? t('errors.forbidden')
    : e.status === 404 ? t('errors.notFound')
    : e.status === 409 ? t('errors.conflict')
    : e.status === 413 ? t('errors.tooLarge')
    : e.status === 422 ? t('errors.rule')
    : e.status === 429 ? t('errors.rateLimited')
    : e.status >= 500 ? t('errors.server')
    : e.status === 400 ? t('errors.badRequest')
    : t('errors.generic', { status: e.status });
  if (e.status >= 500) return head;
  // The service's sentence is English; broken profile rules also come in Chinese.
  const zh = i18n.language.startsWith('zh');
  const detail = zh && e.messageZh ? e.messageZh : e.message;
  return `${head}${zh ? '。' : '. '}${t('errors.detail', { message: detail })}`;
}

/** Makes CSV text (RFC 4180) with a BOM, so spreadsheet programs read Chinese correctly. */
export function toCsv(header: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    // A leading =, +, - or @ would be a formula in a spreadsheet: quote it away (CSV injection).
    const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return '\ufeff' + [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

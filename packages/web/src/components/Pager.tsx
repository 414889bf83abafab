/** Cursor paging: the API returns a "next" position; the pager keeps the positions of earlier pages. */
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** The state of cursor paging: the current page's cursor and those before it. */
export function useCursorPages<C>() {
  const [stack, setStack] = useState<Array<C | undefined>>([undefined]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: useCallback((c: C) => setStack((s) => [...s, c]), []),
    previous: useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []),
    reset: useCallback(() => setStack([undefined]), []),
  };
}

/** Previous / next buttons and the page number. */
export function Pager(props: { page: number; hasNext: boolean; onPrevious: () => void; onNext: () => void }) {
  const { t } = useTranslation();
  return (
    <nav className="pager" aria-label={t('common.page', { n: props.page })}>
      <button type="button" onClick={props.onPrevious} disabled={props.page <= 1}>
        {t('common.previous')}
      </button>
      <span aria-live="polite">{t('common.page', { n: props.page })}</span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext}>
        {t('common.next')}
      </button>
    </nav>
  );
}

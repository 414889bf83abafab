/**
 * A table of API rows: a caption, column headers (sortable ones are buttons announcing their
 * order; the page passes the sort to the API), an empty state. Paging is the Pager's job.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** One column. */
export interface Column<T> {
  key: string;
  header: string;
  render: (row: T) => ReactNode;
  sortable?: boolean;
}

/** The current sort: a column key and direction. */
export interface Sort {
  key: string;
  dir: 'asc' | 'desc';
}

/** Renders rows; `onSort` is called with the next sort when a sortable header is activated. */
export function DataTable<T>(props: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string; sort?: Sort; onSort?: (s: Sort) => void; busy?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="table-wrap">
      <table aria-busy={props.busy || undefined}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = props.sort?.key === c.key ? props.sort.dir : undefined;
              return (
                <th key={c.key} scope="col" aria-sort={active === 'asc' ? 'ascending' : active === 'desc' ? 'descending' : undefined}>
                  {c.sortable && props.onSort ? (
                    <button type="button" className="sort" onClick={() => props.onSort!({ key: c.key, dir: active === 'asc' ? 'desc' : 'asc' })}>
                      {c.header} <span aria-hidden="true">{active === 'asc' ? '▲' : active === 'desc' ? '▼' : '↕'}</span>
                      {active ? <span className="sr-only">{t(active === 'asc' ? 'common.sortAsc' : 'common.sortDesc')}</span> : null}
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} className="empty">
                {t('common.none')}
              </td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <tr key={props.rowKey(r)}>
                {props.columns.map((c) => (
                  <td key={c.key}>{c.render(r)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

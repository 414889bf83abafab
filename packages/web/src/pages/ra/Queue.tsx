/** The RA's application queue: one CA's applications by state (the API pages and sorts them: oldest first unless a sortable header is chosen). */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, query } from '../../api/client.js';
import type { Application } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { DataTable, type Column, type Sort } from '../../components/DataTable.js';
import { SelectField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { Pager, useCursorPages } from '../../components/Pager.js';
import { errorText, formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { useDefaultCa } from './use-ca.js';

const PAGE = 20;

/** The queue page. */
export function QueuePage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('ra.read'));
  const [state, setState] = useState('submitted');
  // Sorted by the server (sort/order of the list API), so that paging follows the order.
  const [sort, setSort] = useState<Sort>({ key: 'enteredAt', dir: 'asc' });
  const pages = useCursorPages<string>();
  const [rows, setRows] = useState<Application[]>([]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (!ca) return;
    setBusy(true);
    setFailure(null);
    // One row more than a page tells whether a next page exists.
    api<{ applications: Application[] }>('GET', `/api/v1/cas/${encodeURIComponent(ca)}/applications${query({ state, limit: PAGE + 1, after: pages.cursor, sort: sort.key, order: sort.dir })}`)
      .then((r) => setRows(r.applications))
      .catch((e) => setFailure(errorText(t, e)))
      .finally(() => setBusy(false));
  }, [ca, state, sort, pages.cursor, t]);

  const shown = rows.slice(0, PAGE);
  const columns: Column<Application>[] = [
    { key: 'enteredAt', header: t('fields.enteredAt'), sortable: true, render: (a) => formatDate(a.enteredAt, i18n.language) },
    { key: 'name', header: t('fields.name'), render: (a) => a.applicant.name ?? '' },
    { key: 'subject', header: t('fields.subject'), sortable: true, render: (a) => a.subject },
    { key: 'kind', header: t('fields.kind'), sortable: true, render: (a) => t(`kind.${a.kind}`) },
    { key: 'profile', header: t('fields.profile'), sortable: true, render: (a) => a.profile },
    { key: 'enteredBy', header: t('fields.enteredBy'), render: (a) => a.enteredBy },
    { key: 'state', header: t('fields.state'), sortable: true, render: (a) => t(`status.${a.state}`) },
    {
      key: 'open',
      header: t('common.actions'),
      render: (a) => (
        <Link to={`/app/ra/applications/${encodeURIComponent(a.ca)}/${encodeURIComponent(a.id)}`} aria-label={`${t('queue.open')} ${a.applicant.name ?? a.id}`}>
          {t('queue.open')}
        </Link>
      ),
    },
  ];
  return (
    <section>
      <h1>{t('queue.title')}</h1>
      <p>{t('queue.intro')}</p>
      <div className="filters">
        <CaSelect cas={cas} value={ca} onChange={(v) => { pages.reset(); setCa(v); }} only={session.casWith('ra.read')} />
        <SelectField label={t('fields.state')} name="state" value={state} onChange={(v) => { pages.reset(); setState(v); }} options={['submitted', 'issued', 'rejected'].map((s) => ({ value: s, label: t(`status.${s}`) }))} />
      </div>
      <Notice kind="error" text={failure} />
      <DataTable
        caption={t('queue.title')}
        columns={columns}
        rows={shown}
        rowKey={(a) => a.id}
        busy={busy}
        sort={sort}
        onSort={(s) => {
          pages.reset();
          setSort(s);
        }}
      />
      <Pager page={pages.page} hasNext={rows.length > PAGE} onPrevious={pages.previous} onNext={() => pages.next(shown[shown.length - 1]!.id)} />
    </section>
  );
}

/** The CAs the caller may see (the platform scopes the list: a province sees the CAs serving it), filtered and sorted here. */
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { DataTable, type Column, type Sort } from '../../components/DataTable.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { Pager } from '../../components/Pager.js';
import { CA_STATUSES, papi, type PlatformCa } from './api.js';
import { formatDay, platformError, PlatformBar, StatusText, useLocalPages, usePT } from './common.js';

/** The list of CAs. */
export function PlatformCasPage() {
  const { t, ts, lng } = usePT();
  const [cas, setCas] = useState<PlatformCa[]>([]);
  const [busy, setBusy] = useState(true);
  const [failure, setFailure] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [province, setProvince] = useState('');
  const [sort, setSort] = useState<Sort>({ key: 'name', dir: 'asc' });

  useEffect(() => {
    papi<{ cas: PlatformCa[] }>('GET', '/platform/cas')
      .then((r) => setCas(r.cas))
      .catch((e) => setFailure(platformError(t, ts, e)))
      .finally(() => setBusy(false));
  }, [t, ts]);

  const provinceError = province && !/^[A-Za-z]{2}$/.test(province) ? t('validation.province') : undefined;
  // The API answers every CA in scope at once (tens, not thousands): filtering and sorting happen here.
  const rows = useMemo(() => {
    const p = provinceError ? '' : province.toUpperCase();
    const list = cas.filter((c) => (!status || c.status === status) && (!p || c.homeProvince === p || c.provinces.includes(p)));
    const key = (c: PlatformCa): string => (sort.key === 'licence' ? c.licenceNotAfter : sort.key === 'updatedAt' ? c.updatedAt : sort.key === 'status' ? String(CA_STATUSES.indexOf(c.status)) : c.name);
    return [...list].sort((a, b) => (sort.dir === 'asc' ? 1 : -1) * key(a).localeCompare(key(b)));
  }, [cas, status, province, provinceError, sort]);

  const paging = useLocalPages(rows);
  const columns: Column<PlatformCa>[] = [
    { key: 'name', header: t('fields.name'), sortable: true, render: (c) => <Link to={`/app/platform/cas/${c.name}`} aria-label={t('cas.open', { name: c.name })}>{c.name}</Link> },
    { key: 'displayName', header: t('fields.displayName'), render: (c) => c.displayName },
    { key: 'status', header: t('fields.status'), sortable: true, render: (c) => <StatusText status={c.status} /> },
    { key: 'homeProvince', header: t('fields.homeProvince'), render: (c) => c.homeProvince },
    { key: 'provinces', header: t('fields.provinces'), render: (c) => c.provinces.join(', ') },
    {
      key: 'licence',
      header: t('fields.licenceUntil'),
      sortable: true,
      render: (c) => (
        <>
          {formatDay(c.licenceNotAfter, lng)}
          {c.licenceExpired ? <span className="pstatus pstatus-terminated"> ({t('cas.licenceExpired')})</span> : null}
        </>
      ),
    },
    { key: 'updatedAt', header: t('fields.updatedAt'), sortable: true, render: (c) => formatDay(c.updatedAt, lng) },
  ];

  return (
    <section>
      <h1>{t('cas.title')}</h1>
      <PlatformBar />
      <p>{t('cas.intro')}</p>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()} noValidate>
        <SelectField label={t('cas.filterStatus')} name="status" value={status} onChange={setStatus} options={[{ value: '', label: t('all') }, ...CA_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]} />
        <TextField label={t('cas.filterProvince')} name="province" value={province} onChange={setProvince} hint={t('cas.provinceHint')} error={provinceError} />
      </form>
      <Notice kind="error" text={failure} />
      <DataTable caption={t('cas.caption', { n: rows.length })} columns={columns} rows={paging.rows} rowKey={(c) => c.name} sort={sort} onSort={setSort} busy={busy} />
      {paging.paged ? <Pager {...paging.pager} /> : null}
    </section>
  );
}

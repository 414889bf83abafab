/** Public search and download of certificates (Regulation Art. 12): filters applied by the API, cursor pages, CSV export. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, query, saveBlob } from '../../api/client.js';
import type { CertificateView } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { DataTable, type Column, type Sort } from '../../components/DataTable.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { Pager, useCursorPages } from '../../components/Pager.js';
import { errorText, formatDate, toCsv } from '../../format.js';

type Hit = CertificateView & { links: { pem: string; der: string; chain: string } };
interface Filters {
  ca: string;
  serial: string;
  subject: string;
  identity: string;
  org: string;
  status: string;
}
const EMPTY: Filters = { ca: '', serial: '', subject: '', identity: '', org: '', status: '' };
const PAGE = 20;
/** The most rows a CSV export reads (50 pages of 100). */
const EXPORT_MAX = 5000;

function validate(f: Filters, t: (k: string, o?: Record<string, unknown>) => string): Record<string, string> {
  const e: Record<string, string> = {};
  if (f.serial && !/^(0[xX])?[0-9A-Fa-f:]+$/.test(f.serial.trim())) e.serial = t('validation.serial');
  if (f.identity && !/^[0-9A-Za-z -]{4,64}$/.test(f.identity.trim())) e.identity = t('validation.residentId');
  return e;
}

/** The public search page. */
export function SearchPage() {
  const { t, i18n } = useTranslation();
  const cas = useCas();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const pages = useCursorPages<string>();
  const [rows, setRows] = useState<Hit[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [exported, setExported] = useState<number | null>(null);
  // Sorted by the server (sort/order of the search API, so that cursor pages follow it); none: CA and serial.
  const [sort, setSort] = useState<Sort | null>(null);
  const sortParams = sort ? { sort: sort.key, order: sort.dir } : {};

  const params = useCallback((f: Filters) => ({ ca: f.ca, serial: f.serial.trim(), subject: f.subject.trim(), identity: f.identity.trim(), org: f.org.trim(), status: f.status }), []);

  useEffect(() => {
    setBusy(true);
    setFailure(null);
    api<{ certificates: Hit[]; next: string | null }>('GET', `/api/v1/certificates${query({ ...params(applied), ...sortParams, limit: PAGE, cursor: pages.cursor })}`)
      .then((r) => {
        setRows(r.certificates);
        setNext(r.next);
      })
      .catch((e) => setFailure(errorText(t, e)))
      .finally(() => setBusy(false));
  }, [applied, sort, pages.cursor, params, t]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validate(form, t);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    pages.reset();
    setApplied(form);
  };

  const exportCsv = async () => {
    setExported(0);
    setFailure(null);
    const all: Hit[] = [];
    let cursor: string | undefined;
    try {
      do {
        const r = await api<{ certificates: Hit[]; next: string | null }>('GET', `/api/v1/certificates${query({ ...params(applied), ...sortParams, limit: 100, cursor })}`);
        all.push(...r.certificates);
        setExported(all.length);
        cursor = r.next ?? undefined;
      } while (cursor && all.length < EXPORT_MAX);
      const header = ['ca', 'serial', 'subject', 'profile', 'status', 'notBefore', 'notAfter', 'revokedAt', 'reason'].map((k) => (k === 'ca' ? t('common.ca') : t(`fields.${k}`)));
      const csv = toCsv(header, all.map((h) => [h.ca, h.serial, h.subject, h.profile, t(`status.${h.status}`), h.notBefore, h.notAfter, h.revokedAt, h.reason]));
      saveBlob(new Blob([csv], { type: 'text/csv;charset=utf-8' }), 'certificates.csv');
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setExported(null);
    }
  };

  const columns: Column<Hit>[] = [
    { key: 'serial', header: t('fields.serial'), render: (h) => <code>{h.serial}</code> },
    { key: 'subject', header: t('fields.subject'), sortable: true, render: (h) => h.subject },
    { key: 'ca', header: t('common.ca'), render: (h) => h.ca },
    { key: 'status', header: t('fields.status'), render: (h) => <span className={`status status-${h.status}`}>{t(`status.${h.status}`)}</span> },
    { key: 'notAfter', header: t('fields.notAfter'), sortable: true, render: (h) => formatDate(h.notAfter, i18n.language) },
    {
      key: 'download',
      header: t('common.download'),
      render: (h) => (
        <span className="links">
          <a href={h.links.pem} aria-label={`${t('search.pem')} ${h.serial}`}>{t('search.pem')}</a>
          <a href={h.links.der} aria-label={`${t('search.der')} ${h.serial}`}>{t('search.der')}</a>
          <a href={h.links.pem.replace(/cert\.pem$/, 'chain.pem')} aria-label={`${t('search.chainPem')} ${h.serial}`}>{t('search.chainPem')}</a>
          <a href={h.links.chain} aria-label={`${t('search.chainP7c')} ${h.serial}`}>{t('search.chainP7c')}</a>
        </span>
      ),
    },
  ];

  const set = (k: keyof Filters) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <section>
      <h1>{t('search.title')}</h1>
      <p>{t('search.intro')}</p>
      <form className="filters" onSubmit={submit} noValidate role="search">
        <CaSelect cas={cas} value={form.ca} onChange={set('ca')} allowAll />
        <TextField label={t('fields.serial')} name="serial" value={form.serial} onChange={set('serial')} error={errors.serial} />
        <TextField label={t('fields.subject')} name="subject" value={form.subject} onChange={set('subject')} hint={t('search.subjectHint')} />
        <TextField label={t('fields.identity')} name="identity" value={form.identity} onChange={set('identity')} error={errors.identity} />
        <TextField label={t('fields.org')} name="org" value={form.org} onChange={set('org')} />
        <SelectField label={t('fields.status')} name="status" value={form.status} onChange={set('status')} options={['', 'valid', 'hold', 'revoked'].map((s) => ({ value: s, label: s ? t(`status.${s}`) : t('common.all') }))} />
        <div className="actions">
          <button type="submit">{t('common.search')}</button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY);
              setErrors({});
              pages.reset();
              setApplied(EMPTY);
            }}
          >
            {t('common.reset')}
          </button>
          <button type="button" onClick={() => void exportCsv()} disabled={exported !== null}>
            {t('common.exportCsv')}
          </button>
        </div>
      </form>
      {exported !== null ? <Progress label={t('common.exporting', { n: exported })} /> : null}
      <Notice kind="error" text={failure} />
      <DataTable
        caption={t('search.results')}
        columns={columns}
        rows={rows}
        rowKey={(h) => `${h.ca}/${h.serial}`}
        busy={busy}
        sort={sort ?? undefined}
        onSort={(next) => {
          pages.reset();
          setSort(next);
        }}
      />
      <Pager page={pages.page} hasNext={next !== null} onPrevious={pages.previous} onNext={() => next && pages.next(next)} />
    </section>
  );
}

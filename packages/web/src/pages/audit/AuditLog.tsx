/** The audit log: filters applied by the API, pages by sequence number, CSV export from the server, the integrity check. */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, download, query } from '../../api/client.js';
import type { AuditEntry } from '../../api/types.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { Pager, useCursorPages } from '../../components/Pager.js';
import { errorText, formatDate } from '../../format.js';

interface Filters {
  from: string;
  to: string;
  actor: string;
  action: string;
  target: string;
}
const EMPTY: Filters = { from: '', to: '', actor: '', action: '', target: '' };
const PAGE = 50;

interface Report {
  ok: boolean;
  entries: number;
  checkpoints: { count: number; valid: number };
  faults: Array<{ kind: string; seq?: number; message: string }>;
}

/** A datetime-local value as the API's RFC 3339 instant (the browser's time zone), or undefined. */
function instant(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The audit page. */
export function AuditLogPage() {
  const { t, i18n } = useTranslation();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const pages = useCursorPages<number>();
  const [rows, setRows] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [exporting, setExporting] = useState(false);

  const params = (f: Filters) => ({ from: instant(f.from), to: instant(f.to), actor: f.actor.trim(), action: f.action.trim(), target: f.target.trim() });

  useEffect(() => {
    setBusy(true);
    setFailure(null);
    api<{ entries: AuditEntry[]; next: number | null }>('GET', `/api/v1/audit${query({ ...params(applied), limit: PAGE, after: pages.cursor })}`)
      .then((r) => {
        setRows(r.entries);
        setNext(r.next ?? null);
      })
      .catch((e) => setFailure(errorText(t, e)))
      .finally(() => setBusy(false));
  }, [applied, pages.cursor, t]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    for (const k of ['from', 'to'] as const) if (form[k] && !instant(form[k])) errs[k] = t('validation.date');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    pages.reset();
    setApplied(form);
  };

  const verify = async () => {
    setVerifying(true);
    setReport(null);
    setFailure(null);
    try {
      setReport(await api<Report>('GET', '/api/v1/audit/verify'));
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setVerifying(false);
    }
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      await download(`/api/v1/audit/export${query({ ...params(applied), format: 'csv' })}`, 'audit.csv');
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setExporting(false);
    }
  };

  const columns: Column<AuditEntry>[] = [
    { key: 'seq', header: t('fields.seq'), render: (e) => e.seq },
    { key: 'at', header: t('fields.at'), render: (e) => formatDate(e.at, i18n.language) },
    { key: 'actor', header: t('fields.actor'), render: (e) => e.actor },
    { key: 'action', header: t('fields.action'), render: (e) => <code>{e.action}</code> },
    { key: 'target', header: t('fields.target'), render: (e) => e.target },
    {
      key: 'details',
      header: t('audit.details'),
      render: (e) => (
        <details>
          <summary>{t('audit.details')}</summary>
          <pre>{JSON.stringify(e.details, null, 2)}</pre>
        </details>
      ),
    },
  ];
  const set = (k: keyof Filters) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <p>{t('audit.intro')}</p>
      <div className="actions">
        <button type="button" onClick={() => void verify()} disabled={verifying}>
          {t('audit.verify')}
        </button>
      </div>
      {verifying ? <Progress label={t('audit.verifying')} /> : null}
      {report ? (
        report.ok ? (
          <Notice kind="ok" text={t('audit.ok', { n: report.entries, v: report.checkpoints.valid, c: report.checkpoints.count })} />
        ) : (
          <div className="notice notice-error" role="alert">
            {t('audit.failed', { n: report.faults.length })}
            <ul>
              {report.faults.slice(0, 20).map((f, i) => (
                <li key={i}>
                  {f.kind} {f.seq ?? ''}: {f.message}
                </li>
              ))}
            </ul>
          </div>
        )
      ) : null}
      <form className="filters" onSubmit={submit} noValidate role="search">
        <TextField label={t('fields.from')} name="from" type="datetime-local" value={form.from} onChange={set('from')} error={errors.from} />
        <TextField label={t('fields.to')} name="to" type="datetime-local" value={form.to} onChange={set('to')} error={errors.to} />
        <TextField label={t('fields.actor')} name="actor" value={form.actor} onChange={set('actor')} />
        <TextField label={t('fields.action')} name="action" value={form.action} onChange={set('action')} hint={t('audit.actionHint')} />
        <TextField label={t('fields.target')} name="target" value={form.target} onChange={set('target')} />
        <div className="actions">
          <button type="submit">{t('common.search')}</button>
          <button type="button" onClick={() => void exportCsv()} disabled={exporting}>
            {t('common.exportCsv')}
          </button>
        </div>
      </form>
      {exporting ? <Progress /> : null}
      <Notice kind="error" text={failure} />
      <DataTable caption={t('audit.title')} columns={columns} rows={rows} rowKey={(e) => String(e.seq)} busy={busy} />
      <Pager page={pages.page} hasNext={next !== null} onPrevious={pages.previous} onNext={() => next !== null && pages.next(next)} />
    </section>
  );
}

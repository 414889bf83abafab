/**
 * Complaints about the CAs' service (Art. 11): filtered by the platform (?ca, ?status), handled by
 * the CA's home province or the national office (take up, resolve, reject, notes); the CA itself
 * answers with a note. CSV export of the counts per CA.
 */
import { useCallback, useEffect, useState } from 'react';
import { DataTable, type Column } from '../../components/DataTable.js';
import { SelectField, TextAreaField, TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { ExportButton } from '../../components/ExportButton.js';
import { Pager } from '../../components/Pager.js';
import { query } from '../../api/client.js';
import { formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { COMPLAINT_STATUSES, papi, pdownload, type Complaint } from './api.js';
import { canHandleComplaint, canNoteComplaint } from './access.js';
import { platformError, PlatformBar, StatusText, useLocalPages, usePT } from './common.js';

/** One complaint with its history and the caller's actions. */
function ComplaintPanel(props: { complaint: Complaint; onChanged: (c: Complaint) => void; onClose: () => void }) {
  const { t, ts, lng } = usePT();
  const session = useSession();
  const c = props.complaint;
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<{ outcome?: string; note?: string }>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const handle = canHandleComplaint(session.platform, c);
  const canNote = canNoteComplaint(session.platform, c);

  const send = async (action: 'take' | 'resolve' | 'reject' | 'notes') => {
    const errs: typeof errors = {};
    if ((action === 'resolve' || action === 'reject') && !outcome.trim()) errs.outcome = t('validation.required', { field: t('fields.outcome') });
    if (action === 'notes' && !note.trim()) errs.note = t('validation.required', { field: t('complaints.noteLabel') });
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setFailure(null);
    try {
      const body = action === 'notes' || action === 'take' ? (note.trim() ? { note: note.trim() } : {}) : { outcome: outcome.trim(), ...(note.trim() ? { note: note.trim() } : {}) };
      props.onChanged(await papi<Complaint>('POST', `/platform/complaints/${c.id}/${action}`, body));
      setNote('');
      setOutcome('');
    } catch (e) {
      setFailure(platformError(t, ts, e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="decide" role="region" aria-label={c.subject}>
      <h2>
        {c.subject} — <StatusText status={c.status} />
      </h2>
      <dl className="facts">
        <div className="fact">
          <dt>{t('fields.ca')}</dt>
          <dd>{c.ca}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.category')}</dt>
          <dd>{t(`complaints.categories.${c.category}`, { defaultValue: c.category })}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.description')}</dt>
          <dd>{c.description}</dd>
        </div>
        {c.serial ? (
          <div className="fact">
            <dt>{t('fields.serial')}</dt>
            <dd>
              <code>{c.serial}</code>
            </dd>
          </div>
        ) : null}
        {c.contact ? (
          <div className="fact">
            <dt>{t('complaints.contact')}</dt>
            <dd>{[t(`complaints.kinds.${c.complainantKind}`), c.contact.name, c.contact.organisation, c.contact.phone, c.contact.email].filter(Boolean).join(' · ')}</dd>
          </div>
        ) : null}
        {c.outcome ? (
          <div className="fact">
            <dt>{t('fields.outcome')}</dt>
            <dd>{c.outcome}</dd>
          </div>
        ) : null}
      </dl>
      <h3>{t('complaints.history')}</h3>
      <ol>
        {c.history.map((h, i) => (
          <li key={i}>
            {formatDate(h.at, lng)} · {t(`complaints.actions.${h.action}`, { defaultValue: h.action })} · {h.by === 'complainant' ? t('complaints.by.complainant') : h.by}
            {h.note ? `: ${h.note}` : ''}
          </li>
        ))}
      </ol>
      <Notice kind="error" text={failure} />
      {handle && (c.status === 'received' || c.status === 'handling') ? <TextAreaField label={t('complaints.outcomeLabel')} name="outcome" value={outcome} onChange={setOutcome} error={errors.outcome} rows={2} /> : null}
      {canNote ? <TextAreaField label={t('complaints.noteLabel')} name="complaint-note" value={note} onChange={setNote} error={errors.note} rows={2} /> : null}
      <div className="actions">
        {handle && c.status === 'received' ? (
          <button type="button" disabled={busy} onClick={() => void send('take')}>
            {t('complaints.take')}
          </button>
        ) : null}
        {handle && c.status === 'handling' ? (
          <button type="button" disabled={busy} onClick={() => void send('resolve')}>
            {t('complaints.resolve')}
          </button>
        ) : null}
        {handle && (c.status === 'received' || c.status === 'handling') ? (
          <button type="button" className="danger" disabled={busy} onClick={() => void send('reject')}>
            {t('complaints.reject')}
          </button>
        ) : null}
        {canNote ? (
          <button type="button" disabled={busy} onClick={() => void send('notes')}>
            {t('complaints.addNote')}
          </button>
        ) : null}
        <button type="button" className="link" onClick={props.onClose}>
          {t('complaints.close')}
        </button>
      </div>
    </div>
  );
}

/** The complaints page. */
export function PlatformComplaintsPage() {
  const { t, ts, lng } = usePT();
  const [filters, setFilters] = useState({ ca: '', status: '' });
  const [applied, setApplied] = useState({ ca: '', status: '' });
  const [caError, setCaError] = useState<string | undefined>();
  const [rows, setRows] = useState<Complaint[]>([]);
  const [open, setOpen] = useState<Complaint | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);

  const load = useCallback(() => {
    setBusy(true);
    papi<{ complaints: Complaint[] }>('GET', `/platform/complaints${query(applied)}`)
      .then((r) => setRows(r.complaints))
      .catch((e) => setFailure(platformError(t, ts, e)))
      .finally(() => setBusy(false));
  }, [applied, t, ts]);
  useEffect(load, [load]);

  const paging = useLocalPages(rows);
  const columns: Column<Complaint>[] = [
    { key: 'createdAt', header: t('fields.filedAt'), render: (c) => formatDate(c.createdAt, lng) },
    { key: 'ca', header: t('fields.ca'), render: (c) => c.ca },
    { key: 'category', header: t('fields.category'), render: (c) => t(`complaints.categories.${c.category}`, { defaultValue: c.category }) },
    { key: 'subject', header: t('fields.subject'), render: (c) => c.subject },
    { key: 'handler', header: t('fields.handler'), render: (c) => c.handler },
    { key: 'status', header: t('fields.status'), render: (c) => <StatusText status={c.status} /> },
    {
      key: 'open',
      header: ts('common.actions'),
      render: (c) => (
        <button type="button" className="link" onClick={() => setOpen(c)} aria-label={`${t('complaints.open')}: ${c.subject}`}>
          {t('complaints.open')}
        </button>
      ),
    },
  ];

  return (
    <section>
      <h1>{t('complaints.title')}</h1>
      <PlatformBar />
      <p>{t('complaints.intro')}</p>
      <form
        className="filters"
        role="search"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const ca = filters.ca.trim();
          if (ca && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(ca)) return setCaError(ts('validation.id'));
          setCaError(undefined);
          setOpen(null);
          setApplied({ ca, status: filters.status });
        }}
      >
        <TextField label={t('complaints.filterCa')} name="ca" value={filters.ca} onChange={(v) => setFilters((f) => ({ ...f, ca: v }))} error={caError} />
        <SelectField
          label={t('complaints.filterStatus')}
          name="status"
          value={filters.status}
          onChange={(v) => setFilters((f) => ({ ...f, status: v }))}
          options={[{ value: '', label: t('all') }, ...COMPLAINT_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]}
        />
        <div className="actions">
          <button type="submit">{ts('common.search')}</button>
          <ExportButton label={t('complaints.export')} run={() => pdownload('/platform/complaints/stats.csv', 'platform-complaints.csv')} onError={(e) => setFailure(platformError(t, ts, e))} />
        </div>
      </form>
      <Notice kind="error" text={failure} />
      {open ? (
        <ComplaintPanel
          complaint={open}
          onClose={() => setOpen(null)}
          onChanged={(c) => {
            setOpen(c);
            setRows((rs) => rs.map((r) => (r.id === c.id ? c : r)));
          }}
        />
      ) : null}
      <DataTable caption={t('complaints.caption', { n: rows.length })} columns={columns} rows={paging.rows} rowKey={(c) => c.id} busy={busy} />
      {paging.paged ? <Pager {...paging.pager} /> : null}
    </section>
  );
}

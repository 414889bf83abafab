/**
 * Inspections (Art. 10), evaluations and rectification orders with their deadlines (Art. 21), as
 * far as the caller may see them; the planning office records an inspection's findings here.
 */
import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextAreaField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { Pager } from '../../components/Pager.js';
import { formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { papi, type Evaluation, type Inspection, type Rectification } from './api.js';
import { canRecordInspection, isNational } from './access.js';
import { formatDay, lines, platformError, PlatformBar, StatusText, useLocalPages, usePT } from './common.js';

const DAY = 86_400_000;

/** The findings form of one planned inspection. */
function RecordInspection(props: { inspection: Inspection; onDone: (i: Inspection) => void; onError: (e: unknown) => void }) {
  const { t } = usePT();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const findings = lines(text);
        if (!findings.length) return setError(t('validation.required', { field: t('fields.findingsList') }));
        setError(undefined);
        setBusy(true);
        papi<Inspection>('POST', `/platform/inspections/${props.inspection.id}/record`, { findings })
          .then(props.onDone, props.onError)
          .finally(() => setBusy(false));
      }}
    >
      <TextAreaField label={t('fields.findings')} name={`findings-${props.inspection.id}`} value={text} onChange={setText} error={error} rows={2} />
      <button type="submit" disabled={busy}>
        {t('sup.record')}
      </button>
    </form>
  );
}

/** The supervision page. */
export function PlatformSupervisionPage() {
  const { t, ts, lng } = usePT();
  const session = useSession();
  const me = session.platform;
  const [inspections, setInspections] = useState<Inspection[]>([]);
  const [evaluations, setEvaluations] = useState<Evaluation[]>([]);
  const [rects, setRects] = useState<Rectification[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);

  const load = useCallback(() => {
    setBusy(true);
    Promise.all([
      papi<{ inspections: Inspection[] }>('GET', '/platform/inspections'),
      papi<{ evaluations: Evaluation[] }>('GET', '/platform/evaluations'),
      papi<{ rectifications: Rectification[] }>('GET', '/platform/rectifications'),
    ])
      .then(([i, e, r]) => {
        setInspections(i.inspections);
        setEvaluations(e.evaluations);
        setRects(r.rectifications);
      })
      .catch((e) => setFailure(platformError(t, ts, e)))
      .finally(() => setBusy(false));
  }, [t, ts]);
  useEffect(load, [load]);

  const inspectionPages = useLocalPages(inspections);
  const evaluationPages = useLocalPages(evaluations);
  const rectPages = useLocalPages(rects);
  const caLink = (ca: string) => <Link to={`/app/platform/cas/${ca}`}>{ca}</Link>;
  const inspectionColumns: Column<Inspection>[] = [
    { key: 'ca', header: t('fields.ca'), render: (i) => caLink(i.ca) },
    { key: 'scope', header: t('fields.scope'), render: (i) => i.scope },
    { key: 'plannedFor', header: t('fields.plannedFor'), render: (i) => formatDay(i.plannedFor, lng) },
    { key: 'status', header: t('fields.status'), render: (i) => <StatusText status={i.status} /> },
    {
      key: 'findings',
      header: t('fields.findingsList'),
      render: (i) =>
        i.status === 'done' ? (
          <ul>
            {i.findings.map((f, k) => (
              <li key={k}>{f}</li>
            ))}
          </ul>
        ) : canRecordInspection(me, i.scope) ? (
          <RecordInspection
            inspection={i}
            onDone={() => {
              setOk(t('sup.recorded'));
              load();
            }}
            onError={(e) => setFailure(platformError(t, ts, e))}
          />
        ) : (
          '—'
        ),
    },
    { key: 'recordedAt', header: t('fields.recordedAt'), render: (i) => formatDate(i.recordedAt, lng) },
  ];
  const evaluationColumns: Column<Evaluation>[] = [
    { key: 'ca', header: t('fields.ca'), render: (e) => caLink(e.ca) },
    { key: 'province', header: t('fields.province'), render: (e) => e.province },
    { key: 'at', header: t('fields.at'), render: (e) => formatDate(e.at, lng) },
    { key: 'passed', header: t('fields.passed'), render: (e) => <span className={e.passed ? 'pstatus-connected' : 'pstatus-terminated'}>{e.passed ? t('ca.evalPassed') : t('ca.evalFailed')}</span> },
    { key: 'findings', header: t('fields.findingsList'), render: (e) => e.findings.join('；') || '—' },
  ];
  const rectColumns: Column<Rectification>[] = [
    { key: 'ca', header: t('fields.ca'), render: (r) => caLink(r.ca) },
    { key: 'status', header: t('fields.status'), render: (r) => <StatusText status={r.status} /> },
    { key: 'openedAt', header: t('fields.openedAt'), render: (r) => formatDay(r.openedAt, lng) },
    {
      key: 'deadline',
      header: t('fields.deadline'),
      render: (r) => {
        const left = Math.ceil((new Date(r.deadline).getTime() - Date.now()) / DAY);
        return (
          <>
            {formatDay(r.deadline, lng)}
            {r.status === 'open' ? <span className={left > 30 ? 'muted' : 'pstatus-terminated'}> ({left >= 0 ? t('sup.daysLeft', { n: left }) : t('sup.overdue')})</span> : null}
          </>
        );
      },
    },
    { key: 'closedAt', header: t('fields.closedAt'), render: (r) => formatDay(r.closedAt, lng) },
  ];

  const sweep = async () => {
    setFailure(null);
    try {
      const r = await papi<{ terminated: unknown[] }>('POST', '/platform/rectifications/sweep', {});
      setOk(t('sup.swept', { n: r.terminated.length }));
      load();
    } catch (e) {
      setFailure(platformError(t, ts, e));
    }
  };

  return (
    <section>
      <h1>{t('sup.title')}</h1>
      <PlatformBar />
      <p>{t('sup.intro')}</p>
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      <DataTable caption={t('sup.inspections')} columns={inspectionColumns} rows={inspectionPages.rows} rowKey={(i) => i.id} busy={busy} />
      {inspectionPages.paged ? <Pager {...inspectionPages.pager} /> : null}
      <DataTable caption={t('sup.evaluations')} columns={evaluationColumns} rows={evaluationPages.rows} rowKey={(e) => e.id} busy={busy} />
      {evaluationPages.paged ? <Pager {...evaluationPages.pager} /> : null}
      <DataTable caption={t('sup.rectifications')} columns={rectColumns} rows={rectPages.rows} rowKey={(r) => r.id} busy={busy} />
      {rectPages.paged ? <Pager {...rectPages.pager} /> : null}
      {isNational(me) ? (
        <div className="actions">
          <button type="button" onClick={() => void sweep()}>
            {t('sup.sweep')}
          </button>
        </div>
      ) : null}
    </section>
  );
}

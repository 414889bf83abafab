/**
 * One CA: its admission file, the conformance test report (checks, faults, samples), its status
 * history, and the decisions the caller's role may take on it in its current status.
 */
import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextAreaField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { papi, type ConformanceDocument, type PlatformCa } from './api.js';
import { canApprove, canEvaluate, canPlanInspection, canProvinceReview, canReject, canRunConformance, nationalDecisions } from './access.js';
import { dayStart, formatDay, lines, platformError, PlatformBar, StatusText, usePT } from './common.js';

type Step = PlatformCa['history'][number];
type Sample = NonNullable<ConformanceDocument['samples']>[number];

/** The conformance report: verdict, checks, faults and samples. */
function Report({ ca }: { ca: PlatformCa }) {
  const { t, lng } = usePT();
  const r = ca.conformanceReport;
  if (!r) return <p className="muted">{t('ca.noReport')}</p>;
  const doc = r.document ?? {};
  const faults = doc.faults ?? r.faults.map((l) => ({ check: /^\[(\w+)\]/.exec(l)?.[1] ?? '', subject: '', message: l }));
  const checkName = (c: string) => t(`ca.checkNames.${c}`, { defaultValue: c });
  const sampleColumns: Column<Sample>[] = [
    { key: 'kind', header: t('ca.sampleKind'), render: (s) => t(`ca.${s.kind}`) },
    { key: 'serial', header: t('fields.serial'), render: (s) => <code>{s.serial}</code> },
    { key: 'subject', header: t('fields.subject'), render: (s) => s.subject },
    { key: 'crl', header: t('ca.crl'), render: (s) => (s.crl ? t(s.crl === 'listed' ? 'ca.listed' : 'ca.notListed') : '—') },
    { key: 'ocsp', header: t('ca.ocsp'), render: (s) => (s.ocsp ? t(`ca.certStatus.${s.ocsp}`, { defaultValue: s.ocsp }) : '—') },
    { key: 'query', header: t('ca.query'), render: (s) => (s.query ? t(`ca.certStatus.${s.query}`, { defaultValue: s.query }) : '—') },
  ];
  return (
    <div data-testid="conformance-report">
      <p className={r.passed ? 'notice notice-ok' : 'notice notice-error'}>{r.passed ? t('ca.reportPassed') : t('ca.reportFailed', { n: r.faults.length })}</p>
      <p className="muted">{t('ca.testedAt', { at: formatDate(r.testedAt, lng), source: t(`ca.reportSource.${r.source ?? 'offline'}`) })}</p>
      {doc.checks ? (
        <DataTable
          caption={t('ca.checks')}
          columns={[
            { key: 'check', header: t('ca.check'), render: (c: { check: string; faults: number }) => checkName(c.check) },
            { key: 'faults', header: t('ca.faults'), render: (c) => <span className={c.faults ? 'pstatus-terminated' : 'pstatus-connected'}>{c.faults}</span> },
          ]}
          rows={doc.checks}
          rowKey={(c) => c.check}
        />
      ) : null}
      {faults.length ? (
        <>
          <h3>{t('ca.faultList')}</h3>
          <ul className="faults">
            {faults.map((f, i) => (
              <li key={i}>
                <strong>{checkName(f.check)}</strong> {f.subject ? <code>{f.subject}</code> : null} {f.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {doc.samples?.length ? <DataTable caption={t('ca.samples')} columns={sampleColumns} rows={doc.samples} rowKey={(s) => `${s.kind}-${s.serial}`} /> : null}
    </div>
  );
}

/** The CA page. */
export function PlatformCaPage() {
  const { name = '' } = useParams();
  const { t, ts, lng } = usePT();
  const session = useSession();
  const me = session.platform;
  const [ca, setCa] = useState<PlatformCa | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [running, setRunning] = useState<number | null>(null);
  const [plannedFor, setPlannedFor] = useState('');
  const [planError, setPlanError] = useState<string | undefined>();
  const [evalPassed, setEvalPassed] = useState<'yes' | 'no'>('yes');
  const [evalFindings, setEvalFindings] = useState('');
  const [evalError, setEvalError] = useState<string | undefined>();

  const load = useCallback(() => {
    papi<PlatformCa>('GET', `/platform/cas/${encodeURIComponent(name)}`)
      .then(setCa)
      .catch((e) => setFailure(platformError(t, ts, e)));
  }, [name, t, ts]);
  useEffect(load, [load]);

  // The conformance run answers when it is done (seconds: every fetch is bounded); the elapsed time shows it is alive.
  useEffect(() => {
    if (running === null) return;
    const started = Date.now();
    const timer = setInterval(() => setRunning(Math.round((Date.now() - started) / 1000)), 500);
    return () => clearInterval(timer);
  }, [running === null]); // eslint-disable-line react-hooks/exhaustive-deps

  const act = async (path: string, body: unknown, after?: (r: unknown) => string) => {
    setBusy(true);
    setFailure(null);
    setOk(null);
    try {
      const r = await papi<unknown>('POST', `/platform/cas/${encodeURIComponent(name)}/${path}`, body);
      const updated = (r as { ca?: PlatformCa }).ca ?? (r as PlatformCa);
      if (updated && typeof updated === 'object' && 'status' in updated && 'history' in updated) setCa(updated);
      else load();
      setOk(after ? after(r) : t('ca.done', { status: t(`status.${(updated as PlatformCa).status}`) }));
      setNote('');
    } catch (e) {
      setFailure(platformError(t, ts, e));
    } finally {
      setBusy(false);
    }
  };

  const runTest = async () => {
    setRunning(0);
    try {
      await act('conformance/run', {}, (r) => {
        const doc = (r as { report: ConformanceDocument }).report;
        return doc.passed ? t('ca.reportPassed') : t('ca.reportFailed', { n: doc.faults?.length ?? 0 });
      });
    } finally {
      setRunning(null);
    }
  };

  const plan = () => {
    const start = dayStart(plannedFor);
    if (!plannedFor) return setPlanError(t('validation.required', { field: t('fields.plannedFor') }));
    if (!start) return setPlanError(t('validation.date'));
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    if (new Date(start) < today) return setPlanError(t('validation.past'));
    setPlanError(undefined);
    void act('inspections', { plannedFor: start }, () => t('ca.inspectionPlanned'));
    setPlannedFor('');
  };

  const evaluate = () => {
    const findings = lines(evalFindings);
    if (evalPassed === 'no' && findings.length === 0) return setEvalError(t('validation.findings'));
    setEvalError(undefined);
    void act('evaluations', { passed: evalPassed === 'yes', findings }, () => t('ca.evaluated')).then(() => setEvalFindings(''));
  };

  if (!ca) {
    return (
      <section>
        <PlatformBar />
        {failure ? <Notice kind="error" text={failure} /> : <Progress label={ts('app.loading')} />}
        <Link to="/app/platform/cas">{t('ca.back')}</Link>
      </section>
    );
  }

  const review = canProvinceReview(me, ca);
  const run = canRunConformance(me, ca);
  const approve = canApprove(me, ca);
  const reject = canReject(me, ca);
  const decisions = nationalDecisions(me, ca);
  const planInspection = canPlanInspection(me, ca);
  const evaluation = canEvaluate(me, ca);
  const anyDecision = review || approve || reject || decisions.length > 0;

  const historyColumns: Column<Step>[] = [
    { key: 'at', header: t('fields.at'), render: (s) => formatDate(s.at, lng) },
    { key: 'from', header: t('fields.from'), render: (s) => (s.from ? <StatusText status={s.from} /> : '—') },
    { key: 'to', header: t('fields.to'), render: (s) => <StatusText status={s.to} /> },
    { key: 'by', header: t('fields.by'), render: (s) => s.by },
    { key: 'note', header: t('fields.note'), render: (s) => s.note },
  ];

  return (
    <section>
      <p>
        <Link to="/app/platform/cas">{t('ca.back')}</Link>
      </p>
      <h1>
        {ca.displayName} ({ca.name}) — <StatusText status={ca.status} />
      </h1>
      <PlatformBar />
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />

      {anyDecision || run ? (
        <div className="decide" aria-label={t('ca.actions')} role="group">
          <h2>{review ? t('ca.review') : t('ca.actions')}</h2>
          {run ? (
            <div className="actions">
              <button type="button" onClick={() => void runTest()} disabled={busy}>
                {t('ca.run')}
              </button>
            </div>
          ) : null}
          {running !== null ? <Progress label={t('ca.running', { name: ca.name, s: running })} /> : null}
          {anyDecision ? (
            <>
              <TextAreaField label={review ? t('ca.reviewNote') : t('ca.decisionNote')} name="note" value={note} onChange={setNote} rows={2} />
              <div className="actions">
                {review ? (
                  <button type="button" disabled={busy} onClick={() => void act('province-review', { approve: true, note })}>
                    {t('ca.forward')}
                  </button>
                ) : null}
                {approve ? (
                  <button type="button" disabled={busy} onClick={() => void act('approve', { note })}>
                    {t('ca.approve')}
                  </button>
                ) : null}
                {decisions.map((d) => (
                  <button
                    key={d}
                    type="button"
                    className={d === 'resume' ? undefined : 'danger'}
                    disabled={busy}
                    onClick={() => {
                      if (d === 'terminate' && !window.confirm(t('ca.confirmTerminate'))) return;
                      void act(d, { note });
                    }}
                  >
                    {t(`ca.${d}`)}
                  </button>
                ))}
                {reject ? (
                  <button type="button" className="danger" disabled={busy} onClick={() => void act(review ? 'province-review' : 'reject', review ? { approve: false, note } : { note })}>
                    {t('ca.reject')}
                  </button>
                ) : null}
              </div>
            </>
          ) : null}
        </div>
      ) : null}

      <h2>{t('ca.conformance')}</h2>
      <Report ca={ca} />

      <h2>{t('ca.facts')}</h2>
      <dl className="facts">
        <div className="fact">
          <dt>{t('fields.homeProvince')}</dt>
          <dd>{ca.homeProvince}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.provinces')}</dt>
          <dd>{ca.provinces.join(', ')}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.licence')}</dt>
          <dd>
            {ca.licenceNumber} ({formatDay(ca.licenceNotBefore, lng)} – {formatDay(ca.licenceNotAfter, lng)}){ca.licenceExpired ? ` — ${t('cas.licenceExpired')}` : ''}
          </dd>
        </div>
        <div className="fact">
          <dt>{t('fields.company')}</dt>
          <dd>{Object.values(ca.company).join(' · ')}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.servicePlan')}</dt>
          <dd>{ca.servicePlan}</dd>
        </div>
        <div className="fact">
          <dt>{t('fields.materials')}</dt>
          <dd>
            <ul>
              {ca.materials.map((m, i) => (
                <li key={i}>{m.url && /^https?:\/\//.test(m.url) ? <a href={m.url}>{m.title}</a> : m.title}</li>
              ))}
            </ul>
          </dd>
        </div>
        <div className="fact">
          <dt>{t('fields.createdAt')}</dt>
          <dd>{formatDate(ca.createdAt, lng)}</dd>
        </div>
      </dl>

      {planInspection ? (
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            plan();
          }}
        >
          <TextField label={t('fields.plannedFor')} name="plannedFor" type="date" value={plannedFor} onChange={setPlannedFor} error={planError} required />
          <button type="submit" disabled={busy}>
            {t('ca.planInspection')}
          </button>
        </form>
      ) : null}

      {evaluation ? (
        <form
          className="decide"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            evaluate();
          }}
        >
          <h2>{t('ca.evaluate')}</h2>
          <fieldset>
            <legend>{t('fields.passed')}</legend>
            <label>
              <input type="radio" name="evalPassed" value="yes" checked={evalPassed === 'yes'} onChange={() => setEvalPassed('yes')} /> {t('ca.evalPassed')}
            </label>{' '}
            <label>
              <input type="radio" name="evalPassed" value="no" checked={evalPassed === 'no'} onChange={() => setEvalPassed('no')} /> {t('ca.evalFailed')}
            </label>
          </fieldset>
          <TextAreaField label={t('fields.evaluationFindings')} name="findings" value={evalFindings} onChange={setEvalFindings} error={evalError} rows={3} />
          <button type="submit" disabled={busy}>
            {t('ca.evaluate')}
          </button>
        </form>
      ) : null}

      <DataTable caption={t('ca.history')} columns={historyColumns} rows={[...ca.history].reverse()} rowKey={(s) => `${s.at}-${s.to}`} />
    </section>
  );
}

/**
 * Fee schedules (Art. 19; set by the national office, never back-dated or replaced) and statements
 * per information system or unit for a period, with the platform's CSV export.
 */
import { useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { DataTable, type Column } from '../../components/DataTable.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { useSession } from '../../session.js';
import { papi, pdownload } from '../platform/api.js';
import { dayStart, formatDay, PlatformBar } from '../platform/common.js';
import type { FeeSchedule, InformationSystem, Statement, StatementLine } from './api.js';
import { canReadStatements, canSetSchedule, CLASSES, organisationShape, toFen, useFT, yuan } from './common.js';

/** Today as yyyy-mm-dd in UTC (the platform compares schedule dates with its UTC day). */
const todayUtc = () => new Date().toISOString().slice(0, 10);

type PriceKey = `${(typeof CLASSES)[number]}.${'firstIssuance' | 'annualService'}`;

/** The national office's form for a new schedule; prices typed in yuan, sent in fen. */
function NewSchedule(props: { onDone: (s: FeeSchedule) => void }) {
  const { t, failure } = useFT();
  const [from, setFrom] = useState('');
  const [note, setNote] = useState('');
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keys: PriceKey[] = CLASSES.flatMap((c) => [`${c}.firstIssuance`, `${c}.annualService`] as PriceKey[]);

  const submit = () => {
    const errs: Record<string, string> = {};
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(Date.parse(from))) errs.from = from ? t('validation.date') : t('validation.required', { field: t('fees.effectiveFrom') });
    else if (from < todayUtc()) errs.from = t('validation.past');
    const body: Record<string, { firstIssuance: number; annualService: number }> = {};
    for (const k of keys) {
      const fen = toFen(prices[k] ?? '');
      if (fen === undefined) errs[k] = t('validation.price');
      const [cls, kind] = k.split('.') as [string, 'firstIssuance' | 'annualService'];
      body[cls] = { ...(body[cls] ?? { firstIssuance: 0, annualService: 0 }), [kind]: fen ?? 0 };
    }
    setErrors(errs);
    setError(null);
    const first = Object.keys(errs)[0];
    if (first) {
      document.querySelector<HTMLElement>(`[name="fee-${first}"]`)?.focus();
      return;
    }
    setBusy(true);
    papi<FeeSchedule>('POST', '/platform/fees/schedules', { effectiveFrom: from, prices: body, ...(note.trim() ? { note: note.trim() } : {}) })
      .then((s) => {
        setPrices({});
        setFrom('');
        setNote('');
        props.onDone(s);
      })
      .catch((e) => setError(failure(e)))
      .finally(() => setBusy(false));
  };

  return (
    <form
      className="platform-form"
      aria-labelledby="new-schedule"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="new-schedule">{t('fees.newSchedule')}</h2>
      <TextField label={t('fees.effectiveFrom')} name="fee-from" type="date" value={from} onChange={setFrom} error={errors.from} required />
      <div className="filters">
      {keys.map((k) => {
        const [cls, kind] = k.split('.') as [string, string];
        return (
          <TextField
            key={k}
            label={t(kind === 'firstIssuance' ? 'fees.firstIssuance' : 'fees.annualService', { cls: t(`classes.${cls}`) })}
            name={`fee-${k}`}
            value={prices[k] ?? ''}
            onChange={(v) => setPrices((p) => ({ ...p, [k]: v }))}
            error={errors[k]}
            required
          />
        );
      })}
      </div>
      <TextField label={t('fees.note')} name="fee-note" value={note} onChange={setNote} />
      <Notice kind="error" text={error} />
      <button type="submit" disabled={busy}>
        {t('fees.create')}
      </button>
    </form>
  );
}

/** A statement of a system or unit for a period, its lines and totals, and its CSV export. */
function Statements(props: { systems: InformationSystem[] }) {
  const { t, lng, failure } = useFT();
  const [params] = useSearchParams();
  const year = new Date().getFullYear();
  const [form, setForm] = useState({ kind: params.get('unit') ? 'unit' : 'system', system: params.get('system') ?? '', unit: params.get('unit') ?? '', from: `${year}-01-01`, to: `${year + 1}-01-01` });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [statement, setStatement] = useState<Statement | null>(null);
  const [busy, setBusy] = useState<'show' | 'csv' | null>(null);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  /** The statement's path and query, or undefined after marking the bad fields. */
  const target = (): { path: string; file: string } | undefined => {
    const errs: Record<string, string> = {};
    const from = dayStart(form.from);
    const to = dayStart(form.to);
    if (!from) errs.from = t('validation.date');
    if (!to) errs.to = t('validation.date');
    if (from && to && from >= to) errs.to = t('validation.period');
    if (form.kind === 'system' && !form.system) errs.system = t('validation.required', { field: t('fees.system') });
    if (form.kind === 'unit' && !organisationShape(form.unit)) errs.unit = form.unit ? t('validation.code') : t('validation.required', { field: t('fees.unit') });
    setErrors(errs);
    if (Object.keys(errs).length) return undefined;
    const id = form.kind === 'system' ? form.system : form.unit.replace(/[\s-]/g, '').toUpperCase();
    const q = `from=${encodeURIComponent(from!)}&to=${encodeURIComponent(to!)}`;
    return { path: `/platform/fees/statements/${form.kind === 'system' ? 'systems' : 'units'}/${encodeURIComponent(id)}?${q}`, file: `fees-${form.kind}-${id}.csv` };
  };

  const show = () => {
    const x = target();
    if (!x) return;
    setError(null);
    setOk(null);
    setBusy('show');
    papi<Statement>('GET', x.path)
      .then(setStatement)
      .catch((e) => {
        setStatement(null);
        if (form.kind === 'unit' && /unit/.test(String((e as { code?: string }).code))) setErrors({ unit: failure(e) });
        else setError(failure(e));
      })
      .finally(() => setBusy(null));
  };
  // Open straight on a system's statement when linked from the systems page.
  useEffect(() => {
    if (params.get('system') || params.get('unit')) show();
  }, []);

  const csv = () => {
    const x = target();
    if (!x) return;
    setError(null);
    setOk(null);
    setBusy('csv');
    pdownload(`${x.path}&format=csv`, x.file)
      .then(() => setOk(t('fees.exported', { file: x.file })))
      .catch((e) => setError(failure(e)))
      .finally(() => setBusy(null));
  };

  const columns: Column<StatementLine>[] = [
    { key: 'date', header: t('fees.date'), render: (l) => formatDay(l.date, lng) },
    { key: 'kind', header: t('fees.charge'), render: (l) => t(l.kind === 'first-issuance' ? 'fees.first' : 'fees.annual') },
    { key: 'system', header: t('fees.system'), render: (l) => l.system },
    { key: 'holder', header: t('fees.holder'), render: (l) => l.holder },
    { key: 'ca', header: t('fees.ca'), render: (l) => l.ca },
    { key: 'class', header: t('fees.cls'), render: (l) => t(`classes.${l.class}`, { defaultValue: l.class }) },
    { key: 'sharedBy', header: t('fees.sharedBy'), render: (l) => l.sharedBy },
    { key: 'price', header: t('fees.price'), render: (l) => yuan(l.price) },
    { key: 'amount', header: t('fees.amount'), render: (l) => `${yuan(l.amount)}${l.provisional ? ' *' : ''}` },
    { key: 'payer', header: t('fees.payer'), render: (l) => `${t(`fees.payerKinds.${l.payer.kind}`)} ${l.payer.name ?? l.payer.code}` },
  ];

  return (
    <section aria-labelledby="statement">
      <h2 id="statement">{t('fees.statement')}</h2>
      <form
        className="filters"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          show();
        }}
      >
        <SelectField label={t('fees.kind')} name="st-kind" value={form.kind} onChange={set('kind')} options={[{ value: 'system', label: t('fees.kindSystem') }, { value: 'unit', label: t('fees.kindUnit') }]} />
        {form.kind === 'system' ? (
          <SelectField label={t('fees.system')} name="st-system" value={form.system} onChange={set('system')} error={errors.system} options={[{ value: '', label: '—' }, ...props.systems.map((s) => ({ value: s.id, label: `${s.id} ${s.displayName}` }))]} />
        ) : (
          <TextField label={t('fees.unit')} name="st-unit" value={form.unit} onChange={set('unit')} error={errors.unit} />
        )}
        <TextField label={t('fees.from')} name="st-from" type="date" value={form.from} onChange={set('from')} error={errors.from} />
        <TextField label={t('fees.to')} name="st-to" type="date" value={form.to} onChange={set('to')} error={errors.to} />
        <button type="submit" disabled={busy !== null}>
          {t('fees.show')}
        </button>{' '}
        <button type="button" onClick={csv} disabled={busy !== null} aria-busy={busy === 'csv' || undefined}>
          {t('fees.csv')}
        </button>
      </form>
      {busy === 'csv' ? <Progress label={t('fees.exporting')} /> : null}
      {busy === 'show' ? <Progress /> : null}
      <Notice kind="error" text={error} />
      <Notice kind="ok" text={ok} />
      {statement ? (
        <>
          <p data-testid="statement-totals">{t('fees.totals', { total: yuan(statement.totals.total), first: yuan(statement.totals.firstIssuance), annual: yuan(statement.totals.annualService) })}</p>
          {statement.totals.unpricedLines ? <p>{t('fees.unpriced', { n: statement.totals.unpricedLines })}</p> : null}
          {statement.totals.provisionalLines ? <p>* {t('fees.provisional', { n: statement.totals.provisionalLines })}</p> : null}
          <DataTable
            caption={t('fees.linesCaption', { subject: statement.subject.name ? `${statement.subject.name} (${statement.subject.id})` : statement.subject.id, n: statement.lines.length })}
            columns={columns}
            rows={statement.lines}
            rowKey={(l) => `${l.date}|${l.kind}|${l.system}|${l.holder}|${l.ca}|${l.class}`}
          />
        </>
      ) : null}
    </section>
  );
}

/** The fees page. */
export function PlatformFeesPage() {
  const { t, lng, failure } = useFT();
  const me = useSession().platform;
  const [schedules, setSchedules] = useState<FeeSchedule[]>([]);
  const [systems, setSystems] = useState<InformationSystem[]>([]);
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);

  const load = useCallback(() => {
    setBusy(true);
    Promise.all([papi<{ schedules: FeeSchedule[] }>('GET', '/platform/fees/schedules'), papi<{ systems: InformationSystem[] }>('GET', '/platform/systems')])
      .then(([f, s]) => {
        setSchedules(f.schedules);
        setSystems(s.systems);
      })
      .catch((e) => setError(failure(e)))
      .finally(() => setBusy(false));
  }, [lng]);
  useEffect(load, [load]);

  const columns: Column<FeeSchedule>[] = [
    { key: 'effectiveFrom', header: t('fees.effectiveFrom'), render: (s) => formatDay(`${s.effectiveFrom}T00:00:00Z`, lng) },
    ...CLASSES.map((c) => ({ key: c, header: t(`classes.${c}`), render: (s: FeeSchedule) => (s.prices[c] ? `${t('fees.first')} ${yuan(s.prices[c].firstIssuance)} / ${t('fees.annual')} ${yuan(s.prices[c].annualService)}` : '—') })),
    { key: 'note', header: t('fees.note'), render: (s) => s.note || '—' },
    { key: 'createdBy', header: t('fees.createdBy'), render: (s) => s.createdBy },
  ];

  return (
    <section>
      <h1>{t('fees.title')}</h1>
      <PlatformBar />
      <p>{t('fees.intro')}</p>
      <Notice kind="error" text={error} />
      <Notice kind="ok" text={ok} />
      <DataTable caption={t('fees.schedulesCaption', { n: schedules.length })} columns={columns} rows={schedules} rowKey={(s) => s.effectiveFrom} busy={busy} />
      {canReadStatements(me) ? <Statements systems={systems} /> : null}
      {canSetSchedule(me) ? (
        <NewSchedule
          onDone={(s) => {
            setOk(t('fees.created', { date: s.effectiveFrom }));
            load();
          }}
        />
      ) : null}
    </section>
  );
}

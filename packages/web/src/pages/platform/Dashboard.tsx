/**
 * The national dashboard (Art. 11): issuance over time, by CA, by province and by certificate
 * class from the platform's sync statistics, and each CA's OCSP/CRL availability from its probes;
 * the platform scopes every number to the caller (a province sees its province). CSV exports are
 * the platform's own CSV routes.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { query } from '../../api/client.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { ExportButton } from '../../components/ExportButton.js';
import { papi, pdownload, type ProbeSummary, type StatsRow, type TimeseriesPoint } from './api.js';
import { ChartView, PALETTE, type Series } from './Chart.js';
import { dayStart, platformError, PlatformBar, usePT } from './common.js';

type Bucket = 'day' | 'month' | 'year';
interface Filters {
  from: string;
  to: string;
  bucket: Bucket;
}

interface Data {
  byCa: StatsRow[];
  byProvince: StatsRow[];
  byClass: StatsRow[];
  series: TimeseriesPoint[];
  probes: ProbeSummary[];
}

/** Each measure's colour in every chart. */
const COLORS = { issued: PALETTE[0], renewed: PALETTE[4], revoked: PALETTE[2], active: PALETTE[3] };

/** The end of a yyyy-mm-dd day (exclusive: the next day's start), ISO. */
function dayEnd(v: string): string | undefined {
  const s = dayStart(v);
  return s ? new Date(new Date(s).getTime() + 86_400_000).toISOString() : undefined;
}

/** The dashboard page. */
export function PlatformDashboardPage() {
  const { t, ts } = usePT();
  const [form, setForm] = useState<Filters>({ from: '', to: '', bucket: 'month' });
  const [applied, setApplied] = useState<Filters>(form);
  const [errors, setErrors] = useState<{ from?: string; to?: string }>({});
  const [data, setData] = useState<Data | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const period = (f: Filters) => ({ from: f.from ? dayStart(f.from) : undefined, to: f.to ? dayEnd(f.to) : undefined });

  useEffect(() => {
    setBusy(true);
    setFailure(null);
    const p = period(applied);
    const stats = (groupBy: string) => papi<{ rows: StatsRow[] }>('GET', `/platform/stats${query({ ...p, groupBy })}`).then((r) => r.rows);
    Promise.all([
      stats('ca'),
      stats('province'),
      stats('class'),
      papi<{ points: TimeseriesPoint[] }>('GET', `/platform/stats/timeseries${query({ ...p, bucket: applied.bucket })}`).then((r) => r.points),
      // Availability: the probes of the period (the platform's default is the last 24 hours).
      papi<{ rows: ProbeSummary[] }>('GET', `/platform/probes${query(p)}`).then((r) => r.rows),
    ])
      .then(([byCa, byProvince, byClass, series, probes]) => setData({ byCa, byProvince, byClass, series, probes }))
      .catch((e) => setFailure(platformError(t, ts, e)))
      .finally(() => setBusy(false));
  }, [applied, t, ts]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof errors = {};
    if (form.from && !dayStart(form.from)) errs.from = t('validation.date');
    if (form.to && !dayStart(form.to)) errs.to = t('validation.date');
    if (!errs.from && !errs.to && form.from && form.to && form.from > form.to) errs.from = t('validation.period');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setApplied(form);
  };

  const charts = useMemo(() => {
    if (!data) return null;
    const counts = (rows: StatsRow[], key: 'ca' | 'province' | 'class') => ({
      labels: rows.map((r) => r[key] || t('dash.unknown')),
      series: [
        { label: t('dash.issued'), values: rows.map((r) => r.issued), color: COLORS.issued },
        { label: t('dash.revoked'), values: rows.map((r) => r.revoked), color: COLORS.revoked },
        { label: t('dash.active'), values: rows.map((r) => r.active), color: COLORS.active },
      ] as Series[],
    });
    const periods = data.series.map((p) => p.period);
    const availabilityCas = [...new Set(data.probes.map((p) => p.ca))];
    const uptime = (kind: 'ocsp' | 'crl') => availabilityCas.map((ca) => data.probes.find((p) => p.ca === ca && p.kind === kind)?.uptime ?? 0);
    const total = data.byCa.reduce((a, r) => ({ issued: a.issued + r.issued, renewed: a.renewed + r.renewed, revoked: a.revoked + r.revoked, active: a.active + r.active }), { issued: 0, renewed: 0, revoked: 0, active: 0 });
    return {
      total,
      overTime: {
        labels: periods,
        series: [
          { label: t('dash.issued'), values: data.series.map((p) => p.issued), color: COLORS.issued },
          { label: t('dash.renewed'), values: data.series.map((p) => p.renewed), color: COLORS.renewed },
          { label: t('dash.revoked'), values: data.series.map((p) => p.revoked), color: COLORS.revoked },
        ],
      },
      byCa: counts(data.byCa, 'ca'),
      byProvince: counts(data.byProvince, 'province'),
      byClass: { labels: data.byClass.map((r) => (r.class ? t(`dash.classes.${r.class}`, { defaultValue: r.class }) : t('dash.unknown'))), series: [{ label: t('dash.issued'), values: data.byClass.map((r) => r.issued) }] },
      availability: { labels: availabilityCas, series: [{ label: 'OCSP', values: uptime('ocsp') }, { label: 'CRL', values: uptime('crl') }] },
    };
  }, [data, t]);

  const onCsvError = (e: unknown) => setFailure(platformError(t, ts, e));
  const p = period(applied);
  return (
    <section>
      <h1>{t('dash.title')}</h1>
      <PlatformBar />
      <p>{t('dash.intro')}</p>
      <form className="filters" onSubmit={submit} noValidate>
        <TextField label={t('fields.periodFrom')} name="from" type="date" value={form.from} onChange={(v) => setForm((f) => ({ ...f, from: v }))} error={errors.from} />
        <TextField label={t('fields.periodTo')} name="to" type="date" value={form.to} onChange={(v) => setForm((f) => ({ ...f, to: v }))} error={errors.to} />
        <SelectField
          label={t('fields.bucket')}
          name="bucket"
          value={form.bucket}
          onChange={(v) => setForm((f) => ({ ...f, bucket: v as Bucket }))}
          options={(['day', 'month', 'year'] as const).map((b) => ({ value: b, label: t(`dash.buckets.${b}`) }))}
        />
        <div className="actions">
          <button type="submit">{t('dash.apply')}</button>
        </div>
      </form>
      <div className="actions">
        <ExportButton label={t('dash.csvStats')} run={() => pdownload(`/platform/stats.csv${query({ ...p, groupBy: 'ca,province,class' })}`, 'platform-stats.csv')} onError={onCsvError} />
        <ExportButton label={t('dash.csvSeries')} run={() => pdownload(`/platform/stats/timeseries.csv${query({ ...p, bucket: applied.bucket })}`, 'platform-timeseries.csv')} onError={onCsvError} />
        <ExportButton label={t('dash.csvProbes')} run={() => pdownload(`/platform/probes.csv${query(p)}`, 'platform-probes.csv')} onError={onCsvError} />
      </div>
      <Notice kind="error" text={failure} />
      {busy ? <Progress label={ts('app.loading')} /> : null}
      {charts ? (
        <>
          <p data-testid="dash-totals">{t('dash.totals', { ...charts.total })}</p>
          <div className="pcharts">
            <ChartView id="over-time" title={t('dash.overTime')} type="line" labels={charts.overTime.labels} series={charts.overTime.series} />
            <ChartView id="by-ca" title={t('dash.byCa')} type="bar" labels={charts.byCa.labels} series={charts.byCa.series} />
            <ChartView id="by-province" title={t('dash.byProvince')} type="bar" labels={charts.byProvince.labels} series={charts.byProvince.series} />
            <ChartView id="by-class" title={t('dash.byClass')} type="doughnut" labels={charts.byClass.labels} series={charts.byClass.series} />
            <ChartView id="availability" title={t('dash.availability')} type="bar" labels={charts.availability.labels} series={charts.availability.series} max={100} />
          </div>
        </>
      ) : null}
    </section>
  );
}

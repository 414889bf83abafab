/**
 * Bulk import (issue 10, long operations): an officer uploads a CSV of applicants; every row is
 * checked here (as the application form checks it, with the row number in the user's language),
 * then the valid rows are entered one by one through the application API with a progress bar, and
 * each row shows what became of it. The API checks each application again; maker-checker is
 * unchanged (a second officer approves each).
 */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../../api/client.js';
import type { Application, Profile } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { Field } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText } from '../../format.js';
import { useSession } from '../../session.js';
import { residentIdValid } from '../ra/identity.js';
import { useDefaultCa } from '../ra/use-ca.js';
import { readRows, type CsvRow } from './csv.js';
import './texts.js';

const PEM_CSR = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----/;

/** A checked row: the request body when valid, else its errors. */
interface Checked {
  row: number;
  name: string;
  profile: string;
  errors: string[];
  body?: Record<string, unknown>;
}

/** What became of a submitted row. */
type Outcome = { ok: true; app: Application } | { ok: false; message: string };

/** Checks one row as the application form does; `csrFiles` are the chosen CSR files by name. */
function checkRow(t: (k: string, o?: Record<string, unknown>) => string, r: CsvRow, profiles: Profile[], csrFiles: Map<string, string>): Checked {
  const v = r.values;
  const errors: string[] = [];
  if (!v.name) errors.push(t('errors.name'));
  if (!v.profile) errors.push(t('errors.noProfile'));
  else if (profiles.length && !profiles.some((p) => p.name === v.profile)) errors.push(t('errors.profile', { profile: v.profile }));
  if (v.resident_id && !residentIdValid(v.resident_id)) errors.push(t('errors.residentId'));
  if (v.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email)) errors.push(t('errors.email'));
  // The csr cell holds the PEM itself, or names a file chosen alongside.
  let csr = v.csr ?? '';
  if (!csr) errors.push(t('errors.csr'));
  else if (!csr.includes('-----')) {
    const file = csrFiles.get(csr);
    if (file === undefined) errors.push(t('errors.csrFile', { file: csr }));
    else csr = file;
  }
  if (csr.includes('-----') && !PEM_CSR.test(csr)) errors.push(t('errors.csrPem'));
  const checked: Checked = { row: r.row, name: v.name ?? '', profile: v.profile ?? '', errors };
  if (errors.length) return checked;
  const applicant = Object.fromEntries((['name', 'organization', 'department', 'phone', 'email'] as const).map((k) => [k, v[k] ?? '']).filter(([, x]) => x));
  checked.body = { kind: 'new', profile: v.profile, csr, applicant, ...(v.resident_id ? { identity: { residentId: v.resident_id.toUpperCase() } } : {}) };
  return checked;
}

/** The bulk import page. */
export function BulkImportPage() {
  const { t } = useTranslation('bulk');
  const { t: ts } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('ra.enter'));
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [csvText, setCsvText] = useState<string | null>(null);
  const [csrFiles, setCsrFiles] = useState<Map<string, string>>(new Map());
  const [outcomes, setOutcomes] = useState<Map<number, Outcome>>(new Map());
  const [progress, setProgress] = useState<{ done: number; n: number } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | undefined>();

  useEffect(() => {
    api<{ profiles: Profile[] }>('GET', '/api/v1/profiles')
      .then((r) => setProfiles(r.profiles))
      .catch((e) => setFailure(errorText(ts, e)));
  }, [ts]);

  // The file's header problem, or its rows checked (again whenever the CSR files or profiles change).
  const parsed = useMemo(() => {
    if (csvText === null) return undefined;
    const r = readRows(csvText);
    if ('error' in r) {
      const e = r.error;
      return { error: typeof e === 'string' ? t(`errors.${e}`) : 'unknown' in e ? t('errors.unknown', { cols: e.unknown.join(', ') }) : t('errors.missing', { cols: e.missing.join(', ') }) };
    }
    return { rows: r.rows.map((row) => checkRow(t, row, profiles, csrFiles)) };
  }, [csvText, csrFiles, profiles, t]);
  useEffect(() => setFileError(parsed && 'error' in parsed ? parsed.error : undefined), [parsed]);

  const rows: Checked[] = (parsed && 'rows' in parsed ? parsed.rows : undefined) ?? [];
  const valid = rows.filter((r) => r.body && !outcomes.get(r.row)?.ok);
  const bad = rows.filter((r) => r.errors.length);

  const submit = async () => {
    if (csvText === null) return setFileError(t('errors.noFile'));
    setFailure(null);
    const todo = valid;
    setProgress({ done: 0, n: todo.length });
    // One request per row, in file order: the bar moves as each answers, and a failure stays with its row.
    for (const [i, r] of todo.entries()) {
      let outcome: Outcome;
      try {
        outcome = { ok: true, app: await api<Application>('POST', `/api/v1/cas/${encodeURIComponent(ca)}/applications`, r.body) };
      } catch (e) {
        outcome = { ok: false, message: errorText(ts, e) };
      }
      setOutcomes((m) => new Map(m).set(r.row, outcome));
      setProgress({ done: i + 1, n: todo.length });
    }
    setProgress(null);
  };

  const entered = [...outcomes.values()].filter((o) => o.ok).length;
  const columns: Column<Checked>[] = [
    { key: 'row', header: t('row'), render: (r) => r.row },
    { key: 'name', header: t('name'), render: (r) => r.name },
    { key: 'profile', header: t('profile'), render: (r) => r.profile },
    {
      key: 'result',
      header: t('result'),
      render: (r) => {
        const o = outcomes.get(r.row);
        if (r.errors.length) return <span className="field-error">{r.errors.join(t('sep'))}</span>;
        if (!o) return t('ready');
        if (o.ok)
          return (
            <>
              {t('created')}
              <Link to={`/app/ra/applications/${encodeURIComponent(o.app.ca)}/${encodeURIComponent(o.app.id)}`} aria-label={`${t('open')} ${r.name}`}>
                {o.app.id.slice(-8)}
              </Link>
            </>
          );
        return <span className="field-error">{t('failed') + o.message}</span>;
      },
    },
  ];

  return (
    <section>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <p className="hint">{t('columns')}</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <CaSelect cas={cas} value={ca} onChange={setCa} only={session.casWith('ra.enter')} />
        <Field label={t('file')} error={fileError} required>
          {(p) => (
            <input
              {...p}
              type="file"
              name="bulk-csv"
              accept=".csv,text/csv"
              onChange={(e) => {
                setOutcomes(new Map());
                const f = e.target.files?.[0];
                if (f) void f.text().then(setCsvText);
                else setCsvText(null);
              }}
            />
          )}
        </Field>
        <Field label={t('csrFiles')}>
          {(p) => (
            <input
              {...p}
              type="file"
              name="bulk-csrs"
              multiple
              accept=".csr,.pem,.req"
              onChange={(e) => {
                const files = [...(e.target.files ?? [])];
                void Promise.all(files.map(async (f) => [f.name, await f.text()] as const)).then((pairs) => setCsrFiles(new Map(pairs)));
              }}
            />
          )}
        </Field>
        <button type="submit" disabled={progress !== null || valid.length === 0}>
          {t('submit', { n: valid.length })}
        </button>
      </form>
      {progress ? <Progress label={t('submitting', progress)} value={progress.done} max={progress.n} /> : null}
      <Notice kind="error" text={failure} />
      {rows.length ? <p role="status">{outcomes.size ? t('done', { ok: entered, bad: rows.length - entered }) : t('summary', { ok: rows.length - bad.length, bad: bad.length })}</p> : null}
      {bad.length ? (
        <ul className="row-errors" aria-label={t('summary', { ok: rows.length - bad.length, bad: bad.length })}>
          {bad.map((r) => (
            <li key={r.row}>{t('errors.rowLine', { row: r.row, message: r.errors.join(t('sep')) })}</li>
          ))}
        </ul>
      ) : null}
      {rows.length ? <DataTable caption={t('caption', { n: rows.length })} columns={columns} rows={rows} rowKey={(r) => String(r.row)} /> : null}
    </section>
  );
}

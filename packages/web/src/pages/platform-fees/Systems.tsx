/**
 * Information systems (Art. 15) as far as the caller may see them (the platform scopes the list: a
 * province sees its own), and the registration form for the offices.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../../api/client.js';
import { DataTable, type Column, type Sort } from '../../components/DataTable.js';
import { SelectField, TextAreaField, TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { Pager } from '../../components/Pager.js';
import { useSession } from '../../session.js';
import { papi } from '../platform/api.js';
import { formatDay, PlatformBar, useLocalPages } from '../platform/common.js';
import type { InformationSystem } from './api.js';
import { canReadStatements, canRegisterSystem, CATEGORIES, CLASSES, organisationShape, useFT } from './common.js';

const SYSTEM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Form = {
  id: string;
  displayName: string;
  category: string;
  scope: string;
  operatorCode: string;
  operatorName: string;
  builderCode: string;
  builderName: string;
  publicFacing: string;
  userGroups: string[];
  acceptedCas: string;
  description: string;
};
const EMPTY: Form = { id: '', displayName: '', category: 'medical-care', scope: '', operatorCode: '', operatorName: '', builderCode: '', builderName: '', publicFacing: 'no', userGroups: [], acceptedCas: '', description: '' };
type Errors = Partial<Record<keyof Form, string>>;

/** Which field a platform refusal is about, so that it is shown next to it. */
function fieldOf(e: unknown, f: Form): keyof Form | undefined {
  if (!(e instanceof ApiError)) return undefined;
  if (e.code === 'platform.system.id' || e.code === 'platform.system.exists') return 'id';
  if (e.code === 'platform.system.ca' || e.code === 'platform.system.ca-not-connected') return 'acceptedCas';
  if (e.code === 'platform.identity.organisation') return /^builder/.test(e.message) && f.builderCode ? 'builderCode' : 'operatorCode';
  if (e.code === 'platform.scope.province' || e.code === 'platform.province') return 'scope';
  return undefined;
}

/** The registration form of an office. */
function RegisterSystem(props: { national: boolean; onDone: (s: InformationSystem) => void }) {
  const { t, failure } = useFT();
  const [form, setForm] = useState<Form>(EMPTY);
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const cas = form.acceptedCas.split(/[,，\s]+/).filter(Boolean);

  const submit = () => {
    const req = (field: string) => t('validation.required', { field });
    const errs: Errors = {};
    if (!SYSTEM_ID.test(form.id)) errs.id = form.id ? t('validation.id') : req(t('systems.id'));
    if (!form.displayName.trim()) errs.displayName = req(t('systems.displayName'));
    if (props.national && form.scope && form.scope !== 'national' && !/^[A-Z]{2}$/.test(form.scope)) errs.scope = t('validation.scope');
    if (!organisationShape(form.operatorCode)) errs.operatorCode = form.operatorCode ? t('validation.code') : req(t('systems.operatorCode'));
    if (!form.operatorName.trim()) errs.operatorName = req(t('systems.operatorName'));
    if (form.builderCode && !organisationShape(form.builderCode)) errs.builderCode = t('validation.code');
    if (form.builderCode && !form.builderName.trim()) errs.builderName = req(t('systems.builderName'));
    if (form.userGroups.length === 0) errs.userGroups = t('validation.groups');
    if (cas.length === 0) errs.acceptedCas = t('validation.cas');
    setErrors(errs);
    setError(null);
    const first = Object.keys(errs)[0];
    if (first) {
      document.querySelector<HTMLElement>(`[name="sys-${first}"]`)?.focus();
      return;
    }
    setBusy(true);
    papi<InformationSystem>('POST', '/platform/systems', {
      id: form.id,
      displayName: form.displayName.trim(),
      category: form.category,
      ...(props.national && form.scope ? { scope: form.scope } : {}),
      operator: { code: form.operatorCode, name: form.operatorName.trim() },
      ...(form.builderCode ? { builder: { code: form.builderCode, name: form.builderName.trim() } } : {}),
      publicFacing: form.publicFacing === 'yes',
      userGroups: form.userGroups,
      acceptedCas: cas,
      ...(form.description.trim() ? { description: form.description.trim() } : {}),
    })
      .then((s) => {
        setForm(EMPTY);
        props.onDone(s);
      })
      .catch((e) => {
        const field = fieldOf(e, form);
        if (field) setErrors({ [field]: failure(e) });
        else setError(failure(e));
      })
      .finally(() => setBusy(false));
  };

  return (
    <form
      className="platform-form"
      aria-labelledby="register-system"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="register-system">{t('systems.register')}</h2>
      <div className="grid-form">
      <TextField label={t('systems.id')} name="sys-id" value={form.id} onChange={set('id')} hint={t('systems.idHint')} error={errors.id} required />
      <TextField label={t('systems.displayName')} name="sys-displayName" value={form.displayName} onChange={set('displayName')} error={errors.displayName} required />
      <SelectField label={t('systems.category')} name="sys-category" value={form.category} onChange={set('category')} options={CATEGORIES.map((c) => ({ value: c, label: t(`categories.${c}`) }))} />
      {props.national ? <TextField label={t('systems.scope')} name="sys-scope" value={form.scope} onChange={set('scope')} hint={t('systems.scopeHint')} error={errors.scope} /> : null}
      <TextField label={t('systems.operatorCode')} name="sys-operatorCode" value={form.operatorCode} onChange={set('operatorCode')} hint={t('systems.codeHint')} error={errors.operatorCode} required />
      <TextField label={t('systems.operatorName')} name="sys-operatorName" value={form.operatorName} onChange={set('operatorName')} error={errors.operatorName} required />
      <TextField label={t('systems.builderCode')} name="sys-builderCode" value={form.builderCode} onChange={set('builderCode')} error={errors.builderCode} />
      <TextField label={t('systems.builderName')} name="sys-builderName" value={form.builderName} onChange={set('builderName')} error={errors.builderName} />
      <SelectField label={t('systems.publicFacing')} name="sys-publicFacing" value={form.publicFacing} onChange={set('publicFacing')} options={[{ value: 'no', label: t('platform:no') }, { value: 'yes', label: t('platform:yes') }]} />
      </div>
      <fieldset aria-invalid={Boolean(errors.userGroups) || undefined} aria-describedby={errors.userGroups ? 'sys-groups-err' : undefined}>
        <legend>{t('systems.userGroups')}</legend>
        {CLASSES.map((g) => (
          <label key={g}>
            <input
              type="checkbox"
              name={g === CLASSES[0] ? 'sys-userGroups' : undefined}
              checked={form.userGroups.includes(g)}
              onChange={(e) => setForm((f) => ({ ...f, userGroups: e.target.checked ? [...f.userGroups, g] : f.userGroups.filter((x) => x !== g) }))}
            />{' '}
            {t(`groups.${g}`)}{' '}
          </label>
        ))}
        {errors.userGroups ? (
          <p className="field-error" id="sys-groups-err">
            {errors.userGroups}
          </p>
        ) : null}
      </fieldset>
      <TextField label={t('systems.acceptedCas')} name="sys-acceptedCas" value={form.acceptedCas} onChange={set('acceptedCas')} hint={t('systems.acceptedCasHint')} error={errors.acceptedCas} required />
      <TextAreaField label={t('systems.description')} name="sys-description" value={form.description} onChange={set('description')} rows={2} />
      <Notice kind="error" text={error} />
      <button type="submit" disabled={busy}>
        {t('systems.register')}
      </button>
    </form>
  );
}

/** The systems page. */
export function PlatformSystemsPage() {
  const { t, lng, failure } = useFT();
  const me = useSession().platform;
  const [systems, setSystems] = useState<InformationSystem[]>([]);
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [sort, setSort] = useState<Sort>({ key: 'id', dir: 'asc' });

  const load = useCallback(() => {
    setBusy(true);
    papi<{ systems: InformationSystem[] }>('GET', '/platform/systems')
      .then((r) => setSystems(r.systems))
      .catch((e) => setError(failure(e)))
      .finally(() => setBusy(false));
  }, [lng]);
  useEffect(load, [load]);

  // The platform answers every system in scope at once; sorting happens here.
  const rows = useMemo(() => {
    const key = (s: InformationSystem) => (sort.key === 'scope' ? s.scope : sort.key === 'updatedAt' ? s.updatedAt : sort.key === 'category' ? s.category : s.id);
    return [...systems].sort((a, b) => (sort.dir === 'asc' ? 1 : -1) * key(a).localeCompare(key(b)));
  }, [systems, sort]);
  const paging = useLocalPages(rows);
  const columns: Column<InformationSystem>[] = [
    { key: 'id', header: t('systems.id'), sortable: true, render: (s) => s.id },
    { key: 'displayName', header: t('systems.displayName'), render: (s) => s.displayName },
    { key: 'category', header: t('systems.category'), sortable: true, render: (s) => t(`categories.${s.category}`) },
    { key: 'scope', header: t('systems.scope'), sortable: true, render: (s) => (s.scope === 'national' ? t('systems.scopeNational') : s.scope) },
    { key: 'operator', header: t('systems.operator'), render: (s) => `${s.operator.name} (${s.operator.code})` },
    { key: 'publicFacing', header: t('systems.publicFacing'), render: (s) => (s.publicFacing ? t('platform:yes') : t('platform:no')) },
    { key: 'userGroups', header: t('systems.userGroups'), render: (s) => s.userGroups.map((g) => t(`groups.${g}`)).join('、') },
    { key: 'acceptedCas', header: t('systems.acceptedCas'), render: (s) => s.acceptedCas.join(', ') },
    { key: 'updatedAt', header: t('platform:fields.updatedAt'), sortable: true, render: (s) => formatDay(s.updatedAt, lng) },
    ...(canReadStatements(me) ? [{ key: 'statement', header: t('systems.statement'), render: (s: InformationSystem) => <Link to={`/app/platform/fees?system=${encodeURIComponent(s.id)}`}>{t('systems.statement')}</Link> }] : []),
  ];

  return (
    <section>
      <h1>{t('systems.title')}</h1>
      <PlatformBar />
      <p>{t('systems.intro')}</p>
      <Notice kind="error" text={error} />
      <Notice kind="ok" text={ok} />
      <DataTable caption={t('systems.caption', { n: rows.length })} columns={columns} rows={paging.rows} rowKey={(s) => s.id} sort={sort} onSort={setSort} busy={busy} />
      {paging.paged ? <Pager {...paging.pager} /> : null}
      {canRegisterSystem(me) ? (
        <RegisterSystem
          national={me?.role === 'national'}
          onDone={(s) => {
            setOk(t('systems.registered', { id: s.id }));
            load();
          }}
        />
      ) : null}
    </section>
  );
}

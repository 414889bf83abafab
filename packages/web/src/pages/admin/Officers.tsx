/** Officer accounts and their roles per CA: list, create (the personal token is shown once), disable. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { caDisplayName, useCas } from '../../components/CaSelect.js';
import { DataTable } from '../../components/DataTable.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';

interface Officer {
  id: string;
  name?: string;
  role: string;
  grants: Array<{ role: string; ca: string }>;
  disabled: boolean;
  createdAt: string;
  token?: string;
}

/** The officers page. */
export function OfficersPage() {
  const { t, i18n } = useTranslation();
  const cas = useCas();
  const [officers, setOfficers] = useState<Officer[]>([]);
  const [form, setForm] = useState({ id: '', name: '', role: 'officer', ca: '*' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [ok, setOk] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const load = useCallback(() => {
    api<{ officers: Officer[] }>('GET', '/api/v1/officers')
      .then((r) => setOfficers(r.officers))
      .catch((e) => setFailure(errorText(t, e)));
  }, [t]);
  useEffect(load, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setOk(null);
    setToken(null);
    setFailure(null);
    const errs: Record<string, string> = {};
    if (!form.id.trim()) errs.id = t('validation.required', { field: t('fields.officerId') });
    else if (!/^[A-Za-z0-9._-]{1,64}$/.test(form.id.trim())) errs.id = t('validation.id');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    try {
      const o = await api<Officer>('POST', '/api/v1/officers', { id: form.id.trim(), ...(form.name.trim() ? { name: form.name.trim() } : {}), roles: [form.role], cas: [form.ca] });
      setOk(t('officers.created', { id: o.id }));
      setToken(o.token ?? null);
      setForm({ id: '', name: '', role: 'officer', ca: '*' });
      load();
    } catch (err) {
      setFailure(errorText(t, err));
    }
  };

  const disable = async (id: string) => {
    if (!window.confirm(t('officers.confirmDisable', { id }))) return;
    try {
      await api('POST', `/api/v1/officers/${encodeURIComponent(id)}/disable`, {});
      setOk(t('officers.disabledDone', { id }));
      load();
    } catch (err) {
      setFailure(errorText(t, err));
    }
  };

  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <section>
      <h1>{t('officers.title')}</h1>
      <p>{t('officers.intro')}</p>
      <DataTable
        caption={t('officers.title')}
        rows={officers}
        rowKey={(o) => o.id}
        columns={[
          { key: 'id', header: t('fields.officerId'), render: (o) => o.id },
          { key: 'name', header: t('fields.name'), render: (o) => o.name ?? '' },
          { key: 'grants', header: t('fields.role'), render: (o) => o.grants.map((g) => `${t(`roles.${g.role}`)} @ ${g.ca}`).join('; ') },
          { key: 'createdAt', header: t('fields.enteredAt'), render: (o) => formatDate(o.createdAt, i18n.language) },
          {
            key: 'actions',
            header: t('common.actions'),
            render: (o) =>
              o.disabled ? (
                t('fields.disabled')
              ) : (
                <button type="button" className="danger" onClick={() => void disable(o.id)} aria-label={`${t('officers.disable')} ${o.id}`}>
                  {t('officers.disable')}
                </button>
              ),
          },
        ]}
      />
      <h2>{t('officers.create')}</h2>
      <form className="filters" onSubmit={(e) => void create(e)} noValidate>
        <TextField label={t('fields.officerId')} name="officerId" value={form.id} onChange={set('id')} error={errors.id} required />
        <TextField label={t('fields.name')} name="officerName" value={form.name} onChange={set('name')} />
        <SelectField label={t('fields.role')} name="role" value={form.role} onChange={set('role')} options={['officer', 'auditor', 'admin'].map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
        <SelectField label={t('fields.cas')} name="officerCa" value={form.ca} onChange={set('ca')} options={[{ value: '*', label: t('officers.allCas') }, ...cas.map((c) => ({ value: c.name, label: `${caDisplayName(c, i18n.language)} (${c.name})` }))]} />
        <div className="actions">
          <button type="submit">{t('officers.create')}</button>
        </div>
      </form>
      <Notice kind="ok" text={ok} />
      {token ? (
        <p className="notice notice-ok">
          {t('officers.tokenOnce')} <code data-testid="new-token">{token}</code>
        </p>
      ) : null}
      <Notice kind="error" text={failure} />
    </section>
  );
}

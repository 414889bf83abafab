/** Enter an application: applicant identity data, materials (files, sent as base64) and the CSR; checked in the form, then by the API against the profile. */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../../api/client.js';
import type { Application, Profile } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { Field, SelectField, TextAreaField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText } from '../../format.js';
import { useSession } from '../../session.js';
import { residentIdValid } from './identity.js';
import { useDefaultCa } from './use-ca.js';

/** Largest material the form sends (the service's default limit is larger; this keeps a request reasonable). */
const MAX_MB = 5;

interface Form {
  kind: string;
  previousSerial: string;
  profile: string;
  name: string;
  organization: string;
  department: string;
  phone: string;
  email: string;
  residentId: string;
  csr: string;
}
const EMPTY: Form = { kind: 'new', previousSerial: '', profile: '', name: '', organization: '', department: '', phone: '', email: '', residentId: '', csr: '' };

function toBase64(buf: ArrayBuffer): string {
  const b = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The application entry page. */
export function NewApplicationPage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('ra.enter'));
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [form, setForm] = useState<Form>(EMPTY);
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [created, setCreated] = useState<Application | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ profiles: Profile[] }>('GET', '/api/v1/profiles')
      .then((r) => {
        setProfiles(r.profiles);
        setForm((f) => (f.profile ? f : { ...f, profile: r.profiles.find((p) => p.name === 'staff-sign')?.name ?? r.profiles[0]?.name ?? '' }));
      })
      .catch((e) => setFailure(errorText(t, e)));
  }, [t]);

  const validate = (): Record<string, string> => {
    const e: Record<string, string> = {};
    // A renewal, re-key or reissue names the certificate it follows.
    if (form.kind !== 'new' && !form.previousSerial.trim()) e.previousSerial = t('validation.required', { field: t('fields.previousSerial') });
    else if (form.kind !== 'new' && !/^(0[xX])?[0-9A-Fa-f:]+$/.test(form.previousSerial.trim())) e.previousSerial = t('validation.serial');
    if (!form.name.trim()) e.name = t('validation.required', { field: t('fields.name') });
    if (form.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim())) e.email = t('validation.email');
    if (form.residentId && !residentIdValid(form.residentId.trim())) e.residentId = t('validation.residentId');
    if (!form.csr.trim()) e.csr = t('validation.required', { field: t('fields.csr') });
    else if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(form.csr)) e.csr = t('validation.csr');
    const big = files.find((f) => f.size > MAX_MB * 1024 * 1024);
    if (big) e.materials = t('validation.tooLarge', { name: big.name, max: MAX_MB });
    return e;
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setFailure(null);
    setCreated(null);
    const errs = validate();
    setErrors(errs);
    if (Object.keys(errs).length) {
      // Move the keyboard to the first invalid field, so its message is read out.
      setTimeout(() => (document.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus(), 0);
      return;
    }
    setBusy(true);
    try {
      const materials = await Promise.all(files.map(async (f) => ({ name: f.name, contentType: f.type || 'application/octet-stream', data: toBase64(await f.arrayBuffer()) })));
      const applicant = Object.fromEntries(
        (['name', 'organization', 'department', 'phone', 'email'] as const).map((k) => [k, form[k].trim()]).filter(([, v]) => v),
      );
      const body = {
        kind: form.kind,
        ...(form.kind !== 'new' ? { previousSerial: form.previousSerial.trim() } : {}),
        profile: form.profile,
        csr: form.csr,
        applicant,
        ...(form.residentId.trim() ? { identity: { residentId: form.residentId.trim().toUpperCase() } } : {}),
        ...(materials.length ? { materials } : {}),
      };
      const app = await api<Application>('POST', `/api/v1/cas/${encodeURIComponent(ca)}/applications`, body);
      setCreated(app);
      setForm({ ...EMPTY, profile: form.profile });
      setFiles([]);
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const set = (k: keyof Form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <section>
      <h1>{t('newApp.title')}</h1>
      <p>{t('newApp.intro')}</p>
      <form onSubmit={(e) => void submit(e)} noValidate className="grid-form">
        <CaSelect cas={cas} value={ca} onChange={setCa} only={session.casWith('ra.enter')} />
        <SelectField label={t('fields.profile')} name="profile" value={form.profile} onChange={set('profile')} options={profiles.map((p) => ({ value: p.name, label: `${p.displayName[i18n.language] ?? p.displayName['zh-CN'] ?? p.name} (${p.name})` }))} />
        <SelectField label={t('fields.kind')} name="kind" value={form.kind} onChange={set('kind')} options={['new', 'renewal', 'rekey', 'reissue'].map((k) => ({ value: k, label: t(`kind.${k}`) }))} />
        {form.kind !== 'new' ? <TextField label={t('fields.previousSerial')} name="previousSerial" value={form.previousSerial} onChange={set('previousSerial')} error={errors.previousSerial} required /> : null}
        <TextField label={t('fields.name')} name="name" value={form.name} onChange={set('name')} error={errors.name} required />
        <TextField label={t('fields.organization')} name="organization" value={form.organization} onChange={set('organization')} />
        <TextField label={t('fields.department')} name="department" value={form.department} onChange={set('department')} />
        <TextField label={t('fields.phone')} name="phone" type="tel" value={form.phone} onChange={set('phone')} />
        <TextField label={t('fields.email')} name="email" type="email" value={form.email} onChange={set('email')} error={errors.email} />
        <TextField label={t('fields.residentId')} name="residentId" value={form.residentId} onChange={set('residentId')} error={errors.residentId} />
        <TextAreaField label={t('fields.csr')} name="csr" value={form.csr} onChange={set('csr')} error={errors.csr} required rows={6} />
        <Field label={t('fields.csrFile')}>
          {(p) => <input {...p} type="file" accept=".csr,.pem,.req" onChange={(e) => void e.target.files?.[0]?.text().then(set('csr'))} />}
        </Field>
        <Field label={t('fields.materials')} error={errors.materials}>
          {(p) => <input {...p} type="file" name="materials" multiple onChange={(e) => setFiles([...(e.target.files ?? [])])} />}
        </Field>
        <div className="actions">
          <button type="submit" disabled={busy || !ca}>
            {t('common.submit')}
          </button>
        </div>
      </form>
      {busy ? <Progress label={t('newApp.uploading')} /> : null}
      {Object.keys(errors).length ? <Notice kind="error" text={t('validation.formHasErrors', { n: Object.keys(errors).length })} /> : null}
      <Notice kind="error" text={failure} />
      {created ? (
        <div className="notice notice-ok" role="status">
          {t('newApp.submitted', { id: created.id })}{' '}
          <Link to={`/app/ra/applications/${encodeURIComponent(created.ca)}/${encodeURIComponent(created.id)}`}>{t('common.details')}</Link>
        </div>
      ) : null}
    </section>
  );
}

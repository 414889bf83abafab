/**
 * The public complaint form (Regulation Art. 11): a using unit or a certificate holder complains
 * about a CA's service quality to the platform (/platform/complaints, public, rate-limited by the
 * platform) and gets a complaint number and a receipt code, with which the second form shows how
 * the complaint stands. No sign-in; the fields are checked here as the platform checks them.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../../api/client.js';
import { SelectField, TextAreaField, TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import './texts.js';

/** The limits of platform/feedback/complaints.ts (COMPLAINT_LIMITS and its patterns). */
const LIMITS = { subject: 200, description: 4000, contact: 200 };
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$/;
const PHONE = /^\+?[0-9][0-9 -]{4,30}$/;
const SERIAL = /^[0-9a-f]{1,64}$/;
const ID = /^[0-9a-f-]{36}$/;
const CATEGORIES = ['issuance', 'renewal', 'revocation', 'pin-unlock', 'key-recovery', 'availability', 'fees', 'conduct', 'other'] as const;

type Status = { id: string; ca: string; status: string; outcome?: string; createdAt: string; updatedAt: string; closedAt?: string };
type Form = { ca: string; kind: string; name: string; organisation: string; phone: string; email: string; category: string; subject: string; description: string; serial: string };
const EMPTY: Form = { ca: '', kind: 'holder', name: '', organisation: '', phone: '', email: '', category: 'issuance', subject: '', description: '', serial: '' };

/** This page's translate function and a failure in the user's language (own sentences for the platform's codes). */
function useCT() {
  const { t, i18n } = useTranslation('complaint');
  const { t: ts } = useTranslation();
  const failure = (e: unknown): string => {
    const base = errorText(ts, e);
    const own = e instanceof ApiError ? (t('errors', { returnObjects: true }) as Record<string, string>)[e.code] : undefined;
    return own ? `${own}${i18n.language.startsWith('zh') ? '。' : '. '}${base}` : base;
  };
  return { t, lng: i18n.language, failure };
}

/** Checks the form as the platform does; the errors by field. */
function check(t: (k: string, o?: Record<string, unknown>) => string, f: Form): Partial<Record<keyof Form, string>> {
  const e: Partial<Record<keyof Form, string>> = {};
  const req = (k: keyof Form, label: string, max: number) => {
    if (!f[k].trim()) e[k] = t('validation.required', { field: t(label) });
    else if (f[k].trim().length > max) e[k] = t('validation.tooLong', { field: t(label), max });
  };
  req('ca', 'form.ca', 63);
  req('name', 'form.name', LIMITS.contact);
  if (f.kind === 'unit' && !f.organisation.trim()) e.organisation = t('validation.organisation');
  if (f.phone.trim() && !PHONE.test(f.phone.trim())) e.phone = t('validation.phone');
  if (f.email.trim() && !EMAIL.test(f.email.trim())) e.email = t('validation.email');
  if (!f.phone.trim() && !f.email.trim()) e.phone = t('validation.contact');
  req('subject', 'form.subject', LIMITS.subject);
  req('description', 'form.description', LIMITS.description);
  if (f.serial.trim() && !SERIAL.test(f.serial.trim())) e.serial = t('validation.serial');
  return e;
}

/** The complaint form and the receipt it answers with. */
function FileComplaint() {
  const { t, failure } = useCT();
  const [form, setForm] = useState<Form>(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState<{ id: string; receipt: string; handler: string } | null>(null);
  const set = (k: keyof Form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  // The receipt is shown above the form: bring it into view, since the button that sent it is far below.
  useEffect(() => {
    if (receipt) document.getElementById('receipt')?.scrollIntoView();
  }, [receipt]);

  const submit = () => {
    const errs = check(t, form);
    setErrors(errs);
    setError(null);
    const first = Object.keys(errs)[0];
    if (first) {
      document.querySelector<HTMLElement>(`[name="c-${first}"]`)?.focus();
      return;
    }
    const s = (v: string) => v.trim() || undefined;
    setBusy(true);
    api<{ id: string; receipt: string; handler: string }>(
      'POST',
      '/platform/complaints',
      {
        ca: form.ca.trim(),
        complainantKind: form.kind,
        contact: { name: form.name.trim(), organisation: s(form.organisation), phone: s(form.phone), email: s(form.email) },
        category: form.category,
        subject: form.subject.trim(),
        description: form.description.trim(),
        serial: s(form.serial),
      },
      '', // public: no credential, even when signed in to the CA service
    )
      .then((r) => {
        setReceipt(r);
        setForm(EMPTY);
      })
      .catch((e) => {
        if (e instanceof ApiError && e.code === 'platform.complaint.ca') setErrors({ ca: failure(e) });
        else setError(failure(e));
      })
      .finally(() => setBusy(false));
  };

  return (
    <>
      {receipt ? (
        <section className="notice notice-ok" role="status" aria-labelledby="receipt">
          <h2 id="receipt">{t('receipt.heading')}</h2>
          <dl>
            <dt>{t('receipt.id')}</dt>
            <dd data-testid="complaint-id">{receipt.id}</dd>
            <dt>{t('receipt.code')}</dt>
            <dd data-testid="complaint-receipt">{receipt.receipt}</dd>
          </dl>
          <p>{t('receipt.keep')}</p>
          <p>{t('receipt.handler', { handler: receipt.handler })}</p>
        </section>
      ) : null}
      <form
        aria-labelledby="file-complaint"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <h2 id="file-complaint">{t('form.heading')}</h2>
        <TextField label={t('form.ca')} name="c-ca" value={form.ca} onChange={set('ca')} hint={t('form.caHint')} error={errors.ca} required />
        <div className="grid-form">
        <SelectField label={t('form.kind')} name="c-kind" value={form.kind} onChange={set('kind')} options={(['holder', 'unit'] as const).map((k) => ({ value: k, label: t(`form.kinds.${k}`) }))} />
        <TextField label={t('form.name')} name="c-name" value={form.name} onChange={set('name')} error={errors.name} required autoComplete="name" />
        <TextField label={t('form.organisation')} name="c-organisation" value={form.organisation} onChange={set('organisation')} hint={t('form.organisationHint')} error={errors.organisation} required={form.kind === 'unit'} autoComplete="organization" />
        <TextField label={t('form.phone')} name="c-phone" type="tel" value={form.phone} onChange={set('phone')} hint={t('form.contactHint')} error={errors.phone} autoComplete="tel" />
        <TextField label={t('form.email')} name="c-email" type="email" value={form.email} onChange={set('email')} error={errors.email} autoComplete="email" />
        <SelectField label={t('form.category')} name="c-category" value={form.category} onChange={set('category')} options={CATEGORIES.map((c) => ({ value: c, label: t(`categories.${c}`) }))} />
        </div>
        <TextField label={t('form.subject')} name="c-subject" value={form.subject} onChange={set('subject')} error={errors.subject} required />
        <TextAreaField label={t('form.description')} name="c-description" value={form.description} onChange={set('description')} error={errors.description} required rows={5} />
        <TextField label={t('form.serial')} name="c-serial" value={form.serial} onChange={set('serial')} hint={t('form.serialHint')} error={errors.serial} />
        <Notice kind="error" text={error} />
        <button type="submit" disabled={busy}>
          {t('form.submit')}
        </button>
      </form>
    </>
  );
}

/** The lookup of a complaint by its number and receipt code. */
function LookUp() {
  const { t, lng, failure } = useCT();
  const [id, setId] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<{ id?: string; code?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = () => {
    const errs: { id?: string; code?: string } = {};
    if (!ID.test(id.trim())) errs.id = id.trim() ? t('validation.id') : t('validation.required', { field: t('lookup.id') });
    if (!/^[0-9a-f]{32}$/.test(code.trim())) errs.code = code.trim() ? t('validation.code') : t('validation.required', { field: t('lookup.code') });
    setErrors(errs);
    setError(null);
    setStatus(null);
    if (errs.id || errs.code) return;
    setBusy(true);
    api<Status>('GET', `/platform/complaints/${encodeURIComponent(id.trim())}/status?receipt=${encodeURIComponent(code.trim())}`, undefined, '')
      .then(setStatus)
      .catch((e) => setError(e instanceof ApiError && e.status === 404 ? t('lookup.unknown') : failure(e)))
      .finally(() => setBusy(false));
  };

  return (
    <form
      aria-labelledby="look-up"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2 id="look-up">{t('lookup.heading')}</h2>
      <TextField label={t('lookup.id')} name="l-id" value={id} onChange={setId} error={errors.id} required />
      <TextField label={t('lookup.code')} name="l-code" value={code} onChange={setCode} error={errors.code} required />
      <Notice kind="error" text={error} />
      <button type="submit" disabled={busy}>
        {t('lookup.submit')}
      </button>
      {status ? (
        <dl data-testid="complaint-status" role="status">
          <dt>{t('lookup.status')}</dt>
          <dd>{t(`status.${status.status}`)}</dd>
          {status.outcome ? (
            <>
              <dt>{t('lookup.outcome')}</dt>
              <dd>{status.outcome}</dd>
            </>
          ) : null}
          <dt>{t('lookup.filed')}</dt>
          <dd>{formatDate(status.createdAt, lng)}</dd>
          <dt>{t('lookup.updated')}</dt>
          <dd>{formatDate(status.updatedAt, lng)}</dd>
          {status.closedAt ? (
            <>
              <dt>{t('lookup.closed')}</dt>
              <dd>{formatDate(status.closedAt, lng)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
    </form>
  );
}

/** The public complaint page. */
export function ComplaintPage() {
  const { t } = useCT();
  return (
    <section>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <FileComplaint />
      <LookUp />
    </section>
  );
}

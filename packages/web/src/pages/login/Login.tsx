/** Sign in with an access token, or with a certificate and its key (signed challenge, as the API's certificate login). */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client.js';
import type { Whoami } from '../../api/types.js';
import { TextAreaField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText } from '../../format.js';
import { useSession } from '../../session.js';
import { fromBase64, KeyUnusable, signChallenge, toBase64 } from './cert-sign.js';

const TOKEN = /^[A-Za-z0-9._~+/=-]{16,256}$/;

/** The login page. */
export function LoginPage() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [mode, setMode] = useState<'token' | 'cert'>('token');
  const [token, setToken] = useState('');
  const [cert, setCert] = useState('');
  const [key, setKey] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const done = (who: Whoami) => {
    const next = params.get('next');
    // Only paths inside the app: never an open redirect.
    navigate(next && next.startsWith('/app/') ? next : who.holder ? '/app/me' : '/app', { replace: true });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const errs: Record<string, string> = {};
    if (mode === 'token') {
      if (!token.trim()) errs.token = t('validation.required', { field: t('fields.token') });
      else if (!TOKEN.test(token.trim())) errs.token = t('errors.badRequest');
    } else {
      if (!cert.trim()) errs.cert = t('validation.required', { field: t('fields.certificate') });
      else if (!cert.includes('-----BEGIN CERTIFICATE-----')) errs.cert = t('validation.pem');
      if (!key.trim()) errs.key = t('validation.required', { field: t('fields.privateKey') });
      else if (!key.includes('-----BEGIN PRIVATE KEY-----')) errs.key = t('validation.pem');
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      if (mode === 'token') {
        done(await session.signIn(token.trim()));
      } else {
        const ch = await api<{ challenge: string; toBeSigned: string }>('POST', '/api/v1/auth/challenge', { certificate: cert });
        const signature = await signChallenge(key, fromBase64(ch.toBeSigned));
        const r = await api<{ token: string; principal: Whoami }>('POST', '/api/v1/auth/login', { challenge: ch.challenge, certificate: cert, signature: toBase64(signature) });
        done(await session.signIn(r.token, r.principal));
      }
    } catch (err) {
      if (err instanceof KeyUnusable) setErrors({ key: t(err.why === 'sm2' ? 'errors.sm2Browser' : 'errors.keyMismatch') });
      else setFailure(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  const readFile = (f: File | undefined, set: (s: string) => void) => {
    if (f) void f.text().then(set);
  };

  return (
    <section className="narrow">
      <h1>{t('login.title')}</h1>
      <p>{t('login.intro')}</p>
      <div role="radiogroup" aria-label={t('login.title')} className="tabs">
        <label>
          <input type="radio" name="mode" checked={mode === 'token'} onChange={() => setMode('token')} /> {t('login.withToken')}
        </label>
        <label>
          <input type="radio" name="mode" checked={mode === 'cert'} onChange={() => setMode('cert')} /> {t('login.withCertificate')}
        </label>
      </div>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {mode === 'token' ? (
          <TextField label={t('fields.token')} name="token" type="password" value={token} onChange={setToken} error={errors.token} required autoComplete="current-password" />
        ) : (
          <>
            <TextAreaField label={t('fields.certificate')} name="certificate" value={cert} onChange={setCert} error={errors.cert} required rows={5} />
            <input type="file" aria-label={t('fields.certificate')} accept=".pem,.crt,.cer" onChange={(e) => readFile(e.target.files?.[0], setCert)} />
            <TextAreaField label={t('fields.privateKey')} name="privateKey" value={key} onChange={setKey} error={errors.key} required rows={5} />
            <input type="file" aria-label={t('fields.privateKey')} accept=".pem,.key" onChange={(e) => readFile(e.target.files?.[0], setKey)} />
          </>
        )}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {t('login.signIn')}
          </button>
        </div>
        {busy ? <Progress label={t('login.signingIn')} /> : null}
        <Notice kind="error" text={failure} />
      </form>
    </section>
  );
}

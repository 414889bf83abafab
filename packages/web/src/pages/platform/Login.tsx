/** Sign-in to the platform with one of its bearer tokens (separate from the CA service's sign-in). */
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError } from '../../api/client.js';
import { TextField } from '../../components/Field.js';
import { Notice } from '../../components/Notice.js';
import { useSession } from '../../session.js';
import { platformError, PlatformBar, usePT } from './common.js';

/** The platform sign-in page; goes back to ?next= (a platform page) or the dashboard. */
export function PlatformLoginPage() {
  const { t, ts } = usePT();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    if (!token.trim()) {
      setError(t('validation.required', { field: t('login.token') }));
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      await session.platformSignIn(token.trim());
      const next = params.get('next');
      navigate(next && next.startsWith('/app/platform/') ? next : '/app/platform/dashboard');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t('login.bad'));
      else setFailure(platformError(t, ts, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <h1>{t('login.title')}</h1>
      <PlatformBar />
      <p>{t('login.intro')}</p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField label={t('login.token')} name="platform-token" type="password" value={token} onChange={setToken} error={error} required />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {t('login.submit')}
          </button>
        </div>
      </form>
      <Notice kind="error" text={failure} />
    </section>
  );
}

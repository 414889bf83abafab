/** One application: applicant, identity, materials, history; approve (issues the certificate) or reject with a reason. */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api, download } from '../../api/client.js';
import type { Application, CertificateView } from '../../api/types.js';
import { TextAreaField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { CertificateLinks } from './CertificateLinks.js';

/** The application page. */
export function ApplicationPage() {
  const { t, i18n } = useTranslation();
  const { ca = '', id = '' } = useParams();
  const session = useSession();
  const [app, setApp] = useState<Application | null>(null);
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [busy, setBusy] = useState<'approve' | 'reject' | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [issued, setIssued] = useState<CertificateView | null>(null);
  const base = `/api/v1/cas/${encodeURIComponent(ca)}/applications/${encodeURIComponent(id)}`;

  const load = useCallback(() => {
    api<Application>('GET', base)
      .then(setApp)
      .catch((e) => setFailure(errorText(t, e)));
  }, [base, t]);
  useEffect(load, [load]);

  const approve = async () => {
    setBusy('approve');
    setFailure(null);
    try {
      const r = await api<{ application: Application; certificate: CertificateView }>('POST', `${base}/approve`, comment.trim() ? { comment: comment.trim() } : {});
      setApp(r.application);
      setIssued(r.certificate);
      setOk(t('application.issued', { serial: r.certificate.serial }));
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(null);
    }
  };

  const reject = async () => {
    if (!reason.trim()) {
      setReasonError(t('validation.required', { field: t('application.rejectReason') }));
      document.getElementById('reject-reason')?.querySelector('textarea')?.focus();
      return;
    }
    setReasonError(undefined);
    setBusy('reject');
    setFailure(null);
    try {
      setApp(await api<Application>('POST', `${base}/reject`, { reason: reason.trim() }));
      setOk(t('application.rejected'));
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(null);
    }
  };

  if (!app) return failure ? <Notice kind="error" text={failure} /> : <Progress label={t('app.loading')} />;
  const decide = app.state === 'submitted' && session.can('ra.approve', app.ca);
  return (
    <section>
      <h1>{t('application.title', { id: app.id })}</h1>
      <dl className="facts">
        <dt>{t('fields.state')}</dt>
        <dd data-testid="app-state">{t(`status.${app.state}`)}</dd>
        <dt>{t('fields.kind')}</dt>
        <dd>{t(`kind.${app.kind}`)}</dd>
        <dt>{t('fields.profile')}</dt>
        <dd>{app.profile}</dd>
        <dt>{t('fields.subject')}</dt>
        <dd>{app.subject}</dd>
        <dt>{t('fields.enteredBy')}</dt>
        <dd>
          {app.enteredBy} · {formatDate(app.enteredAt, i18n.language)}
        </dd>
        {app.decidedBy ? (
          <>
            <dt>{t('fields.decidedBy')}</dt>
            <dd>
              {app.decidedBy} · {formatDate(app.decidedAt, i18n.language)}
              {app.decisionReason ? ` · ${app.decisionReason}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <h2>{t('application.applicant')}</h2>
      <dl className="facts">
        {Object.entries({ ...app.applicant, ...app.identity }).map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{t(`fields.${k}`, { defaultValue: k })}</dt>
            <dd>{String(v)}</dd>
          </div>
        ))}
      </dl>
      <h2>{t('application.materials')}</h2>
      {app.materials.length === 0 ? (
        <p>{t('application.noMaterials')}</p>
      ) : (
        <ul>
          {app.materials.map((m) => (
            <li key={m.id}>
              <button type="button" className="link" onClick={() => void download(`${base}/materials/${encodeURIComponent(m.id)}`, m.name).catch((e) => setFailure(errorText(t, e)))}>
                {m.name}
              </button>{' '}
              <span className="muted">
                {m.contentType} · {Math.ceil(m.size / 1024)} KB
              </span>
            </li>
          ))}
        </ul>
      )}
      {decide ? (
        <div className="decide">
          <p className="muted">{t('application.makerChecker')}</p>
          <TextAreaField label={t('application.approveComment')} name="comment" value={comment} onChange={setComment} rows={2} />
          <button type="button" onClick={() => void approve()} disabled={busy !== null}>
            {t('application.approve')}
          </button>
          <div id="reject-reason">
            <TextAreaField label={t('application.rejectReason')} name="reason" value={reason} onChange={setReason} error={reasonError} rows={2} />
          </div>
          <button type="button" className="danger" onClick={() => void reject()} disabled={busy !== null}>
            {t('application.reject')}
          </button>
        </div>
      ) : null}
      {busy === 'approve' ? <Progress label={t('application.issuing')} /> : busy ? <Progress /> : null}
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      {issued ? <CertificateLinks ca={issued.ca} serial={issued.serial} /> : null}
      <h2>{t('application.events')}</h2>
      <ul>
        {app.events.map((e, i) => (
          <li key={i}>
            {formatDate(e.at, i18n.language)} · {e.action} · {e.actor}
            {e.reason ? ` · ${e.reason}` : ''}
          </li>
        ))}
      </ul>
    </section>
  );
}

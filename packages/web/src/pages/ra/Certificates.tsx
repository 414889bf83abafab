/** Certificate status: find one by CA and serial, then revoke (with an RFC 5280 reason), hold or release it. */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { CertificateView } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { SelectField, TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { CertificateLinks } from './CertificateLinks.js';
import { useDefaultCa } from './use-ca.js';

/** The reasons an officer may give (certificateHold and removeFromCRL are the hold/release actions). */
export const REVOKE_REASONS = ['keyCompromise', 'superseded', 'affiliationChanged', 'cessationOfOperation', 'privilegeWithdrawn', 'unspecified'] as const;

/** The status actions on one certificate, shown by its status and the officer's permission. */
export function StatusActions({ cert, onChanged }: { cert: CertificateView; onChanged: (c: CertificateView, message: string) => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const [reason, setReason] = useState<string>('keyCompromise');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  if (!session.can('cert.status', cert.ca) || cert.status === 'revoked') return null;
  const base = `/api/v1/cas/${encodeURIComponent(cert.ca)}/certificates/${encodeURIComponent(cert.serial)}`;
  const act = async (action: 'revoke' | 'hold' | 'release') => {
    if (action === 'revoke' && !window.confirm(t('certs.confirmRevoke', { serial: cert.serial }))) return;
    setBusy(true);
    setFailure(null);
    try {
      const body = action === 'revoke' ? { reason, ...(comment.trim() ? { comment: comment.trim() } : {}) } : comment.trim() ? { comment: comment.trim() } : {};
      const c = await api<CertificateView>('POST', `${base}/${action}`, body);
      onChanged(c, t(action === 'revoke' ? 'certs.revoked' : action === 'hold' ? 'certs.held' : 'certs.released'));
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="status-actions">
      <SelectField label={t('certs.revokeReason')} name="revokeReason" value={reason} onChange={setReason} options={REVOKE_REASONS.map((r) => ({ value: r, label: t(`reasons.${r}`) }))} />
      <TextField label={t('fields.comment')} name="comment" value={comment} onChange={setComment} />
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={() => void act('revoke')}>
          {t('certs.revoke')}
        </button>
        {cert.status === 'valid' ? (
          <button type="button" disabled={busy} onClick={() => void act('hold')}>
            {t('certs.hold')}
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => void act('release')}>
            {t('certs.release')}
          </button>
        )}
      </div>
      {busy ? <Progress /> : null}
      <Notice kind="error" text={failure} />
    </div>
  );
}

/** The certificate status page. */
export function CertificatesPage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('cert.status'));
  const [serial, setSerial] = useState('');
  const [serialError, setSerialError] = useState<string | undefined>();
  const [cert, setCert] = useState<CertificateView | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const find = async (e: FormEvent) => {
    e.preventDefault();
    setOk(null);
    setFailure(null);
    setCert(null);
    const s = serial.trim();
    if (!s) return setSerialError(t('validation.required', { field: t('fields.serial') }));
    if (!/^(0[xX])?[0-9A-Fa-f:]+$/.test(s)) return setSerialError(t('validation.serial'));
    setSerialError(undefined);
    try {
      setCert(await api<CertificateView>('GET', `/api/v1/cas/${encodeURIComponent(ca)}/certificates/${encodeURIComponent(s)}`));
    } catch (err) {
      setFailure(errorText(t, err));
    }
  };

  return (
    <section>
      <h1>{t('certs.title')}</h1>
      <p>{t('certs.intro')}</p>
      <form className="filters" onSubmit={(e) => void find(e)} noValidate>
        <CaSelect cas={cas} value={ca} onChange={setCa} only={session.casWith('cert.status')} />
        <TextField label={t('fields.serial')} name="serial" value={serial} onChange={setSerial} error={serialError} required />
        <div className="actions">
          <button type="submit">{t('certs.lookup')}</button>
        </div>
      </form>
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      {cert ? (
        <div className="card">
          <dl className="facts">
            <dt>{t('fields.serial')}</dt>
            <dd>
              <code>{cert.serial}</code>
            </dd>
            <dt>{t('fields.subject')}</dt>
            <dd>{cert.subject}</dd>
            <dt>{t('fields.status')}</dt>
            <dd data-testid="cert-status">{t(`status.${cert.status}`)}</dd>
            <dt>{t('fields.notAfter')}</dt>
            <dd>{formatDate(cert.notAfter, i18n.language)}</dd>
            {cert.reason ? (
              <>
                <dt>{t('fields.reason')}</dt>
                <dd>{t(`reasons.${cert.reason}`, { defaultValue: cert.reason })}</dd>
              </>
            ) : null}
          </dl>
          <CertificateLinks ca={cert.ca} serial={cert.serial} />
          <StatusActions
            cert={cert}
            onChanged={(c, m) => {
              setCert(c);
              setOk(m);
            }}
          />
        </div>
      ) : null}
    </section>
  );
}

/** The holder's own certificates: downloads, status history, reporting the loss of the medium (puts it on hold), renewal and PIN unblock. */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { CertificateView } from '../../api/types.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { TextField } from '../../components/Field.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import { CertificateLinks } from '../ra/CertificateLinks.js';
import { PinUnblockPanel } from './PinUnblock.js';
import { RenewPanel } from './RenewPanel.js';

/** The holder page. */
export function MyCertificatesPage() {
  const { t, i18n } = useTranslation();
  const [rows, setRows] = useState<CertificateView[] | null>(null);
  const [reporting, setReporting] = useState<CertificateView | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const load = useCallback(() => {
    api<{ certificates: CertificateView[] }>('GET', '/api/v1/me/certificates')
      .then((r) => setRows(r.certificates))
      .catch((e) => setFailure(errorText(t, e)));
  }, [t]);
  useEffect(load, [load]);

  const report = async () => {
    if (!reporting || !window.confirm(t('me.confirmLoss', { serial: reporting.serial }))) return;
    setBusy(true);
    setFailure(null);
    try {
      await api('POST', `/api/v1/cas/${encodeURIComponent(reporting.ca)}/certificates/${encodeURIComponent(reporting.serial)}/report-loss`, comment.trim() ? { comment: comment.trim() } : {});
      setOk(t('me.lossReported'));
      setReporting(null);
      setComment('');
      load();
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const columns: Column<CertificateView>[] = [
    { key: 'serial', header: t('fields.serial'), render: (c) => (<><code>{c.serial}</code>{c.current ? <span className="badge"> {t('me.current')}</span> : null}</>) },
    { key: 'profile', header: t('fields.profile'), render: (c) => c.profile },
    { key: 'status', header: t('fields.status'), render: (c) => <span className={`status status-${c.status}`}>{t(`status.${c.status}`)}</span> },
    { key: 'notBefore', header: t('fields.notBefore'), render: (c) => formatDate(c.notBefore, i18n.language) },
    { key: 'notAfter', header: t('fields.notAfter'), render: (c) => formatDate(c.notAfter, i18n.language) },
    { key: 'download', header: t('common.download'), render: (c) => <CertificateLinks ca={c.ca} serial={c.serial} /> },
    {
      key: 'actions',
      header: t('common.actions'),
      render: (c) =>
        c.status === 'valid' ? (
          <button type="button" className="danger" onClick={() => setReporting(c)} aria-label={`${t('me.reportLoss')} ${c.serial}`}>
            {t('me.reportLoss')}
          </button>
        ) : null,
    },
  ];
  const current = rows?.find((c) => c.current);
  return (
    <section>
      <h1>{t('me.title')}</h1>
      <p>{t('me.intro')}</p>
      {rows === null && !failure ? <Progress label={t('app.loading')} /> : null}
      {rows && rows[0] ? <p className="muted">{rows[0].subject}</p> : null}
      <DataTable caption={t('me.title')} columns={columns} rows={rows ?? []} rowKey={(c) => c.serial} />
      {reporting ? (
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void report();
          }}
        >
          <TextField label={`${t('me.lossComment')} (${reporting.serial})`} name="lossComment" value={comment} onChange={setComment} />
          <button type="submit" className="danger" disabled={busy}>
            {t('me.reportLoss')}
          </button>
          <button type="button" onClick={() => setReporting(null)}>
            {t('common.cancel')}
          </button>
        </form>
      ) : null}
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      {current ? <RenewPanel cert={current} /> : null}
      <PinUnblockPanel />
    </section>
  );
}

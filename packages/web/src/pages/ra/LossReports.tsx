/** Loss reports: certificates on hold (a holder's loss report holds them); revoke as key compromise, or release when the medium is found. */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, query } from '../../api/client.js';
import type { CertificateView } from '../../api/types.js';
import { CaSelect, useCas } from '../../components/CaSelect.js';
import { DataTable, type Column } from '../../components/DataTable.js';
import { Notice } from '../../components/Notice.js';
import { Pager, useCursorPages } from '../../components/Pager.js';
import { errorText, formatDate } from '../../format.js';
import { useSession } from '../../session.js';
import { useDefaultCa } from './use-ca.js';

/** The loss report page. */
export function LossReportsPage() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const cas = useCas();
  const [ca, setCa] = useDefaultCa(cas, session.casWith('cert.status'));
  const pages = useCursorPages<string>();
  const [rows, setRows] = useState<CertificateView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const load = useCallback(() => {
    if (!ca) return;
    api<{ certificates: CertificateView[]; next: string | null }>('GET', `/api/v1/certificates${query({ ca, status: 'hold', limit: 20, cursor: pages.cursor })}`)
      .then((r) => {
        setRows(r.certificates);
        setNext(r.next);
      })
      .catch((e) => setFailure(errorText(t, e)));
  }, [ca, pages.cursor, t]);
  useEffect(load, [load]);

  const act = async (c: CertificateView, action: 'revoke' | 'release') => {
    if (action === 'revoke' && !window.confirm(t('certs.confirmRevoke', { serial: c.serial }))) return;
    setBusy(true);
    setOk(null);
    setFailure(null);
    try {
      const body = action === 'revoke' ? { reason: 'keyCompromise', comment: 'medium lost' } : {};
      await api('POST', `/api/v1/cas/${encodeURIComponent(c.ca)}/certificates/${encodeURIComponent(c.serial)}/${action}`, body);
      setOk(t(action === 'revoke' ? 'certs.revoked' : 'certs.released'));
      load();
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const columns: Column<CertificateView>[] = [
    { key: 'serial', header: t('fields.serial'), render: (c) => <code>{c.serial}</code> },
    { key: 'subject', header: t('fields.subject'), render: (c) => c.subject },
    { key: 'revokedAt', header: t('fields.revokedAt'), render: (c) => formatDate(c.revokedAt, i18n.language) },
    {
      key: 'actions',
      header: t('common.actions'),
      render: (c) => (
        <span className="links">
          <button type="button" className="danger" disabled={busy} onClick={() => void act(c, 'revoke')} aria-label={`${t('loss.revokeLost')} ${c.serial}`}>
            {t('loss.revokeLost')}
          </button>
          <button type="button" disabled={busy} onClick={() => void act(c, 'release')} aria-label={`${t('loss.found')} ${c.serial}`}>
            {t('loss.found')}
          </button>
        </span>
      ),
    },
  ];
  return (
    <section>
      <h1>{t('loss.title')}</h1>
      <p>{t('loss.intro')}</p>
      <div className="filters">
        <CaSelect cas={cas} value={ca} onChange={(v) => { pages.reset(); setCa(v); }} only={session.casWith('cert.status')} />
      </div>
      <Notice kind="ok" text={ok} />
      <Notice kind="error" text={failure} />
      <DataTable caption={t('loss.title')} columns={columns} rows={rows} rowKey={(c) => c.serial} busy={busy} />
      <Pager page={pages.page} hasNext={next !== null} onPrevious={pages.previous} onNext={() => next && pages.next(next)} />
    </section>
  );
}

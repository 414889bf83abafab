/**
 * Renewing the login certificate from the browser: a new P-256 key made here (renew-csr.ts),
 * saved by the holder before anything is sent, then POST /api/v1/me/renewals. The service
 * approves it by the holder-renewal policy; the old certificate is superseded, so the session
 * ends and the holder logs in again with the new certificate and key.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, saveBlob } from '../../api/client.js';
import type { CertificateView } from '../../api/types.js';
import { Notice, Progress } from '../../components/Notice.js';
import { errorText, formatDate } from '../../format.js';
import { isSm2, pemToDer, renewalRequest, subjectOf } from './renew-csr.js';

type Renewed = { certificate: { serial: string; pem: string }; chainPem: string };

/** The renewal card of the holder page, for the certificate the session logged in with. */
export function RenewPanel(props: { cert: CertificateView }) {
  const { t, i18n } = useTranslation();
  const { cert } = props;
  const [subject, setSubject] = useState<Uint8Array | null>(null);
  const [sm2, setSm2] = useState(false);
  const [request, setRequest] = useState<{ csrPem: string; keyPem: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [renewed, setRenewed] = useState<Renewed | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  // The subject comes from the certificate itself (public), so the CSR names exactly the same holder.
  useEffect(() => {
    api<{ pem: string }>('GET', `/api/v1/cas/${encodeURIComponent(cert.ca)}/certificates/${encodeURIComponent(cert.serial)}`)
      .then((r) => {
        const der = pemToDer(r.pem);
        setSm2(isSm2(der));
        setSubject(subjectOf(der));
      })
      .catch((e) => setFailure(errorText(t, e)));
  }, [cert.ca, cert.serial, t]);

  const opensAt = cert.renewableFrom ? Date.parse(cert.renewableFrom) : Number.POSITIVE_INFINITY;
  const generate = async () => {
    if (!subject) return;
    setFailure(null);
    setBusy(true);
    try {
      setRequest(await renewalRequest(subject));
      setSaved(false);
    } catch {
      setFailure(t('renew.noWebCrypto'));
    } finally {
      setBusy(false);
    }
  };
  const submit = async () => {
    if (!request) return;
    setBusy(true);
    setFailure(null);
    try {
      setRenewed(await api<Renewed>('POST', '/api/v1/me/renewals', { csr: request.csrPem }));
    } catch (e) {
      setFailure(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  let body;
  if (renewed) {
    body = (
      <>
        <Notice kind="ok" text={t('renew.done', { serial: renewed.certificate.serial })} />
        <div className="actions">
          <button type="button" onClick={() => saveBlob(new Blob([renewed.certificate.pem], { type: 'application/x-pem-file' }), `${renewed.certificate.serial}.pem`)}>{t('renew.saveCert')}</button>
          <button type="button" onClick={() => saveBlob(new Blob([renewed.chainPem], { type: 'application/x-pem-file' }), `${renewed.certificate.serial}-chain.pem`)}>{t('renew.saveChain')}</button>
          <button type="button" onClick={() => saveBlob(new Blob([request!.keyPem], { type: 'application/x-pem-file' }), `${renewed.certificate.serial}.key.pem`)}>{t('renew.saveKey')}</button>
        </div>
      </>
    );
  } else if (cert.status !== 'valid') {
    body = <p>{t('renew.notValid')}</p>;
  } else if (Date.now() < opensAt) {
    body = <p>{t('renew.notYet', { at: formatDate(cert.renewableFrom, i18n.language) })}</p>;
  } else if (sm2) {
    body = <p>{t('renew.sm2')}</p>;
  } else if (!request) {
    body = (
      <div className="actions">
        <button type="button" onClick={() => void generate()} disabled={busy || !subject}>{t('renew.generate')}</button>
      </div>
    );
  } else {
    body = (
      <>
        <p>{t('renew.keyWarning')}</p>
        <div className="actions">
          <button type="button" onClick={() => { saveBlob(new Blob([request.keyPem], { type: 'application/x-pem-file' }), `${cert.serial}-renewed.key.pem`); setSaved(true); }}>{t('renew.saveKey')}</button>
          <label>
            <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} /> {t('renew.keySaved')}
          </label>
          <button type="button" onClick={() => void submit()} disabled={busy || !saved}>{t('renew.submit')}</button>
        </div>
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="renew-title">
      <h2 id="renew-title">{t('renew.title')}</h2>
      <p>{t('renew.intro')}</p>
      {body}
      {busy ? <Progress label={t('common.working')} /> : null}
      <Notice kind="error" text={failure} />
    </section>
  );
}

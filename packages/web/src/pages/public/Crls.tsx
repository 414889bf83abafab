/** Download of the revocation lists ("blacklist") and CA certificates of every CA, with when each CRL was published. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { head } from '../../api/client.js';
import { caDisplayName, useCas } from '../../components/CaSelect.js';
import { formatDate } from '../../format.js';

/** When the current full CRL of a CA was published (its Last-Modified), null when none is yet, undefined while asking. */
export function useCrlPublished(ca: string, label: string): string | null | undefined {
  const [at, setAt] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    head(`/api/v1/cas/${encodeURIComponent(ca)}/crls/${encodeURIComponent(label)}`)
      .then((h) => setAt(h?.get('last-modified') ?? null))
      .catch(() => setAt(null));
  }, [ca, label]);
  return at;
}

/** One CA's CRL line. */
export function CrlLinks({ ca, label }: { ca: string; label: string }) {
  const { t, i18n } = useTranslation();
  const at = useCrlPublished(ca, label);
  const base = `/api/v1/cas/${encodeURIComponent(ca)}/crls/${encodeURIComponent(label)}`;
  return (
    <span className="links">
      <a href={base}>{t('crls.full')} (DER)</a>
      <a href={`${base}?format=pem`}>{t('crls.full')} (PEM)</a>
      <a href={`${base}?kind=delta`}>{t('crls.delta')}</a>
      <span className="muted">{at === undefined ? '…' : at === null ? t('crls.notPublished') : t('crls.published', { at: formatDate(new Date(at).toISOString(), i18n.language) })}</span>
    </span>
  );
}

/** The CRL download page. */
export function CrlsPage() {
  const { t, i18n } = useTranslation();
  const cas = useCas();
  return (
    <section>
      <h1>{t('crls.title')}</h1>
      <p>{t('crls.intro')}</p>
      {cas.map((ca) => (
        <section key={ca.name} className="card">
          <h2>
            {caDisplayName(ca, i18n.language)} <span className="muted">({ca.name})</span>
          </h2>
          <ul>
            {ca.issuers.map((i) => (
              <li key={i.label}>
                <strong>{t(i.role === 'root' ? 'cas.root' : 'cas.issuing')}</strong> {i.label}: {i.subject}
                <div>
                  <a href={i.url}>{t('crls.caCert')}</a> <CrlLinks ca={ca.name} label={i.label} />
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </section>
  );
}

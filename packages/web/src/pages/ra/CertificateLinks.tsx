/** Download links of one certificate (public URLs): PEM, DER, full chain as PEM and PKCS#7. */
import { useTranslation } from 'react-i18next';

/** The four downloads of a certificate. */
export function CertificateLinks({ ca, serial }: { ca: string; serial: string }) {
  const { t } = useTranslation();
  const base = `/api/v1/cas/${encodeURIComponent(ca)}/certificates/${encodeURIComponent(serial)}`;
  return (
    <span className="links">
      <a href={`${base}/cert.pem`} aria-label={`${t('search.pem')} ${serial}`}>{t('search.pem')}</a>
      <a href={`${base}/cert.der`} aria-label={`${t('search.der')} ${serial}`}>{t('search.der')}</a>
      <a href={`${base}/chain.pem`} aria-label={`${t('search.chainPem')} ${serial}`}>{t('search.chainPem')}</a>
      <a href={`${base}/chain.p7c`} aria-label={`${t('search.chainP7c')} ${serial}`}>{t('search.chainP7c')}</a>
    </span>
  );
}

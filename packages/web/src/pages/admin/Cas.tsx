/** The administrator's view of the CAs: hierarchy, keys and their protection, CRL publication and the OCSP URL; the profiles. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { Profile } from '../../api/types.js';
import { caDisplayName, useCas } from '../../components/CaSelect.js';
import { DataTable } from '../../components/DataTable.js';
import { formatDate } from '../../format.js';
import { CrlLinks } from '../public/Crls.js';
import { useSession } from '../../session.js';
import { CrlRebuild } from './CrlRebuild.js';

/** The CA page. */
export function CasPage() {
  const { t, i18n } = useTranslation();
  const cas = useCas();
  const session = useSession();
  // Bumped after a rebuild so that the CRL links ask again when the list was published.
  const [published, setPublished] = useState(0);
  return (
    <section>
      <h1>{t('cas.title')}</h1>
      <p>{t('cas.intro')}</p>
      {cas.map((ca) => (
        <section key={ca.name} className="card">
          <h2>
            {caDisplayName(ca, i18n.language)} <span className="muted">({ca.name})</span>
          </h2>
          <p>
            {t('fields.organization')}: {ca.organization} · {t('fields.algorithm')}: {ca.algorithm} · {t('fields.ocsp')}: <code>{`${location.origin}/ocsp/${ca.name}`}</code>
          </p>
          <DataTable
            caption={caDisplayName(ca, i18n.language)}
            rows={ca.issuers}
            rowKey={(i) => i.label}
            columns={[
              { key: 'label', header: t('fields.role'), render: (i) => `${t(i.role === 'root' ? 'cas.root' : 'cas.issuing')} ${i.label} (${t(i.active ? 'cas.active' : 'cas.inactive')})` },
              { key: 'subject', header: t('fields.subject'), render: (i) => i.subject },
              { key: 'serial', header: t('fields.serial'), render: (i) => <code>{i.serial}</code> },
              { key: 'validity', header: t('fields.validity'), render: (i) => `${formatDate(i.notBefore, i18n.language)} – ${formatDate(i.notAfter, i18n.language)}` },
              { key: 'key', header: t('fields.keyProtection'), render: (i) => i.keyProtection },
              {
                key: 'crl',
                header: t('fields.crl'),
                render: (i) => (
                  <>
                    <CrlLinks key={published} ca={ca.name} label={i.label} />
                    {session.can('ca.admin', ca.name) ? <CrlRebuild ca={ca.name} label={i.label} onDone={() => setPublished((n) => n + 1)} /> : null}
                  </>
                ),
              },
            ]}
          />
        </section>
      ))}
    </section>
  );
}

/** The profiles page. */
export function ProfilesPage() {
  const { t, i18n } = useTranslation();
  const [profiles, setProfiles] = useState<Profile[]>([]);
  useEffect(() => {
    api<{ profiles: Profile[] }>('GET', '/api/v1/profiles')
      .then((r) => setProfiles(r.profiles))
      .catch(() => setProfiles([]));
  }, []);
  return (
    <section>
      <h1>{t('profiles.title')}</h1>
      <p>{t('profiles.intro')}</p>
      <DataTable
        caption={t('profiles.title')}
        rows={profiles}
        rowKey={(p) => p.name}
        columns={[
          { key: 'name', header: t('fields.profile'), render: (p) => <code>{p.name}</code> },
          { key: 'displayName', header: t('fields.displayName'), render: (p) => p.displayName[i18n.language] ?? p.displayName['zh-CN'] ?? '' },
          { key: 'keyAlgorithms', header: t('fields.keyAlgorithms'), render: (p) => p.keyAlgorithms.join(', ') },
          { key: 'defaultDays', header: t('fields.defaultDays'), render: (p) => `${p.defaultDays} / ${p.maxDays}` },
        ]}
      />
    </section>
  );
}

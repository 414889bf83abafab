/** The frame of every page: skip link, header (title, language, user), navigation by role, main area. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, useNavigate } from 'react-router-dom';
import { LANGUAGES, setLanguage, type Language } from '../i18n/index.js';
import { useSession } from '../session.js';
import type { PageDef } from './page.js';

/** Lays out the header, the navigation of the visible pages and the content. */
export function Layout(props: { pages: PageDef[]; children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const visible = props.pages.filter((p) => p.nav !== false && p.visible(session));
  const sections = [...new Set(visible.map((p) => p.section))];
  const me = session.me;
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <div className="brand">{t('app.title')}</div>
        <div className="top-right">
          <label className="lang">
            {t('app.language')}{' '}
            <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)} name="language">
              {LANGUAGES.map((l) => (
                <option key={l.code} value={l.code}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          {me ? (
            <>
              <span className="who" data-testid="who">
                {t('user.signedInAs', { id: me.id, role: t(`roles.${me.role}`) })}
              </span>
              <button
                type="button"
                onClick={() => {
                  void session.signOut().then(() => navigate('/app/login'));
                }}
              >
                {t('nav.logout')}
              </button>
            </>
          ) : me === null ? (
            <NavLink to="/app/login">{t('nav.login')}</NavLink>
          ) : null}
        </div>
      </header>
      <div className="body">
        <nav className="side" aria-label={t('app.title')}>
          {sections.map((s) => {
            const first = visible.find((p) => p.section === s)!;
            return (
              <section key={s}>
                <h2>{t(first.sectionLabel ?? `nav.sections.${s}`)}</h2>
                <ul>
                  {visible
                    .filter((p) => p.section === s)
                    .map((p) => (
                      <li key={p.path}>
                        <NavLink to={p.path}>{t(p.label)}</NavLink>
                      </li>
                    ))}
                </ul>
              </section>
            );
          })}
        </nav>
        <main id="main" tabIndex={-1}>
          {props.children}
        </main>
      </div>
    </>
  );
}

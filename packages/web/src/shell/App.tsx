/**
 * The routes: every page the areas declare (registry.ts), behind its visibility rule; the root
 * goes to the first page the session may see. Signed-out visitors of a protected page are sent
 * to the login page and come back after signing in.
 */
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useSession } from '../session.js';
import { Layout } from './Layout.js';
import type { PageDef } from './page.js';
import { PAGES } from './registry.js';
import { Progress } from '../components/Notice.js';

function Guard({ page }: { page: PageDef }) {
  const session = useSession();
  const { t } = useTranslation();
  const location = useLocation();
  useEffect(() => {
    document.title = `${t(page.label)} · ${t('app.title')}`;
  }, [page, t]);
  if (page.visible(session)) return page.element;
  const signedIn = page.login ? page.login.signedIn(session) : session.me === undefined ? undefined : session.me !== null;
  if (signedIn === undefined) return <Progress label={t('app.loading')} />;
  if (!signedIn) return <Navigate to={`${page.login?.path ?? '/app/login'}?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return (
    <p role="alert" className="notice notice-error">
      {t('errors.forbidden')}
    </p>
  );
}

function Home() {
  const session = useSession();
  const { t } = useTranslation();
  if (session.me === undefined) return <Progress label={t('app.loading')} />;
  // The first page in the navigation order that this session's role uses most.
  const preferred = ['holder', 'ra', 'admin', 'audit', 'public'];
  const visible = PAGES.filter((p) => p.nav !== false && p.visible(session));
  for (const s of preferred) {
    const p = visible.find((x) => x.section === s);
    if (p) return <Navigate to={p.path} replace />;
  }
  return <Navigate to="/app/search" replace />;
}

function NotFound() {
  const { t } = useTranslation();
  return <h1>{t('app.notFound')}</h1>;
}

/** The application. */
export function App() {
  return (
    <BrowserRouter>
      <Layout pages={PAGES}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/app" element={<Home />} />
          {PAGES.map((p) => (
            <Route key={p.path} path={p.path} element={<Guard page={p} />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Layout>
    </BrowserRouter>
  );
}

/**
 * The national and provincial offices' pages (the platform), reached at /platform/* on the same
 * origin with the platform's own bearer token. Visibility follows the platform role of the tab's
 * platform session; the platform decides every call.
 */
import type { PageDef } from '../../shell/page.js';
import type { Session } from '../../session.js';
import './texts.js';
import './platform.css';
import { PlatformLoginPage } from './Login.js';
import { PlatformDashboardPage } from './Dashboard.js';
import { PlatformCasPage } from './Cas.js';
import { PlatformCaPage } from './CaDetail.js';
import { PlatformSupervisionPage } from './Supervision.js';
import { PlatformComplaintsPage } from './Complaints.js';

const signedIn = (s: Session) => Boolean(s.platform);
const login = { path: '/app/platform/login', signedIn: (s: Session) => (s.platform === undefined ? undefined : s.platform !== null) };
const section = { section: 'platform', sectionLabel: 'platform:nav.section' };

/** The platform's pages. */
export const platformPages: PageDef[] = [
  { path: '/app/platform/dashboard', ...section, label: 'platform:nav.dashboard', element: <PlatformDashboardPage />, visible: signedIn, login },
  { path: '/app/platform/cas', ...section, label: 'platform:nav.cas', element: <PlatformCasPage />, visible: signedIn, login },
  { path: '/app/platform/cas/:name', ...section, label: 'platform:nav.cas', element: <PlatformCaPage />, visible: signedIn, login, nav: false },
  // A CA sees the inspections, evaluations and orders about itself (the platform scopes them).
  { path: '/app/platform/supervision', ...section, label: 'platform:nav.supervision', element: <PlatformSupervisionPage />, visible: signedIn, login },
  { path: '/app/platform/complaints', ...section, label: 'platform:nav.complaints', element: <PlatformComplaintsPage />, visible: signedIn, login },
  // Everyone may reach the sign-in; it is listed only while not signed in to the platform.
  { path: '/app/platform/login', ...section, label: 'platform:nav.login', element: <PlatformLoginPage />, visible: () => true, nav: true },
];

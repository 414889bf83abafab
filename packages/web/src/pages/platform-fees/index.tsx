/**
 * The platform's information-system registry and fee pages (Art. 15, 19), in the platform's
 * navigation section, with the platform session of the tab; the platform decides every call.
 */
import type { PageDef } from '../../shell/page.js';
import type { Session } from '../../session.js';
import './texts.js';
import { PlatformSystemsPage } from './Systems.js';
import { PlatformFeesPage } from './Fees.js';

const signedIn = (s: Session) => Boolean(s.platform);
const login = { path: '/app/platform/login', signedIn: (s: Session) => (s.platform === undefined ? undefined : s.platform !== null) };
const section = { section: 'platform', sectionLabel: 'platform:nav.section' };

/** The system and fee pages. */
export const platformFeePages: PageDef[] = [
  { path: '/app/platform/systems', ...section, label: 'platformFees:nav.systems', element: <PlatformSystemsPage />, visible: signedIn, login },
  { path: '/app/platform/fees', ...section, label: 'platformFees:nav.fees', element: <PlatformFeesPage />, visible: signedIn, login },
];

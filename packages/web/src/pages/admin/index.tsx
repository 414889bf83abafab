/** The CA administrator's pages. */
import type { PageDef } from '../../shell/page.js';
import { CasPage, ProfilesPage } from './Cas.js';
import { OfficersPage } from './Officers.js';

export const adminPages: PageDef[] = [
  { path: '/app/admin/cas', section: 'admin', label: 'nav.cas', element: <CasPage />, visible: (s) => s.can('ca.admin') },
  { path: '/app/admin/profiles', section: 'admin', label: 'nav.profiles', element: <ProfilesPage />, visible: (s) => s.can('ca.admin') },
  { path: '/app/admin/officers', section: 'admin', label: 'nav.officers', element: <OfficersPage />, visible: (s) => s.can('ca.admin') },
];

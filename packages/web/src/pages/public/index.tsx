/** Public pages: anyone, signed in or not. */
import type { PageDef } from '../../shell/page.js';
import { CrlsPage } from './Crls.js';
import { SearchPage } from './Search.js';

export const publicPages: PageDef[] = [
  { path: '/app/search', section: 'public', label: 'nav.search', element: <SearchPage />, visible: () => true },
  { path: '/app/crls', section: 'public', label: 'nav.crls', element: <CrlsPage />, visible: () => true },
];

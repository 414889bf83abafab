/** The login page (shown to everyone not signed in). */
import type { PageDef } from '../../shell/page.js';
import { LoginPage } from './Login.js';

export const loginPages: PageDef[] = [{ path: '/app/login', section: 'public', label: 'nav.login', element: <LoginPage />, visible: () => true, nav: false }];

/** The certificate holder's pages. */
import type { PageDef } from '../../shell/page.js';
import { MyCertificatesPage } from './MyCertificates.js';

export const holderPages: PageDef[] = [{ path: '/app/me', section: 'holder', label: 'nav.me', element: <MyCertificatesPage />, visible: (s) => Boolean(s.me?.holder) }];

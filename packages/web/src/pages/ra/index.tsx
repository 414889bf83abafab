/** The RA officer's pages. */
import type { PageDef } from '../../shell/page.js';
import { ApplicationPage } from './ApplicationDetail.js';
import { CertificatesPage } from './Certificates.js';
import { LossReportsPage } from './LossReports.js';
import { NewApplicationPage } from './NewApplication.js';
import { QueuePage } from './Queue.js';
import { RecoveriesPage, UnblocksPage } from './Queues.js';

export const raPages: PageDef[] = [
  { path: '/app/ra/queue', section: 'ra', label: 'nav.queue', element: <QueuePage />, visible: (s) => s.can('ra.read') },
  { path: '/app/ra/new', section: 'ra', label: 'nav.newApplication', element: <NewApplicationPage />, visible: (s) => s.can('ra.enter') },
  { path: '/app/ra/applications/:ca/:id', section: 'ra', label: 'nav.queue', element: <ApplicationPage />, visible: (s) => s.can('ra.read'), nav: false },
  { path: '/app/ra/certificates', section: 'ra', label: 'nav.certificates', element: <CertificatesPage />, visible: (s) => s.can('cert.status') },
  { path: '/app/ra/loss', section: 'ra', label: 'nav.lossReports', element: <LossReportsPage />, visible: (s) => s.can('cert.status') },
  { path: '/app/ra/unblocks', section: 'ra', label: 'nav.unblocks', element: <UnblocksPage />, visible: (s) => s.can('ra.read') },
  { path: '/app/ra/recoveries', section: 'ra', label: 'nav.recoveries', element: <RecoveriesPage />, visible: (s) => s.can('ra.read') },
];

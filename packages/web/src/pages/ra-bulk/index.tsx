/** The RA's bulk import of applications (a CSV of applicants). */
import type { PageDef } from '../../shell/page.js';
import { BulkImportPage } from './BulkImport.js';

/** The bulk import page, for officers who enter applications. */
export const raBulkPages: PageDef[] = [{ path: '/app/ra/bulk', section: 'ra', label: 'bulk:nav', element: <BulkImportPage />, visible: (s) => s.can('ra.enter') }];

/** The public complaint form and receipt lookup (Art. 11): anyone, signed in or not. */
import type { PageDef } from '../../shell/page.js';
import { ComplaintPage } from './Complaint.js';

/** The complaint page. */
export const complaintPages: PageDef[] = [{ path: '/app/complaint', section: 'public', label: 'complaint:nav.complaint', element: <ComplaintPage />, visible: () => true }];

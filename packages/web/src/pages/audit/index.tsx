/** The auditor's pages. */
import type { PageDef } from '../../shell/page.js';
import { AuditLogPage } from './AuditLog.js';

export const auditPages: PageDef[] = [{ path: '/app/audit', section: 'audit', label: 'nav.audit', element: <AuditLogPage />, visible: (s) => s.can('audit.read') }];

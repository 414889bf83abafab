/**
 * Every page of the interface, in navigation order. An area adds its pages with one line here
 * (the national/provincial platform pages will: `...platformPages`), never by editing another
 * area's files.
 */
import type { PageDef } from './page.js';
import { publicPages } from '../pages/public/index.js';
import { loginPages } from '../pages/login/index.js';
import { holderPages } from '../pages/holder/index.js';
import { raPages } from '../pages/ra/index.js';
import { adminPages } from '../pages/admin/index.js';
import { auditPages } from '../pages/audit/index.js';
import { platformPages } from '../pages/platform/index.js';
import { platformFeePages } from '../pages/platform-fees/index.js';
import { complaintPages } from '../pages/complaint/index.js';
import { raBulkPages } from '../pages/ra-bulk/index.js';

/** All pages. */
export const PAGES: PageDef[] = [...holderPages, ...raPages, ...raBulkPages, ...adminPages, ...auditPages, ...platformPages, ...platformFeePages, ...publicPages, ...complaintPages, ...loginPages];

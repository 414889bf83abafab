/** What an area of the interface declares about each of its pages; the shell builds navigation and routes from it. */
import type { ReactElement } from 'react';
import type { Session } from '../session.js';

/** One page. */
export interface PageDef {
  /** Route path under /app, e.g. "/app/ra/queue" (may contain :params). */
  path: string;
  /** Navigation group: "public", "holder", "ra", "admin", "audit", or an area's own (label key `nav.sections.<section>` or `sectionLabel`). */
  section: string;
  /** Translation key of the navigation label, namespaced for areas with their own texts ("platform:nav.cas"). */
  label: string;
  /** Translation key of the section label when the section is not one of the shell's. */
  sectionLabel?: string;
  element: ReactElement;
  /** Whether the session may see it; pages not visible are neither linked nor rendered. */
  visible: (s: Session) => boolean;
  /** Listed in the navigation (detail pages are not). */
  nav?: boolean;
  /**
   * Where a signed-out visitor signs in, for areas with their own credentials (the platform's
   * tokens): `signedIn` says true/false, or undefined while still asking. Default: the CA login.
   */
  login?: { path: string; signedIn: (s: Session) => boolean | undefined };
}

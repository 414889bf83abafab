/**
 * The EMR's page: three static files in examples/emr/public (read from the source tree, next to
 * dist/, so no bundler is needed), with the signing agent's default address filled in.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The public folder (from examples/emr/dist/src/). */
const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

/** The static files the page needs, with their content types. */
export const ASSETS: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'style.css': 'text/css; charset=utf-8' };

/** Reads a public asset (only the names in ASSETS). */
export function readAsset(name: string): Buffer {
  if (!(name in ASSETS)) throw new Error(`no asset ${name}`);
  return readFileSync(PUBLIC + name);
}

/** index.html with the agent's default URL (HTML-escaped). */
export function renderPage(o: { agentUrl: string }): string {
  const esc = o.agentUrl.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return readFileSync(PUBLIC + 'index.html', 'utf8').replace('__AGENT_URL__', esc);
}

/**
 * The page's Content-Security-Policy: its own scripts only; fetches to the EMR and to a signing
 * agent on the loopback interface (the user may point the page at another local port).
 */
export const CSP = "default-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

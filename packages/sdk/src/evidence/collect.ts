/**
 * Collecting validation data for a certification path (leaf first, trust anchor last): for every
 * certificate below the anchor an OCSP response from its responder, else its CRLs. This is what a
 * signed record archives right after signing, and what a verifier re-fetches when online.
 */
import type { Certificate, Crl, OcspResponse } from '@health-pki/pki';
import { fetchCrls, fetchOcsp, type FetchOptions } from './fetch.js';

/** Revocation data gathered for a path, and what could not be had. */
export interface Collected {
  ocsp: OcspResponse[];
  crls: Crl[];
  problems: string[];
}

/** Fetches revocation data for each certificate of `path` except its last (the anchor). */
export async function collectRevocationData(path: Certificate[], o: FetchOptions = {}): Promise<Collected> {
  const out: Collected = { ocsp: [], crls: [], problems: [] };
  await Promise.all(
    path.slice(0, -1).map(async (cert, i) => {
      const issuer = path[i + 1]!;
      const o1 = await fetchOcsp(cert, issuer, o);
      if (o1.response) {
        out.ocsp.push(o1.response);
        return;
      }
      const c = await fetchCrls(cert, o);
      out.crls.push(...c.crls);
      if (c.crls.length === 0) out.problems.push(...o1.problems, ...c.problems);
    }),
  );
  return out;
}

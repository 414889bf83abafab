/**
 * The CRL check: each sample's CRL (its CRL distribution point, fetched once per URL) must be a
 * complete CRL signed by the sample's issuer, current, and list the revoked samples with a
 * reason and none of the good ones. What each CRL says about each sample is kept, so that the
 * OCSP and query checks can compare their answers with it.
 */
import { Crl, formatName, type Certificate, type RevocationReason } from '@health-pki/pki';
import { boundedFetch } from './fetch.js';
import { errorText, sampleName, type FaultList, type Sample } from './faults.js';

/** Largest CRL fetched (a large CA's complete CRL is some MB). */
const MAX_CRL_BYTES = 32 * 1024 * 1024;
/** Clock skew tolerated on thisUpdate. */
const SKEW_MS = 5 * 60_000;

/** What the CRL says about one sample. */
export interface CrlVerdict {
  url: string;
  listed: boolean;
  reason?: RevocationReason;
  revokedAt?: Date;
}

/** Fetches and checks the CRLs of the samples; returns what they say about each sample. */
export async function checkCrls(samples: Sample[], issuerOf: Map<Sample, Certificate>, faults: FaultList, opts: { now: Date; timeoutMs?: number }): Promise<Map<Sample, CrlVerdict>> {
  const verdicts = new Map<Sample, CrlVerdict>();
  // One fetch per URL; the checks of a CRL itself once per (URL, issuer).
  const fetched = new Map<string, Promise<Crl | string>>();
  const checked = new Set<string>();
  const load = (url: string) => {
    let p = fetched.get(url);
    if (!p) {
      p = boundedFetch(url, { maxBytes: MAX_CRL_BYTES, timeoutMs: opts.timeoutMs, accept: 'application/pkix-crl' }).then(
        (r) => {
          if (r.status !== 200) return `answered HTTP ${r.status}`;
          try {
            return Crl.parse(r.body);
          } catch (e) {
            return `is not a CRL (${errorText(e)})`;
          }
        },
        (e: unknown) => errorText(e),
      );
      fetched.set(url, p);
    }
    return p;
  };
  const one = async (s: Sample): Promise<void> => {
    const issuer = issuerOf.get(s);
    if (!issuer) return; // the chain check already said why
    const urls = s.cert.crlUrls.filter((u) => /^https?:/i.test(u));
    if (urls.length === 0) {
      faults.add('crl', sampleName(s), 'names no http CRL distribution point');
      return;
    }
    const url = urls[0]!;
    const crl = await load(url);
    if (typeof crl === 'string') {
      if (!checked.has(url)) faults.add('crl', url, crl.startsWith(url) ? crl.slice(url.length).trim() || crl : crl);
      checked.add(url);
      return;
    }
    const key = `${url}#${issuer.der.toString('base64')}`;
    if (!checked.has(key)) {
      checked.add(key);
      checkCrlItself(crl, url, issuer, faults, opts.now);
    }
    const entry = crl.findRevoked(s.cert.serialNumber);
    verdicts.set(s, { url, listed: !!entry, ...(entry?.reason ? { reason: entry.reason } : {}), ...(entry ? { revokedAt: entry.revocationDate } : {}) });
    if (s.kind === 'revoked' && !entry) faults.add('crl', sampleName(s), `is a revoked sample, but the CRL at ${url} does not list it`);
    if (s.kind === 'revoked' && entry && !entry.reason) faults.add('crl', sampleName(s), `is listed by the CRL at ${url} without a revocation reason`);
    if (s.kind === 'good' && entry) faults.add('crl', sampleName(s), `is a good sample, but the CRL at ${url} lists it as revoked${entry.reason ? ` (${entry.reason})` : ''}`);
  };
  await Promise.all(samples.map((s) => guarded(s, faults, () => one(s))));
  return verdicts;
}

/** Runs one sample's check; anything it throws (a malformed extension, say) becomes a fault instead of ending the run. */
async function guarded(s: Sample, faults: FaultList, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (e) {
    faults.add('crl', sampleName(s), `could not be checked against its CRL: ${errorText(e)}`);
  }
}

function checkCrlItself(crl: Crl, url: string, issuer: Certificate, faults: FaultList, now: Date): void {
  if (!crl.issuerDer.equals(issuer.subjectDer)) faults.add('crl', url, `is issued by "${issuerText(crl)}", not by the CA "${issuer.subjectText}"`);
  let signed = false;
  try {
    signed = crl.verifySignature(issuer.publicKey);
  } catch {
    signed = false;
  }
  if (!signed) faults.add('crl', url, `is not signed by the CA "${issuer.subjectText}" (the signature does not verify with its key)`);
  if (crl.isDelta) faults.add('crl', url, 'is a delta CRL; the distribution point must serve the complete CRL');
  if (crl.thisUpdate.getTime() > now.getTime() + SKEW_MS) faults.add('crl', url, `is dated in the future (thisUpdate ${crl.thisUpdate.toISOString()})`);
  const next = crl.nextUpdate;
  if (!next) faults.add('crl', url, 'has no nextUpdate, so relying parties cannot tell when it is stale');
  else if (next.getTime() < now.getTime()) faults.add('crl', url, `is stale: its nextUpdate ${next.toISOString()} has passed`);
}

function issuerText(crl: Crl): string {
  try {
    return formatName(crl.issuer);
  } catch {
    return 'an unreadable name';
  }
}

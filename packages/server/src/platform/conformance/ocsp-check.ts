/**
 * The OCSP check: every sample is asked about at its AIA responder with a fresh nonce. The answer
 * must be successful, signed by the issuer or a responder it authorised (id-kp-OCSPSigning,
 * valid now), current, echo the nonce, and state what the sample is — and agree with the CRL.
 */
import { randomBytes } from 'node:crypto';
import { OcspResponse, buildOcspRequest, certId, verifyOcspResponse, type Certificate } from '@health-pki/pki';
import { boundedFetch, FetchFailure } from './fetch.js';
import { errorText, sampleName, type FaultList, type Sample } from './faults.js';
import type { CrlVerdict } from './crl-check.js';

const MAX_OCSP_BYTES = 64 * 1024;
const SKEW_MS = 5 * 60_000;

/** What the responder said about one sample. */
export interface OcspVerdict {
  status: 'good' | 'revoked' | 'unknown';
  reason?: string;
}

/** Asks each sample's OCSP responder; returns the statuses of the answers that could be read. */
export async function checkOcsp(
  samples: Sample[],
  issuerOf: Map<Sample, Certificate>,
  crl: Map<Sample, CrlVerdict>,
  faults: FaultList,
  opts: { now: Date; timeoutMs?: number },
): Promise<Map<Sample, OcspVerdict>> {
  const verdicts = new Map<Sample, OcspVerdict>();
  const one = async (s: Sample) => {
    const issuer = issuerOf.get(s);
    if (!issuer) return;
    const name = sampleName(s);
    const url = s.cert.aia.ocsp.find((u) => /^https?:/i.test(u));
    if (!url) {
      faults.add('ocsp', name, 'names no http OCSP responder (authority information access)');
      return;
    }
    const nonce = randomBytes(16);
    const request = buildOcspRequest({ certIds: [certId(s.cert, issuer, 'sha1')], nonce });
    let resp: OcspResponse;
    try {
      const r = await boundedFetch(url, { method: 'POST', body: request.der, contentType: 'application/ocsp-request', accept: 'application/ocsp-response', maxBytes: MAX_OCSP_BYTES, timeoutMs: opts.timeoutMs });
      if (r.status !== 200) {
        faults.add('ocsp', name, `the responder ${url} answered HTTP ${r.status}`);
        return;
      }
      resp = OcspResponse.parse(r.body);
    } catch (e) {
      faults.add('ocsp', name, e instanceof FetchFailure ? e.message : `the responder ${url} answered something that is not an OCSP response (${errorText(e)})`);
      return;
    }
    if (!resp.isSuccessful) {
      faults.add('ocsp', name, `the responder ${url} answered "${resp.status}" instead of a status`);
      return;
    }
    const verified = verifyOcspResponse(resp, issuer);
    if (!verified.valid) faults.add('ocsp', name, `the answer from ${url} is not signed by the CA or a responder it authorised: ${verified.error}`);
    // A responder may make its delegated certificate on demand, after the run began: notBefore gets the skew allowance.
    else if (verified.signer && !verified.signer.der.equals(issuer.der) && (verified.signer.notBefore.getTime() > opts.now.getTime() + SKEW_MS || verified.signer.notAfter.getTime() < opts.now.getTime())) {
      faults.add('ocsp', name, `the delegated responder certificate that signed the answer (${verified.signer.subjectText}) is not valid now`);
    }
    const echoed = resp.nonce;
    if (!echoed) faults.add('ocsp', name, 'the answer does not echo the nonce of the request');
    else if (!echoed.equals(nonce)) faults.add('ocsp', name, 'the answer carries another nonce than the request (a replayed answer)');
    const single = resp.responseFor(s.cert, issuer);
    if (!single) {
      faults.add('ocsp', name, 'the answer says nothing about the certificate asked about');
      return;
    }
    if (single.thisUpdate.getTime() > opts.now.getTime() + SKEW_MS) faults.add('ocsp', name, `the answer is dated in the future (thisUpdate ${single.thisUpdate.toISOString()})`);
    if (single.nextUpdate && single.nextUpdate.getTime() < opts.now.getTime()) faults.add('ocsp', name, `the answer is stale: its nextUpdate ${single.nextUpdate.toISOString()} has passed`);
    verdicts.set(s, { status: single.status, ...(single.reason ? { reason: single.reason } : {}) });
    compare(s, single.status, single.reason, single.revocationTime, crl.get(s), faults);
  };
  await Promise.all(
    samples.map(async (s) => {
      try {
        await one(s);
      } catch (e) {
        // A malformed extension or answer must become a fault, not end the run.
        faults.add('ocsp', sampleName(s), `could not be checked with OCSP: ${errorText(e)}`);
      }
    }),
  );
  return verdicts;
}

/**
 * Why a stated status is wrong, as a clause: "which the CRL lists as revoked (keyCompromise)",
 * "which the CRL does not list", or what the CA submitted the sample as. Undefined: no fault.
 */
export function disagreement(s: Sample, status: 'good' | 'revoked' | 'unknown', crl: CrlVerdict | undefined): string | undefined {
  if (status === 'unknown') return crl?.listed ? `which the CRL lists as revoked${crl.reason ? ` (${crl.reason})` : ''}` : `which was submitted as ${s.kind}`;
  if (status === 'good') {
    if (crl?.listed) return `which the CRL lists as revoked${crl.reason ? ` (${crl.reason})` : ''}`;
    return s.kind === 'revoked' ? 'which was submitted as revoked' : undefined;
  }
  if (crl && !crl.listed) return 'which the CRL does not list';
  return s.kind === 'good' ? 'which was submitted as good' : undefined;
}

function compare(s: Sample, status: 'good' | 'revoked' | 'unknown', reason: string | undefined, revokedAt: Date | undefined, crl: CrlVerdict | undefined, faults: FaultList): void {
  const name = `serial ${s.serial}`;
  const wrong = disagreement(s, status, crl);
  if (wrong) {
    faults.add('ocsp', name, `OCSP says ${status} for serial ${s.serial}, ${wrong}`);
    return;
  }
  if (status === 'revoked' && crl?.listed) {
    if (crl.reason && reason && crl.reason !== reason) faults.add('ocsp', name, `OCSP gives the reason ${reason} for serial ${s.serial}, the CRL ${crl.reason}`);
    if (crl.revokedAt && revokedAt && Math.abs(crl.revokedAt.getTime() - revokedAt.getTime()) > 1000) {
      faults.add('ocsp', name, `OCSP says serial ${s.serial} was revoked at ${revokedAt.toISOString()}, the CRL at ${crl.revokedAt.toISOString()}`);
    }
  }
}

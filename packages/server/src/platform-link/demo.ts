/**
 * The demonstration start's admission of its demo CAs (demo-sm2, demo-p256) to the embedded
 * platform, in the background after the service listens (the conformance test calls back into
 * this service's OCSP, CRL and query interface). Uses the platform's bootstrap national-office
 * token and this service's bootstrap administrator token from their files; a CA already
 * connected is left as it is, so a restart does nothing more.
 */
import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { Services } from '../services.js';
import { DEMO_AUTHORITIES } from '../services.js';
import type { RunningPlatform } from '../platform/server.js';
import { admitCa, type AdmissionResult } from './admission.js';
import { DEFAULT_PROVINCE } from './events.js';

/** The admission in flight. */
export interface DemoAdmission {
  /** Each demo CA's result (a failed admission is a result with status "failed" and the error). */
  done: Promise<Array<AdmissionResult | { ca: string; status: 'failed'; error: string }>>;
  /** Stops between steps and waits. */
  stop(): Promise<void>;
}

/** Starts admitting the demo CAs this service has. */
export function startDemoAdmission(o: { platform: RunningPlatform; services: Services; caUrl: string; tokenFile: string; province?: string; log: FastifyBaseLogger }): DemoAdmission {
  let stopped = false;
  const done = (async () => {
    let nationalToken: string;
    let caAdminToken: string;
    try {
      nationalToken = readFileSync(o.platform.services.adminTokenFile, 'utf8').trim();
      caAdminToken = readFileSync(o.tokenFile, 'utf8').trim();
    } catch (e) {
      o.log.warn({ err: e }, 'demo CAs not admitted to the embedded platform: a bootstrap token file is missing');
      return [];
    }
    const names = new Set((await o.services.ca.listAuthorities()).map((a) => a.name));
    const demo = DEMO_AUTHORITIES.map((a) => a.name).filter((n) => names.has(n));
    return Promise.all(
      demo.map(async (ca) => {
        try {
          const r = await admitCa({
            platformUrl: o.platform.url,
            nationalToken,
            caUrl: o.caUrl,
            caAdminToken,
            ca,
            province: o.province ?? DEFAULT_PROVINCE,
            cancelled: () => stopped,
            log: (m) => o.log.info(m),
          });
          if (r.steps.length) o.log.info({ ca, status: r.status }, `platform admission of ${ca}: ${r.status}`);
          if (r.report && !r.report.passed) o.log.warn({ ca, faults: r.report.faults }, `platform admission of ${ca}: the conformance test failed`);
          return r;
        } catch (e) {
          if (!stopped) o.log.error({ err: e }, `platform admission of ${ca} failed; it is tried again at the next start`);
          return { ca, status: 'failed' as const, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
  })();
  return {
    done,
    async stop() {
      stopped = true;
      await done.catch(() => undefined);
    },
  };
}

/**
 * The access interfaces seen from the platform: the certificate query interface must answer a
 * signed query about every sample (signature checked against the registered platform-access
 * certificate) with statuses that agree with the CRL; the sync interface must have delivered an
 * issuance event for every sample and a revocation event for every revoked one.
 */
import { sql } from 'kysely';
import type { Certificate } from '@health-pki/pki';
import type { Executor } from '../../store/database.js';
import { all } from '../../store/sql.js';
import { errorText, sampleName, type FaultList, type Sample } from './faults.js';
import type { CrlVerdict } from './crl-check.js';
import { disagreement } from './ocsp-check.js';
import { queryCertificates, type QueryAnswer, type QuerySigner } from './query-client.js';

/** What the query check needs. */
export interface QueryCheckInputs {
  ca: string;
  url?: string;
  accessCertificate?: Certificate;
  signer: QuerySigner;
  timeoutMs?: number;
  clock: () => Date;
}

/** Asks the CA's query interface about every sample and compares its answers. */
export async function checkQueryInterface(samples: Sample[], crl: Map<Sample, CrlVerdict>, faults: FaultList, q: QueryCheckInputs): Promise<QueryAnswer | undefined> {
  if (!q.url || !q.accessCertificate || samples.length === 0) return undefined; // the inputs check named what is missing
  let answer: QueryAnswer;
  try {
    answer = await queryCertificates({ url: q.url, ca: q.ca, serials: samples.map((s) => s.serial), accessCertificate: q.accessCertificate, signer: q.signer, timeoutMs: q.timeoutMs, clock: q.clock });
  } catch (e) {
    faults.add('query', q.url, errorText(e));
    return undefined;
  }
  for (const s of samples) {
    const entry = answer.certificates.find((c) => c.serial === s.serial);
    if (!entry) {
      faults.add('query', sampleName(s), 'the query interface says nothing about this certificate');
      continue;
    }
    const wrong = disagreement(s, entry.status, crl.get(s));
    if (wrong) faults.add('query', `serial ${s.serial}`, `the query interface says ${entry.status} for serial ${s.serial}, ${wrong}`);
    if (entry.certificate !== undefined && !sameCertificate(entry.certificate, s.cert)) faults.add('query', `serial ${s.serial}`, 'the query interface returns another certificate under this serial than the sample');
  }
  return answer;
}

function sameCertificate(pem: string, cert: Certificate): boolean {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64').equals(cert.der);
}

/** Checks that the platform's sync tables hold the samples' events. */
export async function checkSyncEvents(ex: Executor, ca: string, samples: Sample[], faults: FaultList): Promise<void> {
  if (samples.length === 0) return;
  // A CA of another make may write serials without the leading zero of the first byte.
  const forms = new Map<string, string>();
  for (const s of samples) {
    forms.set(s.serial, s.serial);
    forms.set(s.serial.replace(/^0+(?=.)/, ''), s.serial);
  }
  const rows = await all<{ serial: string; kind: string }>(ex, sql`select serial, kind from platform_sync_messages where ca = ${ca} and serial in (${sql.join([...forms.keys()])})`);
  const kinds = new Map<string, Set<string>>();
  for (const r of rows) {
    const serial = forms.get(r.serial)!;
    if (!kinds.has(serial)) kinds.set(serial, new Set());
    kinds.get(serial)!.add(r.kind);
  }
  for (const s of samples) {
    const k = kinds.get(s.serial) ?? new Set();
    if (!k.has('issued') && !k.has('renewed')) faults.add('sync', sampleName(s), `the platform has received no "issued" sync event for serial ${s.serial}`);
    if (s.kind === 'revoked' && !k.has('revoked')) faults.add('sync', sampleName(s), `the platform has received no "revoked" sync event for serial ${s.serial}, a revoked sample`);
    if (s.kind === 'good' && k.has('revoked')) faults.add('sync', sampleName(s), `the CA reported serial ${s.serial} as revoked through sync, but submitted it as a good sample`);
  }
}

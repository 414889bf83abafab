/** The conformance report's vocabulary: the checks, a fault, and how a sample is named in one. */
import type { Certificate } from '@health-pki/pki';

/** The checks of the conformance test, in the order they run. */
export type CheckName = 'inputs' | 'chain' | 'profile' | 'crl' | 'ocsp' | 'query' | 'sync';

/** Every check, for the report's summary. */
export const CHECKS: readonly CheckName[] = ['inputs', 'chain', 'profile', 'crl', 'ocsp', 'query', 'sync'];

/** One thing the CA got wrong: which check, about what (a serial, a URL), in plain words. */
export interface Fault {
  check: CheckName;
  subject: string;
  message: string;
}

/** A sample certificate the CA submitted, with what it says it is. */
export interface Sample {
  kind: 'good' | 'revoked';
  cert: Certificate;
  /** Lower-case hex, as the protocol writes serials. */
  serial: string;
}

/** How a sample is named in faults: "serial 1a2b (CN=…)". */
export function sampleName(s: Sample): string {
  return `serial ${s.serial} (${s.cert.subjectText})`;
}

/** Collects faults. */
export class FaultList {
  readonly items: Fault[] = [];

  /** Records a fault. */
  add(check: CheckName, subject: string, message: string): void {
    this.items.push({ check, subject, message });
  }

  /** The faults as one line each, for the stored report's `faults`. */
  lines(): string[] {
    return this.items.map((f) => `[${f.check}] ${f.subject}: ${f.message}`);
  }
}

/** An exception's message, for a fault. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

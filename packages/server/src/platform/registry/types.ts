// Shared vocabulary of the platform: the registry (P1) owns the data, sync (P2) and the trust list (P3) read it.
import type { Certificate } from '@health-pki/pki';

/** Lifecycle of a certification service agency on the platform (admission, supervision, exit). */
export type CaStatus = 'applied' | 'province-reviewed' | 'tested' | 'connected' | 'suspended' | 'terminated' | 'rejected';

/** A CA as the other platform modules see it. */
export interface ConnectedCa {
  name: string;
  displayName: string;
  status: CaStatus;
  provinces: string[];
  /** CA certificates (root, issuing). */
  certificates: Certificate[];
  /** The certificate that signs the CA's sync messages to the platform. */
  platformAccessCertificate?: Certificate;
  licenceNumber: string;
  /** ISO date-time at which the MIIT licence ends. */
  licenceNotAfter: string;
}

/** Read access to the registry's CAs. */
export interface CaDirectory {
  /** The CA of that name, whatever its status. */
  get(name: string): Promise<ConnectedCa | undefined>;
  /** Every registered CA, whatever its status. */
  list(): Promise<ConnectedCa[]>;
}

/** Where the platform reaches a CA's live interfaces (protocol.md); OCSP and CRL URLs come from the samples. */
export interface CaEndpoints {
  /** URL of the CA's certificate query interface (POST, signed CMS). */
  query?: string;
}

/** Sample certificates a CA issued for the conformance test (PEM): some in good standing, some revoked before applying. */
export interface SampleCertificates {
  good: string[];
  revoked: string[];
}

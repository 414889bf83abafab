/**
 * The CA's reports to the platform, written in the act's own transaction: `issued` (or `renewed`
 * with the serial it `replaces`) and `revoked` with its reason, each into the issuing CA's own
 * outbox stream (platform/sync/outbox.ts). Two statements per act (head upsert and insert), no
 * extra round trip. The statistics class comes from the profile, the province from the
 * deployment's configuration.
 */
import { getProfile, type CertificateClass } from '@health-pki/pki';
import type { Executor } from '../store/database.js';
import type { CertificateEvents } from '../ca/authority.js';
import { enqueueSyncEvent } from '../platform/sync/outbox.js';

/** The platform's statistics class of a profile's certificate class. */
const STATS_CLASS: Record<CertificateClass, string> = {
  'internal-staff': 'person',
  'external-person': 'person',
  'internal-organization': 'organisation',
  'external-organization': 'organisation',
  'internal-device': 'device',
  'external-device': 'device',
  'ocsp-signing': 'service',
  'time-stamping': 'service',
  'root-ca': 'ca',
  'sub-ca': 'ca',
};

/** The statistics class of certificates of profile `name` ("other" for a profile the library does not know). */
export function statsClass(name: string): string {
  try {
    return STATS_CLASS[getProfile(name).class] ?? 'other';
  } catch {
    return 'other';
  }
}

/** Province code the demo deployment reports when none is configured: Beijing, in the platform's two-letter codes. */
export const DEFAULT_PROVINCE = 'BJ';

/** Queues every issuance and revocation for the platform. */
export class OutboxEvents implements CertificateEvents {
  /** `province`: the code this deployment's certificates serve (the platform's two-letter codes, e.g. "GD"). */
  constructor(private readonly province: string = DEFAULT_PROVINCE) {}

  /** CertificateEvents: an issuance, or a renewal when it replaces another certificate. */
  async issued(tx: Executor, e: { authority: string; serial: string; profile: string; at: Date; notAfter: string; replaces?: string }): Promise<void> {
    await enqueueSyncEvent(
      tx,
      e.authority,
      {
        kind: e.replaces ? 'renewed' : 'issued',
        serial: e.serial,
        profile: e.profile,
        class: statsClass(e.profile),
        province: this.province,
        at: e.at.toISOString(),
        notAfter: new Date(e.notAfter).toISOString(),
        ...(e.replaces ? { replaces: e.replaces } : {}),
      },
      e.at,
    );
  }

  /** CertificateEvents: a revocation with its RFC 5280 reason. */
  async revoked(tx: Executor, e: { authority: string; serial: string; reason: string; at: Date }): Promise<void> {
    await enqueueSyncEvent(tx, e.authority, { kind: 'revoked', serial: e.serial, province: this.province, reason: e.reason, at: e.at.toISOString() }, e.at);
  }
}

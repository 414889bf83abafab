/**
 * What query/download and the directory need of the CRL publisher (publish/crl): the current
 * CRL of one CA of an authority. Read through this narrow interface so that both work, and
 * answer "no CRL yet", when a deployment runs without CRL publishing.
 */
import type { Services } from '../../services.js';

/** Full CRL or delta CRL. */
export type CrlKindName = 'full' | 'delta';

/** A published CRL, as the CRL publisher hands it out. */
export interface CurrentCrl {
  der: Buffer;
  number: bigint | number | string;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** The part of the CRL publisher read here. */
export interface CrlSource {
  current(authority: string, label: string, kind: CrlKindName): Promise<CurrentCrl | undefined> | CurrentCrl | undefined;
}

/** The CRL publisher of the services, if this deployment has one. */
export function crlSourceOf(services: Services): CrlSource | undefined {
  const crls = (services as unknown as { crls?: Partial<CrlSource> }).crls;
  return typeof crls?.current === 'function' ? (crls as CrlSource) : undefined;
}

/** The current CRL of a CA, or undefined when there is none (or no publisher). */
export async function currentCrl(source: CrlSource | undefined, authority: string, label: string, kind: CrlKindName): Promise<CurrentCrl | undefined> {
  if (!source) return undefined;
  return (await source.current(authority, label, kind)) ?? undefined;
}

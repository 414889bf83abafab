/**
 * Application materials (scans, forms): their limits, their rows (digest computed, content sealed
 * under the deployment's master key, bound to the row) and their views. The RA stores and reads
 * them (registration.ts); retention purges them (records.ts).
 */
import { createHash } from 'node:crypto';
import { orderedId } from '../store/ids.js';
import type { Principal } from '../auth/principal.js';
import type { Sealer } from '../security/envelope.js';
import { InvalidRequestError, RuleError, TooLargeError } from '../errors.js';
import type { RaTables } from './tables.js';

/** One application material (a scan, a form) as received. */
export interface MaterialInput {
  name: string;
  contentType: string;
  content: Buffer;
}

/** A stored material, without its bytes. */
export interface MaterialView {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  addedBy: string;
  addedAt: string;
}

/** Size and type limits for materials. */
export interface MaterialLimits {
  /** Largest material, in bytes. */
  maxBytes: number;
  /** Most materials one application may carry. */
  maxCount: number;
  /** Content types accepted (scans, forms, documents). */
  contentTypes: readonly string[];
}

/** Default limits: 4 MiB per material, 20 per application, scans and documents only. */
export const DEFAULT_MATERIAL_LIMITS: MaterialLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxCount: 20,
  contentTypes: ['application/pdf', 'image/jpeg', 'image/png', 'image/tiff', 'image/webp', 'application/ofd', 'text/plain', 'application/json', 'application/xml'],
};

/** Refuses materials over the limits (count with those already attached, size, emptiness, type). */
export function checkMaterials(limits: MaterialLimits, materials: MaterialInput[], existing: number): void {
  if (existing + materials.length > limits.maxCount) {
    throw new TooLargeError('material.count', `an application may carry at most ${limits.maxCount} materials`);
  }
  for (const m of materials) {
    if (m.content.length > limits.maxBytes) {
      throw new TooLargeError('material.size', `material "${m.name}" is ${m.content.length} bytes; the limit is ${limits.maxBytes} bytes`);
    }
    if (m.content.length === 0) throw new InvalidRequestError('material.empty', `material "${m.name}" is empty`);
    const type = m.contentType.split(';')[0]!.trim().toLowerCase();
    if (!limits.contentTypes.includes(type)) {
      throw new RuleError('material.type', `material "${m.name}" has content type "${m.contentType}"; accepted: ${limits.contentTypes.join(', ')}`);
    }
  }
}

/** The context a material is sealed under: its row. */
export function materialContext(id: string): string {
  return `material:${id}`;
}

/** A material's row, its digest computed and its content sealed (outside any transaction: a material may be megabytes). */
export function materialRow(applicationId: string, m: MaterialInput, actor: Principal, at: string, sealer: Sealer): RaTables['ra_materials'] {
  const id = orderedId();
  return {
    id,
    application_id: applicationId,
    name: m.name,
    content_type: m.contentType.split(';')[0]!.trim().toLowerCase(),
    size: m.content.length,
    sha256: createHash('sha256').update(m.content).digest('hex'),
    content: sealer.seal(m.content, materialContext(id)),
    content_protection: sealer.protection,
    added_by: actor.id,
    added_at: at,
  };
}

/** A material's columns other than its bytes. */
export type MaterialMeta = Omit<RaTables['ra_materials'], 'content' | 'content_protection' | 'application_id'>;

/** A material as the API shows it (never its bytes). */
export function materialView(m: MaterialMeta): MaterialView {
  return { id: m.id, name: m.name, contentType: m.content_type, size: Number(m.size), sha256: m.sha256, addedBy: m.added_by, addedAt: m.added_at };
}

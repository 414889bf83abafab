/**
 * Who pays what (Art. 19–20), as a pure computation over the usage records, the systems and the
 * fee schedules. Amounts are integers in fen throughout.
 *
 * A "certificate" is one holder's certificate of one class from one CA (holder identity + CA +
 * class). Its first issuance happens when it is first registered in any system (t0); the first
 * issuance covers its first year of service.
 *
 * First issuance, shared (Art. 20): every system that registers the certificate before t0 + 1
 * year shares its first-issuance price P equally: with k such systems, each pays ⌊P / k⌋ and the
 * remainder r = P − k·⌊P / k⌋ fen goes one fen each to the first r systems in the order they
 * registered the holder (ties by system id). The shares add up to P exactly. Until t0 + 1 year the
 * split may still change and the lines are marked provisional. Each share is paid by the system's
 * builder, or by the applicant (the holder) if the system serves the public (Art. 19).
 *
 * Annual service (Art. 19): on every anniversary of t0 (up to now) at which at least one system
 * still uses the certificate, one annual fee. The using unit pays — the unit named with the earliest such usage
 * of a system not serving the public, else that system's operator; if only public-facing systems
 * use it, the applicant pays.
 *
 * Prices: the schedule in force on the charge's date (t0 for first issuance, the anniversary for
 * the annual fee). A charge with no schedule in force is listed with amount 0 and priced: false.
 */
import type { InformationSystem, Usage } from '../systems/systems.js';
import type { HolderIdentity } from '../systems/identity.js';
import { scheduleAt, type FeeSchedule } from './schedule.js';

/** Who a charge is billed to. */
export interface Payer {
  /** builder: first issuance of a system not serving the public; using-unit: annual fee; applicant: the holder of a public-facing system's certificate. */
  kind: 'builder' | 'using-unit' | 'applicant';
  /** Organisation code of the unit, or the holder's identity for an applicant. */
  code: string;
  name?: string;
}

/** One line of a statement. */
export interface ChargeLine {
  /** ISO date-time the charge falls on. */
  date: string;
  kind: 'first-issuance' | 'annual-service';
  system: string;
  holder: HolderIdentity;
  ca: string;
  class: string;
  /** For a first issuance: how many systems share it (1 for annual fees). */
  sharedBy: number;
  /** The full price in fen. */
  price: number;
  /** This line's amount in fen. */
  amount: number;
  payer: Payer;
  /** The first-issuance split can still change (a system may still join in its first year). */
  provisional: boolean;
  /** False when no schedule was in force: amount 0, to be settled by hand. */
  priced: boolean;
}

/** Splits `total` fen into `n` shares differing by at most one fen, the larger ones first; the shares add up to `total`. */
export function splitEvenly(total: number, n: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0 || !Number.isSafeInteger(n) || n < 1) throw new RangeError(`cannot split ${total} into ${n} shares`);
  const base = Math.floor(total / n);
  const remainder = total - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < remainder ? 1 : 0));
}

/** The same calendar date `years` later (UTC; 29 February rolls to 1 March). */
export function addYears(iso: string, years: number): string {
  const d = new Date(iso);
  return new Date(Date.UTC(d.getUTCFullYear() + years, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())).toISOString();
}

/** What the computation reads. */
export interface AllocationInput {
  /** Every usage row of every certificate of interest (all its systems, not only the ones asked about). */
  usage: readonly Usage[];
  systems: ReadonlyMap<string, InformationSystem>;
  /** Oldest first. */
  schedules: readonly FeeSchedule[];
  /** Charges dated in [from, to). */
  from: string;
  to: string;
  now: string;
}

const certificateKey = (u: Usage) => `${u.holder.kind}|${u.holder.value}|${u.ca}|${u.class}`;
const byRegistration = (a: Usage, b: Usage) => (a.firstUsedAt < b.firstUsedAt ? -1 : a.firstUsedAt > b.firstUsedAt ? 1 : a.system < b.system ? -1 : a.system > b.system ? 1 : 0);

/** Every charge dated in the period, for the certificates in the input. */
export function allocate(input: AllocationInput): ChargeLine[] {
  const groups = new Map<string, Usage[]>();
  for (const u of input.usage) {
    const k = certificateKey(u);
    const g = groups.get(k);
    if (g) g.push(u);
    else groups.set(k, [u]);
  }
  const lines: ChargeLine[] = [];
  const price = (at: string, cls: string, which: 'firstIssuance' | 'annualService') => scheduleAt(input.schedules, at)?.prices[cls]?.[which];
  for (const rows of groups.values()) {
    rows.sort(byRegistration);
    const first = rows[0]!;
    const t0 = first.firstUsedAt;
    const settle = addYears(t0, 1);
    const base = { holder: first.holder, ca: first.ca, class: first.class };
    if (t0 >= input.from && t0 < input.to) {
      const sharers = rows.filter((u) => u.firstUsedAt < settle);
      const p = price(t0, first.class, 'firstIssuance');
      const shares = splitEvenly(p ?? 0, sharers.length);
      sharers.forEach((u, i) => {
        const s = input.systems.get(u.system);
        const payer: Payer = s && !s.publicFacing ? { kind: 'builder', code: s.builder.code, name: s.builder.name } : { kind: 'applicant', code: u.holder.value };
        lines.push({ date: t0, kind: 'first-issuance', system: u.system, ...base, sharedBy: sharers.length, price: p ?? 0, amount: shares[i]!, payer, provisional: input.now < settle, priced: p !== undefined });
      });
    }
    for (let n = 1; ; n++) {
      const due = addYears(t0, n);
      // An anniversary still ahead is not a charge yet, even inside the period.
      if (due >= input.to || due > input.now) break;
      if (due < input.from) continue;
      const active = rows.filter((u) => u.firstUsedAt <= due && (!u.endedAt || u.endedAt > due));
      if (active.length === 0) continue;
      const internal = active.find((u) => input.systems.get(u.system)?.publicFacing === false);
      const chosen = internal ?? active[0]!;
      const s = input.systems.get(chosen.system);
      const payer: Payer = internal
        ? internal.unit && internal.unit !== s?.operator.code
          ? { kind: 'using-unit', code: internal.unit }
          : { kind: 'using-unit', code: s!.operator.code, name: s!.operator.name }
        : { kind: 'applicant', code: chosen.holder.value };
      const p = price(due, first.class, 'annualService');
      lines.push({ date: due, kind: 'annual-service', system: chosen.system, ...base, sharedBy: 1, price: p ?? 0, amount: p ?? 0, payer, provisional: false, priced: p !== undefined });
    }
  }
  return lines.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

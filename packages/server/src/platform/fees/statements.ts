/**
 * Fee statements for a period: per information system (every charge that arises from it, whoever
 * pays) and per unit (every charge the unit pays: first issuance of the systems it builds, annual
 * fees of the certificates it uses, and what it pays as an applicant organisation). JSON with
 * amounts in fen; CSV with amounts in yuan. Resident IDs are masked in both (statements travel).
 */
import { InvalidRequestError, NotFoundError } from '../../errors.js';
import type { PlatformPrincipal } from '../registry/roles.js';
import type { InformationSystems, InformationSystem } from '../systems/systems.js';
import { maskHolder, normaliseOrganisation } from '../systems/identity.js';
import { allocate, type ChargeLine } from './allocation.js';
import type { FeeSchedules } from './schedule.js';

/** A statement line as shown: the holder masked. */
export type StatementLine = Omit<ChargeLine, 'holder'> & { holder: string };

/** A statement for one system or one unit. */
export interface Statement {
  subject: { kind: 'system' | 'unit'; id: string; name?: string };
  /** [from, to) as ISO date-times. */
  from: string;
  to: string;
  generatedAt: string;
  lines: StatementLine[];
  /** Sums in fen. */
  totals: { firstIssuance: number; annualService: number; total: number; unpricedLines: number; provisionalLines: number };
}

/** The longest period one statement covers. */
const MAX_PERIOD_DAYS = 3660;

/** Checks a period; the default is the current calendar year (UTC). */
export function checkPeriod(q: { from?: unknown; to?: unknown }, now: Date): { from: string; to: string } {
  const at = (v: unknown, name: string, dflt: string) => {
    if (v === undefined || v === '') return dflt;
    const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(t)) throw new InvalidRequestError('platform.fees.period', `"${name}" must be an ISO-8601 date or date-time`);
    return new Date(t).toISOString();
  };
  const y = now.getUTCFullYear();
  const from = at(q.from, 'from', `${y}-01-01T00:00:00.000Z`);
  const to = at(q.to, 'to', `${y + 1}-01-01T00:00:00.000Z`);
  if (from >= to) throw new InvalidRequestError('platform.fees.period', '"from" must be before "to"');
  if (Date.parse(to) - Date.parse(from) > MAX_PERIOD_DAYS * 86_400_000) throw new InvalidRequestError('platform.fees.period', `a statement covers at most ${MAX_PERIOD_DAYS} days`);
  return { from, to };
}

const lineOrder = (a: ChargeLine, b: ChargeLine) => {
  const ka = [a.date, a.kind, a.system, a.holder.value, a.ca, a.class];
  const kb = [b.date, b.kind, b.system, b.holder.value, b.ca, b.class];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
};

/** Statements over the systems registry and the fee schedules. */
export class FeeStatements {
  constructor(private readonly systems: InformationSystems, private readonly schedules: FeeSchedules, private readonly clock: () => Date = () => new Date()) {}

  /** The statement of one system the principal may see. */
  async forSystem(actor: PlatformPrincipal, id: string, period: { from?: unknown; to?: unknown }): Promise<Statement> {
    const p = checkPeriod(period, this.clock());
    const s = await this.systems.getFor(actor, id);
    const lines = (await this.compute({ systems: [id], units: [] }, p)).filter((l) => l.system === id);
    return this.statement({ kind: 'system', id, name: s.displayName }, p, lines);
  }

  /** The statement of one unit (organisation code or unified social credit code); a province sees only the charges of its systems. */
  async forUnit(actor: PlatformPrincipal, code: string, period: { from?: unknown; to?: unknown }): Promise<Statement> {
    const unit = normaliseOrganisation(code, 'the unit');
    const p = checkPeriod(period, this.clock());
    const own = await this.systems.systemsOfUnit(unit);
    const { lines, systems } = await this.computeWithSystems({ systems: own, units: [unit] }, p);
    const visible = lines.filter((l) => l.payer.code === unit && (actor.role !== 'provincial' || systems.get(l.system)?.scope === actor.province));
    if (own.length === 0 && !lines.some((l) => l.payer.code === unit)) {
      // Nothing at all names this unit: say so rather than answer an empty statement for a typo.
      throw new NotFoundError('platform.fees.unit-unknown', `no system or usage names the unit ${unit}`);
    }
    const name = [...systems.values()].flatMap((s) => [s.operator, s.builder]).find((u) => u.code === unit)?.name;
    return this.statement({ kind: 'unit', id: unit, ...(name ? { name } : {}) }, p, visible);
  }

  private async compute(filter: { systems: readonly string[]; units: readonly string[] }, p: { from: string; to: string }): Promise<ChargeLine[]> {
    return (await this.computeWithSystems(filter, p)).lines;
  }

  private async computeWithSystems(filter: { systems: readonly string[]; units: readonly string[] }, p: { from: string; to: string }): Promise<{ lines: ChargeLine[]; systems: Map<string, InformationSystem> }> {
    const usage = await this.systems.usageOfCertificates(filter);
    const systems = new Map((await this.systems.getMany([...new Set(usage.map((u) => u.system))])).map((s) => [s.id, s]));
    const lines = allocate({ usage, systems, schedules: await this.schedules.list(), from: p.from, to: p.to, now: this.clock().toISOString() });
    return { lines: lines.sort(lineOrder), systems };
  }

  private statement(subject: Statement['subject'], p: { from: string; to: string }, lines: ChargeLine[]): Statement {
    const sum = (kind: ChargeLine['kind']) => lines.filter((l) => l.kind === kind).reduce((a, l) => a + l.amount, 0);
    const firstIssuance = sum('first-issuance');
    const annualService = sum('annual-service');
    return {
      subject,
      from: p.from,
      to: p.to,
      generatedAt: this.clock().toISOString(),
      lines: lines.map((l) => ({ ...l, holder: maskHolder(l.holder), payer: l.payer.kind === 'applicant' ? { ...l.payer, code: maskHolder(l.holder) } : l.payer })),
      totals: { firstIssuance, annualService, total: firstIssuance + annualService, unpricedLines: lines.filter((l) => !l.priced).length, provisionalLines: lines.filter((l) => l.provisional).length },
    };
  }
}

/** Fen as yuan with two decimals ("1234.05"), by integer arithmetic. */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const a = Math.abs(fen);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

function csvField(v: string): string {
  // A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A statement as CSV (RFC 4180, UTF-8): one line per charge with amounts in yuan, then a total line. */
export function statementCsv(s: Statement): string {
  const header = ['date', 'kind', 'system', 'holder', 'ca', 'class', 'shared_by', 'price_yuan', 'amount_yuan', 'payer_kind', 'payer_code', 'payer_name', 'provisional', 'priced'];
  const out = [header.join(',')];
  for (const l of s.lines) {
    out.push(
      [l.date, l.kind, l.system, l.holder, l.ca, l.class, String(l.sharedBy), fenToYuan(l.price), fenToYuan(l.amount), l.payer.kind, l.payer.code, l.payer.name ?? '', String(l.provisional), String(l.priced)].map(csvField).join(','),
    );
  }
  out.push(['total', '', '', '', '', '', '', '', fenToYuan(s.totals.total), '', '', '', '', ''].join(','));
  return out.join('\r\n') + '\r\n';
}

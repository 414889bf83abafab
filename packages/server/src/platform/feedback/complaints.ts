/**
 * Service-quality feedback (Art. 11): complaints that units and certificate holders file against
 * a CA. The CA's home province handles it (the national office may always step in):
 * `received → handling → resolved | rejected`, each step with who, when and a note, the closing
 * one with its outcome. The CA sees the complaints about itself and answers them (its answers
 * join the history); it does not see the complainant's contact, which only the offices need.
 * The complainant gets a receipt to follow the state without an account. Every change is audited
 * in its own transaction.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database, Executor } from '../../store/database.js';
import { nowIso } from '../../store/columns.js';
import { all, first, run } from '../../store/sql.js';
import { appendAudit } from '../../audit/log.js';
import { tokenHash } from '../../auth/secrets.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../errors.js';
import type { CaRegistry } from '../registry/registry.js';
import type { CaStatus } from '../registry/types.js';
import { auditActor, type PlatformPrincipal } from '../registry/roles.js';
import { canSee, refuse } from '../registry/access.js';

/** What a complaint is about. */
export const COMPLAINT_CATEGORIES = ['issuance', 'renewal', 'revocation', 'pin-unlock', 'key-recovery', 'availability', 'fees', 'conduct', 'other'] as const;
export type ComplaintCategory = (typeof COMPLAINT_CATEGORIES)[number];

/** Who complains: a using unit (hospital, administration, company) or a certificate holder. */
export const COMPLAINANT_KINDS = ['unit', 'holder'] as const;
export type ComplainantKind = (typeof COMPLAINANT_KINDS)[number];

/** Where a complaint stands. */
export const COMPLAINT_STATUSES = ['received', 'handling', 'resolved', 'rejected'] as const;
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];

/** How to reach the complainant. */
export interface ComplaintContact {
  name: string;
  organisation?: string;
  phone?: string;
  email?: string;
}

/** One step of a complaint's history. */
export interface ComplaintStep {
  at: string;
  by: string;
  /** A state change ('received', 'handling', 'resolved', 'rejected'), an office's 'note' or the CA's 'response'. */
  action: ComplaintStatus | 'note' | 'response';
  note: string;
}

/** A complaint as the platform returns it (`contact` absent for the CA role). */
export interface Complaint {
  id: string;
  ca: string;
  /** The handling office: the CA's home province code. */
  handler: string;
  category: ComplaintCategory;
  complainantKind: ComplainantKind;
  contact?: ComplaintContact;
  subject: string;
  description: string;
  /** The certificate concerned, if any (lower-case hex). */
  serial?: string;
  status: ComplaintStatus;
  outcome?: string;
  history: ComplaintStep[];
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

/** Counts of complaints about one CA in a period (by filing time). */
export interface ComplaintCounts {
  ca: string;
  total: number;
  received: number;
  handling: number;
  resolved: number;
  rejected: number;
}

/** The statuses of a CA that complaints can be filed against. */
const COMPLAINABLE: readonly CaStatus[] = ['connected', 'suspended', 'terminated'];

/** At most this many complaints in one list answer (newest first). */
const LIST_LIMIT = 1000;

/** Longest texts accepted (the route's body limit bounds the whole submission too). */
export const COMPLAINT_LIMITS = { subject: 200, description: 4000, note: 2000, outcome: 2000, contactField: 200 } as const;

interface Row {
  id: string;
  ca: string;
  handler: string;
  category: ComplaintCategory;
  complainant_kind: ComplainantKind;
  contact: string;
  subject: string;
  description: string;
  serial: string | null;
  status: ComplaintStatus;
  outcome: string | null;
  history: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$/;
const PHONE = /^\+?[0-9][0-9 -]{4,30}$/;
const SERIAL = /^[0-9a-f]{1,64}$/;
const ID = /^[0-9a-f-]{36}$/;

function bad(code: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`platform.complaint.${code}`, message);
}

function text(v: unknown, field: string, max: number, required = true): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) throw bad('field', `${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw bad('field', `${field} must be a non-empty text of at most ${max} characters`);
  return v.trim();
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw bad('field', `${field} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Checks a public submission; every fault is a 400 naming the field. */
export function checkSubmission(body: unknown): { ca: string; category: ComplaintCategory; complainantKind: ComplainantKind; contact: ComplaintContact; subject: string; description: string; serial?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'a complaint is a JSON object');
  const b = body as Record<string, unknown>;
  const ca = text(b.ca, 'ca', 63)!;
  const c = b.contact;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad('contact', 'contact must be an object: { name, organisation?, phone?, email? }');
  const co = c as Record<string, unknown>;
  const max = COMPLAINT_LIMITS.contactField;
  const contact: ComplaintContact = { name: text(co.name, 'contact.name', max)! };
  const organisation = text(co.organisation, 'contact.organisation', max, false);
  const phone = text(co.phone, 'contact.phone', 32, false);
  const email = text(co.email, 'contact.email', 254, false);
  if (phone !== undefined && !PHONE.test(phone)) throw bad('contact', 'contact.phone must be a telephone number');
  if (email !== undefined && !EMAIL.test(email)) throw bad('contact', 'contact.email must be an e-mail address');
  if (phone === undefined && email === undefined) throw bad('contact', 'give contact.phone or contact.email, so that the office can answer');
  if (organisation !== undefined) contact.organisation = organisation;
  if (phone !== undefined) contact.phone = phone;
  if (email !== undefined) contact.email = email;
  const complainantKind = oneOf(b.complainantKind, 'complainantKind', COMPLAINANT_KINDS);
  if (complainantKind === 'unit' && !contact.organisation) throw bad('contact', 'a unit names its organisation (contact.organisation)');
  const serial = text(b.serial, 'serial', 64, false);
  if (serial !== undefined && !SERIAL.test(serial)) throw bad('serial', 'serial must be the certificate serial number in lower-case hex');
  return {
    ca,
    category: oneOf(b.category, 'category', COMPLAINT_CATEGORIES),
    complainantKind,
    contact,
    subject: text(b.subject, 'subject', COMPLAINT_LIMITS.subject)!,
    description: text(b.description, 'description', COMPLAINT_LIMITS.description)!,
    ...(serial !== undefined ? { serial } : {}),
  };
}

function isoOr(v: unknown, dflt: string, name: string): string {
  if (v === undefined || v === '') return dflt;
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw bad('period', `"${name}" must be an ISO-8601 date or date-time`);
  return new Date(t).toISOString();
}

function view(r: Row, withContact: boolean): Complaint {
  const c: Complaint = {
    id: r.id,
    ca: r.ca,
    handler: r.handler,
    category: r.category,
    complainantKind: r.complainant_kind,
    subject: r.subject,
    description: r.description,
    status: r.status,
    history: JSON.parse(r.history) as ComplaintStep[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (withContact) c.contact = JSON.parse(r.contact) as ComplaintContact;
  if (r.serial) c.serial = r.serial;
  if (r.outcome) c.outcome = r.outcome;
  if (r.closed_at) c.closedAt = r.closed_at;
  return c;
}

/** The principal the audit log records for a public submission. */
const PUBLIC_ACTOR = { id: 'platform-public', role: 'public', bootstrap: false } as const;

/** The complaints of the platform. */
export class Complaints {
  constructor(
    private readonly database: Database,
    private readonly registry: CaRegistry,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Files a public complaint against a registered CA; answers its id and the receipt (shown once) to follow it. */
  async submit(body: unknown): Promise<{ id: string; receipt: string; status: ComplaintStatus; handler: string }> {
    const s = checkSubmission(body);
    const ca = await this.registry.get(s.ca);
    // Only CAs that serve or served units and holders; an applicant still under review serves no one.
    if (!ca || !COMPLAINABLE.includes(ca.status)) throw bad('ca', `no certification service agency named "${s.ca}" is connected to the platform`);
    const id = randomUUID();
    const receipt = randomBytes(16).toString('hex');
    const now = nowIso(this.clock());
    const history: ComplaintStep[] = [{ at: now, by: 'complainant', action: 'received', note: '' }];
    await this.database.transaction(async (tx) => {
      await run(
        tx,
        sql`insert into platform_complaints (id, ca, handler, category, complainant_kind, contact, subject, description, serial, status, outcome, history, receipt_sha256, created_at, updated_at, closed_at)
            values (${id}, ${ca.name}, ${ca.homeProvince}, ${s.category}, ${s.complainantKind}, ${JSON.stringify(s.contact)}, ${s.subject}, ${s.description}, ${s.serial ?? null}, 'received', ${null}, ${JSON.stringify(history)}, ${tokenHash(receipt)}, ${now}, ${now}, ${null})`,
      );
      await appendAudit(tx, { actor: PUBLIC_ACTOR, action: 'platform.complaint.submit', target: `platform:complaint:${id}`, details: { ca: ca.name, category: s.category, complainantKind: s.complainantKind } }, this.clock());
    });
    return { id, receipt, status: 'received', handler: ca.homeProvince };
  }

  /** The state of a complaint for its complainant (receipt required): status, outcome and dates, without notes. */
  async publicStatus(id: string, receipt: string): Promise<{ id: string; ca: string; status: ComplaintStatus; outcome?: string; createdAt: string; updatedAt: string; closedAt?: string }> {
    const r = ID.test(id) && typeof receipt === 'string' && receipt.length <= 64 ? await first<Row & { receipt_sha256: string }>(this.database.db, sql`select * from platform_complaints where id = ${id}`) : undefined;
    // The same answer for an unknown id and a wrong receipt: ids cannot be probed.
    if (!r || r.receipt_sha256 !== tokenHash(receipt)) throw new NotFoundError('platform.complaint.unknown', 'no complaint with this id and receipt');
    return { id: r.id, ca: r.ca, status: r.status, ...(r.outcome ? { outcome: r.outcome } : {}), createdAt: r.created_at, updatedAt: r.updated_at, ...(r.closed_at ? { closedAt: r.closed_at } : {}) };
  }

  /** The complaints the caller may see, newest first; filters by CA and status. */
  async list(actor: PlatformPrincipal, filter: { ca?: string; status?: string } = {}): Promise<Complaint[]> {
    if (filter.status !== undefined) oneOf(filter.status, 'status', COMPLAINT_STATUSES);
    const visible = await this.visibleCas(actor);
    if (visible?.size === 0) return [];
    const parts = [sql`1 = 1`];
    if (filter.ca !== undefined) parts.push(sql`ca = ${filter.ca}`);
    if (filter.status !== undefined) parts.push(sql`status = ${filter.status}`);
    if (visible) parts.push(sql`ca in (${sql.join([...visible])})`);
    const rows = await all<Row>(this.database.db, sql`select * from platform_complaints where ${sql.join(parts, sql` and `)} order by created_at desc, id limit ${LIST_LIMIT}`);
    return rows.map((r) => view(r, actor.role !== 'ca'));
  }

  /** One complaint the caller may see (404 otherwise). */
  async get(actor: PlatformPrincipal, id: string): Promise<Complaint> {
    const r = await this.row(this.database.db, id);
    const visible = await this.visibleCas(actor);
    if (visible && !visible.has(r.ca)) throw new NotFoundError('platform.complaint.unknown', `no complaint ${id}`);
    return view(r, actor.role !== 'ca');
  }

  /** The handling office takes the complaint up: received → handling. */
  take(actor: PlatformPrincipal, id: string, note?: unknown): Promise<Complaint> {
    return this.step(actor, id, ['received'], 'handling', note, undefined);
  }

  /** The handling office closes it with its outcome: handling → resolved. */
  resolve(actor: PlatformPrincipal, id: string, outcome: unknown, note?: unknown): Promise<Complaint> {
    return this.step(actor, id, ['handling'], 'resolved', note, outcome);
  }

  /** The handling office rejects it (unfounded, not the CA's matter…), with its reason as the outcome. */
  reject(actor: PlatformPrincipal, id: string, outcome: unknown, note?: unknown): Promise<Complaint> {
    return this.step(actor, id, ['received', 'handling'], 'rejected', note, outcome);
  }

  /** A note of the handling office, or the CA's response, on an open complaint. */
  async comment(actor: PlatformPrincipal, id: string, note: unknown): Promise<Complaint> {
    const text_ = text(note, 'note', COMPLAINT_LIMITS.note)!;
    const r = await this.row(this.database.db, id);
    const isCa = actor.role === 'ca';
    if (isCa) {
      if (actor.ca !== r.ca) throw new NotFoundError('platform.complaint.unknown', `no complaint ${id}`);
    } else {
      await this.mayHandle(actor, r, 'platform.complaint.note');
    }
    if (r.status === 'resolved' || r.status === 'rejected') throw new ConflictError('platform.complaint.closed', `complaint ${id} is ${r.status}; it takes no more notes`);
    return this.write(actor, r, [r.status], r.status, { action: isCa ? 'response' : 'note', note: text_ }, undefined);
  }

  /** Complaints per CA filed in [from, to), by current state; scoped like the list. */
  async counts(actor: PlatformPrincipal, period: { from?: string; to?: string } = {}): Promise<ComplaintCounts[]> {
    const from = isoOr(period.from, '0000', 'from');
    const to = isoOr(period.to, nowIso(this.clock()), 'to');
    if (from > to) throw bad('period', '"from" is after "to"');
    const rows = await all<{ ca: string; status: ComplaintStatus; n: number | string }>(
      this.database.db,
      sql`select ca, status, count(*) as n from platform_complaints where created_at >= ${from} and created_at < ${to} group by ca, status`,
    );
    const visible = await this.visibleCas(actor);
    const out = new Map<string, ComplaintCounts>();
    for (const r of rows) {
      if (visible && !visible.has(r.ca)) continue;
      let c = out.get(r.ca);
      if (!c) out.set(r.ca, (c = { ca: r.ca, total: 0, received: 0, handling: 0, resolved: 0, rejected: 0 }));
      c[r.status] += Number(r.n);
      c.total += Number(r.n);
    }
    return [...out.values()].sort((a, b) => (a.ca < b.ca ? -1 : 1));
  }

  /** Undefined: every CA; otherwise the names the caller may see. */
  private async visibleCas(actor: PlatformPrincipal): Promise<Set<string> | undefined> {
    if (actor.role === 'national' || actor.role === 'auditor') return undefined;
    if (actor.role === 'ca') return new Set(actor.ca ? [actor.ca] : []);
    return new Set((await this.registry.list()).filter((ca) => canSee(actor, ca)).map((ca) => ca.name));
  }

  private async row(ex: Executor, id: string): Promise<Row> {
    const r = ID.test(id) ? await first<Row>(ex, sql`select * from platform_complaints where id = ${id}`) : undefined;
    if (!r) throw new NotFoundError('platform.complaint.unknown', `no complaint ${id}`);
    return r;
  }

  /** The national office, or the provincial office of the CA's home province; others are refused (audited), or told 404 if they may not even see it. */
  private async mayHandle(actor: PlatformPrincipal, r: Row, action: string): Promise<void> {
    if (actor.role === 'national') return;
    if (actor.role === 'provincial' && actor.province === r.handler) return;
    const visible = await this.visibleCas(actor);
    if (visible && !visible.has(r.ca)) throw new NotFoundError('platform.complaint.unknown', `no complaint ${r.id}`);
    throw await refuse(this.database, this.clock, actor, action, `platform:complaint:${r.id}`, 'platform.scope.complaint', `complaint ${r.id} is handled by the office of ${r.handler} or the national office`);
  }

  private async step(actor: PlatformPrincipal, id: string, from: ComplaintStatus[], to: ComplaintStatus, note: unknown, outcome: unknown): Promise<Complaint> {
    const noteText = text(note, 'note', COMPLAINT_LIMITS.note, false) ?? '';
    const closing = to === 'resolved' || to === 'rejected';
    const outcomeText = closing ? text(outcome, 'outcome', COMPLAINT_LIMITS.outcome)! : undefined;
    const r = await this.row(this.database.db, id);
    await this.mayHandle(actor, r, `platform.complaint.${to}`);
    if (!from.includes(r.status)) throw new ConflictError('platform.complaint.state', `complaint ${id} is ${r.status}; it can become ${to} only from ${from.join(' or ')}`);
    return this.write(actor, r, from, to, { action: to, note: noteText }, outcomeText);
  }

  /** Writes a step; the status condition makes a concurrent change lose with 409 instead of overwriting. */
  private async write(actor: PlatformPrincipal, r: Row, from: ComplaintStatus[], to: ComplaintStatus, step: Omit<ComplaintStep, 'at' | 'by'>, outcome: string | undefined): Promise<Complaint> {
    const now = nowIso(this.clock());
    const by = auditActor(actor).id;
    const history = [...(JSON.parse(r.history) as ComplaintStep[]), { at: now, by, ...step }];
    const closedAt = to === 'resolved' || to === 'rejected' ? now : null;
    const updated = await this.database.transaction(async (tx) => {
      const n = await run(
        tx,
        sql`update platform_complaints set status = ${to}, outcome = ${outcome ?? r.outcome}, history = ${JSON.stringify(history)}, updated_at = ${now}, closed_at = ${closedAt ?? r.closed_at}
            where id = ${r.id} and status = ${r.status} and updated_at = ${r.updated_at}`,
      );
      if (n === 0) return undefined;
      await appendAudit(tx, { actor: auditActor(actor), action: `platform.complaint.${step.action}`, target: `platform:complaint:${r.id}`, details: { ca: r.ca, from: r.status, to, ...(outcome ? { outcome } : {}) } }, this.clock());
      return this.row(tx, r.id);
    });
    if (!updated) throw new ConflictError('platform.complaint.changed', `complaint ${r.id} changed meanwhile; read it again (allowed from ${from.join(', ')})`);
    return view(updated, actor.role !== 'ca');
  }
}

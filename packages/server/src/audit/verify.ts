/**
 * Verifying the audit log: recomputes every entry's hash, follows the chain, checks the head and
 * every signed checkpoint, and names each fault with its kind and place (docs/audit.md):
 * - edited: an entry's content no longer matches its hash, or (rehashed) the next entry recorded
 *   a different hash for it;
 * - deleted: sequence numbers are missing (between two entries, at the tail below the head, or
 *   below a signed checkpoint);
 * - inserted: an entry that forks the chain (claims a predecessor another entry already claims
 *   and nobody follows it), has no sequence number, or lies beyond the head;
 * - reordered: an entry intact except for its sequence number, whose hash proves where it was;
 * - bad-checkpoint: a signature that does not verify (or an unknown key); rewritten: a valid
 *   checkpoint whose hash the chain no longer reaches; untrusted-key: a key that is not pinned.
 * Reads only; runs over any Executor (the service's connection, or a read-only one from the CLI).
 */
import { sql } from 'kysely';
import { Certificate, verifyData } from '@health-pki/pki';
import { createHash } from 'node:crypto';
import type { Executor } from '../store/database.js';
import { all, first } from '../store/sql.js';
import { GENESIS_HASH, entryHash, type ChainedFields } from './chain.js';
import { auditKeys, checkpointEncoding, listCheckpoints } from './checkpoints.js';

/** What went wrong, by kind. */
export type AuditFaultKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'bad-checkpoint' | 'rewritten' | 'untrusted-key';

/** One fault: its kind, where (seq, or the range seq..toSeq; the row id when one row is meant) and a sentence. */
export interface AuditFault {
  kind: AuditFaultKind;
  seq?: number;
  toSeq?: number;
  id?: string;
  /** For reordered entries: the seq the entry's hash was made with (for a run: that of its first entry). */
  originalSeq?: number;
  message: string;
}

/** The verdict on a whole log. */
export interface AuditVerifyReport {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  checkpoints: { count: number; valid: number; last: { seq: number; at: string; keyId: string } | null };
  /** The audit signing keys; `trusted` is null when no certificate was pinned. */
  keys: Array<{ id: string; subject: string; sha256: string; trusted: boolean | null }>;
  faults: AuditFault[];
}

/** Options of a verification. */
export interface VerifyOptions {
  /** Pinned audit certificates: checkpoints signed by any other key are faults. */
  trusted?: Certificate[];
}

interface Row {
  id: string;
  seq: number | string | null;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string | null;
  hash: string | null;
}

/** An entry as the verifier keeps it: `orig` is the seq its hash proves (null: the content was changed). */
interface Rec {
  id: string;
  seq: number | null;
  hash: string;
  prev: string;
  orig: number | null;
}

const PAGE = 2000;

function fieldsOf(r: Row, seq: number): ChainedFields {
  return { seq, id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, details: r.details, prevHash: r.prev_hash ?? '' };
}

/** Reads every entry, in seq order, keeping the full row only of entries whose hash does not match. */
async function loadEntries(ex: Executor): Promise<{ recs: Rec[]; suspects: Map<string, Row> }> {
  const recs: Rec[] = [];
  const suspects = new Map<string, Row>();
  const take = (r: Row) => {
    const seq = r.seq === null ? null : Number(r.seq);
    const rec: Rec = { id: r.id, seq, hash: r.hash ?? '', prev: r.prev_hash ?? '', orig: null };
    if (seq !== null && rec.hash === entryHash(fieldsOf(r, seq))) rec.orig = seq;
    else suspects.set(r.id, r);
    recs.push(rec);
  };
  const cols = sql`id, seq, at, actor, action, target, details, prev_hash, hash`;
  for (const r of await all<Row>(ex, sql`select ${cols} from audit_log where seq is null order by id`)) take(r);
  let last: { seq: number; id: string } | undefined;
  for (;;) {
    const page = last
      ? await all<Row>(ex, sql`select ${cols} from audit_log where seq > ${last.seq} or (seq = ${last.seq} and id > ${last.id}) order by seq, id limit ${PAGE}`)
      : await all<Row>(ex, sql`select ${cols} from audit_log where seq is not null order by seq, id limit ${PAGE}`);
    for (const r of page) take(r);
    if (page.length < PAGE) break;
    const tail = page[page.length - 1]!;
    last = { seq: Number(tail.seq), id: tail.id };
  }
  return { recs, suspects };
}

/** Verifies the audit log read through `ex`. */
export async function verifyAuditLog(ex: Executor, opts: VerifyOptions = {}): Promise<AuditVerifyReport> {
  const headRow = await first<{ seq: number | string; hash: string }>(ex, sql`select seq, hash from audit_head where id = 1`);
  const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
  const { recs, suspects } = await loadEntries(ex);
  const faults: AuditFault[] = [];
  const flagged = new Set<Rec>();

  const byHash = new Map<string, Rec>();
  const byPrev = new Map<string, Rec[]>();
  for (const r of recs) {
    if (!byHash.has(r.hash)) byHash.set(r.hash, r);
    const list = byPrev.get(r.prev);
    if (list) list.push(r);
    else byPrev.set(r.prev, [r]);
  }

  // 1. Content: an entry whose hash fails may be intact but renumbered; its hash then proves where it was.
  for (const r of recs) {
    if (r.orig !== null) continue;
    const row = suspects.get(r.id)!;
    const candidates = new Set<number>();
    if (r.seq !== null) for (let d = -3; d <= 3; d++) candidates.add(r.seq + d);
    const pred = byHash.get(r.prev);
    if (pred?.seq != null) candidates.add(pred.seq + 1);
    for (const s of byPrev.get(r.hash) ?? []) if (s.seq !== null) candidates.add(s.seq - 1);
    for (const c of candidates) {
      if (c >= 1 && c !== r.seq && entryHash(fieldsOf(row, c)) === r.hash) r.orig = c;
    }
  }

  // 2. Insertions: rows without a place, beyond the head, or forking the chain without a follower.
  const inserted = new Set<Rec>();
  const referenced = (r: Rec) => (byPrev.get(r.hash) ?? []).some((s) => s !== r);
  const isTail = (r: Rec) => head !== null && r.hash === head.hash;
  for (const r of recs) {
    if (r.seq === null) inserted.add(r);
    else if (head && r.seq > head.seq) inserted.add(r);
  }
  for (const group of byPrev.values()) {
    if (group.length < 2) continue;
    const genuine = group.filter((r) => !inserted.has(r) && (referenced(r) || isTail(r)));
    const keep = genuine.length > 0 ? genuine : [group.find((r) => !inserted.has(r)) ?? group[0]!];
    for (const r of group) if (!keep.includes(r)) inserted.add(r);
  }
  for (const r of recs) {
    if (!inserted.has(r) || r.seq === null) continue;
    if (r.seq !== null && head && r.seq > head.seq) faults.push({ kind: 'inserted', seq: r.seq, id: r.id, message: `entry ${r.id} at seq ${r.seq} lies beyond the chain's head (seq ${head.seq})` });
    else faults.push({ kind: 'inserted', seq: r.seq, id: r.id, message: `entry ${r.id} at seq ${r.seq} was not written by the chain: it claims the predecessor of another entry and no entry follows it` });
  }
  for (const r of recs) if (r.seq === null) faults.push({ kind: 'inserted', id: r.id, message: `entry ${r.id} has no sequence number` });

  const kept = recs.filter((r) => !inserted.has(r)) as Array<Rec & { seq: number }>;
  for (const r of kept) {
    if (r.orig === null) {
      flagged.add(r);
      faults.push({ kind: 'edited', seq: r.seq, id: r.id, message: `entry seq ${r.seq} (${r.id}) was changed: its content no longer matches its hash` });
    } else if (r.orig !== r.seq) {
      flagged.add(r);
      faults.push({ kind: 'reordered', seq: r.seq, id: r.id, originalSeq: r.orig, message: `entry ${r.id} now at seq ${r.seq} was written as seq ${r.orig}` });
    }
  }

  // 3. The chain in seq order: gaps are deletions; a broken link nothing else explains is a rehashed edit.
  const present = new Set<number>();
  for (const r of recs) if (r.seq !== null) present.add(r.seq);
  const missing = (from: number, to: number) => {
    for (let s = from; s <= to; s++) {
      if (present.has(s)) continue;
      let e = s;
      while (e + 1 <= to && !present.has(e + 1)) e++;
      faults.push({ kind: 'deleted', seq: s, ...(e > s ? { toSeq: e } : {}), message: e > s ? `entries seq ${s}..${e} are missing` : `entry seq ${s} is missing` });
      s = e;
    }
  };
  const keptBySeq = new Map<number, Rec>();
  let prev: (Rec & { seq: number }) | undefined;
  for (const r of kept) {
    if (prev && r.seq === prev.seq) {
      faults.push({ kind: 'inserted', seq: r.seq, id: r.id, message: `entry ${r.id} repeats seq ${r.seq}` });
      continue;
    }
    keptBySeq.set(r.seq, r);
    const expected = prev ? prev.seq + 1 : 1;
    if (r.seq > expected) missing(expected, r.seq - 1);
    const gapBefore = !present.has(r.seq - 1) && r.seq > 1;
    const adjacent = prev !== undefined && prev.seq === r.seq - 1;
    const linkTo = prev ? prev.hash : GENESIS_HASH;
    if (!gapBefore && r.prev !== linkTo && !flagged.has(r) && !(prev && flagged.has(prev)) && (adjacent || r.seq === 1)) {
      if (prev) {
        flagged.add(prev);
        faults.push({ kind: 'edited', seq: prev.seq, id: prev.id, message: `entry seq ${prev.seq} (${prev.id}) was changed and rehashed: entry seq ${r.seq} recorded a different hash for it` });
      } else {
        faults.push({ kind: 'edited', seq: r.seq, id: r.id, message: `entry seq ${r.seq} does not start from the genesis hash` });
      }
    }
    prev = r;
  }
  const lastSeq = prev?.seq ?? 0;
  if (head && head.seq > lastSeq) {
    faults.push({ kind: 'deleted', seq: lastSeq + 1, ...(head.seq > lastSeq + 1 ? { toSeq: head.seq } : {}), message: `the log ends at seq ${lastSeq} but its head records seq ${head.seq}: the last entries were removed` });
  } else if (head && prev && head.seq === lastSeq && head.hash !== prev.hash && !flagged.has(prev)) {
    flagged.add(prev);
    faults.push({ kind: 'edited', seq: prev.seq, id: prev.id, message: `the last entry (seq ${prev.seq}) differs from the one the chain's head recorded` });
  }

  // 4. Checkpoints: each signature, and whether the chain still reaches the signed hash.
  const keys = await auditKeys(ex);
  const keyView = keys.map((k) => ({
    id: k.id,
    subject: k.certificate.subjectText,
    sha256: createHash('sha256').update(k.certificate.der).digest('hex'),
    trusted: opts.trusted ? opts.trusted.some((t) => t.der.equals(k.certificate.der)) : null,
  }));
  for (const k of keyView) if (k.trusted === false) faults.push({ kind: 'untrusted-key', message: `audit key ${k.id} (certificate SHA-256 ${k.sha256}) is not the pinned audit certificate` });
  const checkpoints = await listCheckpoints(ex);
  let valid = 0;
  let lastGood: (typeof checkpoints)[number] | undefined;
  const covered = (seq: number) => faults.some((f) => f.kind === 'deleted' && f.seq !== undefined && f.seq <= seq && (f.toSeq ?? f.seq) >= seq);
  for (const cp of checkpoints) {
    const key = keys.find((k) => k.id === cp.keyId);
    const view = keyView.find((k) => k.id === cp.keyId);
    let good = false;
    try {
      good = key !== undefined && view?.trusted !== false && verifyData(key.certificate.publicKey, cp.algorithm, checkpointEncoding(cp), cp.signature);
    } catch {
      good = false;
    }
    if (!good) {
      faults.push({ kind: 'bad-checkpoint', seq: cp.seq, message: key ? `the checkpoint at seq ${cp.seq} (signed ${cp.at}) does not verify with audit key ${cp.keyId}` : `the checkpoint at seq ${cp.seq} names an unknown audit key "${cp.keyId}"` });
      continue;
    }
    valid++;
    const row = keptBySeq.get(cp.seq);
    if (!row) {
      if (!covered(cp.seq)) faults.push({ kind: 'deleted', seq: cp.seq, message: `entry seq ${cp.seq}, signed in the checkpoint of ${cp.at}, is missing: the log was cut back` });
    } else if (row.hash !== cp.hash && !flagged.has(row)) {
      const from = (lastGood?.seq ?? 0) + 1;
      faults.push({ kind: 'rewritten', seq: from, toSeq: cp.seq, message: `the chain no longer reaches the hash signed at seq ${cp.seq} (${cp.at}): entries between seq ${from} and ${cp.seq} were rewritten` });
    }
    lastGood = cp;
  }

  const lastCp = checkpoints[checkpoints.length - 1];
  return {
    ok: faults.length === 0,
    entries: recs.length,
    head,
    checkpoints: { count: checkpoints.length, valid, last: lastCp ? { seq: lastCp.seq, at: lastCp.at, keyId: lastCp.keyId } : null },
    keys: keyView,
    faults: collapse(faults),
  };
}

/** Faults sorted by place, runs of entries renumbered by the same amount merged into one. */
function collapse(faults: AuditFault[]): AuditFault[] {
  const sorted = [...faults].sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
  const out: AuditFault[] = [];
  const shift = (f: AuditFault) => f.seq! - f.originalSeq!;
  for (const f of sorted) {
    const p = out[out.length - 1];
    if (p && f.kind === 'reordered' && p.kind === 'reordered' && f.seq === (p.toSeq ?? p.seq!) + 1 && shift(f) === shift(p)) {
      p.toSeq = f.seq;
      p.message = `entries seq ${p.seq}..${f.seq} were renumbered by ${shift(f) > 0 ? '+' : ''}${shift(f)} (written as seq ${p.originalSeq}..${f.originalSeq})`;
      delete p.id;
      continue;
    }
    out.push({ ...f });
  }
  return out;
}

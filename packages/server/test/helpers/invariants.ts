/**
 * "Nothing half-done is visible": the consistency rules that must hold between the RA's and the
 * CA's tables after any crash or race, checked straight in the database. Each broken rule is
 * reported as one line naming the row.
 */
import { sql } from 'kysely';
import { verifyAuditLog, type Database } from '../../src/index.js';

async function rows<T>(db: Database, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db.db)).rows;
}

/** Every violated rule, as sentences; empty when the store is consistent. */
export async function consistencyProblems(db: Database): Promise<string[]> {
  const problems: string[] = [];
  // An issued application points at a certificate that exists.
  for (const r of await rows<{ id: string; certificate_serial: string | null }>(
    db,
    sql`select a.id, a.certificate_serial from ra_applications a left join ca_certificates c on c.authority_id = a.authority_id and c.serial = a.certificate_serial where a.state = 'issued' and c.serial is null`,
  )) {
    problems.push(`application ${r.id} is issued but certificate ${r.certificate_serial} does not exist`);
  }
  // Only issued applications have a certificate.
  for (const r of await rows<{ id: string; state: string }>(db, sql`select id, state from ra_applications where state <> 'issued' and certificate_serial is not null`)) {
    problems.push(`application ${r.id} is ${r.state} but has a certificate`);
  }
  // Every holder certificate came out of exactly one approved application (no certificate without its RA record).
  for (const r of await rows<{ serial: string; n: number | string }>(
    db,
    sql`select c.serial, count(a.id) as n from ca_certificates c left join ra_applications a on a.authority_id = c.authority_id and a.certificate_serial = c.serial where c.profile not in ('root-ca', 'sub-ca', 'tsa', 'ocsp-signing') group by c.serial having count(a.id) <> 1`,
  )) {
    problems.push(`certificate ${r.serial} belongs to ${r.n} applications (expected exactly 1)`);
  }
  // Each certificate's status history is complete: versions 1..v, chained, ending in the current status.
  const certs = await rows<{ authority_id: string; serial: string; status: string; version: number | string }>(db, sql`select authority_id, serial, status, version from ca_certificates`);
  const changes = await rows<{ authority_id: string; serial: string; version: number | string; from_status: string | null; to_status: string }>(
    db,
    sql`select authority_id, serial, version, from_status, to_status from ca_status_changes order by authority_id, serial, version`,
  );
  const bySerial = new Map<string, typeof changes>();
  for (const ch of changes) {
    const k = `${ch.authority_id}/${ch.serial}`;
    if (!bySerial.has(k)) bySerial.set(k, []);
    bySerial.get(k)!.push(ch);
  }
  for (const c of certs) {
    const hist = bySerial.get(`${c.authority_id}/${c.serial}`) ?? [];
    const v = Number(c.version);
    if (hist.length !== v) problems.push(`certificate ${c.serial} is at version ${v} but has ${hist.length} status records`);
    let prev: string | null = null;
    hist.forEach((h, i) => {
      if (Number(h.version) !== i + 1) problems.push(`certificate ${c.serial}: status record ${i} has version ${h.version}`);
      if (h.from_status !== prev) problems.push(`certificate ${c.serial}: status record ${h.version} goes from ${h.from_status}, but the previous state was ${prev}`);
      prev = h.to_status;
    });
    if (hist.length && prev !== c.status) problems.push(`certificate ${c.serial} is ${c.status} but its history ends in ${prev}`);
  }
  // Every issuance and status change left its RA event and audit entry.
  for (const r of await rows<{ id: string }>(
    db,
    sql`select a.id from ra_applications a where a.state = 'issued' and not exists (select 1 from ra_events e where e.application_id = a.id and e.action = 'approve')`,
  )) {
    problems.push(`application ${r.id} is issued without its approval record`);
  }
  for (const r of await rows<{ serial: string; n: number | string; e: number | string }>(
    db,
    sql`select s.serial, count(*) as n, (select count(*) from ra_events e where e.serial = s.serial and e.action in ('revoke', 'hold', 'release')) as e from ca_status_changes s join ca_certificates c on c.authority_id = s.authority_id and c.serial = s.serial where s.version > 1 and c.profile not in ('root-ca', 'sub-ca') group by s.serial`,
  )) {
    if (Number(r.n) !== Number(r.e)) problems.push(`certificate ${r.serial} has ${r.n} status changes but ${r.e} RA records of them`);
  }
  const audit = await rows<{ action: string; n: number | string }>(db, sql`select action, count(*) as n from audit_log group by action`);
  const auditCount = (a: string) => Number(audit.find((x) => x.action === a)?.n ?? 0);
  const [issued] = await rows<{ n: number | string }>(db, sql`select count(*) as n from ca_certificates`);
  if (auditCount('ca.issue') + 2 * auditCount('ca.create') !== Number(issued!.n)) {
    problems.push(`${issued!.n} certificates but ${auditCount('ca.issue')} issuance audit entries (+ ${auditCount('ca.create')} CAs)`);
  }
  const [statusChanges] = await rows<{ n: number | string }>(db, sql`select count(*) as n from ca_status_changes where version > 1`);
  const audited = auditCount('ca.revoke') + auditCount('ca.hold') + auditCount('ca.release');
  if (audited !== Number(statusChanges!.n)) problems.push(`${statusChanges!.n} status changes but ${audited} audit entries`);
  // The audit chain is whole: no gap, fork or broken hash left by a race, a rollback or a crash.
  for (const f of (await verifyAuditLog(db.db)).faults) problems.push(`audit chain: ${f.kind} at seq ${f.seq ?? '?'}: ${f.message}`);
  if (db.dialect === 'sqlite') {
    const [check] = await rows<{ integrity_check: string }>(db, sql`pragma integrity_check`);
    if (check?.integrity_check !== 'ok') problems.push(`sqlite integrity_check: ${check?.integrity_check}`);
  }
  return problems;
}

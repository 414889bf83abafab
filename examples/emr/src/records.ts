/**
 * The EMR's medical records and their signatures. A record's signed bytes are kept exactly as
 * signed (never re-serialised), next to the detached CMS signatures over them, so an auditor can
 * re-verify years later. Storage is one JSON file rewritten whole and renamed (a demo's database),
 * or memory for tests.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Who signed in which capacity: the author (doctor) or the countersigner (nurse). */
export type SignatureRole = 'author' | 'countersign';

/** One stored signature. */
export interface StoredSignature {
  role: SignatureRole;
  /** The local account that signed (from the login). */
  account: string;
  /** The exact bytes signed (UTF-8 JSON): the record for the author, a countersignature statement for the nurse. */
  signedBytes: string;
  /** The detached CMS SignedData, base64, with time-stamp and archived validation data. */
  cms: string;
  /** When the EMR stored it (the trusted time is inside, in the time-stamp). */
  storedAt: string;
}

/** A medical record. */
export interface MedicalRecord {
  id: string;
  patient: string;
  content: string;
  author: string;
  createdAt: string;
  /** The exact bytes the author signs (UTF-8 JSON of the fields above). */
  bytes: string;
  signatures: StoredSignature[];
}

/** The bytes of a record as signed: a fixed JSON layout, built once and stored. */
export function recordBytes(r: { id: string; patient: string; content: string; author: string; createdAt: string }): string {
  return JSON.stringify({ type: 'emr-record/1', id: r.id, patient: r.patient, content: r.content, author: r.author, createdAt: r.createdAt });
}

/** SHA-256 (hex) of a string's UTF-8 bytes or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * What a nurse signs: a statement naming the record's bytes and the author's signature by hash, so
 * the countersignature covers both what was written and that this doctor signed it.
 */
export function countersignBytes(record: MedicalRecord, authorCms: string): string {
  return JSON.stringify({
    type: 'emr-countersignature/1',
    record: record.id,
    recordSha256: sha256Hex(record.bytes),
    authorSignatureSha256: sha256Hex(Buffer.from(authorCms, 'base64')),
  });
}

/** Records kept in memory, optionally mirrored to a JSON file. */
export class RecordStore {
  private readonly records = new Map<string, MedicalRecord>();

  private constructor(private readonly file?: string) {}

  /** Opens the store (reading the file when it exists). */
  static open(file?: string): RecordStore {
    const store = new RecordStore(file);
    if (file) {
      let text: string | undefined;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (text) for (const r of JSON.parse(text) as MedicalRecord[]) store.records.set(r.id, r);
    }
    return store;
  }

  /** Creates an unsigned record. */
  create(patient: string, content: string, author: string, now = new Date()): MedicalRecord {
    const base = { id: randomUUID(), patient, content, author, createdAt: now.toISOString() };
    const record: MedicalRecord = { ...base, bytes: recordBytes(base), signatures: [] };
    this.records.set(record.id, record);
    this.save();
    return record;
  }

  /** A record by id. */
  get(id: string): MedicalRecord | undefined {
    return this.records.get(id);
  }

  /** Every record, newest first. */
  list(): MedicalRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Adds a signature. */
  addSignature(id: string, sig: StoredSignature): void {
    const r = this.records.get(id);
    if (!r) throw new Error(`no record ${id}`);
    r.signatures.push(sig);
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify([...this.records.values()], null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/** Reading the bulk-import CSV: RFC 4180 (quoted fields may hold commas, quotes and line breaks — a PEM CSR), UTF-8 with or without BOM. */

/** The columns of a bulk-import file, in the header row (any order; unknown columns are refused). */
export const COLUMNS = ['name', 'resident_id', 'organization', 'department', 'profile', 'email', 'phone', 'csr'] as const;
/** A column name. */
export type ColumnName = (typeof COLUMNS)[number];

/** One data row with its row number in the file (the header is row 1, as a spreadsheet shows it). */
export interface CsvRow {
  row: number;
  values: Partial<Record<ColumnName, string>>;
}

/** Splits CSV text into records of fields; throws `Error('quote')` on an unterminated quoted field. */
export function parseCsv(text: string): string[][] {
  const s = text.replace(/^\uFEFF/, '');
  const out: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      record.push(field);
      out.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('quote');
  if (field !== '' || record.length) {
    record.push(field);
    out.push(record);
  }
  // Blank lines (a trailing newline, spacing) are no records.
  return out.filter((r) => r.some((f) => f.trim() !== ''));
}

/** The header problems of a file, or its rows keyed by column. */
export function readRows(text: string): { error: 'empty' | 'quote' | { unknown: string[] } | { missing: string[] } } | { rows: CsvRow[] } {
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch {
    return { error: 'quote' };
  }
  if (records.length < 2) return { error: 'empty' };
  const header = records[0]!.map((h) => h.trim().toLowerCase());
  const unknown = header.filter((h) => !(COLUMNS as readonly string[]).includes(h));
  if (unknown.length) return { error: { unknown } };
  const missing = (['name', 'profile', 'csr'] as const).filter((c) => !header.includes(c));
  if (missing.length) return { error: { missing } };
  // Row numbers count physical records: the header is row 1, the first applicant row 2.
  return {
    rows: records.slice(1).map((r, i) => ({
      row: i + 2,
      values: Object.fromEntries(header.map((h, k) => [h, (r[k] ?? '').trim()])) as Partial<Record<ColumnName, string>>,
    })),
  };
}

import { ParseError } from '../errors.js';

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** One PEM block: its label (e.g. "CERTIFICATE") and the DER bytes it carries. */
export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Encodes DER bytes as a PEM block with 64-character lines. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Returns every PEM block in the text, in order. */
export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new ParseError('PEM', `invalid base64 in ${m[1]} block`);
    blocks.push({ label: m[1]!, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

function looksLikePem(input: Uint8Array): boolean {
  // DER that carries PEM text (a CMS over a JSON document listing PEM certificates) is still DER.
  if (isOneDerSequence(input)) return false;
  // PEM may be preceded by human-readable text (openssl x509 -text output), so search the start.
  return Buffer.from(input.subarray(0, 4096)).toString('latin1').includes('-----BEGIN ');
}

/** True when the bytes are exactly one DER SEQUENCE (its length field spans the whole input). */
function isOneDerSequence(b: Uint8Array): boolean {
  if (b.length < 2 || b[0] !== 0x30) return false;
  const first = b[1]!;
  if (first < 0x80) return 2 + first === b.length;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || b.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
  return 2 + n + len === b.length;
}

/**
 * Accepts PEM or DER and returns the DER of the first block whose label is one of `labels`
 * (or the input itself when it is DER).
 */
export function toDer(input: Uint8Array | string, labels: string[], what = labels[0] ?? 'object'): Buffer {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  if (!looksLikePem(bytes)) {
    if (bytes.length === 0) throw new ParseError(what, 'empty input');
    return bytes;
  }
  const blocks = parsePemBlocks(bytes.toString('utf8'));
  const block = blocks.find((b) => labels.includes(b.label));
  if (!block) throw new ParseError(what, `no PEM block labelled ${labels.join(' or ')}`);
  return block.der;
}

/** Accepts PEM (several blocks) or a single DER object and returns every DER object with one of `labels`. */
export function toDerList(input: Uint8Array | string, labels: string[], what = labels[0] ?? 'object'): Buffer[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  if (!looksLikePem(bytes)) return [toDer(bytes, labels, what)];
  return parsePemBlocks(bytes.toString('utf8'))
    .filter((b) => labels.includes(b.label))
    .map((b) => b.der);
}

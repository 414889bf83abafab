/**
 * The few bytes of POSIX ustar a backup needs: regular files with short names (a plain name, or
 * one sub-directory and a plain name: `platform/hpki.sqlite`), gzip-compressed,
 * so that an operator can list or unpack a backup with `tar tzf` / `tar xzf` when hpki is not at
 * hand. Reading accepts only what writing produces.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

/** One file of an archive. */
export interface TarEntry {
  name: string;
  data: Buffer;
  /** Permission bits; default 0600. */
  mode?: number;
}

const BLOCK = 512;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** A plain file name, or `dir/name` of two plain segments; never `.`/`..`, never absolute. */
function plainName(name: string): boolean {
  const parts = name.split('/');
  return parts.length <= 2 && parts.every((p) => SEGMENT.test(p) && p !== '.' && p !== '..');
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry, mtime: Date): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(entry.name) > 99 || !plainName(entry.name)) throw new Error(`archive entry name "${entry.name}" is not a plain short file name`);
  h.write(entry.name, 0, 'utf8');
  h.write(octal(entry.mode ?? 0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(entry.data.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A gzip-compressed ustar archive of `entries`. */
export function writeTarGz(entries: TarEntry[], mtime: Date = new Date()): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(parts));
}

/** The regular files of a gzip-compressed ustar archive; throws on anything else. */
export function readTarGz(bytes: Buffer): TarEntry[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes);
  } catch {
    throw new Error('not a gzip-compressed archive');
  }
  const out: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= tar.length) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return out;
    if (h.subarray(257, 262).toString('ascii') !== 'ustar') throw new Error('not a ustar archive');
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    if (!plainName(name)) throw new Error(`archive entry "${name.slice(0, 100)}" is not a plain file name`);
    if ((type !== '0' && type !== '\0') || !Number.isSafeInteger(size) || at + BLOCK + size > tar.length) throw new Error(`archive entry "${name}" is not a complete regular file`);
    out.push({ name, data: Buffer.from(tar.subarray(at + BLOCK, at + BLOCK + size)), mode: parseInt(h.subarray(100, 108).toString('ascii'), 8) & 0o777 });
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error('archive is truncated');
}

/**
 * Outside implementations for the crypto tests: the OpenSSL CLI and BouncyCastle (Java). Inputs
 * go to a fresh temporary directory; nothing here uses packages/pki/src, so a bug there cannot
 * make the outside tool agree with it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A scratch directory with helpers to write/read files and run openssl inside it. */
export interface Scratch {
  dir: string;
  write(name: string, data: Uint8Array | string): string;
  read(name: string): Buffer;
  /** Runs openssl with `args` in the directory; throws with OpenSSL's message unless `allowFail`. */
  openssl(args: string[], allowFail?: boolean): { ok: boolean; stdout: string; stderr: string };
}

/** Runs `fn` with a scratch directory that is removed afterwards. */
export function withScratch<T>(fn: (s: Scratch) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-crypto-'));
  const s: Scratch = {
    dir,
    write: (name, data) => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    },
    read: (name) => readFileSync(join(dir, name)),
    openssl: (args, allowFail = false) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      const ok = r.status === 0;
      if (!ok && !allowFail) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
      return { ok, stdout: r.stdout, stderr: r.stderr };
    },
  };
  try {
    return fn(s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BCPROV = '/usr/share/java/bcprov.jar';

/** Runs a single-file Java program (class `Main`) against BouncyCastle with `stdin`; returns stdout. */
export function runBcJava(source: string, stdin: string): string {
  return withScratch((s) => {
    const file = s.write('Main.java', source);
    const r = spawnSync('java', ['-cp', BCPROV, file], { cwd: s.dir, input: stdin, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`java failed: ${r.stderr}`);
    return r.stdout;
  });
}

/** Hex to bytes, ignoring whitespace (for vectors copied in blocks). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

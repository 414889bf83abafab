/**
 * Shared pieces of the token tests: a scratch directory, the OpenSSL CLI, child processes that use
 * the token as another program would, and a tiny CA (this repository's certificate builder: the CA
 * is not what these tests judge).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCertificate, generateKey, parseName, type Certificate, type KeyAlgorithm, type PrivateKey, type PublicKey } from '@health-pki/pki';
import type { KdfParams } from '../src/index.js';

/** A cheap KDF for tests that are not about KDF cost (the file still records and obeys it). */
export const FAST_KDF: KdfParams = { alg: 'scrypt', N: 1 << 10, r: 8, p: 1 };

/** The compiled token library, for child processes. */
export const TOKEN_LIB = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** A scratch directory with helpers. */
export interface Scratch {
  dir: string;
  path(name: string): string;
  write(name: string, data: Uint8Array | string): string;
  read(name: string): Buffer;
  /** Runs openssl in the directory; throws with its stderr unless `allowFail`. */
  openssl(args: string[], allowFail?: boolean): { ok: boolean; stdout: string; stderr: string };
}

/** Runs `fn` with a fresh scratch directory, removed afterwards. */
export async function withScratch<T>(fn: (s: Scratch) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-token-'));
  const s: Scratch = {
    dir,
    path: (name) => join(dir, name),
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
    return await fn(s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result of a child Node process. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Node source for a child process: `lib` is the token library, the script's stdout is its answer. */
function childSource(body: string): string {
  return `import * as lib from ${JSON.stringify(TOKEN_LIB)};\n${body}`;
}

/** Runs `body` (ES module code with `lib` in scope) in a separate Node process and waits for it. */
export function runChild(body: string): ChildResult {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', childSource(body)], { encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `body` in a separate Node process and returns it (for killing). */
export function startChild(body: string): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', childSource(body)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A test CA. */
export interface TestCa {
  key: PrivateKey;
  cert: Certificate;
  /** Issues an end-entity certificate for `publicKey`. */
  issue(subject: string, publicKey: PublicKey): Certificate;
}

/** A self-signed CA of the given key algorithm. */
export function testCa(alg: KeyAlgorithm = 'sm2'): TestCa {
  const key = generateKey(alg);
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  const notAfter = new Date(notBefore.getTime() + 30 * 24 * 3600_000);
  const cert = buildCertificate({ subject: parseName('CN=Test CA,O=health-pki tests,C=CN'), notBefore, notAfter, publicKey: key.publicKey }, key);
  return {
    key,
    cert,
    issue: (subject, publicKey) => buildCertificate({ subject: parseName(subject), issuer: cert.subject, notBefore, notAfter, publicKey }, key),
  };
}

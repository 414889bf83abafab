/**
 * The service as a separate process, started the way people start it (`hpki start`), so tests
 * can kill it with SIGKILL mid-burst or run two of them on one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../../cli/dist/src/main.js', import.meta.url));

/** A running `hpki start` child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** The bootstrap administrator's token of this process's data directory. */
  adminToken: string;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to flush or clean up. */
  kill9(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts `hpki start --data DIR --port 0 [--db URL] [ARGS…]` and waits until it listens. Without
 * a platform flag in `args` it adds `--no-platform`: tests that do not test the platform link
 * should not run an embedded platform and its demo admission in every process.
 */
export async function startServerProcess(opts: { dataDir: string; dbUrl?: string; timeoutMs?: number; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<ServerProcess> {
  const args = [CLI, 'start', '--data', opts.dataDir, '--port', '0', '--log-level', 'warn'];
  if (opts.dbUrl) args.push('--db', opts.dbUrl);
  const extra = opts.args ?? [];
  args.push(...(extra.some((a) => a.startsWith('--platform') || a === '--no-platform') ? extra : ['--no-platform', ...extra]));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
  let err = '';
  child.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hpki start did not listen within ${opts.timeoutMs ?? 30_000} ms:\n${err}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hpki start exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
  const adminToken = readFileSync(join(opts.dataDir, 'admin.token'), 'utf8').trim();
  return {
    url,
    child,
    adminToken,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

/** A running `hpki platform start` child process. */
export interface PlatformProcess {
  url: string;
  child: ChildProcess;
  /** The bootstrap national-office token of its data directory. */
  nationalToken: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `hpki platform start --data DIR --port PORT` (env: e.g. HPKI_TEST_CLOCK_OFFSET_MS) and waits until it listens. */
export async function startPlatformProcess(opts: { dataDir: string; port: number; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<PlatformProcess> {
  const child = spawn(process.execPath, [CLI, 'platform', 'start', '--data', opts.dataDir, '--port', String(opts.port), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...opts.env } });
  let err = '';
  child.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hpki platform start did not listen within ${opts.timeoutMs ?? 30_000} ms:\n${err}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hpki platform start exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
  return {
    url,
    child,
    nationalToken: readFileSync(join(opts.dataDir, 'platform-admin.token'), 'utf8').trim(),
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

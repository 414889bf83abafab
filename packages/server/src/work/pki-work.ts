/**
 * Where the pure issuance work runs: in the service's own thread, or in a pool of worker
 * threads. Both run the same Workbench code (pki-tasks.ts), so answers and errors are the same;
 * the pool lets a multi-core machine parse, verify and sign on the other cores while the
 * service's thread answers HTTP and writes the database.
 */
import { availableParallelism } from 'node:os';
import type { Certificate, PrivateKey } from '@health-pki/pki';
import { Workbench, type ExaminedRequest, type ExamineTask, type SignedResult, type SignTask } from './pki-tasks.js';
import { WorkerPool, type PoolWorker } from './pool.js';
import type { PkiWorkerTask } from './pki-worker.js';

/** An issuing CA as the signing work needs it. */
export interface SigningIssuer {
  id: string;
  cert: Certificate;
  key: PrivateKey;
}

/** The pure work of issuance, wherever it runs. */
export interface PkiWork {
  /** Worker threads in use (0: the service's own thread). */
  readonly threads: number;
  /** Tasks sent to worker threads and not answered yet. */
  readonly inFlight: number;
  /** Examines a request; with `task.sign`, also signs its certificate for `issuer` (required then). */
  examine(task: ExamineTask, issuer?: SigningIssuer): Promise<ExaminedRequest>;
  sign(task: Omit<SignTask, 'issuerId'>, issuer: SigningIssuer): Promise<SignedResult>;
  close(): Promise<void>;
}

/** Runs the work in the calling thread. */
export class InThreadPkiWork implements PkiWork {
  readonly threads = 0;
  readonly inFlight = 0;
  private readonly bench = new Workbench();

  async examine(task: ExamineTask, issuer?: SigningIssuer): Promise<ExaminedRequest> {
    if (task.sign) this.know(issuerFor(task, issuer));
    return this.bench.examine(task);
  }

  async sign(task: Omit<SignTask, 'issuerId'>, issuer: SigningIssuer): Promise<SignedResult> {
    this.know(issuer);
    return this.bench.sign({ ...task, issuerId: issuer.id });
  }

  private know(issuer: SigningIssuer): void {
    if (!this.bench.hasIssuer(issuer.id)) this.bench.addIssuer(issuer.id, issuer.cert.der, issuer.key);
  }

  async close(): Promise<void> {}
}

const WORKER_FILE = new URL('./pki-worker.js', import.meta.url);
const HAS_ISSUER = 'issuers';

/**
 * Runs the work in worker threads. Each worker receives an issuing CA's key once, with the
 * first certificate it signs for that CA (as PKCS#8, inside this process).
 *
 * Keys held by an HSM (PKCS#11 custody) have no PKCS#8 to hand out: certificates of those
 * issuers are built and signed in the service's thread, one session per process (docs/hsm.md).
 */
export class WorkerPkiWork implements PkiWork {
  private readonly pool: WorkerPool;
  /** Signs for issuers whose key is held by a device (see `sign`). */
  private readonly local = new InThreadPkiWork();

  constructor(threads: number) {
    this.pool = new WorkerPool(WORKER_FILE, threads);
  }

  get threads(): number {
    return this.pool.size;
  }

  get inFlight(): number {
    let n = 0;
    for (const w of this.pool.all()) n += w.load;
    return n;
  }

  /** The pool's workers (tests). */
  workers(): readonly PoolWorker[] {
    return this.pool.all();
  }

  async examine(task: ExamineTask, issuer?: SigningIssuer): Promise<ExaminedRequest> {
    if (!task.sign) return this.pool.pick().call<ExaminedRequest>({ kind: 'examine', examine: task } satisfies PkiWorkerTask).then(revive);
    const signer = issuerFor(task, issuer);
    // A device-held key signs in this thread (see `sign`): so does the examination that signs with it.
    if (signer.key.signer) return this.local.examine(task, signer);
    const examined = await this.callWithIssuer<ExaminedRequest>({ kind: 'examine', examine: task }, signer);
    if (examined.signed) examined.signed = revive(examined.signed);
    return examined;
  }

  sign(task: Omit<SignTask, 'issuerId'>, issuer: SigningIssuer): Promise<SignedResult> {
    // An HSM-held key cannot be handed to a worker: its certificates are signed in this thread.
    if (issuer.key.signer) return this.local.sign(task, issuer);
    return this.callWithIssuer<SignedResult>({ kind: 'sign', sign: { ...task, issuerId: issuer.id } }, issuer);
  }

  /** Sends a task to a worker, with the issuer's key the first time that worker signs for it. */
  private callWithIssuer<T extends object>(message: PkiWorkerTask, issuer: SigningIssuer): Promise<T> {
    const worker = this.pool.pick();
    let known = worker.state.get(HAS_ISSUER) as Set<string> | undefined;
    if (!known) worker.state.set(HAS_ISSUER, (known = new Set()));
    const sendsKey = !known.has(issuer.id);
    if (sendsKey) {
      message.issuer = { id: issuer.id, certDer: issuer.cert.der, pkcs8: issuer.key.pkcs8 };
      known.add(issuer.id);
    }
    return worker.call<T>(message).then(revive, (e: unknown) => {
      // If the key did not arrive, send it again with the next task.
      if (sendsKey) known.delete(issuer.id);
      throw e;
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The issuer a signing examine task names, which the caller must give. */
function issuerFor(task: ExamineTask, issuer: SigningIssuer | undefined): SigningIssuer {
  if (!issuer || issuer.id !== task.sign?.issuerId || !task.precheck) throw new Error('pki work: an examine task that signs needs its precheck and its issuer');
  return issuer;
}

/** Buffers come back from a worker as plain Uint8Arrays: make them Buffers again. */
function revive<T extends object>(value: T): T {
  for (const [k, v] of Object.entries(value)) {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) (value as Record<string, unknown>)[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return value;
}

/**
 * Worker threads to use by default: HPKI_PKI_THREADS when set (0 keeps the work in the
 * service's thread), else one per core beyond the first, at most 4, so that the service's
 * thread keeps a core for HTTP and the database. On one core, none.
 */
export function defaultPkiThreads(): number {
  const env = process.env.HPKI_PKI_THREADS;
  if (env !== undefined && /^\d{1,2}$/.test(env.trim())) return Number(env.trim());
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/** The pure work of issuance on `threads` worker threads (0: in the calling thread). */
export function openPkiWork(threads: number = defaultPkiThreads()): PkiWork {
  return threads > 0 ? new WorkerPkiWork(threads) : new InThreadPkiWork();
}

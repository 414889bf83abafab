/**
 * Worker-thread entry of the pki work pool: runs Workbench tasks sent by pki-work.ts and answers
 * with plain data, or with the error as data (wire-errors.ts).
 */
import { parentPort } from 'node:worker_threads';
import { Workbench, type ExamineTask, type SignTask } from './pki-tasks.js';
import { errorToWire } from './wire-errors.js';

/** A message to this worker. */
export type PkiWorkerTask =
  | { kind: 'examine'; examine: ExamineTask; issuer?: IssuerKey }
  | { kind: 'sign'; sign: SignTask; issuer?: IssuerKey };

/** An issuing CA's certificate and key, sent with the first task that signs for it. */
export interface IssuerKey {
  id: string;
  certDer: Uint8Array;
  pkcs8: Uint8Array;
}

const bench = new Workbench();

parentPort!.on('message', ({ id, task }: { id: number; task: PkiWorkerTask }) => {
  try {
    if (task.issuer) bench.addIssuer(task.issuer.id, task.issuer.certDer, task.issuer.pkcs8);
    const result = task.kind === 'examine' ? bench.examine(task.examine) : bench.sign(task.sign);
    parentPort!.postMessage({ id, ok: true, result });
  } catch (e) {
    parentPort!.postMessage({ id, ok: false, error: errorToWire(e) });
  }
});

/**
 * The "containers" of the GM/T 0020 facade: where a user's signing certificate and key live. The
 * old interface reached them through a CSP or SKF device; here a container is anything that can
 * show its certificate and, given the right PIN, hand out a signer. A device-backed container
 * returns a callback signer (the key stays on the device); softContainer holds a key in memory.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Certificate, PrivateKey } from '@health-pki/pki';
import type { RecordSigner } from '../signing/signer.js';

/** One container: a name, its signing certificate, and a PIN-gated signer. */
export interface SofContainer {
  /** The container name SOF functions take (SOF_GetUserList lists it). */
  readonly name: string;
  /** The holder's name shown by SOF_GetUserList (default the certificate's CN). */
  readonly userName?: string;
  readonly certificate: Certificate;
  /** Intermediate CA certificates to carry in signed messages. */
  readonly chain?: Certificate[];
  /** The encryption certificate of a dual pair (SOF_ExportExChangeUserCert). */
  readonly encryptionCertificate?: Certificate;
  /** Checks the PIN; a signer when right, undefined when wrong (a device also counts retries). */
  login(pin: string): Promise<RecordSigner | undefined>;
  /** PIN attempts left, when the medium says (SOF_GetPinRetryCount). */
  retriesLeft?(): Promise<number>;
}

/** A container whose key is held in this process (a server-side seal, a test); the PIN is kept as a hash. */
export function softContainer(name: string, o: { key: PrivateKey; certificate: Certificate; chain?: Certificate[]; pin: string; maxRetries?: number; encryptionCertificate?: Certificate }): SofContainer {
  const pinHash = createHash('sha256').update(o.pin, 'utf8').digest();
  const max = o.maxRetries ?? 6;
  let left = max;
  return {
    name,
    certificate: o.certificate,
    chain: o.chain,
    encryptionCertificate: o.encryptionCertificate,
    async login(pin) {
      if (left <= 0) return undefined; // locked: only an unblock (issue 7's PIN unblock) resets it
      const ok = timingSafeEqual(createHash('sha256').update(pin, 'utf8').digest(), pinHash);
      left = ok ? max : left - 1;
      return ok ? { key: o.key, certificate: o.certificate, chain: o.chain } : undefined;
    },
    async retriesLeft() {
      return left;
    },
  };
}

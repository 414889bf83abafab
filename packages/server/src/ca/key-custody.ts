/**
 * How CA private keys (and the TSA's and OCSP responders' signing keys) are kept between uses.
 *
 * THE INTERFACE (kept small and stable; every custody implements it):
 * - `protection`: the name stored in `key_protection` beside each key this custody seals.
 * - `seal(key, context)`: the bytes to store in `key_sealed`.
 * - `open(sealed, protection, context)`: the key again, for signing (a custody that keeps keys in
 *   a device returns a key whose `signer` signs inside the device).
 * - `generate?(algorithm, label)`: optional; a device custody makes the key inside the device.
 * `context` names the row the key belongs to — "ca-key:<issuer id>", "tsa-key:<unit id>",
 * "ocsp-key:<id>" — and must be the same at seal and open: the master-key custody binds the sealed
 * bytes to it (AEAD associated data), so a key copied into another row does not open there.
 * It is optional only so that callers written before it still compile; pass it.
 *
 * Custodies: `plaintextCustody` (unencrypted PKCS#8, "plaintext-pkcs8": reads rows written before
 * the deployment had a master key, never seals in a deployment that has one), `MasterKeyCustody`
 * (master-key-custody.ts: envelope encryption, "master-aes256gcm-v1" / "master-sm4gcm-v1"; the
 * default of services.ts) and the PKCS#11 custody (custody/). Nothing else reads `key_sealed`.
 */
import { importPrivateKey, type KeyAlgorithm, type PrivateKey } from '@health-pki/pki';

/** Seals keys for storage and opens them for signing. */
export interface KeyCustody {
  /** The protection this custody applies, stored beside each sealed key (e.g. "plaintext-pkcs8"). */
  readonly protection: string;
  /** The bytes to store for `key`, bound to `context` (see above). */
  seal(key: PrivateKey, context?: string): Buffer;
  /** The key stored as `sealed` with `protection` under `context`; throws when this custody cannot open it. */
  open(sealed: Buffer, protection: string, context?: string): PrivateKey;
  /**
   * Makes a new key where this custody keeps keys (an HSM generates it inside the device);
   * without it, keys are generated in software and then sealed. `label` names the key there.
   */
  generate?(algorithm: KeyAlgorithm, label: string): PrivateKey;
}

/** Keeps keys as unencrypted PKCS#8: the demo custody, to be replaced (see above). */
export const plaintextCustody: KeyCustody = {
  protection: 'plaintext-pkcs8',
  seal: (key) => Buffer.from(key.pkcs8),
  open(sealed, protection) {
    if (protection !== 'plaintext-pkcs8') throw new Error(`this deployment cannot open CA keys protected as "${protection}"`);
    return importPrivateKey(sealed);
  },
};

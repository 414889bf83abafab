/**
 * How CA private keys are kept between uses.
 *
 * SEAM (security issue): today the key is stored in the database as plain, unencrypted PKCS#8
 * ("plaintext-pkcs8"). That is acceptable only for a demonstration deployment. The security
 * issue adds custodies that encrypt the PKCS#8 under a master key (envelope encryption) or keep
 * the key in an HSM through PKCS#11, where `open` returns a handle that signs inside the module.
 * Every CA key goes through a KeyCustody; nothing else reads `ca_issuers.key_sealed`.
 */
import { importPrivateKey, type PrivateKey } from '@health-pki/pki';

/** Seals keys for storage and opens them for signing. */
export interface KeyCustody {
  /** The protection this custody applies, stored beside each sealed key (e.g. "plaintext-pkcs8"). */
  readonly protection: string;
  seal(key: PrivateKey): Buffer;
  open(sealed: Buffer, protection: string): PrivateKey;
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

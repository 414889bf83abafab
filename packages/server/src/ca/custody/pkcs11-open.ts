/**
 * Wiring of the PKCS#11 custody into a deployment: settings from start options or the
 * environment, the deployment's other custody as fallback, and key events written to the audit
 * log (each in its own transaction, since generation and activation happen outside any).
 */
import type { Database } from '../../store/database.js';
import { appendAudit } from '../../audit/log.js';
import { SYSTEM_PRINCIPAL } from '../../auth/principal.js';
import type { KeyCustody } from '../key-custody.js';
import { Pkcs11Custody, pkcs11ConfigFromEnv, type HsmKeyEvent } from './pkcs11-custody.js';
import type { Pkcs11TokenConfig } from './pkcs11-token.js';

/** A PKCS#11 custody in use by a deployment, closed with it. */
export interface OpenedHsm {
  custody: Pkcs11Custody;
  /** Waits for pending audit writes, then logs out. */
  close(): Promise<void>;
}

/**
 * Opens the HSM custody when PKCS#11 is configured (`config`, else HPKI_PKCS11_* variables);
 * undefined when it is not. Throws HsmError for a missing module or token or a wrong PIN.
 */
export function openConfiguredHsm(database: Database, fallback: KeyCustody, config: Pkcs11TokenConfig | undefined = pkcs11ConfigFromEnv()): OpenedHsm | undefined {
  if (!config) return undefined;
  const pending = new Set<Promise<void>>();
  const audit = (event: HsmKeyEvent) => {
    const write: Promise<void> = database
      .transaction((tx) => appendAudit(tx, { actor: SYSTEM_PRINCIPAL, ...event }))
      .catch((e: unknown) => {
        process.emitWarning(`audit of ${event.action} ${event.target} failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  const custody = new Pkcs11Custody({ ...config, fallback, audit });
  return {
    custody,
    async close() {
      await Promise.all([...pending]);
      custody.close();
    },
  };
}

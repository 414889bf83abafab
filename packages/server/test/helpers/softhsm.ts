/**
 * A fresh SoftHSM2 for a test file: a temporary token directory, a softhsm2.conf pointing at it
 * (SOFTHSM2_CONF is set for this process and its children), and tokens initialised with
 * `softhsm2-util`. SoftHSM reads its configuration when the module is initialised, so create
 * the tokens before the first custody opens.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pkcs11TokenConfig } from '../../src/index.js';

/** The Debian path of SoftHSM2's PKCS#11 library. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** Whether SoftHSM2 is installed (tests skip with a reason when not). */
export const softHsmAvailable = existsSync(SOFTHSM_MODULE) && spawnSync('softhsm2-util', ['--version']).status === 0;

/** A temporary SoftHSM2. */
export interface SoftHsm {
  dir: string;
  conf: string;
  /** Initialises a token in a free slot and returns its settings. */
  initToken(label: string, pin: string): Pkcs11TokenConfig;
  cleanup(): void;
}

/** Creates the token directory and configuration, and points SOFTHSM2_CONF at it. */
export function createSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    conf,
    initToken(label, pin) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `${pin}-so`], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' });
      return { module: SOFTHSM_MODULE, token: label, pin };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a separate process sees of one private key object on the token. */
export interface TokenKeyView {
  id: string;
  label: string;
  sensitive: boolean;
  extractable: boolean;
  /** The CKR_ name returned when asking for the secret value (CKA_VALUE or CKA_PRIVATE_EXPONENT). */
  valueRead: string;
}

const SERVER_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Lists the token's private keys from another process through pkcs11js (an independent view of
 * the token, as a second application would have): their CKA_SENSITIVE and CKA_EXTRACTABLE, and
 * what the module answers to a request for the secret value.
 */
export function privateKeysOnToken(cfg: Pkcs11TokenConfig): TokenKeyView[] {
  const script = `
    const p = require('pkcs11js');
    const m = new p.PKCS11(); m.load(${JSON.stringify(cfg.module)}); m.C_Initialize();
    const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.trim() === ${JSON.stringify(cfg.token)});
    const s = m.C_OpenSession(slot, p.CKF_SERIAL_SESSION); m.C_Login(s, p.CKU_USER, ${JSON.stringify(cfg.pin)});
    m.C_FindObjectsInit(s, [{ type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY }]); const hs = m.C_FindObjects(s, 100); m.C_FindObjectsFinal(s);
    const out = hs.map((h) => {
      const [id, label, sens, ext, type] = m.C_GetAttributeValue(s, h, [{ type: p.CKA_ID }, { type: p.CKA_LABEL }, { type: p.CKA_SENSITIVE }, { type: p.CKA_EXTRACTABLE }, { type: p.CKA_KEY_TYPE }]);
      let valueRead = 'CKR_OK';
      try { m.C_GetAttributeValue(s, h, [{ type: type.value.readUInt32LE(0) === p.CKK_RSA ? p.CKA_PRIVATE_EXPONENT : p.CKA_VALUE }]); } catch (e) { valueRead = e.message; }
      return { id: id.value.toString('hex'), label: label.value.toString(), sensitive: sens.value[0] === 1, extractable: ext.value[0] === 1, valueRead };
    });
    m.C_Logout(s); m.C_CloseSession(s); m.C_Finalize();
    process.stdout.write(JSON.stringify(out));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: SERVER_DIR, env: { ...process.env }, encoding: 'utf8' });
  return JSON.parse(out) as TokenKeyView[];
}

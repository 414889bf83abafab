/**
 * The PKCS#11 custody on its own, against a fresh SoftHSM2 token: keys generated in the token sign
 * through the pki library (ECDSA P-384, RSA) and OpenSSL verifies the signatures; a session the
 * module forgot is reopened and the signature made; software keys are moved into the token at
 * seal; SM2 and unknown references are refused with clear errors; other protections go to the
 * fallback custody; generation, import and activation are reported for the audit log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPublicKey, generateKey, signData, verifyData, type PrivateKey } from '@health-pki/pki';
import { Pkcs11Custody, type Pkcs11TokenConfig } from '../src/index.js';
import { plaintextCustody } from '../src/ca/key-custody.js';
import type { HsmKeyEvent } from '../src/ca/custody/pkcs11-custody.js';
import type { Pkcs11Signer } from '../src/ca/custody/pkcs11-keys.js';
import { outside } from './helpers/outside.js';
import { createSoftHsm, softHsmAvailable, type SoftHsm } from './helpers/softhsm.js';

const skip = softHsmAvailable ? false : 'SoftHSM2 is not installed (scripts/setup.sh installs it)';
const DATA = Buffer.from('tbsCertList bytes, or any other bytes a CA signs');

describe('PKCS#11 custody', { skip }, () => {
  let hsm: SoftHsm;
  let cfg: Pkcs11TokenConfig;
  let custody: Pkcs11Custody;
  const events: HsmKeyEvent[] = [];

  before(() => {
    hsm = createSoftHsm();
    cfg = hsm.initToken('hpki-session', '11223344');
    custody = new Pkcs11Custody({ ...cfg, fallback: plaintextCustody, audit: (e) => events.push(e) });
  });
  after(() => {
    custody?.close();
    hsm?.cleanup();
  });

  /** `openssl dgst -verify` with the key's public half: an outside judge of the token's signature. */
  const opensslVerifies = async (key: PrivateKey, hash: string, signature: Uint8Array) => {
    const o = await outside();
    const r = await o.openssl(['dgst', `-${hash}`, '-verify', 'pub.pem', '-signature', 'sig.bin', 'data.bin'], { files: { 'pub.pem': exportPublicKey(key.publicKey), 'sig.bin': signature, 'data.bin': DATA } });
    return `${r.stdout}${r.stderr}`;
  };

  test('ECDSA P-384 and RSA 3072 keys generated in the token sign through signData; OpenSSL verifies', async () => {
    for (const [alg, hash] of [['p384', 'sha384'], ['rsa3072', 'sha256']] as const) {
      const key = custody.generate(alg, `test ${alg}`);
      const { algorithm, signature } = signData(key, DATA);
      assert.ok(verifyData(key.publicKey, algorithm, DATA, signature), `${alg}: our verifier`);
      assert.match(await opensslVerifies(key, hash, signature), /Verified OK/, alg);
    }
    assert.deepEqual(events.map((e) => e.action), ['ca.key.generate', 'ca.key.generate']);
    assert.equal(events[0]!.details.mechanism, 'CKM_EC_KEY_PAIR_GEN');
  });

  test('a session the module no longer knows is reopened, and the signature is made', async () => {
    const key = custody.generate('p256', 'test reconnect');
    const signer = key.signer as Pkcs11Signer;
    const before = signer.token.generation;
    // Close the session behind the custody's back, as a token reset or a network HSM failover would.
    signer.token.run((p11, session) => p11.C_CloseSession(session));
    const { algorithm, signature } = signData(key, DATA);
    assert.ok(verifyData(key.publicKey, algorithm, DATA, signature));
    assert.equal(signer.token.generation, before + 1, 'one reconnect');
  });

  test('seal stores a reference; open finds the key again; a software key is moved into the token', async () => {
    const made = custody.generate('p256', 'test seal');
    const sealed = custody.seal(made);
    assert.doesNotMatch(sealed.toString('latin1'), /PRIVATE/);
    const opened = custody.open(sealed, 'pkcs11');
    assert.ok(verifyData(made.publicKey, signData(opened, DATA).algorithm, DATA, signData(opened, DATA).signature));

    const soft = generateKey('p256');
    const imported = custody.open(custody.seal(soft), 'pkcs11');
    const { algorithm, signature } = signData(imported, DATA);
    assert.ok(verifyData(soft.publicKey, algorithm, DATA, signature), 'the imported key signs as the software key would');
    assert.throws(() => imported.pkcs8, (e: any) => e.code === 'key.external');
    assert.ok(events.some((e) => e.action === 'ca.key.import'));
    assert.ok(events.some((e) => e.action === 'ca.key.open'));
  });

  test('SM2 is refused with a clear error naming what an SM2 HSM needs', () => {
    assert.throws(() => custody.generate('sm2', 'test sm2'), (e: any) => e.code === 'ca.algorithm.hsm' && /GM\/T 0018/.test(e.message));
    assert.throws(() => custody.seal(generateKey('sm2')), (e: any) => e.code === 'ca.algorithm.hsm');
  });

  test('a reference to a key the token does not hold is a clear error; other protections go to the fallback', () => {
    const sealed = JSON.parse(custody.seal(custody.generate('p256', 'test missing')).toString('utf8'));
    const missing = Buffer.from(JSON.stringify({ ...sealed, id: 'ff'.repeat(16) }));
    assert.throws(() => custody.open(missing, 'pkcs11'), (e: any) => e.code === 'hsm.key' && /is not on the token/.test(e.message));
    assert.throws(() => custody.open(Buffer.from('not json'), 'pkcs11'), (e: any) => e.code === 'hsm.reference');
    const soft = generateKey('p256');
    const viaFallback = custody.open(plaintextCustody.seal(soft), 'plaintext-pkcs8');
    assert.deepEqual(viaFallback.publicKey.spki, soft.publicKey.spki);
  });
});

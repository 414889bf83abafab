import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_ALGORITHMS, generateKey, signData, verifyData, exportPrivateKey, importPrivateKey, exportPublicKey, importPublicKey } from '../src/index.js';

for (const alg of KEY_ALGORITHMS) {
  test(`${alg}: sign, verify, reject a changed message, survive export and import`, () => {
    const key = generateKey(alg);
    const msg = Buffer.from('患者病历 record 42');
    const { algorithm, signature } = signData(key, msg);
    assert.equal(verifyData(key.publicKey, algorithm, msg, signature), true);
    assert.equal(verifyData(key.publicKey, algorithm, Buffer.from('患者病历 record 43'), signature), false);
    const again = importPrivateKey(exportPrivateKey(key, 'pem', 'secret-pass'), 'secret-pass');
    assert.deepEqual(again.pkcs8, key.pkcs8);
    const pub = importPublicKey(exportPublicKey(key.publicKey, 'der'));
    assert.equal(verifyData(pub, algorithm, msg, signature), true);
  });
}

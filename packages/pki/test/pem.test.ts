/**
 * PEM or DER: DER whose content happens to contain PEM text (a signed JSON trust list that lists
 * PEM certificates) is still read as DER; real PEM, and PEM after explanatory text, as PEM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignedDataDoc, generateKey, issueFromProfile, parseName, signCmsDer, toDer, toPem } from '../src/index.js';

test('DER carrying "-----BEGIN " inside is DER; PEM (also after text) is PEM', () => {
  const key = generateKey('p256');
  const cert = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=t,CN=t'), publicKey: key.publicKey, issuerKey: key });
  const content = Buffer.from(JSON.stringify({ cas: [{ certificates: [cert.toPem()] }] }));
  const der = signCmsDer({ content, signer: key, cert });
  assert.ok(der.includes(Buffer.from('-----BEGIN ')), 'the DER contains PEM text');
  assert.ok(toDer(der, ['CMS', 'PKCS7']).equals(der));
  assert.ok(SignedDataDoc.parse(der).content!.equals(content));
  const pem = toPem('CMS', der);
  assert.ok(toDer(pem, ['CMS']).equals(der));
  assert.ok(toDer(Buffer.from(`explanation first\n${pem}`), ['CMS']).equals(der));
  // A truncated SEQUENCE is not taken for one DER object, so the PEM search still applies.
  assert.throws(() => toDer(der.subarray(0, der.length - 1), ['CMS']));
});

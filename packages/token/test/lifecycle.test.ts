/**
 * The token's life as a holder lives it, with OpenSSL judging what comes out: a CSR made on the
 * token, signatures made by its keys, an SM2EnvelopedKey from the envelope module imported into
 * the encryption slot, and data that `openssl pkeyutl -encrypt` encrypted to the encryption
 * certificate decrypted by the token. RSA and ECDSA containers take CMS-enveloped keys instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EnvelopeError, buildSm2EnvelopedKey, envelopePrivateKey, exportPublicKey, generateKey, PkiError } from '@health-pki/pki';
import { PinIncorrectError, SoftToken, TokenError, TokenSession } from '../src/index.js';
import { FAST_KDF, testCa, withScratch } from './helpers.js';

const SM2_ID = '1234567812345678';

test('SM2 lifecycle: on-token key, CSR and signatures judged by OpenSSL, enveloped encryption key, OpenSSL-encrypted data decrypted', async () => {
  await withScratch((s) => {
    const token = SoftToken.init(s.path('holder.tok'), { label: 'Zhang San', userPin: '246810', adminPin: 'ADMIN-7Q2W-9Z', kdf: FAST_KDF });
    const session = token.login('HPKI', '246810');
    session.createContainer('staff');
    const signPub = session.generateKeyPair('staff', 'sm2');

    // The CSR: OpenSSL checks its SM2 signature with the standard user ID.
    const csr = session.certificationRequest('staff', 'CN=Zhang San,O=Peking Union Medical College Hospital,C=CN');
    s.write('req.pem', csr.toPem());
    s.openssl(['req', '-in', 'req.pem', '-verify', '-noout', '-vfyopt', `distid:${SM2_ID}`]);
    assert.deepEqual(csr.publicKey.spki, signPub.spki);

    const ca = testCa('sm2');
    const signCert = ca.issue('CN=Zhang San,O=PUMCH,C=CN', signPub);
    session.importCertificate('staff', 'signing', signCert);

    // Signatures, with the default ID and with another one; OpenSSL verifies against the certificate's key.
    s.write('sign.crt', signCert.toPem());
    s.openssl(['x509', '-in', 'sign.crt', '-pubkey', '-noout', '-out', 'sign.pub']);
    const data = randomBytes(300);
    s.write('data.bin', data);
    for (const id of [SM2_ID, 'zhangsan@pumch.cn']) {
      const { algorithm, signature } = session.sign('staff', data, { sm2UserId: Buffer.from(id) });
      assert.equal(algorithm, '1.2.156.10197.1.501');
      s.write('sig.der', signature);
      s.openssl(['dgst', '-sm3', '-verify', 'sign.pub', '-signature', 'sig.der', '-sigopt', `distid:${id}`, 'data.bin']);
      const other = id === SM2_ID ? 'another-id' : SM2_ID;
      assert.equal(s.openssl(['dgst', '-sm3', '-verify', 'sign.pub', '-signature', 'sig.der', '-sigopt', `distid:${other}`, 'data.bin'], true).ok, false, 'the user ID is bound');
    }

    // The KMC's delivery: an SM2EnvelopedKey wrapped to the signing key, and the encryption certificate.
    const escrowed = generateKey('sm2');
    const encCert = ca.issue('CN=Zhang San,O=PUMCH,C=CN', escrowed.publicKey);
    const imported = session.importEnvelopedKey('staff', buildSm2EnvelopedKey(escrowed, signPub), { certificate: encCert });
    assert.deepEqual(imported.spki, escrowed.publicKey.spki);

    // Someone encrypts to the encryption certificate with OpenSSL; the token decrypts.
    s.write('enc.crt', encCert.toPem());
    s.openssl(['x509', '-in', 'enc.crt', '-pubkey', '-noout', '-out', 'enc.pub']);
    for (const len of [1, 16, 32, 1000]) {
      const secret = randomBytes(len);
      s.write('secret.bin', secret);
      s.openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'enc.pub', '-in', 'secret.bin', '-out', 'secret.ct']);
      assert.deepEqual(session.decrypt('staff', s.read('secret.ct')), secret, `length ${len}`);
    }

    // Listing without a PIN shows both certificates, and they export.
    const info = token.info();
    const c = info.applications[0]!.containers[0]!;
    assert.equal(c.name, 'staff');
    assert.equal(c.signing.keyAlgorithm, 'sm2');
    assert.equal(c.signing.certificate?.serial, signCert.serialHex);
    assert.equal(c.encryption.certificate?.serial, encCert.serialHex);
    assert.deepEqual(token.exportCertificate('HPKI', 'staff', 'encryption')?.der, encCert.der);
    assert.deepEqual(token.exportPublicKey('HPKI', 'staff', 'signing')?.spki, signPub.spki);
    assert.equal(info.label, 'Zhang San');
    session.logout();
    assert.throws(() => session.sign('staff', data), (e: unknown) => e instanceof TokenError && e.code === 'token.session.closed');
  });
});

test('RSA and ECDSA containers: signatures verified by OpenSSL, CMS-enveloped encryption keys, openssl cms -encrypt opened', async () => {
  await withScratch((s) => {
    const token = SoftToken.init(s.path('t.tok'), { userPin: '135790', adminPin: 'ADMIN-PIN-0001', kdf: FAST_KDF, cipher: 'aes-256-gcm' });
    const session = token.login('HPKI', '135790');
    for (const [alg, encAlg, digest] of [['rsa2048', 'rsa2048', '-sha256'], ['p256', 'p256', '-sha256'], ['p384', 'p384', '-sha384']] as const) {
      session.createContainer(alg);
      const pub = session.generateKeyPair(alg, alg);
      const ca = testCa(alg === 'rsa2048' ? 'rsa2048' : 'p256');
      const signCert = ca.issue(`CN=${alg} holder`, pub);
      session.importCertificate(alg, 'signing', signCert);
      s.write('pub.pem', exportPublicKey(pub));
      s.write('data.bin', 'medical record 42');
      s.write('sig.der', session.sign(alg, Buffer.from('medical record 42')).signature);
      s.openssl(['dgst', digest, '-verify', 'pub.pem', '-signature', 'sig.der', 'data.bin']);

      const escrowed = generateKey(encAlg);
      const encCert = ca.issue(`CN=${alg} holder enc`, escrowed.publicKey);
      session.importEnvelopedKey(alg, envelopePrivateKey(escrowed, signCert), { certificate: encCert });
      s.write('enc.crt', encCert.toPem());
      s.write('msg.bin', `for ${alg}: ${randomBytes(8).toString('hex')}`);
      s.openssl(['cms', '-encrypt', '-binary', '-aes256', '-in', 'msg.bin', '-outform', 'DER', '-out', 'msg.p7', '-recip', 'enc.crt', ...(alg === 'rsa2048' ? ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'] : [])]);
      assert.deepEqual(session.openEnvelope(alg, s.read('msg.p7')), s.read('msg.bin'), alg);
      if (alg === 'rsa2048') {
        s.openssl(['x509', '-in', 'enc.crt', '-pubkey', '-noout', '-out', 'enc.pub']);
        s.openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'enc.pub', '-in', 'msg.bin', '-out', 'msg.ct', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256']);
        assert.deepEqual(session.decrypt(alg, s.read('msg.ct')), s.read('msg.bin'));
      }
    }
  });
});

test('mismatched certificates and envelopes are refused; no private key is reachable', async () => {
  await withScratch((s) => {
    const token = SoftToken.init(s.path('t.tok'), { userPin: '111222', adminPin: 'ADMIN-PIN-0002', kdf: FAST_KDF });
    const session = token.login('HPKI', '111222');
    session.createContainer('c');
    const ca = testCa('sm2');
    const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;
    assert.throws(() => session.importCertificate('c', 'signing', ca.issue('CN=x', generateKey('sm2').publicKey)), code('token.container.slotEmpty'));
    const pub = session.generateKeyPair('c');
    assert.throws(() => session.generateKeyPair('c'), code('token.container.slotOccupied'));
    assert.throws(() => session.importCertificate('c', 'signing', ca.issue('CN=x', generateKey('sm2').publicKey)), code('token.container.keyMismatch'));
    assert.throws(() => session.importEnvelopedKey('c', buildSm2EnvelopedKey(generateKey('sm2'), generateKey('sm2').publicKey)), (e: unknown) => e instanceof EnvelopeError && e.failure === 'recipient');
    const escrowed = generateKey('sm2');
    assert.throws(
      () => session.importEnvelopedKey('c', buildSm2EnvelopedKey(escrowed, pub), { certificate: ca.issue('CN=y', generateKey('sm2').publicKey) }),
      code('token.container.keyMismatch'),
    );
    // A refused import changes nothing.
    assert.equal(token.info().applications[0]!.containers[0]!.encryption.hasKey, false);
    assert.throws(() => session.decrypt('c', Buffer.alloc(100)), code('token.container.slotEmpty'));
    assert.throws(() => session.sign('nope', Buffer.alloc(1)), code('token.container.notFound'));
    assert.throws(() => session.createContainer('c'), code('token.container.exists'));
    assert.throws(() => session.createContainer(''), code('token.container.name'));
    session.deleteContainer('c');
    assert.deepEqual(session.containers(), []);

    // The session's only own enumerable state is public; the data key is an ES private field.
    assert.deepEqual(Object.keys(session).sort(), ['application', 'path', 'tokenId']);
    const methods = Object.getOwnPropertyNames(TokenSession.prototype);
    assert.ok(!methods.some((m) => /export|private|pkcs8|unwrap/i.test(m)), `no exporting method: ${methods.join(', ')}`);
  });
});

test('PIN change (user and admin), several applications with their own PINs, wrong PINs counted', async () => {
  await withScratch((s) => {
    const token = SoftToken.init(s.path('t.tok'), { userPin: 'first-pin', adminPin: 'ADMIN-PIN-0003', kdf: FAST_KDF, userMaxRetries: 3 });
    token.createApplication('SECOND', { userPin: 'second-pin', adminPin: 'ADMIN-PIN-0004', kdf: { alg: 'pbkdf2-sm3', iterations: 1000 } });
    assert.throws(() => token.createApplication('SECOND', { userPin: 'x'.repeat(6), adminPin: 'y'.repeat(6) }), (e: unknown) => e instanceof TokenError && e.code === 'token.application.exists');
    assert.throws(() => token.login('SECOND', 'first-pin'), PinIncorrectError);
    assert.equal(token.pinStatus('SECOND', 'user').remaining, 5);
    token.login('SECOND', 'second-pin').logout();
    assert.equal(token.pinStatus('SECOND', 'user').remaining, 6, 'a right PIN restores the counter');

    token.changePin('HPKI', 'user', 'first-pin', 'new-user-pin');
    assert.throws(() => token.verifyPin('HPKI', 'user', 'first-pin'), (e: unknown) => e instanceof PinIncorrectError && e.remaining === 2);
    token.verifyPin('HPKI', 'user', 'new-user-pin');
    assert.throws(() => token.changePin('HPKI', 'user', 'new-user-pin', '123'), (e: unknown) => e instanceof TokenError && e.code === 'token.pin.policy');
    assert.equal(token.pinStatus('HPKI', 'user').remaining, 3, 'a refused new PIN spends no try');
    token.verifyPin('HPKI', 'user', 'new-user-pin');

    token.changePin('HPKI', 'admin', 'ADMIN-PIN-0003', 'ADMIN-PIN-0005');
    token.verifyPin('HPKI', 'admin', 'ADMIN-PIN-0005');
    assert.throws(() => token.verifyPin('HPKI', 'admin', 'ADMIN-PIN-0003'), (e: unknown) => e instanceof PinIncorrectError && e.role === 'admin' && e.remaining === 9);
    // The admin PIN sets a new user PIN without knowing the old one (SKF_UnblockPIN).
    token.unblockPin('HPKI', 'ADMIN-PIN-0005', 'third-pin');
    token.login('HPKI', 'third-pin').logout();
    const apps = token.info().applications.map((a) => [a.name, a.kdf, a.cipher]);
    assert.deepEqual(apps, [['HPKI', 'scrypt N=1024 r=8 p=1', 'sm4-gcm'], ['SECOND', 'pbkdf2-sm3 iterations=1000', 'sm4-gcm']]);
    assert.throws(() => SoftToken.init(s.path('t.tok'), { userPin: 'aaaaaa', adminPin: 'bbbbbb', kdf: FAST_KDF }), (e: unknown) => e instanceof TokenError && e.code === 'token.exists');
    assert.throws(() => SoftToken.init(s.path('weak.tok'), { userPin: 'aaaaaa', adminPin: 'bbbbbb', kdf: { alg: 'scrypt', N: 16, r: 1, p: 1 } }), (e: unknown) => e instanceof TokenError && e.code === 'token.kdf');
    assert.throws(() => SoftToken.open(s.path('none.tok')), (e: unknown) => e instanceof TokenError && e.code === 'token.notFound');
  });
});

/**
 * The token file at rest. An independent reader written from docs/token.md (node:crypto scrypt or
 * PBKDF2-SM3, and AES-256-GCM or the library's vector-tested SM4-GCM — none of the token's code)
 * opens it with the user PIN, which proves the documented format and hands us the private keys the
 * token made itself; then the file is scanned for those keys in every encoding (they must not
 * appear). Crash safety: stray temporary files and stale locks left by killed writers do not break
 * the token, and killing a process in the middle of PIN changes always leaves a whole file that one
 * of the two PINs opens. Damaged or altered files give typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSm2EnvelopedKey, generateKey, importPrivateKey, PkiError, sm4GcmDecrypt, type PrivateKey } from '@health-pki/pki';
import { PinIncorrectError, SoftToken, TokenError, type CipherName, type KdfParams } from '../src/index.js';
import { FAST_KDF, startChild, testCa, withScratch } from './helpers.js';

interface SealedJson {
  iv: string;
  ciphertext: string;
  tag: string;
}

/** AEAD open per docs/token.md, with node:crypto (AES) or the SM4-GCM of packages/pki. */
function docOpen(cipher: CipherName, key: Buffer, s: SealedJson, aad: string): Buffer {
  const iv = Buffer.from(s.iv, 'base64');
  const ct = Buffer.from(s.ciphertext, 'base64');
  const tag = Buffer.from(s.tag, 'base64');
  if (cipher === 'sm4-gcm') return sm4GcmDecrypt(key, iv, ct, tag, Buffer.from(aad));
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** Reads every private key out of a token file with the user PIN, following docs/token.md only. */
function docReader(file: Buffer, userPin: string): { dataKey: Buffer; kek: Buffer; keys: Buffer[] } {
  const doc = JSON.parse(file.toString('utf8'));
  assert.equal(doc.format, 'hpki-soft-token');
  assert.equal(doc.version, 1);
  const app = doc.applications[0];
  const kdf = app.kdf as KdfParams;
  const cipher = app.cipher as CipherName;
  const len = cipher === 'sm4-gcm' ? 16 : 32;
  const salt = Buffer.from(app.user.salt, 'base64');
  const pin = Buffer.from(userPin.normalize('NFC'), 'utf8');
  const kek =
    kdf.alg === 'scrypt' ? scryptSync(pin, salt, len, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 1 << 28 }) : pbkdf2Sync(pin, salt, kdf.iterations, len, 'sm3');
  const dataKey = docOpen(cipher, kek, app.user.wrappedKey, `hpki-soft-token/1\0wrap\0${doc.tokenId}\0${app.name}\0user`);
  const contents = JSON.parse(docOpen(cipher, dataKey, app.sealed, `hpki-soft-token/1\0contents\0${doc.tokenId}\0${app.name}`).toString('utf8'));
  const keys: Buffer[] = [];
  for (const c of contents.containers) {
    for (const slot of ['signing', 'encryption']) {
      if (c[slot].privateKey) keys.push(Buffer.from(c[slot].privateKey, 'base64'));
    }
  }
  return { dataKey, kek, keys };
}

/**
 * Every form in which a secret could leak into a text file: raw, hex, and base64/base64url at each
 * of the three alignments it could have inside a longer base64 string (only the characters that
 * depend on the secret alone are kept).
 */
function encodings(secret: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [
    ['raw', secret],
    ['hex', Buffer.from(secret.toString('hex'))],
    ['HEX', Buffer.from(secret.toString('hex').toUpperCase())],
  ];
  for (const variant of ['base64', 'base64url'] as const) {
    for (let shift = 0; shift < 3; shift++) {
      const text = Buffer.concat([Buffer.alloc(shift), secret]).toString(variant).replace(/=+$/, '');
      const fullGroups = Math.floor((shift + secret.length) / 3) * 4;
      out.push([`${variant}+${shift}`, Buffer.from(text.slice(shift ? 4 : 0, fullGroups))]);
    }
  }
  return out;
}

function assertAbsent(haystack: Buffer, secret: Buffer, what: string): void {
  for (const [enc, needle] of encodings(secret)) {
    assert.ok(needle.length >= 16, `${what} (${enc}) probe too short`);
    assert.equal(haystack.indexOf(needle), -1, `${what} (${enc}) appears in the token file`);
  }
}

/** The secrets of a private key: its PKCS#8 and, for SM2/EC, the bare scalar. */
function keySecrets(k: PrivateKey): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [['pkcs8', k.pkcs8]];
  if (k.sm2D) out.push(['scalar', Buffer.from(k.sm2D)]);
  if (k.kind !== 'sm2') {
    const jwk = k.node.export({ format: 'jwk' }) as { d?: string; p?: string; q?: string };
    for (const f of ['d', 'p', 'q'] as const) if (jwk[f]) out.push([`jwk ${f}`, Buffer.from(jwk[f]!, 'base64url')]);
  }
  return out;
}

for (const [kdf, cipher] of [[FAST_KDF, 'sm4-gcm'], [{ alg: 'pbkdf2-sm3', iterations: 2000 }, 'aes-256-gcm']] as Array<[KdfParams, CipherName]>) {
  test(`the documented format opens with the PIN (${kdf.alg}, ${cipher}), and no private key, data key or PIN appears in the file`, async () => {
    await withScratch((s) => {
      const path = s.path('t.tok');
      const userPin = 'pin-for-scan-1';
      const adminPin = 'ADMIN-PIN-SCAN-0001';
      const token = SoftToken.init(path, { userPin, adminPin, kdf, cipher });
      const session = token.login('HPKI', userPin);
      const escrowed: PrivateKey[] = [];
      for (const alg of ['sm2', 'p256', 'rsa2048'] as const) {
        session.createContainer(alg);
        const pub = session.generateKeyPair(alg, alg);
        if (alg === 'sm2') {
          const enc = generateKey('sm2');
          escrowed.push(enc);
          session.importEnvelopedKey('sm2', buildSm2EnvelopedKey(enc, pub), { certificate: testCa('sm2').issue('CN=enc', enc.publicKey) });
        }
        session.sign(alg, Buffer.from('x'));
      }
      token.changePin('HPKI', 'user', userPin, userPin + 'x');
      token.changePin('HPKI', 'user', userPin + 'x', userPin);
      token.requestUnblock('HPKI');

      const file = readFileSync(path);
      const { dataKey, kek, keys } = docReader(file, userPin);
      assert.equal(keys.length, 4, 'three signing keys and one encryption key');
      const onToken = keys.map((der) => importPrivateKey(der));
      // The reader's keys are the token's keys: their public halves are the ones listed.
      const listed = token.info().applications[0]!.containers.map((c) => token.exportPublicKey('HPKI', c.name, 'signing')!.spki);
      for (const spki of listed) assert.ok(onToken.some((k) => k.publicKey.spki.equals(spki)));
      assert.ok(onToken.some((k) => k.pkcs8.equals(escrowed[0]!.pkcs8)), 'the imported encryption key is inside');

      // Everything in the directory a crash could leave: the file, temporaries, the lock.
      const all = Buffer.concat(readdirSync(s.dir).map((n) => readFileSync(s.path(n))));
      for (const k of [...onToken, ...escrowed]) for (const [what, secret] of keySecrets(k)) assertAbsent(all, secret, `${k.kind} ${what}`);
      assertAbsent(all, dataKey, 'the data key');
      assertAbsent(all, kek, 'the user-PIN key');
      for (const pin of [userPin, adminPin]) assert.equal(all.indexOf(Buffer.from(pin)), -1, 'a PIN appears in the file');
    });
  });
}

test('a truncated temporary file and a stale lock left by a crashed writer do not break the token', async () => {
  await withScratch((s) => {
    const path = s.path('t.tok');
    const token = SoftToken.init(path, { userPin: 'crash-pin-1', adminPin: 'ADMIN-PIN-CRASH', kdf: FAST_KDF });
    const good = readFileSync(path);
    // What a writer killed half-way leaves: a partial temp file, and its lock naming a dead process.
    writeFileSync(s.path('t.tok.tmp-99999-0badc0ffee00'), good.subarray(0, good.length >> 1));
    writeFileSync(s.path('t.tok.lock'), '999999');
    const session = token.login('HPKI', 'crash-pin-1');
    session.createContainer('after-crash');
    assert.deepEqual(readdirSync(s.dir).sort(), ['t.tok'], 'the stray temporary file and the stale lock are gone');
    assert.deepEqual(session.containers().map((c) => c.name), ['after-crash']);
  });
});

test('killing a process in the middle of PIN changes always leaves a whole token that one of the PINs opens', async () => {
  await withScratch(async (s) => {
    const path = s.path('t.tok');
    SoftToken.init(path, { userPin: 'pin-A-0000', adminPin: 'ADMIN-PIN-KILL', kdf: FAST_KDF });
    const loop = `
const t = lib.SoftToken.open(${JSON.stringify(path)});
let pins = ['pin-A-0000', 'pin-B-1111'];
try { t.verifyPin('HPKI', 'user', pins[0]); } catch { pins = [pins[1], pins[0]]; }
console.log('started');
for (;;) { t.changePin('HPKI', 'user', pins[0], pins[1]); pins = [pins[1], pins[0]]; }`;
    for (let round = 0; round < 8; round++) {
      const child = startChild(loop);
      const exited = once(child, 'exit');
      await once(child.stdout!, 'data');
      await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 200)));
      child.kill('SIGKILL');
      const [, signal] = await exited;
      assert.equal(signal, 'SIGKILL', 'the writer was killed, not finished');
      const token = SoftToken.open(path); // parses: the file is whole
      let opened = 0;
      for (const pin of ['pin-A-0000', 'pin-B-1111']) {
        try {
          token.login('HPKI', pin).logout();
          opened++;
        } catch (e) {
          assert.ok(e instanceof PinIncorrectError, String(e));
        }
      }
      assert.equal(opened, 1, `round ${round}: exactly one PIN opens the token`);
      // The wrong PIN spent one try at most; the next right PIN restores the counter.
      assert.ok(token.pinStatus('HPKI', 'user').remaining >= 5);
    }
  });
});

test('damaged or altered token files give typed errors', async () => {
  await withScratch((s) => {
    const path = s.path('t.tok');
    const token = SoftToken.init(path, { userPin: 'tamper-pin', adminPin: 'ADMIN-PIN-TAMPER', kdf: FAST_KDF });
    const session = token.login('HPKI', 'tamper-pin');
    session.createContainer('c');
    const pub = session.generateKeyPair('c');
    const ca = testCa('sm2');
    session.importCertificate('c', 'signing', ca.issue('CN=real', pub));
    const good = readFileSync(path);
    const isCode = (code: string) => (e: unknown) => e instanceof TokenError && e.code === code;

    // A certificate swapped in the clear-text mirror is noticed at login.
    const doc = JSON.parse(good.toString('utf8'));
    doc.applications[0].containers[0].signing.certificate = ca.issue('CN=forged', pub).der.toString('base64');
    writeFileSync(path, JSON.stringify(doc));
    assert.throws(() => token.login('HPKI', 'tamper-pin'), isCode('token.corrupt'));
    // Sealed contents altered.
    const doc2 = JSON.parse(good.toString('utf8'));
    const ct = Buffer.from(doc2.applications[0].sealed.ciphertext, 'base64');
    ct[5]! ^= 1;
    doc2.applications[0].sealed.ciphertext = ct.toString('base64');
    writeFileSync(path, JSON.stringify(doc2));
    assert.throws(() => token.login('HPKI', 'tamper-pin'), isCode('token.corrupt'));
    // Truncated, empty, not JSON, another version, absurd KDF.
    for (const bad of [good.subarray(0, 100), Buffer.alloc(0), Buffer.from('\u0000\u0001'), Buffer.from(good.toString().replace('"version": 1', '"version": 2')), Buffer.from(good.toString().replace('"N": 1024', '"N": 1073741824'))]) {
      writeFileSync(path, bad);
      assert.throws(() => SoftToken.open(path), isCode('token.corrupt'));
    }
    // Random damage: always a typed error or a still-working token, never a crash.
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(good);
      const at = randomBytes(4).readUInt32BE() % b.length;
      b[at] = randomBytes(1)[0]!;
      writeFileSync(path, b);
      try {
        SoftToken.open(path).login('HPKI', 'tamper-pin').containers();
      } catch (e) {
        assert.ok(e instanceof PkiError, `byte ${at}: ${String(e)}`);
      }
    }
  });
});

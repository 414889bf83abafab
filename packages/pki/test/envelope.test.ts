/**
 * Key envelopes judged by the OpenSSL CLI: an SM2EnvelopedKey (GM/T 0009 §7.4) we build is taken
 * apart with `openssl asn1parse`, `openssl pkeyutl -decrypt` and `openssl enc -sm4-ecb` and gives
 * back the key we put in; one OpenSSL assembles by hand (`asn1parse -genconf`) opens with ours;
 * altered envelopes fail with typed errors. CMS EnvelopedData for RSA and EC holders is opened by
 * `openssl cms -decrypt`, and we open what `openssl cms -encrypt` makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { withScratch, type Scratch } from './crypto/tools.js';
import { PkiError, ParseError, UnsupportedError } from '../src/errors.js';
import { exportPrivateKey, generateKey, importPrivateKey, type PrivateKey } from '../src/crypto/keys.js';
import { Certificate } from '../src/x509/certificate.js';
import {
  EnvelopeError,
  buildEnvelopedData,
  buildSm2EnvelopedKey,
  envelopePrivateKey,
  openEnvelopedData,
  openEnvelopedPrivateKey,
  openSm2EnvelopedKey,
  parseSm2EnvelopedKey,
  sm2EnvelopedPublicKey,
  sm2PrivateKeyFromScalar,
} from '../src/envelope/index.js';

/** One line of `openssl asn1parse` output. */
interface Asn1Item {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  type: string;
  value: string;
}

/** Runs `openssl asn1parse` on a DER file and reads its listing (OpenSSL's reading, not ours). */
function asn1parse(s: Scratch, file: string): Asn1Item[] {
  const out = s.openssl(['asn1parse', '-inform', 'DER', '-in', file]).stdout;
  return out
    .split('\n')
    .map((line) => /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s*(.*?)\s*(?::(.*))?$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ offset: +m[1]!, depth: +m[2]!, headerLength: +m[3]!, length: +m[4]!, type: m[5]!.replace(/\s*\[HEX DUMP\]$/, '').trim(), value: (m[6] ?? '').trim() }));
}

/** Writes the element `item` (header included) of `file` to `out` with `openssl asn1parse -out`. */
function extract(s: Scratch, file: string, item: Asn1Item, out: string): Buffer {
  s.openssl(['asn1parse', '-inform', 'DER', '-in', file, '-offset', String(item.offset), '-length', String(item.headerLength + item.length), '-noout', '-out', out]);
  return s.read(out);
}

/** The private scalar of an OpenSSL key file, as `openssl pkey -text` prints it (32 bytes). */
function opensslScalar(s: Scratch, keyFile: string): Buffer {
  const text = s.openssl(['pkey', '-in', keyFile, '-text', '-noout']).stdout;
  const m = /priv:\s*([\s\S]*?)\npub:/.exec(text);
  assert.ok(m, 'openssl pkey -text shows priv:');
  const bytes = Buffer.from(m[1]!.replace(/[\s:]/g, ''), 'hex');
  return Buffer.concat([Buffer.alloc(32 - bytes.length), bytes.subarray(Math.max(0, bytes.length - 32))]);
}

function sm2KeyFile(s: Scratch, name: string): string {
  s.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', name]);
  return name;
}

test('OpenSSL CLI alone takes our SM2EnvelopedKey apart and gets the enveloped private key', () => {
  withScratch((s) => {
    for (let round = 0; round < 3; round++) {
      const signing = importPrivateKey(s.read(sm2KeyFile(s, 'sign.key')));
      const enc = generateKey('sm2');
      s.write('env.der', buildSm2EnvelopedKey(enc, signing.publicKey));

      const items = asn1parse(s, 'env.der');
      const top = items.filter((i) => i.depth === 1);
      assert.deepEqual(top.map((i) => i.type), ['SEQUENCE', 'SEQUENCE', 'BIT STRING', 'BIT STRING']);
      const algItems = items.filter((i) => i.depth === 2 && i.offset > top[0]!.offset && i.offset < top[1]!.offset);
      assert.deepEqual(algItems.map((i) => [i.type, i.value]), [['OBJECT', 'sm4-ecb'], ['NULL', '']]);

      // symEncryptedKey (SM2Cipher) → the SM4 key, with OpenSSL's SM2 decryption and the signing key.
      extract(s, 'env.der', top[1]!, 'cipher.der');
      s.openssl(['pkeyutl', '-decrypt', '-inkey', 'sign.key', '-in', 'cipher.der', '-out', 'sm4.key']);
      const sm4Key = s.read('sm4.key');
      assert.equal(sm4Key.length, 16);

      // Sm2EncryptedPrivateKey → the scalar, with OpenSSL's SM4-ECB (no padding).
      const bits = extract(s, 'env.der', top[3]!, 'bits.der');
      assert.equal(bits[bits.length - 33], 0, 'no unused bits'); // the byte before the 32 content bytes
      s.write('encpriv.bin', bits.subarray(bits.length - 32));
      s.openssl(['enc', '-d', '-sm4-ecb', '-K', sm4Key.toString('hex'), '-nopad', '-in', 'encpriv.bin', '-out', 'scalar.bin']);
      assert.deepEqual(s.read('scalar.bin'), Buffer.from(enc.sm2D!));

      // Sm2PublicKey is the enveloped key's point.
      const pub = extract(s, 'env.der', top[2]!, 'pub.der');
      assert.deepEqual(pub.subarray(pub.length - 65), Buffer.from(enc.publicKey.sm2Point!));
      assert.deepEqual(sm2EnvelopedPublicKey(s.read('env.der')).spki, enc.publicKey.spki);
    }
  });
});

/** Assembles an SM2EnvelopedKey with OpenSSL CLI operations only and returns its DER. */
function opensslEnvelope(s: Scratch, signKeyFile: string, encKeyFile: string, variant: 'standard' | 'bare-oid' | 'skf-64' | 'padded'): Buffer {
  s.openssl(['pkey', '-in', signKeyFile, '-pubout', '-out', 'signpub.pem']);
  s.openssl(['rand', '-out', 'k.bin', '16']);
  const k = s.read('k.bin').toString('hex');
  s.openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'signpub.pem', '-in', 'k.bin', '-out', 'kc.der']);
  const d = opensslScalar(s, encKeyFile);
  const plain = variant === 'skf-64' ? Buffer.concat([Buffer.alloc(32), d]) : d;
  s.write('d.bin', plain);
  s.openssl(['enc', '-e', '-sm4-ecb', '-K', k, ...(variant === 'padded' ? [] : ['-nopad']), '-in', 'd.bin', '-out', 'dc.bin']);
  s.openssl(['pkey', '-in', encKeyFile, '-pubout', '-outform', 'DER', '-out', 'encpub.der']);
  // The SM2Cipher's four fields, as OpenSSL lists them.
  const c = asn1parse(s, 'kc.der').filter((i) => i.depth === 1);
  const kc = s.read('kc.der');
  const octets = (i: Asn1Item) => kc.subarray(i.offset + i.headerLength, i.offset + i.headerLength + i.length).toString('hex');
  const encPub = s.read('encpub.der');
  const point = encPub.subarray(encPub.length - 65).toString('hex');
  const conf = [
    'asn1 = SEQUENCE:env',
    '[env]',
    'alg = SEQUENCE:alg',
    'cipher = SEQUENCE:cipher',
    `pub = FORMAT:HEX,BITSTRING:${point}`,
    `priv = FORMAT:HEX,BITSTRING:${s.read('dc.bin').toString('hex')}`,
    '[alg]',
    variant === 'bare-oid' ? 'oid = OID:1.2.156.10197.1.104' : 'oid = OID:1.2.156.10197.1.104.1',
    ...(variant === 'bare-oid' ? [] : ['params = NULL']),
    '[cipher]',
    `x = INTEGER:0x${c[0]!.value}`,
    `y = INTEGER:0x${c[1]!.value}`,
    `hash = FORMAT:HEX,OCTETSTRING:${octets(c[2]!)}`,
    `ct = FORMAT:HEX,OCTETSTRING:${octets(c[3]!)}`,
    '',
  ].join('\n');
  s.write('env.cnf', conf);
  s.openssl(['asn1parse', '-genconf', 'env.cnf', '-noout', '-out', 'openssl-env.der']);
  return s.read('openssl-env.der');
}

test('we open SM2EnvelopedKeys that OpenSSL CLI operations assembled, in every accepted layout', () => {
  withScratch((s) => {
    const signing = importPrivateKey(s.read(sm2KeyFile(s, 'sign.key')));
    for (const variant of ['standard', 'bare-oid', 'skf-64', 'padded'] as const) {
      sm2KeyFile(s, 'enc.key');
      const env = opensslEnvelope(s, 'sign.key', 'enc.key', variant);
      const opened = openSm2EnvelopedKey(env, signing);
      assert.deepEqual(Buffer.from(opened.sm2D!), opensslScalar(s, 'enc.key'), variant);
      s.openssl(['pkey', '-in', 'enc.key', '-pubout', '-outform', 'DER', '-out', 'encpub.der']);
      assert.deepEqual(opened.publicKey.spki, s.read('encpub.der'), variant);
      // The opened key is a working SM2 key for OpenSSL too: it decrypts what OpenSSL encrypts to enc.key.
      s.write('opened.key', exportPrivateKey(opened));
      s.write('m.bin', randomBytes(48));
      s.openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'encpub.der', '-keyform', 'DER', '-in', 'm.bin', '-out', 'm.ct']);
      s.openssl(['pkeyutl', '-decrypt', '-inkey', 'opened.key', '-in', 'm.ct', '-out', 'm.out']);
      assert.deepEqual(s.read('m.out'), s.read('m.bin'), variant);
    }
  });
});

function expectEnvelopeError(fn: () => unknown, failure: EnvelopeError['failure'], label: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EnvelopeError && e.failure === failure && e.code === `envelope.${failure}`, label);
}

/** The byte offsets of the four top-level fields' contents, found by our own reading of the test DER. */
function fieldContents(der: Buffer): Array<{ start: number; end: number }> {
  const fields: Array<{ start: number; end: number }> = [];
  let o = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  while (o < der.length) {
    let len = der[o + 1]!;
    let h = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[o + 2 + i]!;
      h += n;
    }
    fields.push({ start: o + h, end: o + h + len });
    o += h + len;
  }
  return fields;
}

test('altered SM2EnvelopedKeys and wrong recipients fail with typed errors', () => {
  const signing = generateKey('sm2');
  const enc = generateKey('sm2');
  const env = buildSm2EnvelopedKey(enc, signing.publicKey);
  const [, cipher, pub, priv] = fieldContents(env);

  expectEnvelopeError(() => openSm2EnvelopedKey(env, generateKey('sm2')), 'recipient', 'another SM2 key');

  // A flipped bit in the SM2Cipher's C2 (the last bytes of the cipher field) breaks its C3 check.
  const c2Flip = Buffer.from(env);
  c2Flip[cipher!.end - 1]! ^= 0x01;
  expectEnvelopeError(() => openSm2EnvelopedKey(c2Flip, signing), 'recipient', 'flipped C2 bit');

  // Every bit position of the encrypted private key: ECB has no integrity, the pair check catches it.
  for (let i = priv!.start + 1; i < priv!.end; i += 3) {
    const flipped = Buffer.from(env);
    flipped[i]! ^= 0x80;
    expectEnvelopeError(() => openSm2EnvelopedKey(flipped, signing), 'mismatch', `flipped private-key byte ${i}`);
  }

  // The public key swapped for another valid point.
  const other = generateKey('sm2');
  const swapped = Buffer.from(env);
  Buffer.from(other.publicKey.sm2Point!).copy(swapped, pub!.start + 1);
  expectEnvelopeError(() => openSm2EnvelopedKey(swapped, signing), 'mismatch', 'swapped public key');

  // A point off the curve is a parse error, before any decryption.
  const offCurve = Buffer.from(env);
  offCurve[pub!.end - 1]! ^= 0x01;
  assert.throws(() => openSm2EnvelopedKey(offCurve, signing), ParseError);

  // Not SM4: the algorithm OID's last arc changed from 1 (sm4-ecb) to 2 (sm4-cbc).
  const cbc = Buffer.from(env);
  const oidAt = env.indexOf(Buffer.from('2a811ccf55016801', 'hex'));
  assert.ok(oidAt > 0);
  cbc[oidAt + 7] = 0x02;
  assert.throws(() => openSm2EnvelopedKey(cbc, signing), UnsupportedError);

  assert.throws(() => openSm2EnvelopedKey(Buffer.concat([env, Buffer.from([0])]), signing), ParseError, 'trailing byte');
  assert.throws(() => openSm2EnvelopedKey(env.subarray(0, env.length - 1), signing), ParseError, 'truncated');
  assert.throws(() => parseSm2EnvelopedKey(Buffer.from('not der')), ParseError);
  assert.throws(() => openSm2EnvelopedKey(env, generateKey('p256')), UnsupportedError, 'a P-256 recipient key');
  assert.throws(() => buildSm2EnvelopedKey(generateKey('p256'), signing.publicKey), UnsupportedError, 'a P-256 enveloped key');

  // Random single-byte damage anywhere: always a typed error (or, rarely, a still-valid envelope), never a crash.
  for (let i = 0; i < 300; i++) {
    const bad = Buffer.from(env);
    bad[i % bad.length]! ^= 1 + (i % 255);
    try {
      const k = openSm2EnvelopedKey(bad, signing);
      assert.deepEqual(Buffer.from(k.sm2D!), Buffer.from(enc.sm2D!), 'a damaged envelope that opens must still give the same key');
    } catch (e) {
      assert.ok(e instanceof PkiError, `byte ${i % bad.length}: ${String(e)}`);
    }
  }
});

test('sm2PrivateKeyFromScalar refuses scalars outside [1, n − 2]', () => {
  assert.throws(() => sm2PrivateKeyFromScalar(Buffer.alloc(32)), ParseError);
  assert.throws(() => sm2PrivateKeyFromScalar(Buffer.alloc(31, 1)), ParseError);
  const n = Buffer.from('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123', 'hex');
  assert.throws(() => sm2PrivateKeyFromScalar(n), ParseError);
  const k = generateKey('sm2');
  assert.deepEqual(sm2PrivateKeyFromScalar(k.sm2D!).pkcs8, k.pkcs8);
});

/** A self-signed certificate and its key made by OpenSSL. */
function opensslHolder(s: Scratch, name: string, keyArgs: string[]): { cert: Certificate; key: PrivateKey; certFile: string; keyFile: string } {
  s.openssl(['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name} holder`, '-days', '30']);
  return { cert: Certificate.parse(s.read(`${name}.crt`)), key: importPrivateKey(s.read(`${name}.key`)), certFile: `${name}.crt`, keyFile: `${name}.key` };
}

const HOLDERS: Array<[name: string, keyArgs: string[]]> = [
  ['rsa', ['rsa:2048']],
  ['p256', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
  ['p384', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
];

test('openssl cms -decrypt opens our CMS EnvelopedData and yields the PKCS#8 we enveloped', () => {
  withScratch((s) => {
    for (const [name, args] of HOLDERS) {
      const holder = opensslHolder(s, name, args);
      const transports = name === 'rsa' ? (['rsa-oaep-sha256', 'rsa-pkcs1'] as const) : ([undefined] as const);
      for (const t of transports) {
        for (const alg of ['p256', 'rsa2048', 'sm2'] as const) {
          const escrowed = generateKey(alg);
          s.write('env.der', envelopePrivateKey(escrowed, holder.cert, t ? { rsaKeyTransport: t } : {}));
          s.openssl(['cms', '-decrypt', '-inform', 'DER', '-in', 'env.der', '-recip', holder.certFile, '-inkey', holder.keyFile, '-binary', '-out', 'key.p8']);
          assert.deepEqual(s.read('key.p8'), escrowed.pkcs8, `${name} ${t ?? 'ecdh'} ${alg}`);
          s.openssl(['pkey', '-inform', 'DER', '-in', 'key.p8', '-noout']);
          if (t !== 'rsa-pkcs1') assert.deepEqual(openEnvelopedPrivateKey(s.read('env.der'), holder.key, holder.cert, escrowed.publicKey).pkcs8, escrowed.pkcs8);
        }
      }
    }
  });
});

test('we open the CMS EnvelopedData that openssl cms -encrypt makes (RSA-OAEP, ECDH)', () => {
  withScratch((s) => {
    const msg = randomBytes(1000);
    s.write('msg.bin', msg);
    for (const [name, args] of HOLDERS) {
      const holder = opensslHolder(s, name, args);
      const variants: string[][] =
        name === 'rsa'
          ? [['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'], ['-keyopt', 'rsa_padding_mode:oaep']]
          : [[]];
      for (const extra of variants) {
        for (const cipher of ['-aes256', '-aes128']) {
          s.openssl(['cms', '-encrypt', '-binary', '-in', 'msg.bin', '-outform', 'DER', '-out', 'o.der', cipher, '-recip', holder.certFile, ...extra]);
          assert.deepEqual(openEnvelopedData(s.read('o.der'), holder.key, holder.cert), msg, `${name} ${extra.join(' ')} ${cipher}`);
          assert.deepEqual(openEnvelopedData(s.read('o.der'), holder.key), msg, `${name} without the certificate`);
        }
      }
    }
  });
});

test('CMS EnvelopedData: wrong recipient, altered key or content, PKCS#1 v1.5 → typed errors', () => {
  withScratch((s) => {
    const rsa = opensslHolder(s, 'rsa', ['rsa:2048']);
    const rsa2 = opensslHolder(s, 'rsa2', ['rsa:2048']);
    const ec = opensslHolder(s, 'p256', HOLDERS[1]![1]);
    const ec2 = opensslHolder(s, 'p256b', HOLDERS[1]![1]);
    const escrowed = generateKey('p256');
    for (const [holder, stranger] of [[rsa, rsa2], [ec, ec2]] as const) {
      const env = envelopePrivateKey(escrowed, holder.cert);
      expectEnvelopeError(() => openEnvelopedPrivateKey(env, stranger.key), 'recipient', 'stranger without certificate');
      expectEnvelopeError(() => openEnvelopedPrivateKey(env, stranger.key, stranger.cert), 'recipient', 'stranger with own certificate');
      expectEnvelopeError(() => openEnvelopedPrivateKey(env, holder.key, holder.cert, generateKey('p256').publicKey), 'mismatch', 'unexpected key');
      // IV byte 0 flipped: the first plaintext byte (PKCS#8's SEQUENCE tag 0x30) becomes 0x31.
      s.write('e.der', env);
      const items = asn1parse(s, 'e.der');
      const cbcAt = items.findIndex((i) => i.type === 'OBJECT' && i.value === 'aes-256-cbc');
      const iv = items[cbcAt + 1]!;
      assert.equal(iv.length, 16);
      const badIv = Buffer.from(env);
      badIv[iv.offset + iv.headerLength]! ^= 0x01;
      expectEnvelopeError(() => openEnvelopedPrivateKey(badIv, holder.key, holder.cert), 'content', 'altered IV');
      // The wrapped content-encryption key altered: OAEP or the AES key-wrap integrity check refuses it.
      const wrapped = items.filter((i) => i.type === 'OCTET STRING' && i.length >= 40).at(0)!;
      const badKey = Buffer.from(env);
      badKey[wrapped.offset + wrapped.headerLength + 10]! ^= 0x40;
      expectEnvelopeError(() => openEnvelopedData(badKey, holder.key, holder.cert), 'recipient', 'altered wrapped key');
    }
    const env = envelopePrivateKey(escrowed, rsa.cert);
    const v15 = envelopePrivateKey(escrowed, rsa.cert, { rsaKeyTransport: 'rsa-pkcs1' });
    assert.throws(() => openEnvelopedData(v15, rsa.key, rsa.cert), UnsupportedError);
    assert.throws(() => buildEnvelopedData(Buffer.from('x'), []), PkiError);
    assert.throws(() => buildEnvelopedData(Buffer.from('x'), [opensslHolder(s, 'sm2', ['ec', '-pkeyopt', 'ec_paramgen_curve:SM2']).cert]), UnsupportedError);
    assert.throws(() => openEnvelopedData(Buffer.from('garbage'), rsa.key), ParseError);
    assert.throws(() => openEnvelopedData(env, generateKey('sm2')), UnsupportedError);
  });
});

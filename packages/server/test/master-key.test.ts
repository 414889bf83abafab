/**
 * The master key and envelope encryption: blobs opened by Python's `cryptography` (an outside
 * implementation of HKDF, AES-GCM, SM3 and SM4-GCM) from the master key and the documented
 * format alone; blobs bound to their row; a wrong passphrase or key file refused at start with a
 * clear message; the demonstration key file generated once, 0600; CA keys sealed in the database
 * and a key moved to another CA's row refused.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Envelope, MasterKey, SealError, openServices, bootstrap, type SealCipher, type SealingOptions } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';

const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };

/** Opens a v1 blob in Python from the raw master key and the format described in envelope.ts. */
function pythonOpen(master: Buffer, blob: Buffer, context: string): Buffer {
  const script = `
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
master, blob, ctx = (bytes.fromhex(a) for a in sys.argv[1:4])
cipher = blob[1]
klen, h, info, name = (32, hashes.SHA256(), b'health-pki kek aes-256-gcm v1', 'aes') if cipher == 1 else (16, hashes.SM3(), b'health-pki kek sm4-gcm v1', 'sm4')
kek = HKDF(h, klen, None, info).derive(master)
header = blob[:10]
def dec(key, nonce, ct, aad):
    if name == 'aes':
        return AESGCM(key).decrypt(nonce, ct, aad)
    d = Cipher(algorithms.SM4(key), modes.GCM(nonce, ct[-16:])).decryptor()
    d.authenticate_additional_data(aad)
    return d.update(ct[:-16]) + d.finalize()
w = blob[10:10 + 12 + klen + 16]
dk = dec(kek, w[:12], w[12:], b'health-pki envelope v1 data-key\\0' + header + ctx)
rest = blob[10 + len(w):]
print(dec(dk, rest[:12], rest[12:], b'health-pki envelope v1 data\\0' + header[:2] + ctx).hex())
`;
  const out = execFileSync('python3', ['-c', script, master.toString('hex'), blob.toString('hex'), Buffer.from(context).toString('hex')], { encoding: 'utf8' });
  return Buffer.from(out.trim(), 'hex');
}

describe('envelope encryption', () => {
  for (const cipher of ['aes-256-gcm', 'sm4-gcm'] as SealCipher[]) {
    test(`${cipher}: Python's cryptography opens what we seal; another context, a changed byte or an unknown master key is refused`, () => {
      const secret = randomBytes(32);
      const env = new Envelope(new MasterKey(secret), cipher);
      const plaintext = randomBytes(1000);
      const blob = env.seal(plaintext, 'material:0001');
      assert.equal(env.protection, cipher === 'sm4-gcm' ? 'master-sm4gcm-v1' : 'master-aes256gcm-v1');
      assert.ok(!blob.includes(plaintext.subarray(0, 16)));
      assert.deepEqual(env.open(blob, env.protection, 'material:0001'), plaintext);
      assert.deepEqual(pythonOpen(secret, blob, 'material:0001'), plaintext);
      // Two seals of the same bytes share nothing but the header (fresh data key and nonces).
      assert.notDeepEqual(env.seal(plaintext, 'material:0001').subarray(10), blob.subarray(10));
      assert.throws(() => env.open(blob, env.protection, 'material:0002'), (e: unknown) => e instanceof SealError && e.code === 'seal.integrity' && /material:0002/.test(e.message));
      for (const at of [12, 30, blob.length - 1]) {
        const bad = Buffer.from(blob);
        bad[at]! ^= 1;
        assert.throws(() => env.open(bad, env.protection, 'material:0001'), (e: unknown) => e instanceof SealError && e.code === 'seal.integrity');
      }
      const other = new Envelope(new MasterKey(randomBytes(32)), cipher);
      assert.throws(() => other.open(blob, env.protection, 'material:0001'), (e: unknown) => e instanceof SealError && e.code === 'seal.key-unknown');
      assert.throws(() => env.open(blob, 'master-other-v9', 'material:0001'), (e: unknown) => e instanceof SealError && e.code === 'seal.protection');
      assert.throws(() => env.open(blob.subarray(0, 20), env.protection, 'material:0001'), (e: unknown) => e instanceof SealError && e.code === 'seal.format');
    });
  }

  test('rotation re-wraps the data key only: the new key opens it alone, the ciphertext is unchanged', () => {
    const oldKey = new MasterKey(randomBytes(32));
    const newSecret = randomBytes(32);
    const newKey = new MasterKey(newSecret);
    const blob = new Envelope(oldKey).seal(Buffer.from('scan'), 'material:7');
    const rewrapped = new Envelope(newKey, 'aes-256-gcm', [oldKey]).rewrap(blob, 'material:7');
    assert.equal(Envelope.keyIdOf(rewrapped), newKey.keyId);
    assert.deepEqual(rewrapped.subarray(10 + 60), blob.subarray(10 + 60));
    assert.equal(new Envelope(newKey).open(rewrapped, 'master-aes256gcm-v1', 'material:7').toString(), 'scan');
    assert.equal(pythonOpen(newSecret, rewrapped, 'material:7').toString(), 'scan');
  });
});

for (const backendName of BACKENDS) {
  describe(`master key at start on ${backendName}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    async function fresh(): Promise<TestBackend> {
      const b = await createBackend(backendName);
      cleanups.push(() => b.cleanup());
      return b;
    }
    const start = async (b: TestBackend, sealing?: SealingOptions) => {
      const s = await openServices({ dataDir: b.dataDir, dbUrl: b.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0, sealing });
      await s.close();
      return s;
    };
    const refused = async (b: TestBackend, sealing: SealingOptions | undefined, code: string, message: RegExp) => {
      await assert.rejects(start(b, sealing), (e: any) => e.name === 'MasterKeyError' && e.code === code && message.test(e.message));
    };

    test('passphrase: registered with its scrypt salt at first start; the same passphrase opens, a wrong one or a key file is refused by name', async () => {
      const b = await fresh();
      const first = await start(b, { masterKey: { kind: 'passphrase', passphrase: '正确的口令 correct horse' }, scrypt: FAST_SCRYPT });
      assert.equal(first.sealing.masterKey.source, 'passphrase');
      const again = await start(b, { masterKey: { kind: 'passphrase', passphrase: '正确的口令 correct horse' } });
      assert.equal(again.sealing.masterKey.key.keyId, first.sealing.masterKey.key.keyId);
      await refused(b, { masterKey: { kind: 'passphrase', passphrase: 'wrong' } }, 'master-key.mismatch', /^wrong master passphrase: .*master key [0-9a-f]{16} \(from a passphrase\)/);
      const keyFile = join(b.dataDir, 'other.key');
      writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
      await refused(b, { masterKey: { kind: 'file', path: keyFile } }, 'master-key.source', /HPKI_MASTER_PASSPHRASE instead/);
      // No key given and no master.key: the demo key is not generated for a database that has one.
      await refused(b, undefined, 'master-key.missing', /no master key was given/);
      assert.ok(!existsSync(join(b.dataDir, 'master.key')));
    });

    test('key file: refused when group/other-readable or not 32 bytes; another file is refused with both key ids', async () => {
      const b = await fresh();
      const dir = mkdtempSync(join(tmpdir(), 'hpki-mk-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'master.key');
      writeFileSync(file, randomBytes(32), { mode: 0o644 });
      chmodSync(file, 0o644);
      await refused(b, { masterKey: { kind: 'file', path: file } }, 'master-key.permissions', /mode 644.*chmod 600/);
      chmodSync(file, 0o600);
      const ok = await start(b, { masterKey: { kind: 'file', path: file } });
      const other = join(dir, 'other.key');
      writeFileSync(other, randomBytes(32), { mode: 0o600 });
      await refused(b, { masterKey: { kind: 'file', path: other } }, 'master-key.mismatch', new RegExp(`holds key [0-9a-f]{16}, but .*master key ${ok.sealing.masterKey.key.keyId}`));
      writeFileSync(other, randomBytes(31), { mode: 0o600 });
      await refused(b, { masterKey: { kind: 'file', path: other } }, 'master-key.file', /exactly 32 random bytes; it holds 31/);
      await refused(b, { masterKey: { kind: 'passphrase', passphrase: 'x' } }, 'master-key.source', /--master-key-file/);
    });

    test('demo: DATA_DIR/master.key generated once (0600); CA keys are sealed in the database; a CA key moved to another CA row does not open', async () => {
      const b = await fresh();
      const services = await openServices({ dataDir: b.dataDir, dbUrl: b.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0 });
      try {
        assert.equal(services.sealing.masterKey.generated, true);
        assert.equal(statSync(join(b.dataDir, 'master.key')).mode & 0o777, 0o600);
        await bootstrap(services, b.dataDir);
        const rows = (await sql<{ id: string; authority_id: string; label: string; key_sealed: Buffer; key_protection: string }>`select id, authority_id, label, key_sealed, key_protection from ca_issuers`.execute(services.database.db)).rows;
        assert.ok(rows.length >= 4);
        for (const r of rows) assert.equal(r.key_protection, 'master-aes256gcm-v1');
        // Swap the issuing keys of the two demo CAs (both ECDSA/SM2 keys sealed alike).
        const [x, y] = rows.filter((r) => r.label === 'issuing-1');
        await sql`update ca_issuers set key_sealed = ${Buffer.from(y!.key_sealed)} where id = ${x!.id}`.execute(services.database.db);
      } finally {
        await services.close();
      }
      const again = await openServices({ dataDir: b.dataDir, dbUrl: b.dbUrl, baseUrl: 'http://pki.test', pkiThreads: 0 });
      try {
        assert.equal(again.sealing.masterKey.generated, false);
        const names = (await again.ca.listAuthorities()).map((a) => a.name);
        const failures: string[] = [];
        for (const name of names) {
          try {
            // Opens every key of the CA, as signing does.
            await again.ca.signingIssuers(name);
          } catch (e) {
            assert.ok(e instanceof SealError && e.code === 'seal.integrity', String(e));
            failures.push(name);
          }
        }
        assert.equal(failures.length, 1, 'exactly the CA whose row got the other key refuses it');
      } finally {
        await again.close();
      }
    });
  });
}

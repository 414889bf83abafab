/**
 * `hpki token` run as a holder and a CA run it (child processes, PINs in files or the
 * environment), with OpenSSL judging: the token's CSR, an SM2 signing certificate issued by
 * `hpki cert create`, the KMC's SM2EnvelopedKey imported with the encryption certificate, data
 * encrypted by `openssl pkeyutl` decrypted, signatures verified by `openssl dgst`; wrong PINs
 * lock the token (exit 1) and only the CA's answer unblocks it, once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate, buildSm2EnvelopedKey, importPrivateKey } from '@health-pki/pki';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const SM2_ID = '1234567812345678';
const RESIDENT_ID = '110108199003071238';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpki-token-cli-'));
  for (const [name, pin] of [['pin.txt', '246810'], ['admin.txt', 'ADMIN-CLI-7Q2W9Z'], ['new.txt', 'new-pin-1357'], ['wrong.txt', '000000'], ['bad-admin.txt', 'NOT-THE-ADMIN-PIN']]) {
    writeFileSync(join(dir, name!), `${pin}\n`);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function hpki(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, LANG: 'C', LC_ALL: '', HPKI_TOKEN_PIN: '', HPKI_TOKEN_ADMIN_PIN: '', HPKI_TOKEN_NEW_PIN: '', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], env?: Record<string, string>): Run {
  const r = hpki(args, env);
  assert.equal(r.code, 0, `hpki ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** A failure with the given exit code and one "hpki: …" line matching `pattern`. */
function fails(args: string[], code: number, pattern: RegExp, env?: Record<string, string>): void {
  const r = hpki(args, env);
  assert.equal(r.code, code, `hpki ${args.join(' ')} should exit ${code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(lines[0]!, /^hpki: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

function openssl(args: string[]): Run {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function sslOk(args: string[]): Run {
  const r = openssl(args);
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const p = (name: string) => join(dir, name);
const T = ['--token', 'zhang.tok'];

test('every token command has --help with an example', () => {
  for (const cmd of ['init', 'list', 'keygen', 'import', 'sign', 'decrypt', 'export-cert', 'verify-pin', 'change-pin', 'unblock-request', 'unblock-answer', 'unblock-apply']) {
    const r = ok(['token', cmd, '--help']);
    assert.match(r.stdout, /Usage: hpki token/);
    assert.match(r.stdout, /Examples?:\n\s+\$ hpki token /, cmd);
    assert.doesNotMatch(r.stdout, /--pin <|--admin-pin </, 'no PIN on the command line');
  }
});

test('SM2 dual certificates on the token: CSR, signing certificate, KMC envelope, OpenSSL-encrypted data, signatures; lock and CA unblock', () => {
  // A CA made with hpki.
  ok(['keygen', '--alg', 'sm2', '--out', 'ca.key']);
  ok(['cert', 'create', '--profile', 'root-ca', '--key', 'ca.key', '--subject', 'C=CN,O=健康医疗测试认证中心,CN=Token Test CA', '--out', 'ca.pem']);

  const init = JSON.parse(ok(['token', 'init', ...T, '--label', '张三', '--pin-file', 'pin.txt', '--admin-pin-file', 'admin.txt', '--kdf', 'scrypt:10', '--json']).stdout);
  assert.match(init.tokenId, /^[0-9a-f]{32}$/);
  fails(['token', 'init', ...T, '--pin-file', 'pin.txt', '--admin-pin-file', 'admin.txt'], 2, /already exists/);

  // The signing key is made on the token; OpenSSL checks the CSR (proof of possession, standard SM2 ID).
  ok(['token', 'keygen', ...T, '--container', 'staff', '--subject', 'C=CN,O=北京协和医院,OU=心内科,CN=张三', '--pin-file', 'pin.txt', '--csr-out', 'staff.csr']);
  const v = sslOk(['req', '-in', 'staff.csr', '-verify', '-noout', '-vfyopt', `distid:${SM2_ID}`]);
  assert.match(v.stdout + v.stderr, /verify OK/);
  ok(['cert', 'create', '--profile', 'staff-sign', '--csr', 'staff.csr', '--resident-id', RESIDENT_ID, '--ca-cert', 'ca.pem', '--ca-key', 'ca.key', '--out', 'sign.pem']);
  ok(['token', 'import', ...T, '--container', 'staff', '--cert', 'sign.pem'], { HPKI_TOKEN_PIN: '246810' });

  // The KMC: an encryption key, its certificate, and the key enveloped to the holder's signing key.
  ok(['keygen', '--alg', 'sm2', '--out', 'kmc.key', '--pub-out', 'kmc.pub']);
  ok(['cert', 'create', '--profile', 'staff-enc', '--pubkey', 'kmc.pub', '--subject', 'C=CN,O=北京协和医院,CN=张三', '--resident-id', RESIDENT_ID, '--ca-cert', 'ca.pem', '--ca-key', 'ca.key', '--out', 'enc.pem']);
  const signCert = Certificate.parse(readFileSync(p('sign.pem')));
  writeFileSync(p('enc-key.env'), buildSm2EnvelopedKey(importPrivateKey(readFileSync(p('kmc.key'))), signCert.publicKey));
  fails(['token', 'import', ...T, '--container', 'staff', '--enveloped-key', 'enc-key.env', '--enc-cert', 'sign.pem', '--pin-file', 'pin.txt'], 2, /does not match the encryption certificate/);
  ok(['token', 'import', ...T, '--container', 'staff', '--enveloped-key', 'enc-key.env', '--enc-cert', 'enc.pem', '--pin-file', 'pin.txt']);

  const list = JSON.parse(ok(['token', 'list', ...T, '--json']).stdout);
  const c = list.applications[0].containers[0];
  assert.equal(c.signing.certificate.serial, signCert.serialHex);
  assert.equal(c.encryption.keyAlgorithm, 'sm2');
  assert.match(ok(['token', 'list', ...T]).stdout, /container "staff"\n\s+signing: sm2\s+certificate .*CN=张三/);

  // Someone encrypts to the encryption certificate with OpenSSL; the token decrypts.
  ok(['token', 'export-cert', ...T, '--container', 'staff', '--slot', 'encryption', '--out', 'enc-exported.pem']);
  assert.equal(readFileSync(p('enc-exported.pem'), 'utf8'), readFileSync(p('enc.pem'), 'utf8'));
  sslOk(['x509', '-in', 'enc-exported.pem', '-pubkey', '-noout', '-out', 'enc.pub']);
  const secret = randomBytes(200);
  writeFileSync(p('secret.bin'), secret);
  sslOk(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'enc.pub', '-in', 'secret.bin', '-out', 'secret.sm2']);
  ok(['token', 'decrypt', ...T, '--container', 'staff', '--in', 'secret.sm2', '--out', 'secret.out', '--pin-file', 'pin.txt']);
  assert.deepEqual(readFileSync(p('secret.out')), secret);

  // Signatures that OpenSSL verifies with the signing certificate's key.
  writeFileSync(p('record.xml'), '<record patient="42"/>');
  sslOk(['x509', '-in', 'sign.pem', '-pubkey', '-noout', '-out', 'sign.pub']);
  ok(['token', 'sign', ...T, '--container', 'staff', '--in', 'record.xml', '--out', 'record.sig', '--pin-file', 'pin.txt']);
  sslOk(['dgst', '-sm3', '-verify', 'sign.pub', '-signature', 'record.sig', '-sigopt', `distid:${SM2_ID}`, 'record.xml']);
  const j = JSON.parse(ok(['token', 'sign', ...T, '--container', 'staff', '--in', 'record.xml', '--user-id', 'zhangsan@pumch', '--json'], { HPKI_TOKEN_PIN: '246810' }).stdout);
  assert.equal(j.algorithm, '1.2.156.10197.1.501');
  writeFileSync(p('record2.sig'), Buffer.from(j.signature, 'base64'));
  sslOk(['dgst', '-sm3', '-verify', 'sign.pub', '-signature', 'record2.sig', '-sigopt', 'distid:zhangsan@pumch', 'record.xml']);

  // Wrong PINs: exit 1 with the tries left, then locked for every command.
  for (let left = 5; left >= 1; left--) fails(['token', 'verify-pin', ...T, '--pin-file', 'wrong.txt'], 1, new RegExp(`wrong user PIN: ${left} tr(y|ies) left`));
  fails(['token', 'verify-pin', ...T, '--pin-file', 'wrong.txt'], 1, /the PIN is now locked/);
  fails(['token', 'sign', ...T, '--container', 'staff', '--in', 'record.xml', '--pin-file', 'pin.txt'], 1, /user PIN is locked/);
  const locked = hpki(['token', 'verify-pin', ...T, '--pin-file', 'pin.txt', '--json']);
  assert.equal(locked.code, 1);
  assert.deepEqual(JSON.parse(locked.stdout), { ok: false, remaining: 0, locked: true });

  // The unblock round trip: request (holder) → answer (CA, admin PIN) → apply (holder, new PIN).
  ok(['token', 'unblock-request', ...T, '--out', 'unblock-req.json']);
  const tokenId = init.tokenId as string;
  fails(['token', 'unblock-answer', '--request', 'unblock-req.json', '--token-id', tokenId, '--admin-pin-file', 'bad-admin.txt'], 2, /admin PIN on record does not open this token/);
  fails(['token', 'unblock-answer', '--request', 'unblock-req.json', '--token-id', 'ab'.repeat(16), '--admin-pin-file', 'admin.txt'], 2, /not abab/);
  ok(['token', 'unblock-answer', '--request', 'unblock-req.json', '--token-id', tokenId, '--out', 'unblock-resp.json'], { HPKI_TOKEN_ADMIN_PIN: 'ADMIN-CLI-7Q2W9Z' });
  assert.ok(!readFileSync(p('unblock-req.json'), 'utf8').includes('ADMIN-CLI-7Q2W9Z') && !readFileSync(p('unblock-resp.json'), 'utf8').includes('ADMIN-CLI-7Q2W9Z'));
  ok(['token', 'unblock-apply', ...T, '--response', 'unblock-resp.json', '--new-pin-file', 'new.txt']);
  fails(['token', 'unblock-apply', ...T, '--response', 'unblock-resp.json', '--new-pin-file', 'pin.txt'], 2, /already used/);
  ok(['token', 'verify-pin', ...T, '--pin-file', 'new.txt']);
  ok(['token', 'decrypt', ...T, '--container', 'staff', '--in', 'secret.sm2', '--out', 'secret.again', '--pin-file', 'new.txt']);
  assert.deepEqual(readFileSync(p('secret.again')), secret);

  // PIN changes.
  ok(['token', 'change-pin', ...T, '--pin-file', 'new.txt', '--new-pin-file', 'pin.txt']);
  ok(['token', 'verify-pin', ...T, '--pin-file', 'pin.txt']);
  ok(['token', 'change-pin', ...T, '--admin', '--admin-pin-file', 'admin.txt'], { HPKI_TOKEN_NEW_PIN: 'ADMIN-CLI-NEXT-01' });
  ok(['token', 'verify-pin', ...T, '--admin'], { HPKI_TOKEN_ADMIN_PIN: 'ADMIN-CLI-NEXT-01' });
});

test('token usage errors: one line, exit 2', () => {
  ok(['token', 'init', '--token', 'u.tok', '--pin-file', 'pin.txt', '--admin-pin-file', 'admin.txt', '--kdf', 'scrypt:10']);
  fails(['token', 'list'], 2, /--token FILE/);
  fails(['token', 'sign', '--token', 'u.tok', '--container', 'x', '--in', 'pin.txt'], 2, /--pin-file FILE or the HPKI_TOKEN_PIN environment variable/);
  fails(['token', 'sign', '--token', 'u.tok', '--container', 'x', '--in', 'pin.txt', '--pin-file', 'pin.txt'], 2, /no container "x"/);
  fails(['token', 'list', '--token', 'missing.tok'], 2, /no token at/);
  fails(['token', 'init', '--token', 'v.tok', '--pin-file', 'pin.txt', '--admin-pin-file', 'admin.txt', '--kdf', 'md5'], 2, /--kdf must be/);
  fails(['token', 'init', '--token', 'v.tok', '--pin-file', 'pin.txt', '--admin-pin-file', 'admin.txt', '--kdf', 'scrypt:4'], 2, /KDF parameters out of bounds/);
  writeFileSync(p('short.txt'), '12\n');
  fails(['token', 'init', '--token', 'v.tok', '--pin-file', 'short.txt', '--admin-pin-file', 'admin.txt'], 2, /must be 6 to 64 characters/);
  writeFileSync(p('garbage.tok'), '{"format": "something else"}');
  fails(['token', 'list', '--token', 'garbage.tok'], 2, /damaged or not a token/);
  writeFileSync(p('not-json.txt'), 'no json here');
  fails(['token', 'unblock-apply', '--token', 'u.tok', '--response', 'not-json.txt', '--new-pin-file', 'new.txt'], 2, /unblock response is not JSON/);
  fails(['token', 'import', '--token', 'u.tok', '--container', 'x', '--pin-file', 'pin.txt'], 2, /either --cert or --enveloped-key/);
});

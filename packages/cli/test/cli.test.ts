/**
 * The hpki CLI, run as a user runs it (a child process), with OpenSSL judging what it writes:
 * keys, requests and a root → sub-CA → staff certificate chain; `cert show` on certificates
 * OpenSSL made; and bad input answered with exit code 2 and one clear line, never a stack trace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to packages/cli/dist/test/cli.test.js; the CLI is packages/cli/dist/src/main.js.
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const SM2_ID = '1234567812345678';
const RESIDENT_ID = '110108199003071238';
const USCC = '12100000400000624D';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpki-cli-test-'));
  writeFileSync(join(dir, 'pass.txt'), 'correct horse battery\n');
  writeFileSync(join(dir, 'wrong.txt'), 'not the passphrase\n');
});
after(() => {
  if (!process.env.HPKI_KEEP_CLI_TMP) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hpki args…` in the test directory. */
function hpki(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, LANG: 'C', LC_ALL: '', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `hpki` and asserts success. */
function ok(args: string[]): Run {
  const r = hpki(args);
  assert.equal(r.code, 0, `hpki ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** Runs `openssl args…` in the test directory. */
function openssl(args: string[]): Run {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a usage failure: exit 2, one line on stderr beginning "hpki:", matching `pattern`, no stack trace. */
function fails(args: string[], pattern: RegExp, env?: Record<string, string>): void {
  const r = hpki(args, env);
  assert.equal(r.code, 2, `hpki ${args.join(' ')} should exit 2; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(lines[0]!, /^hpki: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  assert.equal(r.stdout, '');
}

test('every command has --help with an example', () => {
  for (const cmd of [[], ['keygen'], ['req'], ['cert'], ['cert', 'create'], ['cert', 'show'], ['profiles']]) {
    const r = ok([...cmd, '--help']);
    assert.match(r.stdout, /Usage: hpki/);
    assert.match(r.stdout, /Examples?:\n\s+\$ hpki /, `hpki ${cmd.join(' ')} --help`);
  }
});

test('runs as the npm bin: shebang, executable, linked as node_modules/.bin/hpki', () => {
  assert.match(readFileSync(MAIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  assert.ok(statSync(MAIN).mode & 0o100, 'main.js is executable');
  const bin = join(REPO, 'node_modules/.bin/hpki');
  if (existsSync(bin)) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '0.1.0', r.stderr);
  }
  const pkg = JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8'));
  assert.equal(pkg.bin.hpki, './dist/src/main.js');
});

test('keygen: every algorithm makes a key OpenSSL reads; an encrypted key round-trips with its passphrase', () => {
  const expect: Record<string, RegExp> = { sm2: /ASN1 OID: SM2/, p256: /NIST CURVE: P-256/, p384: /NIST CURVE: P-384/, rsa2048: /Private-Key: \(2048 bit/, rsa3072: /Private-Key: \(3072 bit/ };
  for (const [alg, re] of Object.entries(expect)) {
    ok(['keygen', '--alg', alg, '--out', `${alg}.key`, '--pub-out', `${alg}.pub`]);
    assert.equal(statSync(join(dir, `${alg}.key`)).mode & 0o777, 0o600, 'private key file is 0600');
    const r = openssl(['pkey', '-in', `${alg}.key`, '-noout', '-text']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, re, alg);
    // The public key written alongside is the private key's own public half.
    const pub = openssl(['pkey', '-in', `${alg}.key`, '-pubout']);
    assert.equal(pub.stdout, readFileSync(join(dir, `${alg}.pub`), 'utf8'));
  }
  // To stdout when no --out.
  assert.match(ok(['keygen']).stdout, /^-----BEGIN PRIVATE KEY-----/);
  // Encrypted: OpenSSL opens it with the passphrase, hpki too, and refuses a wrong one.
  ok(['keygen', '--alg', 'sm2', '--pass-file', 'pass.txt', '--out', 'enc.key']);
  assert.match(readFileSync(join(dir, 'enc.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal(openssl(['pkey', '-in', 'enc.key', '-passin', 'file:pass.txt', '-noout']).code, 0);
  assert.notEqual(openssl(['pkey', '-in', 'enc.key', '-passin', 'file:wrong.txt', '-noout']).code, 0);
  ok(['req', '--key', 'enc.key', '--pass-file', 'pass.txt', '--subject', 'C=CN,CN=test', '--out', 'enc.csr']);
  fails(['req', '--key', 'enc.key', '--pass-file', 'wrong.txt', '--subject', 'C=CN,CN=test'], /wrong passphrase/);
  fails(['req', '--key', 'enc.key', '--subject', 'C=CN,CN=test'], /encrypted: give its passphrase with --pass-file/);
  // DER, encrypted too.
  ok(['keygen', '--alg', 'p256', '--der', '--pass-file', 'pass.txt', '--out', 'enc.der']);
  assert.equal(openssl(['pkey', '-inform', 'DER', '-in', 'enc.der', '-passin', 'file:pass.txt', '-noout']).code, 0);
});

/** Makes root → sub-CA → staff-sign with keys of `alg` and returns the file names. */
function buildChain(alg: string): { root: string; sub: string; staff: string; staffCsr: string; subCsr: string } {
  const p = (name: string) => `${alg}-${name}`;
  ok(['keygen', '--alg', alg, '--out', p('root.key')]);
  ok(['cert', 'create', '--profile', 'root-ca', '--key', p('root.key'), '--subject', `C=CN,O=健康医疗测试认证中心,CN=Test Root ${alg}`, '--out', p('root.pem')]);
  ok(['keygen', '--alg', alg, '--pass-file', 'pass.txt', '--out', p('sub.key')]);
  ok(['req', '--key', p('sub.key'), '--pass-file', 'pass.txt', '--subject', `C=CN,O=健康医疗测试认证中心,CN=Test Issuing CA ${alg}`, '--profile', 'sub-ca', '--out', p('sub.csr')]);
  ok(['cert', 'create', '--profile', 'sub-ca', '--csr', p('sub.csr'), '--ca-cert', p('root.pem'), '--ca-key', p('root.key'), '--crl-url', 'http://crl.example.cn/root.crl', '--out', p('sub.pem')]);
  ok(['keygen', '--alg', alg, '--out', p('staff.key')]);
  ok([
    'req', '--key', p('staff.key'), '--subject', 'C=CN,O=北京协和医院,OU=心内科,CN=张三', '--profile', 'staff-sign',
    '--resident-id', RESIDENT_ID, '--san', 'email:zhangsan@pumch.example.cn', '--out', p('staff.csr'),
  ]);
  ok([
    'cert', 'create', '--profile', 'staff-sign', '--csr', p('staff.csr'), '--ca-cert', p('sub.pem'), '--ca-key', p('sub.key'), '--ca-pass-file', 'pass.txt',
    '--crl-url', 'http://crl.example.cn/sub.crl', '--ocsp-url', 'http://ocsp.example.cn', '--days', '730', '--out', p('staff.pem'),
  ]);
  return { root: p('root.pem'), sub: p('sub.pem'), staff: p('staff.pem'), staffCsr: p('staff.csr'), subCsr: p('sub.csr') };
}

test('SM2: keygen → req → root → sub-CA → staff-sign; OpenSSL verifies the CSRs and every link (standard user ID)', () => {
  const c = buildChain('sm2');
  for (const csr of [c.subCsr, c.staffCsr]) {
    const r = openssl(['req', '-verify', '-noout', '-in', csr, '-vfyopt', `distid:${SM2_ID}`]);
    assert.match(r.stdout + r.stderr, /verify OK/, csr);
    assert.equal(r.code, 0);
  }
  // OpenSSL 3.0 gives the SM2 ID only to the target certificate, so each link is verified on its own.
  const link1 = openssl(['verify', '-vfyopt', `distid:${SM2_ID}`, '-CAfile', c.root, c.sub]);
  assert.equal(link1.stdout.trim(), `${c.sub}: OK`, link1.stderr);
  const link2 = openssl(['verify', '-vfyopt', `distid:${SM2_ID}`, '-partial_chain', '-CAfile', c.sub, '-purpose', 'sslclient', c.staff]);
  assert.equal(link2.stdout.trim(), `${c.staff}: OK`, link2.stderr);
  const text = openssl(['x509', '-in', c.staff, '-noout', '-text']);
  assert.match(text.stdout, /X509v3 Key Usage: critical\n\s+Digital Signature, Non Repudiation/);
  assert.match(text.stdout, /email:zhangsan@pumch\.example\.cn/);
  assert.match(text.stdout, /1\.2\.156\.10260\.4\.1\.1:/);
  assert.match(text.stdout, /Signature Algorithm: SM2-with-SM3/);
  // A tampered certificate is rejected by the same OpenSSL check, so the check above can fail.
  const der = openssl(['x509', '-in', c.staff, '-outform', 'DER', '-out', 'staff-sm2.der']);
  assert.equal(der.code, 0);
  const bytes = readFileSync(join(dir, 'staff-sm2.der'));
  const at = bytes.indexOf(Buffer.from('张三'));
  bytes[at + 3] ^= 0x01;
  writeFileSync(join(dir, 'staff-sm2-bad.der'), bytes);
  const bad = openssl(['verify', '-vfyopt', `distid:${SM2_ID}`, '-partial_chain', '-CAfile', c.sub, 'staff-sm2-bad.der']);
  assert.notEqual(bad.code, 0);
});

test('a P-256 chain verifies in one `openssl verify` call', () => {
  for (const alg of ['p256']) {
    const c = buildChain(alg);
    const r = openssl(['verify', '-CAfile', c.root, '-untrusted', c.sub, '-purpose', 'smimesign', c.staff]);
    assert.equal(r.stdout.trim(), `${c.staff}: OK`, r.stderr);
    assert.equal(openssl(['req', '-verify', '-noout', '-in', c.staffCsr]).code, 0);
  }
});

test('cert create: from an OpenSSL CSR, from a KMC public key, DER output; identity flags fill what the CSR lacks', () => {
  ok(['keygen', '--alg', 'sm2', '--out', 'ca.key']);
  ok(['cert', 'create', '--profile', 'root-ca', '--key', 'ca.key', '--subject', 'C=CN,O=测试CA,CN=CA', '--out', 'ca.pem']);
  ok(['keygen', '--alg', 'sm2', '--out', 'issuing.key']);
  ok(['cert', 'create', '--profile', 'sub-ca', '--key', 'issuing.key', '--subject', 'C=CN,O=测试CA,CN=Issuing', '--ca-cert', 'ca.pem', '--ca-key', 'ca.key', '--out', 'issuing.pem']);
  // A device CSR made by OpenSSL (P-256, with SANs in its extensionRequest).
  const csr = openssl([
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'dev.key', '-out', 'dev.csr',
    '-subj', '/C=CN/O=Hospital/CN=emr-01.example.cn', '-addext', 'subjectAltName=DNS:emr-01.example.cn,IP:10.1.2.3',
  ]);
  assert.equal(csr.code, 0, csr.stderr);
  ok(['cert', 'create', '--profile', 'device-sign', '--csr', 'dev.csr', '--ca-cert', 'issuing.pem', '--ca-key', 'issuing.key', '--der', '--out', 'dev.der']);
  const devText = openssl(['x509', '-inform', 'DER', '-in', 'dev.der', '-noout', '-text']);
  assert.match(devText.stdout, /DNS:emr-01\.example\.cn, IP Address:10\.1\.2\.3/);
  assert.match(devText.stdout, /TLS Web Server Authentication, TLS Web Client Authentication/);
  const v = openssl(['verify', '-vfyopt', `distid:${SM2_ID}`, '-partial_chain', '-CAfile', 'issuing.pem', '-purpose', 'sslserver', 'dev.der']);
  assert.equal(v.stdout.trim(), 'dev.der: OK', v.stderr);
  // An encryption certificate for a key the KMC made: only the public key is at hand.
  ok(['keygen', '--alg', 'sm2', '--out', 'kmc.key', '--pub-out', 'kmc.pub']);
  ok([
    'cert', 'create', '--profile', 'staff-enc', '--pubkey', 'kmc.pub', '--subject', 'C=CN,O=北京协和医院,CN=张三', '--resident-id', RESIDENT_ID,
    '--ca-cert', 'issuing.pem', '--ca-key', 'issuing.key', '--out', 'enc.pem',
  ]);
  const encText = openssl(['x509', '-in', 'enc.pem', '-noout', '-text']);
  assert.match(encText.stdout, /Key Encipherment, Data Encipherment, Key Agreement/);
  const show = JSON.parse(ok(['cert', 'show', '--json', 'enc.pem']).stdout);
  assert.deepEqual(show.identity.map((i: { field: string; value: string }) => [i.field, i.value]), [['residentId', RESIDENT_ID]]);
  // An organisation certificate whose CSR carries the credit code; a flag adds the organisation code.
  ok(['keygen', '--alg', 'sm2', '--out', 'org.key']);
  ok(['req', '--key', 'org.key', '--subject', 'C=CN,O=北京协和医院,CN=北京协和医院', '--credit-code', USCC, '--out', 'org.csr']);
  ok(['cert', 'create', '--profile', 'org-sign', '--csr', 'org.csr', '--org-code', '400000624', '--ca-cert', 'issuing.pem', '--ca-key', 'issuing.key', '--out', 'org.pem']);
  const org = JSON.parse(ok(['cert', 'show', '--json', 'org.pem']).stdout);
  assert.deepEqual(
    org.identity.map((i: { field: string }) => i.field).sort(),
    ['organizationCode', 'unifiedSocialCreditCode'],
  );
  assert.equal(org.identity.find((i: { field: string }) => i.field === 'unifiedSocialCreditCode').labelZh, '统一社会信用代码');
});

test('cert show --json decodes a certificate OpenSSL made, agreeing with OpenSSL', () => {
  const r = openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'o.pem', '-days', '30', '-subj', '/C=CN/ST=Beijing/O=Example Hospital/CN=OpenSSL Made',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    '-addext', 'subjectAltName=DNS:a.example.cn,email:x@example.cn,URI:https://example.cn/,IP:192.0.2.7',
    '-addext', 'crlDistributionPoints=URI:http://crl.example.cn/a.crl', '-addext', 'authorityInfoAccess=OCSP;URI:http://ocsp.example.cn',
    '-addext', 'certificatePolicies=1.2.3.4',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(ok(['cert', 'show', '--json', 'o.pem']).stdout);
  const serial = openssl(['x509', '-in', 'o.pem', '-noout', '-serial']).stdout.trim().replace(/^serial=/, '').toLowerCase().replace(/^0+/, '');
  assert.equal(j.serialNumber.replace(/^0+/, ''), serial);
  const fp = openssl(['x509', '-in', 'o.pem', '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
  assert.equal(j.fingerprints.sha256, fp);
  assert.equal(j.subject, 'C=CN, ST=Beijing, O=Example Hospital, CN=OpenSSL Made');
  assert.equal(j.selfIssued, true);
  assert.deepEqual(j.publicKey.algorithm, 'RSA-2048');
  assert.equal(j.signatureAlgorithm.name, 'sha256WithRSAEncryption');
  const ext = (name: string) => j.extensions.find((e: { name: string }) => e.name === name);
  assert.deepEqual(ext('keyUsage'), { oid: '2.5.29.15', name: 'keyUsage', critical: true, value: ['digitalSignature', 'keyEncipherment'] });
  assert.deepEqual(ext('extKeyUsage').value.map((e: { name: string }) => e.name), ['serverAuth', 'clientAuth']);
  assert.deepEqual(ext('subjectAltName').value, [
    { type: 'dns', value: 'a.example.cn' },
    { type: 'email', value: 'x@example.cn' },
    { type: 'uri', value: 'https://example.cn/' },
    { type: 'ip', value: '192.0.2.7' },
  ]);
  assert.deepEqual(ext('crlDistributionPoints').value, [{ type: 'uri', value: 'http://crl.example.cn/a.crl' }]);
  assert.deepEqual(ext('authorityInfoAccess').value, [{ method: 'ocsp', location: { type: 'uri', value: 'http://ocsp.example.cn' } }]);
  assert.deepEqual(ext('certificatePolicies').value, [{ oid: '1.2.3.4', name: null, cps: [] }]);
  const skiText = openssl(['x509', '-in', 'o.pem', '-noout', '-ext', 'subjectKeyIdentifier']).stdout.split('\n')[1]!.trim().replace(/:/g, '').toLowerCase();
  assert.equal(ext('subjectKeyIdentifier').value, skiText);
  // DER input too, and the text report names things in both languages.
  assert.equal(openssl(['x509', '-in', 'o.pem', '-outform', 'DER', '-out', 'o.der']).code, 0);
  assert.deepEqual(JSON.parse(ok(['cert', 'show', '--json', 'o.der']).stdout), j);
  const text = ok(['cert', 'show', 'o.der']).stdout;
  assert.match(text, /Subject 主题: +C=CN, ST=Beijing, O=Example Hospital, CN=OpenSSL Made/);
  assert.match(text, /keyUsage \(2\.5\.29\.15\) \[critical 关键\]: digitalSignature \(数字签名\), keyEncipherment \(密钥加密\)/);
});

test('profiles lists all 16 profiles; one profile shows in full', () => {
  const list = JSON.parse(ok(['profiles', '--json']).stdout);
  assert.equal(list.length, 16);
  assert.ok(list.every((p: { policyOids: string[] }) => Array.isArray(p.policyOids)));
  const table = ok(['profiles']).stdout;
  assert.match(table, /^staff-sign +sign +sm2,p256,p384,rsa2048,rsa3072 +730d +内部人员签名证书/m);
  const one = ok(['profiles', 'tsa']).stdout;
  assert.match(one, /extended key usage: timeStamping \(critical\)/);
});

test('bad input: exit 2 with one clear line naming the problem', () => {
  ok(['keygen', '--alg', 'sm2', '--out', 'bad-test.key']);
  writeFileSync(join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'text.txt'), 'hello, this is not a certificate\n');
  fails(['cert', 'show', 'missing.pem'], /cannot read certificate "missing\.pem": no such file/);
  fails(['cert', 'show', 'garbage.pem'], /certificate "garbage\.pem": cannot parse certificate/);
  fails(['cert', 'show', 'text.txt'], /certificate "text\.txt" is neither PEM nor DER/);
  fails(['req', '--key', 'missing.key', '--subject', 'C=CN,CN=x'], /cannot read private key "missing\.key": no such file/);
  fails(['req', '--key', 'garbage.pem', '--subject', 'C=CN,CN=x'], /private key "garbage\.pem"/);
  fails(['keygen', '--alg', 'rsa1024'], /unknown key algorithm "rsa1024"/);
  fails(['keygen', '--bogus'], /unknown option '--bogus'/);
  fails(['profiles', 'doctor'], /unknown profile; known profiles: root-ca, sub-ca/);
  fails(['cert', 'create', '--profile', 'doctor', '--key', 'bad-test.key', '--subject', 'C=CN,CN=x'], /profile doctor: unknown profile/);
  fails(['req', '--key', 'bad-test.key', '--subject', 'C=CN,CN=张三', '--profile', 'staff-sign', '--resident-id', RESIDENT_ID], /the subject must contain O \[subject\.required\.O\]/);
  fails(['req', '--key', 'bad-test.key', '--subject', 'C=US,O=x,CN=y', '--profile', 'staff-sign', '--resident-id', RESIDENT_ID], /C must be CN, not "US" \[subject\.C\.value\]/);
  fails(['req', '--key', 'bad-test.key', '--subject', 'C=CN,O=x,CN=y', '--resident-id', '110108199003071239'], /fails the GB 11643 check.*\[identity\.residentId\.checksum\]/);
  fails(['req', '--key', 'bad-test.key', '--subject', 'CN'], /--subject: cannot parse name: "CN" is not TYPE=value/);
  fails(['req', '--key', 'bad-test.key', '--subject', 'C=CN,CN=x', '--san', 'phone:123'], /--san "phone:123" must be TYPE:value/);
  fails(['cert', 'create', '--profile', 'root-ca', '--key', 'bad-test.key', '--subject', 'C=CN,O=CA,CN=Root', '--days', '20000'], /exceeds the maximum of 10958 days \[validity\.max\]/);
  fails(['cert', 'create', '--profile', 'root-ca', '--key', 'bad-test.key', '--subject', 'C=CN,O=CA,CN=Root', '--days', 'ten'], /--days must be a positive whole number/);
  // Chinese sentence for Chinese locales.
  fails(['req', '--key', 'bad-test.key', '--subject', 'C=CN,CN=张三', '--profile', 'staff-sign', '--resident-id', RESIDENT_ID], /证书模板 staff-sign：主题必须包含 O/, { LANG: 'zh_CN.UTF-8' });
  // Issuing with a CA key that is not the CA certificate's, and with a CSR whose signature is broken.
  ok(['cert', 'create', '--profile', 'root-ca', '--key', 'bad-test.key', '--subject', 'C=CN,O=CA,CN=Root', '--out', 'bad-root.pem']);
  ok(['keygen', '--alg', 'sm2', '--out', 'other.key']);
  ok(['req', '--key', 'other.key', '--subject', 'C=CN,O=CA,CN=Sub', '--out', 'other.csr']);
  fails(['cert', 'create', '--profile', 'sub-ca', '--csr', 'other.csr', '--ca-cert', 'bad-root.pem', '--ca-key', 'other.key'], /the CA private key does not belong to the CA certificate \[issuer\.key\]/);
  const der = Buffer.from(spawnSync('openssl', ['req', '-in', 'other.csr', '-outform', 'DER'], { cwd: dir }).stdout);
  der[der.indexOf(Buffer.from('Sub'))] ^= 0x20; // "Sub" → "sub": the signature no longer matches
  writeFileSync(join(dir, 'tampered.csr'), der);
  fails(['cert', 'create', '--profile', 'sub-ca', '--csr', 'tampered.csr', '--ca-cert', 'bad-root.pem', '--ca-key', 'bad-test.key'], /signature does not verify \(no proof of possession/);
  fails(['cert', 'create', '--profile', 'staff-sign', '--key', 'other.key', '--subject', 'C=CN,O=x,CN=y', '--ca-cert', 'bad-root.pem', '--ca-key', 'bad-test.key'], /identity\.required/);
});

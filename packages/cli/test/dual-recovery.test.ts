/**
 * Dual certificates and key recovery end to end, against a real service with its KMC (embedded:
 * its own database and master key in DATA_DIR/kmc, spoken to over HTTP with signed messages):
 * - `hpki enroll --dual --out-dir` writes sign.crt, enc.crt and enc-key.env, and the OpenSSL CLI
 *   takes the SM2EnvelopedKey apart (pkeyutl -decrypt, enc -sm4-ecb) to the key of enc.crt;
 * - the regulation's loss flow (Art. 18): a token holds both keys → data encrypted to the
 *   encryption certificate with OpenSSL → the token is lost → hold, then revoke → a new token with
 *   a new signing key → the escrowed key recovered into it after two distinct officers approve
 *   (the one who entered it, or the same officer twice, are refused) → the old data decrypts;
 * - the encryption private key is in no database file, CA's or KMC's, in any form.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate, exportPrivateKey, identityExtensions, importPrivateKey, parseSm2EnvelopedKey, sm2PrivateKeyFromScalar, buildCsr, generateKey, parseName } from '@health-pki/pki';
import { startServer, type RunningServer } from '@health-pki/server';
import { SoftToken } from '@health-pki/token';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const RESIDENT_ID = '11010519491231002X';
const SUBJECT = 'C=CN,O=示例医院,OU=检验科,CN=李护士';
const FAST_KDF = { alg: 'pbkdf2-sm3' as const, iterations: 1000 };

let dir: string;
let server: RunningServer;
let admin: string;
const officers: Record<string, string> = {};
/** Every private scalar that must never be stored in the clear. */
const secrets: Buffer[] = [];
/** Everything the service logged (trace level) and every API answer, scanned at the end. */
const logged: Buffer[] = [];
const answers: Buffer[] = [];

async function api(method: string, path: string, body: unknown, token: string): Promise<{ status: number; json: any }> {
  const r = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  answers.push(Buffer.from(text));
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

function openssl(args: string[], input?: Buffer): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: dir, input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hpki-dual-'));
  const logStream = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(Buffer.from(chunk)), done()) });
  server = await startServer({ dataDir: join(dir, 'ca'), port: 0, kmc: 'embedded', logger: { level: 'trace', stream: logStream }, pkiThreads: 0 });
  admin = readFileSync(server.tokenFile, 'utf8').trim();
  for (const id of ['officer-a', 'officer-b', 'officer-c']) {
    const r = await api('POST', '/api/v1/officers', { id }, admin);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    officers[id] = r.json.token;
  }
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('hpki enroll --dual --out-dir: sign.crt, enc.crt and an envelope that the OpenSSL CLI opens to the key of enc.crt', async () => {
  const key = generateKey('sm2');
  writeFileSync(join(dir, 'sign.key'), exportPrivateKey(key));
  writeFileSync(join(dir, 'req.csr'), buildCsr(parseName(SUBJECT), key, identityExtensions({ residentId: RESIDENT_ID })).toPem());
  // Not spawnSync: the service runs in this process and must keep answering while the CLI waits.
  const r = await run(process.execPath, [MAIN, 'enroll', '--server', server.url, '--token-file', server.tokenFile, '--ca', 'demo-sm2', '--profile', 'staff-sign', '--csr', 'req.csr', '--dual', '--out-dir', 'pair'], { cwd: dir }).catch((e: { stderr?: string; message: string }) => assert.fail(e.stderr ?? e.message));
  assert.equal(r.stderr, '');
  for (const f of ['sign.crt', 'enc.crt', 'enc-key.env']) assert.ok(existsSync(join(dir, 'pair', f)), f);
  const sign = Certificate.parse(readFileSync(join(dir, 'pair', 'sign.crt')));
  const enc = Certificate.parse(readFileSync(join(dir, 'pair', 'enc.crt')));
  assert.equal(enc.subjectText, sign.subjectText);
  assert.ok(sign.publicKey.spki.equals(key.publicKey.spki));
  assert.ok(!enc.publicKey.spki.equals(key.publicKey.spki), 'the encryption key is the KMC’s, not the signing key');
  const text = openssl(['x509', '-in', 'pair/enc.crt', '-noout', '-text']).stdout.toString();
  assert.match(text, /Key Encipherment|Data Encipherment|Key Agreement/);

  const parts = parseSm2EnvelopedKey(readFileSync(join(dir, 'pair', 'enc-key.env')));
  writeFileSync(join(dir, 'sym.der'), parts.encryptedSymmetricKey);
  writeFileSync(join(dir, 'priv.bin'), parts.encryptedPrivateKey);
  const sym = openssl(['pkeyutl', '-decrypt', '-inkey', 'sign.key', '-in', 'sym.der']);
  assert.equal(sym.code, 0, sym.stderr);
  const d = openssl(['enc', '-d', '-sm4-ecb', '-K', sym.stdout.toString('hex'), '-nopad', '-in', 'priv.bin']);
  assert.equal(d.code, 0, d.stderr);
  const scalar = d.stdout.subarray(-32);
  secrets.push(Buffer.from(scalar));
  // The key OpenSSL found belongs to enc.crt: OpenSSL derives the public key of the PKCS#8 made from it.
  writeFileSync(join(dir, 'enc.key'), exportPrivateKey(sm2PrivateKeyFromScalar(scalar)));
  const pubFromKey = openssl(['pkey', '-in', 'enc.key', '-pubout', '-outform', 'DER']).stdout;
  const pubFromCert = openssl(['x509', '-in', 'pair/enc.crt', '-noout', '-pubkey']).stdout.toString();
  assert.ok(importPrivateKey(readFileSync(join(dir, 'enc.key'))).publicKey.spki.equals(pubFromKey));
  assert.ok(Buffer.from(pubFromCert.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').equals(pubFromKey));
});

test('loss of the token (Art. 18): hold, revoke, a new token, the key recovered with two approvals, old data decrypts', async () => {
  const ca = '/api/v1/cas/demo-sm2';
  // Enrolment into token 1: officer A enters a dual application, officer B approves.
  const token1 = SoftToken.init(join(dir, 'token1.json'), { userPin: 'pin-111111', adminPin: 'ADMIN-PIN-ONE1', kdf: FAST_KDF });
  const s1 = token1.login('HPKI', 'pin-111111');
  s1.createContainer('staff');
  s1.generateKeyPair('staff', 'sm2');
  const csr1 = s1.certificationRequest('staff', SUBJECT, identityExtensions({ residentId: RESIDENT_ID }));
  const entered = await api('POST', `${ca}/applications`, { profile: 'staff-sign', csr: csr1.toPem(), applicant: { name: '李护士' }, dual: true }, officers['officer-a']!);
  assert.equal(entered.status, 201, JSON.stringify(entered.json));
  const approved = await api('POST', `${ca}/applications/${entered.json.id}/approve`, {}, officers['officer-b']!);
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const signSerial: string = approved.json.certificate.serial;
  const encPem: string = approved.json.encryption.certificate.pem;
  const encSerial: string = approved.json.encryption.certificate.serial;
  s1.importCertificate('staff', 'signing', approved.json.certificate.pem);
  s1.importEnvelopedKey('staff', Buffer.from(approved.json.encryption.envelopedKey, 'base64'), { certificate: encPem });

  // A record encrypted to the encryption certificate by someone else (OpenSSL), readable by the token.
  const record = Buffer.from(`检验报告 ${randomBytes(8).toString('hex')}: 血常规正常`);
  writeFileSync(join(dir, 'enc-cert.pem'), encPem);
  const pub = openssl(['x509', '-in', 'enc-cert.pem', '-noout', '-pubkey']).stdout;
  writeFileSync(join(dir, 'enc-pub.pem'), pub);
  writeFileSync(join(dir, 'record.txt'), record);
  const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'enc-pub.pem', '-in', 'record.txt']);
  assert.equal(ct.code, 0, ct.stderr);
  assert.ok(s1.decrypt('staff', ct.stdout).equals(record));

  // The token is lost: put on hold at once, then revoked (both certificates of the pair).
  assert.equal((await api('POST', `${ca}/certificates/${signSerial}/hold`, { comment: 'token reported lost' }, officers['officer-a']!)).status, 200);
  for (const serial of [signSerial, encSerial]) {
    const r = await api('POST', `${ca}/certificates/${serial}/revoke`, { reason: 'keyCompromise', comment: 'token lost (Art. 18)' }, officers['officer-a']!);
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }

  // The KMC was told: the escrowed key is retired (still restorable).
  {
    const { openDatabase } = await import('@health-pki/server');
    const { sql } = await import('kysely');
    const kmcDb = await openDatabase({ dataDir: join(dir, 'ca', 'kmc') });
    try {
      // The KMC keys escrows by the serial's number in hex, without the leading zero a serial like 0f… has.
      const rows = await sql<{ state: string }>`select state from kmc_keys where cert_no = ${BigInt('0x' + encSerial).toString(16)}`.execute(kmcDb.db);
      assert.deepEqual(rows.rows.map((r) => r.state), ['revoked']);
    } finally {
      await kmcDb.close();
    }
  }

  // Token 2: a new signing key and certificate.
  const token2 = SoftToken.init(join(dir, 'token2.json'), { userPin: 'pin-222222', adminPin: 'ADMIN-PIN-TWO2', kdf: FAST_KDF });
  const s2 = token2.login('HPKI', 'pin-222222');
  s2.createContainer('staff');
  s2.generateKeyPair('staff', 'sm2');
  const csr2 = s2.certificationRequest('staff', SUBJECT, identityExtensions({ residentId: RESIDENT_ID }));
  const entered2 = await api('POST', `${ca}/applications`, { profile: 'staff-sign', csr: csr2.toPem(), applicant: { name: '李护士' } }, officers['officer-a']!);
  const approved2 = await api('POST', `${ca}/applications/${entered2.json.id}/approve`, {}, officers['officer-c']!);
  assert.equal(approved2.status, 200);
  s2.importCertificate('staff', 'signing', approved2.json.certificate.pem);

  // Recovery: entered by A; A cannot approve; B approves once (1 of 2), not twice; C completes it.
  const asked = await api('POST', `${ca}/recoveries`, { encSerial, kind: 'holder', recipientCsr: csr2.toPem(), reason: 'token lost; recover the encryption key into the new token' }, officers['officer-a']!);
  assert.equal(asked.status, 201, JSON.stringify(asked.json));
  assert.equal(asked.json.state, 'pending');
  const id = asked.json.id;
  const byMaker = await api('POST', `${ca}/recoveries/${id}/approve`, undefined, officers['officer-a']!);
  assert.equal(byMaker.status, 403);
  const first = await api('POST', `${ca}/recoveries/${id}/approve`, undefined, officers['officer-b']!);
  assert.equal(first.status, 200);
  assert.deepEqual([first.json.state, first.json.envelopedKey], ['pending', null]);
  const twice = await api('POST', `${ca}/recoveries/${id}/approve`, undefined, officers['officer-b']!);
  assert.equal(twice.status, 403);
  assert.match(twice.json.message, /already approved/);
  const queue = await api('GET', `${ca}/recoveries`, undefined, officers['officer-c']!);
  assert.deepEqual(queue.json.recoveries.map((r: { id: string }) => r.id), [id], 'the second approver sees it in the queue');
  const done = await api('POST', `${ca}/recoveries/${id}/approve`, undefined, officers['officer-c']!);
  assert.equal(done.status, 200, JSON.stringify(done.json));
  assert.equal(done.json.state, 'delivered');
  const envelope = Buffer.from(done.json.envelopedKey, 'base64');

  // The lost token's key cannot open the recovered envelope; the new token can, and reads the old record.
  assert.throws(() => s1.importEnvelopedKey('staff', envelope, { certificate: encPem }));
  s2.importEnvelopedKey('staff', envelope, { certificate: encPem });
  assert.ok(s2.decrypt('staff', ct.stdout).equals(record));

  // Recovery without a KMC-known serial, or of a signing certificate, is refused.
  const notEnc = await api('POST', `${ca}/recoveries`, { encSerial: signSerial, kind: 'holder', recipientCsr: csr2.toPem(), reason: 'wrong certificate' }, officers['officer-a']!);
  assert.equal(notEnc.status, 422);
  // An auditor's view: every step is in the audit log.
  const { openDatabase } = await import('@health-pki/server');
  const db = await openDatabase({ dataDir: join(dir, 'ca') });
  try {
    const { sql } = await import('kysely');
    const rows = await sql<{ action: string }>`select action from audit_log where target = ${`ra:recovery:${id}`} order by at, id`.execute(db.db);
    assert.deepEqual(rows.rows.map((r) => r.action), ['ra.recovery.request', 'ra.recovery.approve', 'ra.recovery.approve', 'ra.recovery.deliver']);
  } finally {
    await db.close();
  }
});

test('ECDSA P-256 pair: the key comes as CMS EnvelopedData to the signing certificate; recovered to a new certificate after two approvals', async () => {
  const ca = '/api/v1/cas/demo-p256';
  const enrol = async (file: string, pin: string) => {
    const token = SoftToken.init(join(dir, file), { userPin: pin, adminPin: 'ADMIN-PIN-P256', kdf: FAST_KDF });
    const s = token.login('HPKI', pin);
    s.createContainer('staff');
    s.generateKeyPair('staff', 'p256');
    return { s, csr: s.certificationRequest('staff', SUBJECT, identityExtensions({ residentId: RESIDENT_ID })) };
  };
  const one = await enrol('p256-1.json', 'pin-333333');
  const entered = await api('POST', `${ca}/applications`, { profile: 'staff-sign', csr: one.csr.toPem(), applicant: { name: '李护士' }, dual: true }, officers['officer-a']!);
  const approved = await api('POST', `${ca}/applications/${entered.json.id}/approve`, {}, officers['officer-b']!);
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const encPem: string = approved.json.encryption.certificate.pem;
  one.s.importCertificate('staff', 'signing', approved.json.certificate.pem);
  one.s.importEnvelopedKey('staff', Buffer.from(approved.json.encryption.envelopedKey, 'base64'), { certificate: encPem });

  // OpenSSL encrypts a record to the encryption certificate (CMS); the token opens it.
  const record = Buffer.from(`影像报告 ${randomBytes(6).toString('hex')}`);
  writeFileSync(join(dir, 'p256-enc.pem'), encPem);
  writeFileSync(join(dir, 'p256-record.txt'), record);
  const ct = openssl(['cms', '-encrypt', '-binary', '-aes256', '-outform', 'DER', '-in', 'p256-record.txt', 'p256-enc.pem']);
  assert.equal(ct.code, 0, ct.stderr);
  assert.ok(one.s.openEnvelope('staff', ct.stdout).equals(record));

  // Lost: a new token and signing certificate; the key recovered to that certificate.
  const two = await enrol('p256-2.json', 'pin-444444');
  const entered2 = await api('POST', `${ca}/applications`, { profile: 'staff-sign', csr: two.csr.toPem(), applicant: { name: '李护士' } }, officers['officer-a']!);
  const approved2 = await api('POST', `${ca}/applications/${entered2.json.id}/approve`, {}, officers['officer-c']!);
  two.s.importCertificate('staff', 'signing', approved2.json.certificate.pem);
  const byCsr = await api('POST', `${ca}/recoveries`, { encSerial: approved.json.encryption.certificate.serial, kind: 'holder', recipientCsr: two.csr.toPem(), reason: 'token lost' }, officers['officer-a']!);
  assert.equal(byCsr.status, 422, 'an ECDSA recipient is named by its certificate');
  const asked = await api('POST', `${ca}/recoveries`, { encSerial: approved.json.encryption.certificate.serial, kind: 'holder', recipientCertificate: approved2.json.certificate.pem, reason: 'token lost' }, officers['officer-a']!);
  assert.equal(asked.status, 201, JSON.stringify(asked.json));
  await api('POST', `${ca}/recoveries/${asked.json.id}/approve`, undefined, officers['officer-b']!);
  const done = await api('POST', `${ca}/recoveries/${asked.json.id}/approve`, undefined, officers['officer-c']!);
  assert.equal(done.json.state, 'delivered', JSON.stringify(done.json));
  two.s.importEnvelopedKey('staff', Buffer.from(done.json.envelopedKey, 'base64'), { certificate: encPem });
  assert.ok(two.s.openEnvelope('staff', ct.stdout).equals(record));
});

test('no encryption private key is in the clear in any database file of the CA or the KMC, any log line or any API answer', () => {
  assert.ok(secrets.length > 0);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, name.name);
      if (name.isDirectory()) walk(p);
      else if (/\.sqlite(-wal|-shm)?$/.test(name.name)) files.push(p);
    }
  };
  walk(dir);
  assert.ok(files.some((f) => f.includes('/kmc/')) && files.some((f) => f.includes('/ca/')), files.join(', '));
  assert.ok(logged.length > 0 && answers.length > 0);
  for (const [f, bytes] of [...files.map((f) => [f, readFileSync(f)] as const), ['the service log', Buffer.concat(logged)] as const, ['the API answers', Buffer.concat(answers)] as const]) {
    for (const s of secrets) {
      for (const form of [s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('hex').toUpperCase()), Buffer.from(s.toString('base64').slice(0, 40))]) assert.equal(bytes.indexOf(form), -1, `${f} holds a private key`);
    }
  }
});

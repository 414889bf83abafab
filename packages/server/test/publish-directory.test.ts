/**
 * The LDAP directory, judged by OpenLDAP's own client (ldapsearch, ldapmodify from Debian's
 * ldap-utils), on SQLite and PostgreSQL: an issued certificate is found by serialNumber, cn and
 * mail with its exact bytes, CA entries carry the CA certificate and the very CRL served over
 * HTTP, scopes and the size limit hold, writes and named binds are refused, and garbage on a
 * socket neither crashes the directory nor stops it answering.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Certificate } from '@health-pki/pki';
import { startServer, type RunningServer } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { httpApi, type Api } from './helpers/api.js';
import { RESIDENT_ID, makeCsr } from './helpers/pki.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], stdin?: string | Buffer): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** One LDIF entry: dn and attribute → values (base64 values decoded to Buffers, text values as UTF-8 Buffers). */
type Entry = { dn: string; attrs: Map<string, Buffer[]> };

function parseLdif(text: string): Entry[] {
  const out: Entry[] = [];
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split('\n').filter((l) => l && !l.startsWith('#'));
    if (!lines.length) continue;
    let dn = '';
    const attrs = new Map<string, Buffer[]>();
    for (const l of lines) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(l);
      if (!m) continue;
      const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64') : Buffer.from(m[3]!, 'utf8');
      if (m[1] === 'dn') dn = value.toString('utf8');
      else attrs.set(m[1]!, [...(attrs.get(m[1]!) ?? []), value]);
    }
    out.push({ dn, attrs });
  }
  return out;
}

for (const backendName of BACKENDS) {
  describe(`LDAP directory (${backendName})`, () => {
    let backend: TestBackend;
    let server: RunningServer;
    let api: Api;
    let ldapUrl: string;
    let issued: { serial: string; der: Buffer };

    const search = (base: string, filter: string, attrs: string[] = [], extra: string[] = []) =>
      run('ldapsearch', ['-x', '-H', ldapUrl, '-b', base, '-LLL', '-o', 'ldif-wrap=no', ...extra, filter, ...attrs]);

    before(async () => {
      backend = await createBackend(backendName);
      server = await startServer({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, port: 0, ldapPort: 0, logger: false, pkiThreads: 0 });
      ldapUrl = server.directory!.url;
      api = httpApi(server.url);
      const admin = readFileSync(server.tokenFile, 'utf8').trim();
      const csr = makeCsr('sm2', 'C=CN,O=示例医院,OU=心内科,CN=张三', { residentId: RESIDENT_ID }, 'zhangsan@example.cn');
      const r = await api('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: csr.pem, applicant: { name: '张三' } }, admin);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      issued = { serial: r.json.certificate.serial, der: Certificate.parse(r.json.certificate.pem).der };
      for (let i = 0; i < 3; i++) {
        const more = makeCsr('sm2', `C=CN,O=示例医院,CN=护士${i}`, { residentId: RESIDENT_ID });
        assert.equal((await api('POST', '/api/v1/cas/demo-sm2/enroll', { profile: 'staff-sign', csr: more.pem, applicant: { name: 'x' } }, admin)).status, 201);
      }
      const rv = await api('POST', `/api/v1/cas/demo-sm2/certificates/${issued.serial}/revoke`, { reason: 'keyCompromise' }, admin);
      assert.equal(rv.status, 200);
    });

    after(async () => {
      await server?.close();
      await backend?.cleanup();
    });

    test('ldapsearch finds the certificate by serialNumber, cn and mail; the bytes are those issued and downloaded', async () => {
      const http = await api('GET', `/api/v1/cas/demo-sm2/certificates/${issued.serial}/cert.der`);
      for (const filter of [`(serialNumber=${issued.serial})`, `(serialNumber=${issued.serial.toUpperCase()})`, '(cn=张三)', '(mail=ZhangSan@example.cn)', '(&(objectClass=pkiUser)(mail=*@example.cn)(cn=张*))']) {
        const r = await search('c=CN', filter, ['userCertificate;binary', 'serialNumber']);
        assert.equal(r.code, 0, `${filter}: ${r.stderr}`);
        const entries = parseLdif(r.stdout);
        assert.equal(entries.length, 1, `${filter}: ${r.stdout.slice(0, 300)}`);
        const e = entries[0]!;
        assert.ok(e.attrs.get('userCertificate;binary')?.[0]?.equals(issued.der), filter);
        assert.ok(e.attrs.get('userCertificate;binary')?.[0]?.equals(http.body), filter);
        assert.equal(e.attrs.get('serialNumber')?.[0]?.toString(), issued.serial);
        assert.match(e.dn, new RegExp(`^serialNumber=${issued.serial},cn=demo-sm2 Issuing CA 1,o=health-pki 演示认证机构,c=CN$`));
      }
      // Asking for the attribute without ;binary gives the same values (RFC 4523 transfer option).
      const plain = parseLdif((await search('c=CN', `(serialNumber=${issued.serial})`, ['userCertificate'])).stdout);
      assert.ok(plain[0]?.attrs.get('userCertificate;binary')?.[0]?.equals(issued.der));
      // Base search on the entry's DN.
      const dn = `serialNumber=${issued.serial},cn=demo-sm2 Issuing CA 1,o=health-pki 演示认证机构,c=CN`;
      const base = await search(dn, '(objectClass=*)', ['cn', 'mail'], ['-s', 'base']);
      assert.equal(base.code, 0, base.stderr);
      assert.deepEqual(parseLdif(base.stdout).map((e) => e.attrs.get('mail')?.[0]?.toString()), ['zhangsan@example.cn']);
      assert.equal((await search(`serialNumber=00ff,cn=demo-sm2 Issuing CA 1,o=health-pki 演示认证机构,c=CN`, '(objectClass=*)', [], ['-s', 'base'])).code, 32, 'noSuchObject');
    });

    test('CA entries carry the CA certificate and the CRL served over HTTP (root: also the ARL)', async () => {
      const authority = (await api('GET', '/api/v1/cas/demo-sm2')).json;
      const r = await search('o=health-pki 演示认证机构,c=CN', '(objectClass=pkiCA)', ['cACertificate;binary', 'certificateRevocationList;binary', 'authorityRevocationList;binary'], ['-s', 'one']);
      assert.equal(r.code, 0, r.stderr);
      const entries = parseLdif(r.stdout);
      assert.equal(entries.length, 2);
      for (const issuer of authority.issuers) {
        const cert = Certificate.parse(issuer.pem).der;
        const e = entries.find((x) => x.attrs.get('cACertificate;binary')?.[0]?.equals(cert));
        assert.ok(e, issuer.label);
        const crl = await api('GET', `/api/v1/cas/demo-sm2/crls/${issuer.label}`);
        assert.equal(crl.status, 200, `the CRL publisher serves ${issuer.label}`);
        assert.ok(e.attrs.get('certificateRevocationList;binary')?.[0]?.equals(crl.body), `${issuer.label}: same CRL bytes over LDAP and HTTP`);
        assert.equal(e.attrs.has('authorityRevocationList;binary'), issuer.role === 'root');
      }
    });

    test('the revoked certificate is on the CRL found in the directory', async () => {
      const crls = (server.services as unknown as { crls: { refreshNow(a: string, l: string, k?: 'full' | 'delta'): Promise<unknown> } }).crls;
      await crls.refreshNow('demo-sm2', 'issuing-1', 'full');
      const r = await search('cn=demo-sm2 Issuing CA 1,o=health-pki 演示认证机构,c=CN', '(objectClass=*)', ['certificateRevocationList;binary'], ['-s', 'base']);
      const der = parseLdif(r.stdout)[0]?.attrs.get('certificateRevocationList;binary')?.[0];
      assert.ok(der);
      const out = await run('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], der);
      assert.equal(out.code, 0, out.stderr);
      assert.ok(out.stdout.toUpperCase().includes(issued.serial.toUpperCase()), 'openssl crl lists the revoked serial');
      assert.match(out.stdout, /Key Compromise/);
    });

    test('scopes, the tree, and the size limit', async () => {
      const top = parseLdif((await search('c=CN', '(objectClass=*)', ['1.1'], ['-s', 'one'])).stdout).map((e) => e.dn);
      assert.ok(top.includes('o=health-pki 演示认证机构,c=CN') && top.includes('o=health-pki demo CA,c=CN'), top.join(' | '));
      const baseOnly = parseLdif((await search('c=CN', '(objectClass=*)', ['1.1'], ['-s', 'base'])).stdout);
      assert.deepEqual(baseOnly.map((e) => e.dn), ['c=CN']);
      const sub = parseLdif((await search('c=CN', '(&(objectClass=inetOrgPerson)(o=示例医院))', ['1.1'])).stdout);
      assert.equal(sub.length, 4, 'the four end-entity certificates issued here');
      // The CA certificates are CA entries, never end-entity entries.
      const authority = (await api('GET', '/api/v1/cas/demo-sm2')).json;
      const caSerials = authority.issuers.map((i: { serial: string }) => i.serial);
      const people = parseLdif((await search('c=CN', '(objectClass=pkiUser)', ['serialNumber'])).stdout).map((e) => e.attrs.get('serialNumber')?.[0]?.toString());
      assert.ok(!people.some((s) => caSerials.includes(s)));
      const limited = await search('c=CN', '(objectClass=inetOrgPerson)', ['1.1'], ['-z', '2']);
      assert.equal(limited.code, 4, 'sizeLimitExceeded');
      assert.equal(parseLdif(limited.stdout).length, 2);
      const rootDse = await search('', '(objectClass=*)', ['namingContexts'], ['-s', 'base']);
      assert.match(rootDse.stdout, /namingContexts: c=CN/);
      assert.equal((await search('o=nobody,c=CN', '(objectClass=*)')).code, 32);
      // Filters that match nothing, or name unknown attributes, or are malformed serials.
      assert.equal(parseLdif((await search('c=CN', '(serialNumber=zz)')).stdout).length, 0);
      assert.equal(parseLdif((await search('c=CN', '(!(description=x))', ['1.1'])).stdout).length, 0);
    });

    test('writes and named binds are refused', async () => {
      const add = await run('ldapadd', ['-x', '-H', ldapUrl], 'dn: cn=evil,c=CN\nobjectClass: person\ncn: evil\nsn: evil\n');
      assert.equal(add.code, 53, `unwillingToPerform: ${add.stderr}`);
      const modify = await run('ldapmodify', ['-x', '-H', ldapUrl], `dn: cn=demo-sm2 Root CA,o=health-pki 演示认证机构,c=CN\nchangetype: modify\nreplace: cn\ncn: x\n`);
      assert.equal(modify.code, 53, modify.stderr);
      const del = await run('ldapdelete', ['-x', '-H', ldapUrl, 'c=CN']);
      assert.equal(del.code, 53, del.stderr);
      const bind = await run('ldapsearch', ['-x', '-H', ldapUrl, '-D', 'cn=admin,c=CN', '-w', 'secret', '-b', 'c=CN', '(objectClass=*)']);
      assert.equal(bind.code, 48, `inappropriateAuthentication: ${bind.stderr}`);
    });

    test('garbage, truncated and oversized PDUs close that connection only; the directory keeps answering', async () => {
      const port = server.directory!.port;
      const send = (bytes: Buffer) =>
        new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1', () => s.write(bytes));
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.setTimeout(1500, () => s.destroy());
        });
      const attempts: Buffer[] = [
        randomBytes(64),
        Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
        Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01]), // announces 2 GiB
        Buffer.from([0x30, 0x05, 0x02, 0x01, 0x01, 0x63, 0x00]), // search request with nothing in it
        Buffer.from([0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]), // bind, then more below
        Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x00, 0x00]), randomBytes(70_000)]), // 64 KiB+
      ];
      for (let i = 0; i < 30; i++) attempts.push(Buffer.concat([Buffer.from([0x30, 0x20 + (i % 64)]), randomBytes(i * 3)]));
      await Promise.all(attempts.map(send));
      const r = await search('c=CN', `(serialNumber=${issued.serial})`, ['serialNumber']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseLdif(r.stdout).length, 1);
    });
  });
}

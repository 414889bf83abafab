/**
 * Nothing secret in plaintext at rest, in logs or in answers: a full lifecycle (a CA created,
 * applications with materials whose bytes are a random marker, approval, OCSP and CRL, revocation)
 * on SQLite and PostgreSQL, then every byte of the database (SQLite: the file, -wal and -shm,
 * before and after close; PostgreSQL: `pg_dump` of the test database), every log line and every
 * API answer is searched for each private key's PKCS#8 DER and raw private scalar, and for the
 * marker — raw, hex and base64 at every alignment. The keys come from opening each sealed key
 * through the deployment's custody, the way signing does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Certificate, buildOcspRequest, certId, type PrivateKey } from '@health-pki/pki';
import { MasterKeyCustody, bootstrap, buildHttpApp, openServices, type Services } from '../src/index.js';
import { BACKENDS, createBackend, type TestBackend } from './helpers/backends.js';
import { injectApi, type Answer, type Api } from './helpers/api.js';
import { makeCsr } from './helpers/pki.js';

const BASE = 'http://pki.test:8080';

/** The encodings a secret could leak in: raw, hex, base64 and base64url at each of the three alignments. */
function encodings(secret: Buffer): Buffer[] {
  const out = [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('hex').toUpperCase())];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), secret]).toString('base64');
    // Drop the characters that depend on the bytes around the secret.
    const core = b64.slice(shift ? 4 : 0, -4);
    out.push(Buffer.from(core), Buffer.from(core.replace(/\+/g, '-').replace(/\//g, '_')));
  }
  return out;
}

/** The private scalar of a key: SM2's d, or the JWK "d" of ECDSA and RSA keys. */
function scalar(key: PrivateKey): Buffer {
  if (key.sm2D) return Buffer.from(key.sm2D);
  const jwk = key.node.export({ format: 'jwk' }) as { d?: string };
  return Buffer.from(jwk.d!, 'base64url');
}

/** Where each secret was found, as "secret in place" lines. */
function findings(secrets: Map<string, Buffer>, places: Map<string, Buffer>): string[] {
  const out: string[] = [];
  for (const [what, secret] of secrets) {
    const patterns = encodings(secret);
    for (const [where, bytes] of places) if (patterns.some((p) => bytes.includes(p))) out.push(`${what} in ${where}`);
  }
  return out;
}

for (const backendName of BACKENDS) {
  describe(`no secret in plaintext at rest, in logs or in answers on ${backendName}`, () => {
    let backend: TestBackend;
    let services: Services;
    let app: FastifyInstance;
    const logs: string[] = [];
    const answers: Array<{ what: string; answer: Answer }> = [];
    let api: Api;
    const marker = randomBytes(48);
    let materialRead: Answer | undefined;

    before(async () => {
      backend = await createBackend(backendName);
      services = await openServices({ dataDir: backend.dataDir, dbUrl: backend.dbUrl, baseUrl: BASE, pkiThreads: 0 });
      const boot = await bootstrap(services, backend.dataDir);
      app = await buildHttpApp(services, { logger: { level: 'trace', stream: { write: (line: string) => logs.push(line) } } as never });
      const inject = injectApi(app);
      api = async (method, path, body, token) => {
        const a = await inject(method, path, body, token);
        answers.push({ what: `${method} ${path} → ${a.status}`, answer: a });
        return a;
      };
      const admin = readFileSync(boot.tokenFile, 'utf8').trim();
      const officerA = (await api('POST', '/api/v1/officers', { id: 'officer-a' }, admin)).json.token as string;
      const officerB = (await api('POST', '/api/v1/officers', { id: 'officer-b' }, admin)).json.token as string;
      assert.ok(officerA && officerB);
      assert.equal((await api('POST', '/api/v1/cas', { name: 'scan-rsa', algorithm: 'rsa3072', organization: 'Scan Test' }, admin)).status, 201);

      for (const [ca, alg] of [['demo-sm2', 'sm2'], ['demo-p256', 'p256'], ['scan-rsa', 'p256']] as const) {
        const applied = await api(
          'POST',
          `/api/v1/cas/${ca}/applications`,
          { profile: 'staff-sign', csr: makeCsr(alg).pem, applicant: { name: '张三' }, materials: [{ name: 'id-card.png', contentType: 'image/png', data: marker.toString('base64') }] },
          officerA,
        );
        assert.equal(applied.status, 201, JSON.stringify(applied.json));
        const added = await api('POST', `/api/v1/cas/${ca}/applications/${applied.json.id}/materials`, { name: 'form.pdf', contentType: 'application/pdf', data: marker.toString('base64') }, officerA);
        assert.equal(added.status, 201, JSON.stringify(added.json));
        if (ca === 'demo-p256') {
          // The one answer allowed to carry a material: an officer reading it (and that read is audited).
          materialRead = await inject('GET', `/api/v1/cas/${ca}/applications/${applied.json.id}/materials/${applied.json.materials[0].id}`, undefined, officerB);
        }
        const approved = await api('POST', `/api/v1/cas/${ca}/applications/${applied.json.id}/approve`, {}, officerB);
        assert.equal(approved.status, 200, JSON.stringify(approved.json));
        const cert = Certificate.parse(approved.json.certificate.pem);
        const issuer = Certificate.parse(approved.json.chainPem.split(/(?<=-----END CERTIFICATE-----\n?)/)[0]);
        const ocspPath = new URL(cert.aia.ocsp[0]!).pathname;
        const crlPath = new URL(cert.crlUrls[0]!).pathname;
        const ocsp = async () => {
          const r = await app.inject({ method: 'POST', url: ocspPath, headers: { 'content-type': 'application/ocsp-request' }, payload: buildOcspRequest({ certIds: [certId(cert, issuer)] }).der });
          answers.push({ what: `POST ${ocspPath} → ${r.statusCode}`, answer: { status: r.statusCode, json: undefined, body: r.rawPayload, headers: r.headers as Answer['headers'] } });
        };
        await ocsp();
        await api('GET', crlPath);
        assert.equal((await api('POST', `/api/v1/cas/${ca}/certificates/${cert.serialHex}/revoke`, { reason: 'keyCompromise' }, officerB)).status, 200);
        await ocsp();
        await api('GET', crlPath);
      }
    });

    let closed = false;
    after(async () => {
      if (!closed) {
        await app?.close();
        await services?.close();
      }
      await backend?.cleanup();
    });

    /** Every sealed private key of the deployment, opened through its custody: PKCS#8 and scalar. */
    async function secrets(): Promise<Map<string, Buffer>> {
      const out = new Map<string, Buffer>([['material marker', marker]]);
      const db = services.database.db;
      const tables =
        backendName === 'sqlite'
          ? (await sql<{ name: string }>`select m.name from sqlite_master m, pragma_table_info(m.name) c where m.type = 'table' and c.name = 'key_sealed'`.execute(db)).rows.map((r) => r.name)
          : (await sql<{ name: string }>`select table_name as name from information_schema.columns where column_name = 'key_sealed' and table_schema = 'public'`.execute(db)).rows.map((r) => r.name);
      assert.ok(tables.includes('ca_issuers'));
      const custody = new MasterKeyCustody(services.sealing.envelope);
      for (const table of tables) {
        const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
        for (const row of rows) {
          const sealed = Buffer.from(row.key_sealed as Uint8Array);
          const protection = String(row.key_protection);
          assert.match(protection, /^master-/, `${table} keeps a key as "${protection}"`);
          // Each module binds its keys to its rows under its own prefix; the scan only needs them open.
          const ids = [row.id, row.issuer_id, `${String(row.issuer_id)}:${String(row.generation)}`, `${String(row.issuer_id)}/${String(row.generation)}`].filter((v) => v !== undefined && !String(v).startsWith('undefined'));
          const contexts = [undefined, 'kmclink-identity', ...['ca-key', 'audit-key', 'tsa-key', 'ocsp-key'].flatMap((p) => ids.map((id) => `${p}:${String(id)}`))];
          let key: PrivateKey | undefined;
          for (const c of contexts) {
            try {
              key = custody.open(sealed, protection, c);
              break;
            } catch {
              // try the next context
            }
          }
          assert.ok(key, `the test could not open a key of ${table} (${JSON.stringify(ids)}): add its context here`);
          const name = `${table}:${String(ids[0])}`;
          out.set(`${name} PKCS#8`, Buffer.from(key.pkcs8));
          out.set(`${name} private scalar`, scalar(key));
        }
      }
      return out;
    }

    test('the lifecycle ran, materials and keys are sealed, and the one material read was audited', async () => {
      assert.equal(materialRead?.status, 200);
      assert.deepEqual(materialRead?.body, marker, 'the officer reads the material back intact');
      const db = services.database.db;
      const materials = (await sql<{ content_protection: string }>`select content_protection from ra_materials`.execute(db)).rows;
      assert.equal(materials.length, 6);
      for (const m of materials) assert.equal(m.content_protection, 'master-aes256gcm-v1');
      const reads = (await sql<{ actor: string; target: string }>`select actor, target from audit_log where action = 'ra.material.read'`.execute(db)).rows;
      assert.equal(reads.length, 1);
      assert.equal(reads[0]!.actor, 'officer-b');
      // The scanner finds a secret where it is: the material read and the material marker.
      assert.deepEqual(findings(new Map([['material marker', marker]]), new Map([['material read', materialRead!.body]])), ['material marker in material read']);
    });

    test('no private key or material in any database byte, log line or API answer', async (t) => {
      const keys = await secrets();
      t.diagnostic(`searched for: ${[...keys.keys()].join(', ')}`);
      assert.ok(keys.size >= 1 + 2 * 6, `keys found: ${[...keys.keys()].join(', ')}`);
      const places = new Map<string, Buffer>();
      answers.forEach((a, i) => places.set(`answer ${i} (${a.what})`, a.answer.body));
      places.set('log', Buffer.from(logs.join('')));
      assert.ok(logs.length > 10, 'the logger recorded the requests');
      const snapshot = (label: string) => {
        if (backendName === 'sqlite') {
          for (const suffix of ['', '-wal', '-shm']) {
            const f = join(backend.dataDir, `hpki.sqlite${suffix}`);
            if (existsSync(f)) places.set(`${label} hpki.sqlite${suffix}`, readFileSync(f));
          }
        } else {
          places.set(`${label} pg_dump`, execFileSync('pg_dump', ['--no-owner', backend.dbUrl!], { maxBuffer: 512 * 1024 * 1024 }));
        }
      };
      snapshot('open');
      closed = true;
      await app.close();
      await services.close();
      snapshot('closed');
      assert.ok([...places.keys()].some((k) => /hpki\.sqlite$|pg_dump/.test(k)));
      assert.deepEqual(findings(keys, places), []);
    });
  });
}

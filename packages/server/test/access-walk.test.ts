/**
 * The proof of "who may do what": a running server's /openapi.json is walked, every operation ×
 * every role, and each answer is checked against the operation's declared access (x-hpki-access,
 * x-hpki-roles, x-hpki-per-ca, x-hpki-holder): a role lacking the permission gets 401/403, never
 * 2xx; a role having it never gets 401 or an access 403 ("auth.*"); nobody ever gets a 5xx.
 * Routes added later are picked up from the document, with bodies made from their schemas.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from '../src/index.js';
import { createBackend, type TestBackend } from './helpers/backends.js';
import { httpApi, type Api } from './helpers/api.js';
import { certLogin, issueCert } from './helpers/auth-setup.js';

type RoleName = 'none' | 'unknown-token' | 'holder' | 'officer-a' | 'officer-b' | 'auditor' | 'admin' | 'scoped-token' | 'revoked-token';
interface Op {
  method: string;
  path: string;
  label: string;
  roles: string[];
  perCa: boolean;
  holder: boolean;
  body?: any;
}

const CA_A = 'demo-p256';
const CA_B = 'demo-sm2';
const DUMMY_ID = '00000000-0000-0000-0000-000000000000';

/** A minimal value that satisfies a JSON schema (so handlers run, not only the schema check). */
function sample(schema: any): any {
  if (!schema || typeof schema !== 'object') return undefined;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of schema.required ?? []) out[k] = sample(schema.properties?.[k]) ?? 'x';
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string': {
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      const candidates = ['walk', 'a'.repeat(64), '0a', 'x'.repeat(Math.max(1, schema.minLength ?? 1))];
      const re = schema.pattern ? new RegExp(schema.pattern) : undefined;
      const hit = candidates.find((c) => (!re || re.test(c)) && c.length >= (schema.minLength ?? 0) && c.length <= (schema.maxLength ?? 1e9));
      return hit ?? 'x';
    }
    default:
      return undefined;
  }
}

function expectedAllowed(op: Op, role: RoleName, ca: string | undefined): boolean {
  if (op.label === 'public') return true;
  const covers = (grantCa: string) => !op.perCa || ca === undefined || grantCa === '*' || grantCa === ca;
  switch (role) {
    case 'none':
    case 'unknown-token':
    case 'revoked-token':
      return false;
    case 'admin':
      return true;
    case 'officer-a':
    case 'scoped-token':
      return op.roles.includes('officer') && covers(CA_A);
    case 'officer-b':
      return op.roles.includes('officer') && covers(CA_B);
    case 'auditor':
      return op.roles.includes('auditor') && covers('*');
    case 'holder':
      return op.roles.includes('holder') || (op.holder && ca === CA_A);
  }
}

/** One request over real HTTP; the body is parsed as JSON only when it is JSON (some routes stream NDJSON or bytes). */
async function call(method: string, url: string, body: unknown, token: string | undefined): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(baseUrl + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json };
}
let baseUrl = '';

describe('route walk: every operation × every role against its declared access', () => {
  let backend: TestBackend;
  let server: Awaited<ReturnType<typeof startServer>>;
  let api: Api;
  const creds = {} as Record<RoleName, string | undefined>;
  let holderSerial = '';
  let victimSerial = '';

  before(async () => {
    backend = await createBackend('sqlite');
    server = await startServer({ dataDir: backend.dataDir, port: 0, logger: false, pkiThreads: 0 });
    api = httpApi(server.url);
    baseUrl = server.url;
    const admin = readFileSync(server.tokenFile, 'utf8').trim();
    creds.admin = admin;
    creds.none = undefined;
    creds['unknown-token'] = 'u'.repeat(43);
    // Officer of CA a logs in with a certificate (a session); officer of CA b and the auditor use personal tokens.
    const officerCert = await issueCert(api, admin, CA_A, 'p256', '官员甲');
    await api('POST', '/api/v1/officers', { id: 'walk-a', cas: [CA_A], token: false }, admin);
    await api('POST', '/api/v1/officers/walk-a/bindings', { ca: CA_A, serial: officerCert.serial }, admin);
    creds['officer-a'] = (await certLogin(api, officerCert)).json.token;
    creds['officer-b'] = (await api('POST', '/api/v1/officers', { id: 'walk-b', cas: [CA_B] }, admin)).json.token;
    creds.auditor = (await api('POST', '/api/v1/officers', { id: 'walk-auditor', roles: ['auditor'] }, admin)).json.token;
    const holderCert = await issueCert(api, admin, CA_A, 'p256', '持有人');
    holderSerial = holderCert.serial;
    creds.holder = (await certLogin(api, holderCert)).json.token;
    victimSerial = (await issueCert(api, admin, CA_A, 'p256', '其他人')).serial;
    creds['scoped-token'] = (await api('POST', '/api/v1/tokens', { name: 'walk-scoped', grants: [{ role: 'officer', ca: CA_A }] }, admin)).json.token;
    const revoked = (await api('POST', '/api/v1/tokens', { name: 'walk-revoked', grants: [{ role: 'admin', ca: '*' }] }, admin)).json;
    await api('POST', `/api/v1/tokens/${revoked.id}/revoke`, {}, admin);
    creds['revoked-token'] = revoked.token;
    for (const [role, c] of Object.entries(creds)) if (role !== 'none') assert.ok(c, `credential for ${role}`);
  });

  after(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  test('no wrong grant, no wrong refusal, no 5xx', async (t) => {
    const doc = (await api('GET', '/openapi.json')).json;
    const ops: Op[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, o] of Object.entries<any>(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        assert.ok(typeof o['x-hpki-access'] === 'string', `${method} ${path} declares x-hpki-access`);
        const json = o.requestBody?.content?.['application/json']?.schema;
        ops.push({
          method: method.toUpperCase(),
          path,
          label: o['x-hpki-access'],
          roles: o['x-hpki-roles'] ?? [],
          perCa: o['x-hpki-per-ca'] === true,
          holder: o['x-hpki-holder'] === true,
          body: json ? sample(json) : ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()) ? {} : undefined,
        });
      }
    }
    // Logging out ends the caller's session: walk it last.
    ops.sort((x, y) => Number(x.path.endsWith('/logout')) - Number(y.path.endsWith('/logout')));
    const roles = Object.keys(creds) as RoleName[];
    const wrong: string[] = [];
    const businessRefusals: string[] = [];
    let calls = 0;
    for (const op of ops) {
      const ca = op.path.includes('{ca}') ? CA_A : undefined;
      const serial = op.holder ? holderSerial : victimSerial;
      const url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === 'ca' ? CA_A : name === 'serial' ? serial : name === 'id' ? DUMMY_ID : name === 'file' ? 'root.crt' : 'x',
      );
      for (const role of roles) {
        const r = await call(op.method, url, op.body, creds[role]);
        calls++;
        const allowed = expectedAllowed(op, role, ca);
        const where = `${op.method} ${op.path} as ${role} [${op.label}${op.perCa ? ', per CA' : ''}] → ${r.status} ${r.json?.error ?? ''}`;
        if (r.status >= 500) wrong.push(`5xx: ${where} ${r.json?.message ?? ''}`);
        else if (!allowed && !(r.status === 401 || r.status === 403)) wrong.push(`granted without permission: ${where}`);
        else if (!allowed && ['none', 'unknown-token', 'revoked-token'].includes(role) && r.status !== 401) wrong.push(`expected 401: ${where}`);
        else if (allowed && r.status === 401 && r.json?.error === 'auth.login-refused') businessRefusals.push(where);
        else if (allowed && r.status === 401) wrong.push(`refused (401) with permission: ${where}`);
        else if (allowed && r.status === 403 && String(r.json?.error ?? '').startsWith('auth.')) wrong.push(`refused (403) with permission: ${where}`);
        else if (allowed && r.status === 403) businessRefusals.push(where);
      }
    }
    t.diagnostic(`${ops.length} operations × ${roles.length} roles = ${calls} calls; ${wrong.length} wrong`);
    for (const b of businessRefusals) t.diagnostic(`refused by a business rule or a failed login, not by access: ${b}`);
    for (const w of wrong) t.diagnostic(w);
    assert.deepEqual(wrong, []);
  });
});

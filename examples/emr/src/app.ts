/**
 * The EMR's HTTP server: a page (page.ts) and a JSON API. Everything about certificates goes
 * through @health-pki/sdk — the platform's trust list, validation with OCSP/CRL, certificate login,
 * the account registry, signing with time-stamps and archived evidence, verification — so this
 * file is what a hospital's developer would write. Private keys never reach it: the page has the
 * holder's signing agent sign, and only signatures come here.
 *
 * Roles: doctor (writes and signs records), nurse (countersigns signed records), auditor (sees who
 * signed what and when, verified now). Accounts are registered by the EMR administrator (a bearer
 * token) from a holder's certificate; the holder's identity number, not the certificate, is the key,
 * so a renewed certificate or one from the other CA still reaches the same account.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Certificate, ParseError, PkiError, type HashName } from '@health-pki/pki';
import {
  AccountRegistry,
  CertificateValidator,
  LoginVerifier,
  RegistryError,
  SigningError,
  TimestampError,
  TsaClient,
  readHolderIdentity,
  verifyRecord,
  type AccountStorage,
  type RecordVerification,
  type TrustStore,
} from '@health-pki/sdk';
import { PendingSignatures } from './pending.js';
import { countersignBytes, sha256Hex, type MedicalRecord, type RecordStore, type SignatureRole, type StoredSignature } from './records.js';
import { ASSETS, CSP, readAsset, renderPage } from './page.js';

/** What the EMR is built from. */
export interface EmrOptions {
  trust: TrustStore;
  records: RecordStore;
  accounts: AccountStorage;
  /** The TSA that stamps every signature (RFC 3161 over HTTP). */
  tsaUrl: string;
  /** Imprint hash for the TSA (sha256, or sm3 for an SM2 TSA). */
  tsaHash?: HashName;
  /** Bearer token of the EMR administrator (account registration). */
  adminToken: string;
  /** Where the page looks for the holder's signing agent by default. */
  agentUrl: string;
  /** Passed to the validator (default 'reject': no revocation answer, no login). */
  whenUnreachable?: 'reject' | 'accept-with-warning';
  /** Fastify log level (default: no logging). */
  logLevel?: string;
}

/** The roles this EMR knows. */
export const ROLES = ['doctor', 'nurse', 'auditor'] as const;

interface Session {
  id: string;
  lastSeen: number;
  account?: string;
  roles: string[];
  name?: string;
  ca?: string;
  identityKey?: string;
}

const COOKIE = 'emr_session';
/** A session unused this long is gone (the holder logs in again with the token). */
const SESSION_IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;

/** One signature as the auditor sees it: verified now. */
export interface AuditedSignature {
  role: SignatureRole;
  account: string;
  valid: boolean;
  reason?: string;
  code?: string;
  signer?: { name: string; subject: string; issuer: string; serial: string; ca?: string; algorithm: string };
  /** The time-stamp's genTime: when the signature provably existed. */
  signedAt?: string;
  tsa?: string;
  revocation?: { status: string; revokedAt?: string; reason?: string; source?: string; fromArchive: boolean };
}

/** Builds the EMR (not listening yet). */
export function buildEmr(opts: EmrOptions): { app: FastifyInstance; pending: PendingSignatures } {
  const app = Fastify({ logger: opts.logLevel ? { level: opts.logLevel } : false, bodyLimit: 256 * 1024 });
  const validator = new CertificateValidator({ trust: opts.trust, whenUnreachable: opts.whenUnreachable });
  const login = new LoginVerifier({ validator });
  const accounts = new AccountRegistry(opts.accounts);
  const pending = new PendingSignatures();
  const sessions = new Map<string, Session>();
  app.addHook('onClose', async () => pending.close());

  // Every refusal is a 4xx with a sentence; schema failures too.
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: `invalid request: ${err.message}` });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    app.log.error(err);
    return reply.code(500).send({ error: 'internal error' });
  });

  const session = (req: FastifyRequest, reply: FastifyReply, create: boolean): Session | undefined => {
    const id = /(?:^|;\s*)emr_session=([0-9a-f]{64})/.exec(req.headers.cookie ?? '')?.[1];
    const now = Date.now();
    let s = id ? sessions.get(id) : undefined;
    if (s && now - s.lastSeen > SESSION_IDLE_MS) {
      sessions.delete(s.id);
      s = undefined;
    }
    if (s) s.lastSeen = now;
    if (s || !create) return s;
    // Anyone can open a session (to ask for a login challenge): keep their number bounded.
    if (sessions.size >= MAX_SESSIONS) {
      for (const [k, v] of sessions) if (now - v.lastSeen > SESSION_IDLE_MS || !v.account) sessions.delete(k);
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
    }
    const fresh: Session = { id: randomBytes(32).toString('hex'), lastSeen: now, roles: [] };
    sessions.set(fresh.id, fresh);
    // SameSite=Strict and JSON-only bodies keep other sites from acting in the session.
    reply.header('set-cookie', `${COOKIE}=${fresh.id}; Path=/; HttpOnly; SameSite=Strict`);
    return fresh;
  };
  /** The signed-in session with one of `roles`, or a 401/403 already sent. */
  const need = (req: FastifyRequest, reply: FastifyReply, roles: readonly string[]): Session | undefined => {
    const s = session(req, reply, false);
    if (!s?.account) {
      void reply.code(401).send({ error: '请先使用证书登录 (not signed in)' });
      return undefined;
    }
    if (!roles.some((r) => s.roles.includes(r))) {
      void reply.code(403).send({ error: `需要角色 ${roles.join(' / ')} (this needs the role ${roles.join(' or ')})` });
      return undefined;
    }
    return s;
  };
  const parseCert = (pem: string): Certificate | undefined => {
    try {
      return Certificate.parse(pem);
    } catch (e) {
      if (e instanceof ParseError) return undefined;
      throw e;
    }
  };
  const tsa = () => new TsaClient({ url: opts.tsaUrl, trusted: opts.trust.certificates().map((c) => c.certificate), hash: opts.tsaHash });
  const caOf = (path: Certificate[] | undefined): string | undefined => {
    const anchor = path?.[path.length - 1];
    return anchor ? opts.trust.certificates().find((c) => c.certificate.der.equals(anchor.der))?.ca : undefined;
  };

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', CSP).send(renderPage({ agentUrl: opts.agentUrl })));
  for (const name of Object.keys(ASSETS)) app.get(`/${name}`, async (_req, reply) => reply.type(ASSETS[name]!).header('cache-control', 'no-cache').send(readAsset(name)));
  app.get('/healthz', async () => ({ ok: true, trustListVersion: opts.trust.version ?? null }));

  // --- login: the SDK's signed challenge, bound to this session ---
  app.post('/api/session/challenge', async (req, reply) => {
    const s = session(req, reply, true)!;
    const ch = await login.challenge(s.id);
    return { toBeSigned: ch.toBeSigned.toString('base64'), expiresAt: ch.expiresAt.toISOString() };
  });

  app.post<{ Body: { certificate: string; signature: string } }>(
    '/api/session/login',
    { schema: { body: { type: 'object', required: ['certificate', 'signature'], additionalProperties: false, properties: { certificate: { type: 'string', maxLength: 16384 }, signature: { type: 'string', maxLength: 2048 } } } } },
    async (req, reply) => {
      const s = session(req, reply, false);
      if (!s) return reply.code(400).send({ error: '没有登录挑战，请重新登录 (ask for a challenge first)' });
      const r = await login.verify(s.id, req.body.certificate, req.body.signature);
      if (!r.ok) {
        req.log.info({ reason: r.reason }, 'login refused');
        return reply.code(401).send({ error: `证书登录失败：${r.reason}` });
      }
      const acct = await accounts.signIn(r.identity, { ca: r.validation.ca });
      if (!acct) return reply.code(403).send({ error: `证书有效，但持有人（${r.identity.name}）未在本系统注册 (not registered here)` });
      Object.assign(s, { account: acct.account, roles: acct.roles, name: r.identity.name, ca: r.validation.ca, identityKey: r.identity.key });
      return me(s);
    },
  );

  app.post('/api/session/logout', async (req, reply) => {
    const s = session(req, reply, false);
    if (s) sessions.delete(s.id);
    return reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).send({ ok: true });
  });

  app.get('/api/session', async (req, reply) => {
    const s = session(req, reply, false);
    if (!s?.account) return reply.code(401).send({ error: 'not signed in' });
    return me(s);
  });

  // --- records ---
  app.get('/api/records', async (req, reply) => {
    if (!need(req, reply, ROLES)) return;
    return { records: opts.records.list().map(summary) };
  });

  app.post<{ Body: { patient: string; content: string } }>(
    '/api/records',
    { schema: { body: { type: 'object', required: ['patient', 'content'], additionalProperties: false, properties: { patient: { type: 'string', minLength: 1, maxLength: 100 }, content: { type: 'string', minLength: 1, maxLength: 20000 } } } } },
    async (req, reply) => {
      const s = need(req, reply, ['doctor']);
      if (!s) return;
      const patient = req.body.patient.trim();
      const content = req.body.content.trim();
      if (!patient || !content) return reply.code(400).send({ error: '患者和病历内容不能为空 (patient and content are required)' });
      return reply.code(201).send(summary(opts.records.create(patient, content, s.account!)));
    },
  );

  /** The bytes a role signs for a record, or why it may not sign now. */
  const toSign = (record: MedicalRecord, role: SignatureRole, s: Session): { bytes: string } | { status: number; error: string } => {
    const author = record.signatures.find((x) => x.role === 'author');
    if (role === 'author') {
      if (record.author !== s.account) return { status: 403, error: '只有病历作者可以签名 (only the author signs a record)' };
      if (author) return { status: 409, error: '病历已签名 (already signed)' };
      return { bytes: record.bytes };
    }
    if (!author) return { status: 409, error: '医生尚未签名，不能会签 (the doctor has not signed yet)' };
    if (record.signatures.some((x) => x.role === 'countersign')) return { status: 409, error: '病历已会签 (already countersigned)' };
    return { bytes: countersignBytes(record, author.cms) };
  };
  const roleFor = (kind: string): { role: SignatureRole; needs: string } | undefined => (kind === 'sign' ? { role: 'author', needs: 'doctor' } : kind === 'countersign' ? { role: 'countersign', needs: 'nurse' } : undefined);
  /**
   * The signing action a prepare or complete request names: its role, the signed-in session, the
   * record and the bytes to sign; or undefined once the refusal has been sent.
   */
  const resolveAction = (
    req: FastifyRequest<{ Params: { id: string; kind: string } }>,
    reply: FastifyReply,
  ): { kind: { role: SignatureRole; needs: string }; s: Session; record: MedicalRecord; what: { bytes: string } } | undefined => {
    const kind = roleFor(req.params.kind);
    if (!kind) return void reply.code(404).send({ error: 'unknown action' });
    const s = need(req, reply, [kind.needs]);
    if (!s) return;
    const record = opts.records.get(req.params.id);
    if (!record) return void reply.code(404).send({ error: '病历不存在 (no such record)' });
    const what = toSign(record, kind.role, s);
    if ('error' in what) return void reply.code(what.status).send({ error: what.error });
    return { kind, s, record, what };
  };

  app.post<{ Params: { id: string; kind: string }; Body: { certificate: string } }>(
    '/api/records/:id/:kind/prepare',
    { schema: { body: { type: 'object', required: ['certificate'], additionalProperties: false, properties: { certificate: { type: 'string', maxLength: 16384 } } } } },
    async (req, reply) => {
      const action = resolveAction(req, reply);
      if (!action) return;
      const { kind, s, record, what } = action;
      const cert = parseCert(req.body.certificate);
      if (!cert) return reply.code(400).send({ error: '证书无法解析 (the certificate cannot be read)' });
      // The signer must be the signed-in holder, with a certificate good for signing now.
      if (readHolderIdentity(cert).key !== s.identityKey) return reply.code(403).send({ error: '签名证书不属于当前登录用户 (the certificate is not the signed-in holder\'s)' });
      const v = await validator.validate(cert, { usage: 'signing' });
      if (!v.valid) return reply.code(403).send({ error: `签名证书无效：${v.reason}` });
      try {
        const prepared = await pending.prepare(s.id, `${kind.role}:${record.id}`, Buffer.from(what.bytes, 'utf8'), cert, { tsa: tsa(), trust: opts.trust });
        return { ...prepared, document: what.bytes };
      } catch (e) {
        if (e instanceof PkiError || e instanceof SigningError) return reply.code(400).send({ error: `无法用此证书签名：${e.message}` });
        throw e;
      }
    },
  );

  app.post<{ Params: { id: string; kind: string; pendingId: string }; Body: { signature: string } }>(
    '/api/records/:id/:kind/:pendingId',
    { schema: { body: { type: 'object', required: ['signature'], additionalProperties: false, properties: { signature: { type: 'string', maxLength: 2048 } } } } },
    async (req, reply) => {
      const action = resolveAction(req, reply);
      if (!action) return;
      const { kind, s, record, what } = action;
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(req.body.signature)) return reply.code(400).send({ error: 'the signature must be base64' });
      let signed;
      try {
        signed = await pending.complete(s.id, `${kind.role}:${record.id}`, req.params.pendingId, Buffer.from(req.body.signature, 'base64'));
      } catch (e) {
        if (e instanceof SigningError) return reply.code(400).send({ error: `签名无效：${e.message}` });
        if (e instanceof TimestampError) return reply.code(502).send({ error: `时间戳服务失败：${e.message}` });
        throw e;
      }
      if (!signed) return reply.code(404).send({ error: '签名请求已过期或不存在，请重试 (no such pending signature)' });
      const sig: StoredSignature = { role: kind.role, account: s.account!, signedBytes: what.bytes, cms: signed.der.toString('base64'), storedAt: new Date().toISOString() };
      // Verified as an auditor will (fresh OCSP/CRL): a signature that does not hold, e.g. by a
      // certificate revoked since login (the validator caches OCSP answers), is refused, not stored.
      const checked = await audit(record, sig, [...record.signatures, sig]);
      if (!checked.valid) return reply.code(422).send({ error: `签名未通过验证，未保存：${checked.reason}`, code: checked.code });
      opts.records.addSignature(record.id, sig);
      return { record: summary(opts.records.get(record.id)!), signature: checked, warnings: signed.warnings };
    },
  );

  // --- audit: every signature verified now, online (fresh OCSP/CRL) plus the archived evidence ---
  const audit = async (record: MedicalRecord, sig: StoredSignature, signatures = record.signatures): Promise<AuditedSignature> => {
    let v: RecordVerification = await verifyRecord(Buffer.from(sig.signedBytes, 'utf8'), Buffer.from(sig.cms, 'base64'), { trust: opts.trust });
    // What was signed must still be this record (and, for a countersignature, this author signature).
    if (v.valid) {
      const author = signatures.find((x) => x.role === 'author');
      const expected = sig.role === 'author' ? record.bytes : author ? countersignBytes(record, author.cms) : undefined;
      if (sig.signedBytes !== expected) v = { ...v, valid: false, reason: { code: 'tampered', message: 'the signed bytes are not this record\'s current content' } };
    }
    const c = v.signer?.certificate;
    return {
      role: sig.role,
      account: sig.account,
      valid: v.valid,
      reason: v.reason?.message,
      code: v.reason?.code,
      signer: c ? { name: readHolderIdentity(c).name, subject: c.subjectText, issuer: c.issuerText, serial: c.serialHex, ca: caOf(v.path), algorithm: c.publicKey.kind === 'sm2' ? 'SM2' : c.publicKey.kind === 'ec' ? `ECDSA ${c.publicKey.curve ?? ''}`.trim() : c.publicKey.kind.toUpperCase() } : undefined,
      signedAt: v.signingTime?.toISOString(),
      tsa: v.timeStamp?.tsa,
      revocation: v.revocation ? { status: v.revocation.status, revokedAt: v.revocation.revokedAt?.toISOString(), reason: v.revocation.reason, source: v.revocation.source, fromArchive: v.revocation.fromArchive } : undefined,
    };
  };

  app.get('/api/audit', async (req, reply) => {
    if (!need(req, reply, ['auditor'])) return;
    const out = [];
    for (const r of opts.records.list()) {
      out.push({ ...summary(r), recordSha256: sha256Hex(r.bytes), signatures: await Promise.all(r.signatures.map((sig) => audit(r, sig))) });
    }
    return { trustListVersion: opts.trust.version ?? null, checkedAt: new Date().toISOString(), records: out };
  });

  // --- administration: register a holder's certificate to an account ---
  app.post<{ Body: { certificate: string; account: string; roles: string[] } }>(
    '/api/admin/accounts',
    {
      schema: {
        body: {
          type: 'object',
          required: ['certificate', 'account', 'roles'],
          additionalProperties: false,
          properties: { certificate: { type: 'string', maxLength: 16384 }, account: { type: 'string', minLength: 1, maxLength: 64 }, roles: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'string', enum: [...ROLES] } } },
        },
      },
    },
    async (req, reply) => {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const a = Buffer.from(given);
      const b = Buffer.from(opts.adminToken);
      if (a.length !== b.length || !timingSafeEqual(a, b)) return reply.code(401).send({ error: 'the EMR administrator token is required' });
      const cert = parseCert(req.body.certificate);
      if (!cert) return reply.code(400).send({ error: 'the certificate cannot be read' });
      // Only holders of certificates that validate now are registered (a CA off the trust list never gets in).
      const v = await validator.validate(cert, { usage: 'login' });
      if (!v.valid) return reply.code(400).send({ error: `the certificate is not acceptable: ${v.reason}` });
      try {
        const rec = await accounts.register(readHolderIdentity(cert), req.body.account, req.body.roles, { ca: v.ca });
        return reply.code(201).send({ account: rec.account, roles: rec.roles, identityKey: rec.identityKey, ca: v.ca });
      } catch (e) {
        if (e instanceof RegistryError) return reply.code(e.code === 'identity.registered' ? 409 : 400).send({ error: e.message, code: e.code });
        throw e;
      }
    },
  );

  return { app, pending };
}

function me(s: Session) {
  return { account: s.account, roles: s.roles, name: s.name, ca: s.ca };
}

function summary(r: MedicalRecord) {
  return {
    id: r.id,
    patient: r.patient,
    content: r.content,
    author: r.author,
    createdAt: r.createdAt,
    signatures: r.signatures.map((x) => ({ role: x.role, account: x.account, storedAt: x.storedAt })),
  };
}

/** The RA's routes: applications and their materials, decisions, and certificate status changes. */
import type { FastifyInstance } from 'fastify';
import type { Certificate, RevocationReason } from '@health-pki/pki';
import type { Services } from '../../services.js';
import { REVOCATION_REASONS, normalizeSerial } from '../../ca/authority.js';
import { APPLICATION_SORT_COLUMNS, MAX_ENROLL_BATCH, type ApplicationInput, type ApplicationSort, type Approval, type MaterialInput } from '../../ra/registration.js';
import type { ApplicationState } from '../../ra/tables.js';
import { InvalidRequestError, TooLargeError } from '../../errors.js';
import { principalOf } from '../access.js';
import { describeHttpError, errorSchema } from '../errors.js';
import type { ServiceMetrics } from '../metrics.js';
import { applicationJson, applicationSchema, certificateJson, certificateSchema, chainPem } from '../views.js';

const str = (maxLength: number, minLength = 0) => ({ type: 'string', maxLength, minLength }) as const;

const materialBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'contentType', 'data'],
  properties: {
    name: str(200, 1),
    contentType: { type: 'string', minLength: 3, maxLength: 100, description: 'e.g. image/jpeg, application/pdf' },
    data: { type: 'string', description: 'the bytes, base64' },
  },
} as const;

const identityBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    residentId: str(32),
    militaryOfficerId: str(64),
    passportNumber: str(32),
    insuranceNumber: str(64),
    icRegistrationNumber: str(64),
    organizationCode: str(32),
    taxationNumber: str(64),
    unifiedSocialCreditCode: str(32),
  },
} as const;

const applicationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['applicant'],
  properties: {
    kind: { type: 'string', enum: ['new', 'renewal', 'rekey', 'reissue'], default: 'new' },
    profile: str(64, 1),
    csr: { type: 'string', maxLength: 65536, description: 'PKCS#10 request, PEM or base64 DER' },
    previousSerial: str(130, 1),
    previousReason: { type: 'string', enum: [...REVOCATION_REASONS] },
    applicant: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: str(128, 1),
        organization: str(128),
        department: str(128),
        title: str(128),
        phone: str(40),
        email: str(254),
        address: str(256),
        notes: str(2000),
      },
    },
    identity: identityBody,
    altNames: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'value'],
        properties: { type: { type: 'string', enum: ['dns', 'email', 'uri', 'ip'] }, value: str(256, 1) },
      },
    },
    validityDays: { type: 'integer', minimum: 1, maximum: 36500 },
    materials: { type: 'array', maxItems: 20, items: materialBody },
    dual: { type: 'boolean', description: 'Also issue the encryption certificate of a dual pair (SM2 CA, *-sign profile): its key comes from the KMC, enveloped to the CSR key' },
  },
} as const;

/** The encryption half of a dual approval: certificate and the SM2EnvelopedKey (base64 DER) that only the signing key opens. */
const encryptionSchema = { type: 'object', properties: { certificate: certificateSchema, envelopedKey: { type: 'string' } } } as const;

/**
 * PEM of the CA certificates every issuance answer repeats, encoded once per certificate object
 * (certificates are immutable and the CA module keeps one object per CA certificate): encoding
 * them on every answer measured at tens of µs of the service's thread per certificate.
 */
const caPems = new WeakMap<Certificate, string>();

/** The chain as PEM, the same text as views.ts `chainPem`. */
function cachedChainPem(chain: readonly Certificate[]): string {
  let out = '';
  for (const c of chain) {
    let pem = caPems.get(c);
    if (pem === undefined) caPems.set(c, (pem = chainPem([c])));
    out += pem;
  }
  return out;
}

/** The JSON answer of an approval. */
function approvalJson(a: Approval) {
  return {
    application: applicationJson(a.application),
    certificate: certificateJson(a.issued.record),
    chainPem: cachedChainPem(a.issued.chain),
    ...(a.encryption ? { encryption: { certificate: certificateJson(a.encryption.issued.record), envelopedKey: a.encryption.envelope.toString('base64') } } : {}),
  };
}

/** What an enrollment answers (POST /enroll, and each success of POST /enroll/batch). */
const enrolledProperties = { application: applicationSchema, certificate: certificateSchema, chainPem: { type: 'string' }, encryption: encryptionSchema } as const;

const caParams = { type: 'object', required: ['ca'], properties: { ca: str(64) } } as const;
const appParams = { type: 'object', required: ['ca', 'id'], properties: { ca: str(64), id: str(64) } } as const;
const certParams = { type: 'object', required: ['ca', 'serial'], properties: { ca: str(64), serial: str(130) } } as const;
const commentBody = { type: 'object', additionalProperties: false, properties: { comment: str(2000) } } as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes base64 strictly: a typo must not silently become different bytes. */
function decodeBase64(data: string, what: string): Buffer {
  const clean = data.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) throw new InvalidRequestError('base64', `${what} is not valid base64`);
  return Buffer.from(clean, 'base64');
}

function decodeMaterial(m: { name: string; contentType: string; data: string }, maxBytes: number): MaterialInput {
  // Refuse by the encoded length first, so an oversized upload is never decoded.
  if (Math.floor((m.data.length * 3) / 4) > maxBytes + 3) {
    throw new TooLargeError('material.size', `material "${m.name}" is larger than the limit of ${maxBytes} bytes`);
  }
  return { name: m.name, contentType: m.contentType, content: decodeBase64(m.data, `material "${m.name}"`) };
}

function decodeCsr(csr: string): string | Buffer {
  return csr.includes('-----BEGIN') ? csr : decodeBase64(csr, 'the CSR');
}

/** An application as the API receives it: the CSR as PEM or base64, materials as base64. */
type ApplicationBody = Omit<ApplicationInput, 'csr' | 'materials'> & { csr?: string; materials?: Array<{ name: string; contentType: string; data: string }> };

function applicationInput(body: ApplicationBody, maxMaterialBytes: number): ApplicationInput {
  return {
    ...body,
    csr: body.csr !== undefined ? decodeCsr(body.csr) : undefined,
    materials: (body.materials ?? []).map((m) => decodeMaterial(m, maxMaterialBytes)),
  };
}

/** The body limit of routes that carry materials: the largest material in base64, plus room for the rest. */
export function materialBodyLimit(maxBytes: number): number {
  return Math.ceil(maxBytes / 3) * 4 + 256 * 1024;
}

/** Registers the RA routes. */
export function raRoutes(app: FastifyInstance, services: Services, metrics: ServiceMetrics): void {
  const { ra, ca } = services;
  const limits = ra.limits;
  const oneMaterialLimit = materialBodyLimit(limits.maxBytes);

  app.post(
    '/api/v1/cas/:ca/applications',
    {
      config: { access: 'ra.enter' },
      // An application may carry its materials inline; two of the largest fit, more go through the materials route.
      bodyLimit: 2 * oneMaterialLimit,
      schema: {
        tags: ['ra'],
        summary: 'Enter an application: applicant identity data, materials and the CSR',
        description: 'Checked at once against the profile (422 names the broken rule); nothing is stored when a check fails.',
        params: caParams,
        body: applicationBody,
        response: { 201: applicationSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca: caName } = req.params as { ca: string };
      const created = await ra.apply(principalOf(req), caName, applicationInput(req.body as ApplicationBody, limits.maxBytes));
      metrics.applications.inc({ ca: caName, outcome: 'submitted' });
      req.log.info({ ca: caName, application: created.id, kind: created.kind, profile: created.profile }, 'application entered');
      return reply.code(201).send(applicationJson(created));
    },
  );

  app.get(
    '/api/v1/cas/:ca/applications',
    {
      config: { access: 'ra.read' },
      schema: {
        tags: ['ra'],
        summary: 'Applications of a CA, oldest first unless sorted (the review queue with state=submitted)',
        params: caParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['submitted', 'issued', 'rejected'] },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            after: str(64),
            sort: { type: 'string', enum: Object.keys(APPLICATION_SORT_COLUMNS), default: 'enteredAt', description: 'order by entry time (default), subject, profile, kind or state; then by id' },
            order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
          },
        },
        response: { 200: { type: 'object', properties: { applications: { type: 'array', items: applicationSchema } } }, 404: errorSchema },
      },
    },
    async (req) => {
      const { ca: caName } = req.params as { ca: string };
      const q = req.query as { state?: ApplicationState; limit?: number; after?: string; sort?: ApplicationSort; order?: 'asc' | 'desc' };
      return { applications: (await ra.listApplications(principalOf(req), caName, q)).map(applicationJson) };
    },
  );

  app.get(
    '/api/v1/cas/:ca/applications/:id',
    { config: { access: 'ra.read' }, schema: { tags: ['ra'], summary: 'One application with its materials (metadata) and record', params: appParams, response: { 200: applicationSchema, 404: errorSchema } } },
    async (req) => {
      const { ca: caName, id } = req.params as { ca: string; id: string };
      return applicationJson(await ra.getApplication(principalOf(req), caName, id));
    },
  );

  app.post(
    '/api/v1/cas/:ca/applications/:id/materials',
    {
      config: { access: 'ra.enter' },
      bodyLimit: oneMaterialLimit,
      schema: {
        tags: ['ra'],
        summary: 'Add a material (scan, form) to an application awaiting review',
        params: appParams,
        body: materialBody,
        response: { 201: applicationSchema.properties.materials.items, 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca: caName, id } = req.params as { ca: string; id: string };
      const material = decodeMaterial(req.body as { name: string; contentType: string; data: string }, limits.maxBytes);
      return reply.code(201).send(await ra.addMaterial(principalOf(req), caName, id, material));
    },
  );

  app.get(
    '/api/v1/cas/:ca/applications/:id/materials/:material',
    {
      config: { access: 'ra.read' },
      schema: {
        tags: ['ra'],
        summary: 'The bytes of one material, with its content type',
        params: { type: 'object', required: ['ca', 'id', 'material'], properties: { ca: str(64), id: str(64), material: str(64) } },
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca: caName, id, material } = req.params as { ca: string; id: string; material: string };
      const m = await ra.getMaterial(principalOf(req), caName, id, material);
      // Materials are uploads: never let a browser sniff them into something executable.
      return reply.type(m.view.contentType).header('content-disposition', `attachment; filename="${m.view.id}"`).header('x-content-type-options', 'nosniff').header('cache-control', 'no-store').send(m.content);
    },
  );

  app.post(
    '/api/v1/cas/:ca/applications/:id/approve',
    {
      config: { access: 'ra.approve' },
      schema: {
        tags: ['ra'],
        summary: 'Approve an application: the certificate is issued in the same transaction',
        description: 'Maker-checker: the officer who entered the application cannot approve it (403), except the bootstrap administrator of a demo deployment, whose self-approval is recorded.',
        params: appParams,
        body: commentBody,
        response: {
          200: { type: 'object', properties: { application: applicationSchema, certificate: certificateSchema, chainPem: { type: 'string' }, encryption: encryptionSchema } },
          403: errorSchema,
          404: errorSchema,
          409: errorSchema,
          422: errorSchema,
        },
      },
    },
    async (req) => {
      const { ca: caName, id } = req.params as { ca: string; id: string };
      const body = (req.body ?? {}) as { comment?: string };
      const approval = await ra.approve(principalOf(req), caName, id, body);
      const { application, issued } = approval;
      metrics.issued.inc({ ca: caName, profile: application.profile });
      metrics.applications.inc({ ca: caName, outcome: 'issued' });
      req.log.info({ ca: caName, application: id, serial: issued.record.serial, profile: application.profile, selfApproved: application.selfApproved }, 'certificate issued');
      return approvalJson(approval);
    },
  );

  app.post(
    '/api/v1/cas/:ca/enroll',
    {
      config: { access: 'ra.approve' },
      bodyLimit: 2 * oneMaterialLimit,
      schema: {
        tags: ['ra'],
        summary: 'Enter and approve an application in one request (automation): the certificate is issued at once',
        description:
          'The body is that of an application. Only a principal allowed to approve its own applications may use this: the bootstrap administrator of a demo deployment, whose self-approval is recorded as such. For every other officer maker-checker holds (403): enter the application and let a second officer approve it. The records are those of an application followed by its approval, written in one transaction.',
        params: caParams,
        body: applicationBody,
        response: {
          201: { type: 'object', properties: enrolledProperties },
          400: errorSchema,
          403: errorSchema,
          404: errorSchema,
          409: errorSchema,
          413: errorSchema,
          422: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const { ca: caName } = req.params as { ca: string };
      const approval = await ra.enroll(principalOf(req), caName, applicationInput(req.body as ApplicationBody, limits.maxBytes));
      const { application, issued } = approval;
      metrics.issued.inc({ ca: caName, profile: application.profile });
      metrics.applications.inc({ ca: caName, outcome: 'issued' });
      req.log.info({ ca: caName, application: application.id, serial: issued.record.serial, profile: application.profile, selfApproved: application.selfApproved }, 'certificate issued (enroll)');
      return reply.code(201).send(approvalJson(approval));
    },
  );

  app.post(
    '/api/v1/cas/:ca/enroll/batch',
    {
      config: { access: 'ra.approve' },
      bodyLimit: 2 * oneMaterialLimit,
      schema: {
        tags: ['ra'],
        summary: `Enroll up to ${MAX_ENROLL_BATCH} applications in one request (e.g. a hospital's staff): each is an enroll of its own`,
        description:
          'Each application is handled exactly as POST /enroll handles one: its own checks, its own transaction with its application, RA record and audit entries, its own outcome. The answer lists, in order, per application either status 201 with what /enroll answers, or the error status and body /enroll would have answered. Who may not enroll (maker-checker: 403), an unknown CA (404) or a malformed body (400) fail the whole request.',
        params: caParams,
        body: { type: 'object', additionalProperties: false, required: ['applications'], properties: { applications: { type: 'array', minItems: 1, maxItems: MAX_ENROLL_BATCH, items: applicationBody } } },
        response: {
          200: { type: 'object', properties: { results: { type: 'array', items: { type: 'object', properties: { status: { type: 'integer' }, ...enrolledProperties, ...errorSchema.properties } } } } },
          400: errorSchema,
          403: errorSchema,
          404: errorSchema,
          413: errorSchema,
        },
      },
    },
    async (req) => {
      const { ca: caName } = req.params as { ca: string };
      const bodies = (req.body as { applications: ApplicationBody[] }).applications;
      // A body that cannot be decoded (bad base64) is that application's 400, not the batch's.
      const decoded = bodies.map((b) => {
        try {
          return { input: applicationInput(b, limits.maxBytes) };
        } catch (error) {
          return { error };
        }
      });
      const settled = await ra.enrollBatch(principalOf(req), caName, decoded.flatMap((d) => (d.input ? [d.input] : [])));
      let next = 0;
      let issued = 0;
      const results = decoded.map((d) => {
        const outcome: PromiseSettledResult<Approval> = d.input ? settled[next++]! : { status: 'rejected', reason: d.error };
        if (outcome.status === 'fulfilled') {
          issued++;
          metrics.issued.inc({ ca: caName, profile: outcome.value.application.profile });
          metrics.applications.inc({ ca: caName, outcome: 'issued' });
          return { status: 201, ...approvalJson(outcome.value) };
        }
        const { status, body } = describeHttpError(outcome.reason);
        if (status >= 500) req.log.error({ err: outcome.reason }, 'batch enrollment: one application failed');
        return { status, ...body };
      });
      req.log.info({ ca: caName, applications: results.length, issued }, 'certificates issued (batch enroll)');
      return { results };
    },
  );

  app.post(
    '/api/v1/cas/:ca/applications/:id/reject',
    {
      config: { access: 'ra.approve' },
      schema: {
        tags: ['ra'],
        summary: 'Reject an application with a reason',
        params: appParams,
        body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: str(2000, 1) } },
        response: { 200: applicationSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const { ca: caName, id } = req.params as { ca: string; id: string };
      const rejected = await ra.reject(principalOf(req), caName, id, (req.body as { reason: string }).reason);
      metrics.applications.inc({ ca: caName, outcome: 'rejected' });
      return applicationJson(rejected);
    },
  );

  app.get(
    '/api/v1/cas/:ca/certificates/:serial',
    { config: { access: 'public' }, schema: { tags: ['certificates'], summary: 'A certificate and its status', params: certParams, response: { 200: certificateSchema, 400: errorSchema, 404: errorSchema } } },
    async (req) => {
      const { ca: caName, serial } = req.params as { ca: string; serial: string };
      return certificateJson(await ca.getCertificate(caName, normalizeSerial(serial)));
    },
  );

  app.post(
    '/api/v1/cas/:ca/certificates/:serial/revoke',
    {
      config: { access: 'cert.status' },
      schema: {
        tags: ['certificates'],
        summary: 'Revoke a certificate with an RFC 5280 reason (loss or damage of the medium: keyCompromise / superseded)',
        params: certParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: { type: 'string', enum: [...REVOCATION_REASONS] }, invalidityDate: { type: 'string', format: 'date-time' }, comment: str(2000) },
        },
        response: { 200: certificateSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req) => {
      const { ca: caName, serial } = req.params as { ca: string; serial: string };
      const body = req.body as { reason: RevocationReason; invalidityDate?: string; comment?: string };
      const invalidityDate = body.invalidityDate !== undefined ? new Date(body.invalidityDate) : undefined;
      if (invalidityDate && Number.isNaN(invalidityDate.getTime())) throw new InvalidRequestError('invalidityDate', `invalidityDate "${body.invalidityDate}" is not a date-time`);
      const record = await ra.revoke(principalOf(req), caName, normalizeSerial(serial), {
        reason: body.reason,
        invalidityDate,
        comment: body.comment,
      });
      metrics.statusChanges.inc({ ca: caName, action: 'revoke', reason: body.reason });
      req.log.info({ ca: caName, serial: record.serial, reason: body.reason }, 'certificate revoked');
      return certificateJson(record);
    },
  );

  for (const action of ['hold', 'release'] as const) {
    app.post(
      `/api/v1/cas/:ca/certificates/:serial/${action}`,
      {
        config: { access: 'cert.status' },
        schema: {
          tags: ['certificates'],
          summary: action === 'hold' ? 'Suspend a certificate (certificateHold)' : 'Release a certificate from hold',
          params: certParams,
          body: commentBody,
          response: { 200: certificateSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema },
        },
      },
      async (req) => {
        const { ca: caName, serial } = req.params as { ca: string; serial: string };
        const comment = (req.body as { comment?: string } | undefined)?.comment;
        const record = await ra[action](principalOf(req), caName, normalizeSerial(serial), comment);
        metrics.statusChanges.inc({ ca: caName, action, reason: action === 'hold' ? 'certificateHold' : 'removeFromCRL' });
        req.log.info({ ca: caName, serial: record.serial }, action === 'hold' ? 'certificate on hold' : 'certificate released');
        return certificateJson(record);
      },
    );
  }
}

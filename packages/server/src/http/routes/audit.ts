/** The auditors' routes: read the audit log with filters, export it, verify it, sign a checkpoint. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { AuditExportFormat, AuditQuery } from '../../audit/service.js';
import { principalOf } from '../access.js';
import { errorSchema } from '../errors.js';

const filterProperties = {
  from: { type: 'string', format: 'date-time', description: 'entries at or after this time' },
  to: { type: 'string', format: 'date-time', description: 'entries before this time' },
  actor: { type: 'string', minLength: 1, maxLength: 200 },
  action: { type: 'string', minLength: 1, maxLength: 200, description: 'exact, or a prefix ending in "*" (e.g. "ca.*")' },
  target: { type: 'string', minLength: 1, maxLength: 400, description: 'exact, or a prefix ending in "*"' },
  after: { type: 'integer', minimum: 0, description: 'the last seq of the previous page' },
} as const;

const entrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    id: { type: 'string' },
    at: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    details: {},
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
} as const;

const faultSchema = {
  type: 'object',
  properties: { kind: { type: 'string' }, seq: { type: 'integer' }, toSeq: { type: 'integer' }, id: { type: 'string' }, originalSeq: { type: 'integer' }, message: { type: 'string' } },
} as const;

const reportSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    entries: { type: 'integer' },
    head: { type: 'object', nullable: true, properties: { seq: { type: 'integer' }, hash: { type: 'string' } } },
    checkpoints: {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        valid: { type: 'integer' },
        last: { type: 'object', nullable: true, properties: { seq: { type: 'integer' }, at: { type: 'string' }, keyId: { type: 'string' } } },
      },
    },
    keys: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, subject: { type: 'string' }, sha256: { type: 'string' }, trusted: { type: 'boolean', nullable: true } } } },
    faults: { type: 'array', items: faultSchema },
  },
} as const;

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema };

/** Registers /api/v1/audit, /api/v1/audit/export, /api/v1/audit/verify and /api/v1/audit/checkpoints. */
export function auditRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/audit',
    {
      config: { access: 'auditor' },
      schema: {
        tags: ['audit'],
        summary: 'Read the audit log, oldest first, with filters (the read is itself audited)',
        querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: { type: 'object', properties: { entries: { type: 'array', items: entrySchema }, next: { type: 'integer', nullable: true } } }, ...errors },
      },
    },
    async (req) => services.audit.read(principalOf(req), req.query as AuditQuery),
  );

  app.get(
    '/api/v1/audit/export',
    {
      config: { access: 'auditor' },
      schema: {
        tags: ['audit'],
        summary: 'Export the audit log as CSV or JSON lines (the export is itself audited)',
        querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, format: { type: 'string', enum: ['csv', 'jsonl'], default: 'jsonl' } } },
        response: errors,
      },
    },
    async (req, reply) => {
      const { format, ...q } = req.query as AuditQuery & { format: AuditExportFormat };
      const lines = await services.audit.export(principalOf(req), q, format);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
      reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.${format === 'csv' ? 'csv' : 'jsonl'}"`);
      return reply.send(Readable.from(lines));
    },
  );

  app.get(
    '/api/v1/audit/verify',
    {
      config: { access: 'auditor' },
      schema: {
        tags: ['audit'],
        summary: 'Verify the hash chain and the signed checkpoints of the audit log (the verification is audited)',
        response: { 200: reportSchema, ...errors },
      },
    },
    async (req) => services.audit.verify(principalOf(req)),
  );

  app.post(
    '/api/v1/audit/checkpoints',
    {
      config: { access: 'auditor' },
      schema: {
        tags: ['audit'],
        summary: 'Sign a checkpoint of the chain head now (also done periodically and at shutdown)',
        response: {
          200: { type: 'object', properties: { signed: { type: 'boolean' }, seq: { type: 'integer' }, hash: { type: 'string' }, at: { type: 'string' }, keyId: { type: 'string' } } },
          ...errors,
        },
      },
    },
    async (req) => {
      const cp = await services.audit.checkpoint(principalOf(req));
      return cp ? { signed: true, seq: cp.seq, hash: cp.hash, at: cp.at, keyId: cp.keyId } : { signed: false };
    },
  );
}

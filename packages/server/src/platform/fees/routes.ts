/**
 * Fees over HTTP.
 *   POST /platform/fees/schedules                       national: { effectiveFrom, prices, note? }
 *   GET  /platform/fees/schedules                       any role
 *   GET  /platform/fees/statements/systems/:id?from&to[&format=csv]   offices and auditors
 *   GET  /platform/fees/statements/units/:code?from&to[&format=csv]   offices and auditors
 * CAs see neither statements nor units' payments: they are between the offices and the units.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import type { PlatformRole } from '../registry/roles.js';
import { ANY_ROLE, principalOf, type PlatformAccess } from '../http/access.js';
import type { FeeSchedules } from './schedule.js';
import { statementCsv, type FeeStatements, type Statement } from './statements.js';

const roles = (...r: PlatformRole[]): { platformAccess: PlatformAccess } => ({ platformAccess: { roles: r } });
type StatementQuery = { from?: string; to?: string; format?: string };

function send(reply: FastifyReply, format: unknown, s: Statement, file: string): FastifyReply | Statement {
  if (format === undefined || format === 'json') return s;
  if (format !== 'csv') throw new InvalidRequestError('platform.fees.format', 'format must be json or csv');
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file}"`).send(statementCsv(s));
}

/** Adds the fee routes to the platform's app. */
export function registerFeeRoutes(app: FastifyInstance, deps: { schedules: FeeSchedules; statements: FeeStatements }): void {
  const readers = roles('national', 'provincial', 'auditor');
  app.post('/platform/fees/schedules', { config: roles('national') }, async (req, reply) => reply.code(201).send(await deps.schedules.create(await principalOf(req), req.body)));
  app.get('/platform/fees/schedules', { config: { platformAccess: ANY_ROLE } }, async () => ({ schedules: await deps.schedules.list() }));
  app.get<{ Params: { id: string }; Querystring: StatementQuery }>('/platform/fees/statements/systems/:id', { config: readers }, async (req, reply) => {
    const s = await deps.statements.forSystem(await principalOf(req), req.params.id, req.query);
    return send(reply, req.query.format, s, `fees-system-${s.subject.id}.csv`);
  });
  app.get<{ Params: { code: string }; Querystring: StatementQuery }>('/platform/fees/statements/units/:code', { config: readers }, async (req, reply) => {
    const s = await deps.statements.forUnit(await principalOf(req), req.params.code, req.query);
    return send(reply, req.query.format, s, `fees-unit-${s.subject.id}.csv`);
  });
}

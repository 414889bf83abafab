/**
 * Offices asking a CA about certificates (`POST /platform/cas/:name/certificates/query`): the
 * national office and the auditor about any CA, a provincial office about the CAs based in its
 * province. The platform signs the query, checks the CA's signed answer, and audits who asked
 * about what. A CA that cannot be reached or answers wrongly is a 502 naming the problem.
 */
import type { Database } from '../../store/database.js';
import { appendAudit } from '../../audit/log.js';
import { InvalidRequestError, RuleError, ServiceError } from '../../errors.js';
import type { CaRegistry } from '../registry/registry.js';
import { auditActor, type PlatformPrincipal } from '../registry/roles.js';
import { refuse, requireRole } from '../registry/access.js';
import { MAX_QUERY_SERIALS, QueryFailure, normalizeSerial, queryCertificates, type QueryAnswer, type QuerySigner } from './query-client.js';

/** What an office query needs. */
export interface OfficeQueryDeps {
  database: Database;
  registry: CaRegistry;
  signer: QuerySigner;
  clock?: () => Date;
  timeoutMs?: number;
}

/** Checks the body `{ serials: [hex…] }`. */
function serialsOf(body: unknown): string[] {
  const serials = (body as { serials?: unknown } | undefined)?.serials;
  if (!Array.isArray(serials) || serials.length === 0 || serials.length > MAX_QUERY_SERIALS) throw new InvalidRequestError('platform.query.serials', `serials must list 1 to ${MAX_QUERY_SERIALS} hexadecimal serial numbers`);
  return [
    ...new Set(
      serials.map((s, i) => {
        const n = typeof s === 'string' ? normalizeSerial(s) : '';
        if (!/^[0-9a-f]{1,64}$/.test(n)) throw new InvalidRequestError('platform.query.serials', `serials[${i}] is not a hexadecimal serial number`);
        return n;
      }),
    ),
  ];
}

/** Asks the CA `name` about the serials in `body` on behalf of `actor`. */
export async function officeQuery(deps: OfficeQueryDeps, actor: PlatformPrincipal, name: string, body: unknown): Promise<QueryAnswer> {
  const clock = deps.clock ?? (() => new Date());
  const target = `platform:ca:${name}`;
  await requireRole(deps.database, clock, actor, ['national', 'provincial', 'auditor'], 'platform.ca.query', target);
  const ca = await deps.registry.getFor(actor, name);
  if (actor.role === 'provincial' && actor.province !== ca.homeProvince) {
    throw await refuse(deps.database, clock, actor, 'platform.ca.query', target, 'platform.scope.province', `only the office of ${ca.homeProvince}, the national office or an auditor asks this CA about certificates`);
  }
  const serials = serialsOf(body);
  if (!ca.endpoints.query) throw new RuleError('platform.query.no-endpoint', `CA "${name}" has registered no certificate query interface`);
  if (!ca.platformAccessCertificate) throw new RuleError('platform.query.no-access-certificate', `CA "${name}" has no platform-access certificate to check its answer with`);
  let answer: QueryAnswer;
  try {
    answer = await queryCertificates({ url: ca.endpoints.query, ca: name, serials, accessCertificate: ca.platformAccessCertificate, signer: deps.signer, timeoutMs: deps.timeoutMs, clock });
  } catch (e) {
    if (e instanceof QueryFailure) throw new ServiceError(502, 'platform.query.upstream', `CA "${name}": ${e.message}`);
    throw e;
  }
  await deps.database.transaction((tx) => appendAudit(tx, { actor: auditActor(actor), action: 'platform.ca.query', target, details: { serials, answered: answer.certificates.map((c) => `${c.serial}:${c.status}`) } }, clock()));
  return answer;
}

/**
 * Public query and download (Regulation Art. 12 (2)): search the certificates a CA issued, and
 * download a certificate (PEM, DER), its chain (PKCS#7 certs-only or PEM) and CRLs. Read-only
 * and public; every parameter has a JSON schema, so bad input is a 400 before a query runs.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { buildCertsOnly, toPem, type Certificate } from '@health-pki/pki';
import type { Services } from '../../services.js';
import { normalizeSerial } from '../../ca/authority.js';
import { CertificateSearch, type CertificateHit } from '../../ca/search.js';
import { NotFoundError } from '../../errors.js';
import { errorSchema } from '../../http/errors.js';
import { certificateSchema } from '../../http/views.js';
import { criteriaOf, decodeCursor, encodeCursor, searchQuerySchema, sortOf, DEFAULT_PAGE, type SearchQuery } from './params.js';
import { crlSourceOf, currentCrl, type CrlKindName } from './crl-source.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;

// The officer's certificate view (views.ts) without the PEM, plus the holder's organisation and download links.
const hitSchema = {
  type: 'object',
  properties: { ...certificateSchema.properties, holderOrg: nullableStr, links: { type: 'object', properties: { pem: str, der: str, chain: str } } },
} as const;

/** The files a certificate can be downloaded as. */
export const CERTIFICATE_FILES = {
  'cert.pem': { type: 'application/x-pem-file', what: 'the certificate, PEM' },
  'cert.der': { type: 'application/pkix-cert', what: 'the certificate, DER (RFC 2585)' },
  'cert.cer': { type: 'application/pkix-cert', what: 'the certificate, DER (RFC 2585)' },
  'chain.p7c': { type: 'application/pkcs7-mime; smime-type=certs-only', what: 'the certificate and its CA chain, PKCS#7 certs-only (RFC 8551)' },
  'chain.p7b': { type: 'application/x-pkcs7-certificates', what: 'the certificate and its CA chain, PKCS#7 certs-only' },
  'chain.pem': { type: 'application/x-pem-file', what: 'the certificate and its CA chain, PEM, leaf first' },
} as const;
type CertificateFile = keyof typeof CERTIFICATE_FILES;

const caName = { type: 'string', minLength: 1, maxLength: 64 } as const;
const serialParam = { type: 'string', minLength: 1, maxLength: 130 } as const;
const labelParam = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;

function hitJson(h: CertificateHit) {
  const base = `/api/v1/cas/${encodeURIComponent(h.ca)}/certificates/${h.serial}`;
  return {
    ca: h.ca,
    serial: h.serial,
    issuer: h.issuer,
    profile: h.profile,
    subject: h.subject,
    holderOrg: h.holderOrg,
    notBefore: h.notBefore,
    notAfter: h.notAfter,
    status: h.status,
    revokedAt: h.revokedAt,
    reason: h.reason,
    invalidityDate: h.invalidityDate,
    issuedAt: h.issuedAt,
    links: { pem: `${base}/cert.pem`, der: `${base}/cert.der`, chain: `${base}/chain.p7c` },
  };
}

/** The CA certificates above a certificate signed by `issuerLabel`: that CA first, the root last. */
async function chainAbove(services: Services, ca: string, issuerLabel: string): Promise<Certificate[]> {
  const authority = await services.ca.getAuthority(ca);
  const out: Certificate[] = [];
  let label: string | null = issuerLabel;
  while (label !== null && out.length < 8) {
    const issuer = authority.issuers.find((i) => i.label === label);
    if (!issuer) break;
    out.push(issuer.certificate);
    label = issuer.parent;
  }
  return out;
}

function attachment(reply: FastifyReply, type: string, filename: string): FastifyReply {
  return reply.type(type).header('content-disposition', `attachment; filename="${filename}"`).header('x-content-type-options', 'nosniff');
}

/** Registers the public query and download routes. */
export function queryRoutes(app: FastifyInstance, services: Services): void {
  const search = new CertificateSearch(services.database);
  const crls = () => crlSourceOf(services);

  app.get(
    '/api/v1/certificates',
    {
      config: { access: 'public' },
      schema: {
        tags: ['publication'],
        summary: 'Search certificates: serial, subject, identity number, organisation, status, validity',
        description: `Every criterion given must hold. Pages are in CA and serial order, or by "sort" (issuedAt, notAfter, subject) and "order"; pass "next" as "cursor" for the following page of the same sort (default ${DEFAULT_PAGE} per page).`,
        querystring: searchQuerySchema,
        response: { 200: { type: 'object', properties: { certificates: { type: 'array', items: hitSchema }, next: nullableStr } }, 400: errorSchema },
      },
    },
    async (req) => {
      const q = req.query as SearchQuery;
      const sort = sortOf(q);
      const page = await search.search(criteriaOf(q), { limit: q.limit ?? DEFAULT_PAGE, after: q.cursor === undefined ? undefined : decodeCursor(q.cursor, sort), sort });
      return { certificates: page.hits.map(hitJson), next: page.next ? encodeCursor(page.next, sort) : null };
    },
  );

  app.get(
    '/api/v1/cas/:ca/certificates/:serial/:file',
    {
      config: { access: 'public' },
      schema: {
        tags: ['publication'],
        summary: 'Download a certificate or its chain: cert.pem, cert.der (cert.cer), chain.p7c (chain.p7b), chain.pem',
        params: {
          type: 'object',
          required: ['ca', 'serial', 'file'],
          properties: { ca: caName, serial: serialParam, file: { type: 'string', enum: Object.keys(CERTIFICATE_FILES) } },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca, serial, file } = req.params as { ca: string; serial: string; file: CertificateFile };
      const key = normalizeSerial(serial);
      await services.ca.getAuthority(ca); // 404 ca.unknown before anything else
      const hit = (await search.search({ ca, serial: key }, { limit: 1, withDer: true })).hits[0];
      if (!hit?.der) throw new NotFoundError('ca.certificate.unknown', `CA "${ca}" has no certificate with serial ${key}`);
      // A certificate's bytes never change (its status does: that is OCSP's and the CRL's job).
      reply.header('cache-control', 'public, max-age=86400');
      const name = `${ca}-${key}`;
      const { type } = CERTIFICATE_FILES[file];
      switch (file) {
        case 'cert.pem':
          return attachment(reply, type, `${name}.pem`).send(toPem('CERTIFICATE', hit.der));
        case 'cert.der':
        case 'cert.cer':
          return attachment(reply, type, `${name}.${file.slice(5)}`).send(hit.der);
        case 'chain.p7c':
        case 'chain.p7b': {
          const chain = await chainAbove(services, ca, hit.issuer);
          return attachment(reply, type, `${name}.${file.slice(6)}`).send(buildCertsOnly([hit.der, ...chain.map((c) => c.der)]));
        }
        case 'chain.pem': {
          const chain = await chainAbove(services, ca, hit.issuer);
          return attachment(reply, type, `${name}-chain.pem`).send([toPem('CERTIFICATE', hit.der), ...chain.map((c) => c.toPem())].join(''));
        }
      }
    },
  );

  app.get(
    '/api/v1/cas/:ca/crls/:label',
    {
      config: { access: 'public' },
      schema: {
        tags: ['publication'],
        summary: 'Download the current CRL of one CA of an authority (full or delta, DER or PEM)',
        params: { type: 'object', required: ['ca', 'label'], properties: { ca: caName, label: labelParam } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: ['full', 'delta'], default: 'full' }, format: { type: 'string', enum: ['der', 'pem'], default: 'der' } },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { ca, label } = req.params as { ca: string; label: string };
      const { kind, format } = req.query as { kind: CrlKindName; format: 'der' | 'pem' };
      await services.ca.caCertificate(ca, label); // 404 for an unknown CA or label
      const crl = await currentCrl(crls(), ca, label, kind);
      if (!crl) throw new NotFoundError('crl.unavailable', `no ${kind} CRL of ${ca}/${label} is published yet`);
      const maxAge = Math.max(0, Math.min(86_400, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000)));
      reply.header('cache-control', `public, max-age=${maxAge}`).header('last-modified', crl.thisUpdate.toUTCString()).header('etag', `"${String(crl.number)}-${kind}"`);
      const name = `${ca}-${label}${kind === 'delta' ? '-delta' : ''}`;
      return format === 'pem' ? attachment(reply, 'application/x-pem-file', `${name}.crl.pem`).send(toPem('X509 CRL', crl.der)) : attachment(reply, 'application/pkix-crl', `${name}.crl`).send(crl.der);
    },
  );
}

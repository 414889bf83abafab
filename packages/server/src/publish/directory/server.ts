/**
 * The read-only LDAP directory (ldapjs): CA certificates and CRLs, and every end-entity
 * certificate, under the tree of tree.ts. Anonymous bind only; every write is refused with
 * unwillingToPerform. Searches take base/one/sub scopes and any filter; the certificate rows
 * read are narrowed by what the filter says about serialNumber, mail and cn (filter.ts), and
 * every search stops at the size and time limits (the smaller of the client's and ours).
 *
 * ldapjs itself buffers a PDU of any announced length and keeps idle connections for ever:
 * each connection here gets an idle timeout and a cap on the bytes of one PDU, and parser
 * errors close the offending connection without touching anyone else's.
 */
import type { Socket } from 'node:net';
import ldap from 'ldapjs';
import { Certificate } from '@health-pki/pki';
import type { Services } from '../../services.js';
import { normalizeSerial, type AuthorityView } from '../../ca/authority.js';
import { CertificateSearch, type CertificateCriteria, type SearchPosition } from '../../ca/search.js';
import { CA_PROFILES } from '../../work/pki-tasks.js';
import { crlSourceOf, currentCrl } from '../query/crl-source.js';
import { baseName, certificateHints, evaluate, type Attributes, type CertificateHints, type LdapFilter } from './filter.js';
import { COUNTRY, caEntry, certificateEntry, countryEntry, dnKey, leafRdn, makeDn, organizationEntry, parentKey, type Dn } from './tree.js';

/** Options of the directory. */
export interface DirectoryOptions {
  port: number;
  host?: string;
  /** The most entries one search returns (sizeLimitExceeded beyond); default 500. */
  maxResults?: number;
  /** The longest a search may run, seconds (timeLimitExceeded beyond); default 10. */
  maxSeconds?: number;
  /** Idle connections are closed after this long, ms; default 120 000. */
  idleTimeoutMs?: number;
  /** The largest LDAP message accepted, bytes; default 64 KiB (searches are a few hundred bytes). */
  maxPduBytes?: number;
  /** At most this many connections at once; default 1000. */
  maxConnections?: number;
}

interface StaticNode {
  key: string;
  parent: string | null;
  dn: Dn;
  attributes: () => Promise<Attributes>;
  /** For CA entries: whose certificates sit below. */
  ca?: { authority: string; label: string };
}

interface SearchReq {
  dn: Dn;
  scopeName: 'base' | 'single' | 'subtree';
  sizeLimit: number;
  timeLimit: number;
  typesOnly: boolean;
  filter: LdapFilter;
  attributes: string[];
  connection: Socket;
}

interface Res {
  send(entry: { dn: Dn; attributes: Attributes }, nofiltering: boolean): void;
  end(status?: number): void;
  errorMessage?: string;
  matchedDN?: string;
  attributes: string[];
}

type Next = (err?: unknown) => void;

/** LDAP result codes used here (RFC 4511 Appendix A). */
const RESULT = { success: 0, timeLimitExceeded: 3, sizeLimitExceeded: 4, noSuchObject: 32 } as const;

/** How many certificate rows are read per database round trip. */
const PAGE = 200;
/** How long the static part of the tree (authorities and CAs) is reused, ms. */
const TREE_TTL_MS = 5_000;

/** Picks the requested attributes (RFC 4511 §4.5.1.8): none asked or "*" = all; "1.1" = none; a type matches with or without options. */
export function selectAttributes(attrs: Attributes, requested: readonly string[], typesOnly: boolean): Attributes {
  const wanted = requested.map(baseName);
  const all = wanted.length === 0 || wanted.includes('*');
  const out: Attributes = {};
  for (const [name, values] of Object.entries(attrs)) {
    if (all || wanted.includes(baseName(name))) out[name] = typesOnly ? [] : values;
  }
  return out;
}

/** A running directory. */
export class DirectoryServer {
  private readonly server: ReturnType<typeof ldap.createServer>;
  private readonly search: CertificateSearch;
  private readonly sockets = new Set<Socket>();
  private tree?: { at: number; nodes: StaticNode[] };
  private readonly opts: Required<Omit<DirectoryOptions, 'host'>> & { host: string };
  /** The port it listens on (useful with port 0). */
  port = 0;

  private constructor(private readonly services: Services, opts: DirectoryOptions) {
    this.opts = { host: '127.0.0.1', maxResults: 500, maxSeconds: 10, idleTimeoutMs: 120_000, maxPduBytes: 64 * 1024, maxConnections: 1000, ...opts };
    this.search = new CertificateSearch(services.database);
    this.server = ldap.createServer({ connectionRouter: (c: Socket) => this.accept(c) } as ldap.ServerOptions);
    // ldapjs reports parser and socket trouble as events; unheard 'error' events would crash the process.
    this.server.on('error', () => undefined);
    this.server.on('clientError', () => undefined);
    this.server.maxConnections = this.opts.maxConnections;
    this.server.bind('', (req: { dn: Dn; credentials: string }, res: Res, next: Next) => {
      if (req.dn.length === 0 && req.credentials === '') {
        res.end();
        return next();
      }
      return next(new ldap.InappropriateAuthenticationError('this directory is public and read-only: bind anonymously (no name, no password)'));
    });
    const refuse = (_req: unknown, _res: Res, next: Next) => next(new ldap.UnwillingToPerformError('this directory is read-only'));
    this.server.add('', refuse);
    this.server.modify('', refuse);
    this.server.del('', refuse);
    this.server.modifyDN('', refuse);
    this.server.compare('', (_req: unknown, _res: Res, next: Next) => next(new ldap.UnwillingToPerformError('compare is not offered; search with a filter instead')));
    this.server.search('', (req: SearchReq, res: Res, next: Next) => {
      this.answer(req, res).then(
        () => next(),
        () => next(new ldap.OperationsError('the search failed; the service log has the details')),
      );
    });
  }

  /** Starts a directory listening on `opts.port` (0: any free port). */
  static async start(services: Services, opts: DirectoryOptions): Promise<DirectoryServer> {
    const d = new DirectoryServer(services, opts);
    await new Promise<void>((resolve, reject) => {
      const net = (d.server as unknown as { server: import('node:net').Server }).server;
      net.once('error', reject);
      d.server.listen(opts.port, d.opts.host, () => {
        net.off('error', reject);
        resolve();
      });
    });
    const addr = (d.server as unknown as { server: import('node:net').Server }).server.address();
    d.port = typeof addr === 'object' && addr ? addr.port : opts.port;
    return d;
  }

  /** ldap://host:port of this directory. */
  get url(): string {
    return `ldap://${this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host}:${this.port}`;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Sets up one connection: the idle timeout, the PDU size cap, and ldapjs's own handling. */
  private accept(c: Socket): void {
    this.sockets.add(c);
    c.once('close', () => this.sockets.delete(c));
    c.setTimeout(this.opts.idleTimeoutMs);
    (this.server as unknown as { newConnection(c: Socket): void }).newConnection(c);
    const parser = (c as unknown as { parser: { buffer: Buffer | null; write(d: Buffer): boolean } }).parser;
    const write = parser.write.bind(parser);
    parser.write = (data: Buffer) => {
      if ((parser.buffer?.length ?? 0) + data.length > this.opts.maxPduBytes) {
        c.destroy();
        return false;
      }
      try {
        return write(data);
      } catch {
        c.destroy();
        return false;
      }
    };
  }

  /** The authorities and CAs of the tree, reused for a few seconds. */
  private async staticNodes(): Promise<StaticNode[]> {
    if (this.tree && Date.now() - this.tree.at < TREE_TTL_MS) return this.tree.nodes;
    const authorities = await this.services.ca.listAuthorities();
    const countryDn = makeDn([['c', COUNTRY]]);
    const nodes: StaticNode[] = [{ key: dnKey(countryDn), parent: null, dn: countryDn, attributes: async () => countryEntry() }];
    const orgs = new Set<string>();
    for (const a of authorities) {
      const orgDn = makeDn([['o', a.organization], ['c', COUNTRY]]);
      if (!orgs.has(dnKey(orgDn))) {
        orgs.add(dnKey(orgDn));
        nodes.push({ key: dnKey(orgDn), parent: dnKey(countryDn), dn: orgDn, attributes: async () => organizationEntry(a.organization) });
      }
      for (const i of a.issuers) nodes.push(this.caNode(a, i, orgDn));
    }
    this.tree = { at: Date.now(), nodes };
    return nodes;
  }

  private caNode(a: AuthorityView, i: AuthorityView['issuers'][number], orgDn: Dn): StaticNode {
    const cn = i.certificate.subjectText.match(/(?:^|, )CN=((?:\\.|[^,\\])*)/)?.[1]?.replace(/\\(.)/g, '$1') ?? `${a.name} ${i.label}`;
    const dn = makeDn([['cn', cn], ['o', a.organization], ['c', COUNTRY]]);
    return {
      key: dnKey(dn),
      parent: dnKey(orgDn),
      dn,
      ca: { authority: a.name, label: i.label },
      attributes: async () => {
        const source = crlSourceOf(this.services);
        const [full, delta] = await Promise.all([currentCrl(source, a.name, i.label, 'full'), currentCrl(source, a.name, i.label, 'delta')]);
        return caEntry(cn, i.certificate, i.role, { full: full?.der, delta: delta?.der });
      },
    };
  }

  /** Answers one search. */
  private async answer(req: SearchReq, res: Res): Promise<void> {
    const limit = Math.min(req.sizeLimit > 0 ? req.sizeLimit : Infinity, this.opts.maxResults);
    const deadline = Date.now() + 1000 * Math.min(req.timeLimit > 0 ? req.timeLimit : Infinity, this.opts.maxSeconds);
    const scope = req.scopeName;
    // ldapjs drops, even with nofiltering, every attribute whose lower-cased name is not among the
    // requested names as typed ("objectClass", "userCertificate;binary"): selection is done here.
    res.attributes = [];
    const nodes = await this.staticNodes();
    const baseKey = dnKey(req.dn);
    let sent = 0;
    const emit = (dn: Dn, attrs: Attributes): boolean => {
      if (evaluate(req.filter, attrs) !== true) return true;
      if (sent >= limit) return false;
      res.send({ dn, attributes: selectAttributes(attrs, req.attributes, req.typesOnly) }, true);
      sent++;
      return true;
    };
    const finish = (status: number, message?: string) => {
      if (message) res.errorMessage = message;
      res.end(status);
    };

    if (baseKey === '' && scope === 'base') {
      emit(req.dn, { objectClass: ['top'], namingContexts: [`c=${COUNTRY}`], supportedLDAPVersion: ['3'], vendorName: ['health-pki'] });
      return finish(RESULT.success);
    }
    const base = baseKey === '' ? undefined : nodes.find((n) => n.key === baseKey);
    // An end-entity entry: serialNumber=<hex> directly below a CA entry.
    if (!base && baseKey !== '') {
      const leaf = leafRdn(req.dn);
      const caNode = nodes.find((n) => n.key === parentKey(req.dn) && n.ca);
      if (!leaf || leaf.type !== 'serialnumber' || !caNode?.ca) {
        res.matchedDN = '';
        return finish(RESULT.noSuchObject, `no entry ${req.dn.toString()}`);
      }
      const one = await this.certificates(caNode, { serial: safeSerial(leaf.value) }, 1);
      const hit = one.entries[0];
      if (!hit) return finish(RESULT.noSuchObject, `no entry ${req.dn.toString()}`);
      if (scope !== 'single') emit(hit.dn, hit.attributes);
      return finish(RESULT.success);
    }

    // The static entries in scope, then the certificates below the CAs in scope.
    const inScope = (n: StaticNode): boolean => {
      if (!base) return scope === 'subtree' || n.parent === null;
      if (scope === 'base') return n === base;
      if (scope === 'single') return n.parent === base.key;
      return n.key === base.key || n.key.endsWith(',' + base.key);
    };
    for (const n of nodes) {
      if (inScope(n) && !emit(n.dn, await n.attributes())) return finish(RESULT.sizeLimitExceeded, `more than ${limit} entries match`);
    }
    const cas = nodes.filter((n) => n.ca && (scope === 'single' ? n === base : scope === 'subtree' && (!base || n.key === base.key || n.key.endsWith(',' + base.key))));
    const hints = certificateHints(req.filter);
    if (hints.impossible) return finish(RESULT.success);
    for (const ca of cas) {
      let after: SearchPosition | undefined;
      do {
        if (req.connection.destroyed) return;
        if (Date.now() > deadline) return finish(RESULT.timeLimitExceeded, 'the search ran out of time; narrow the filter (serialNumber, mail, cn)');
        const page = await this.certificates(ca, hintCriteria(hints), PAGE, after);
        for (const e of page.entries) {
          if (!emit(e.dn, e.attributes)) return finish(RESULT.sizeLimitExceeded, `more than ${limit} entries match`);
        }
        after = page.next;
      } while (after);
    }
    return finish(RESULT.success);
  }

  /** A page of the end-entity certificates a CA signed, as entries. */
  private async certificates(ca: StaticNode, criteria: CertificateCriteria, limit: number, after?: SearchPosition): Promise<{ entries: Array<{ dn: Dn; attributes: Attributes }>; next?: SearchPosition }> {
    if (criteria.serial === '') return { entries: [] };
    const page = await this.search.search({ ...criteria, ca: ca.ca!.authority, issuer: ca.ca!.label, excludeProfiles: [...CA_PROFILES] }, { limit, after, withDer: true });
    const entries = page.hits.map((h) => {
      const dn = makeDn([['serialNumber', h.serial], ...rdnsOf(ca.dn)]);
      return { dn, attributes: certificateEntry(h.serial, Certificate.parse(h.der!)) };
    });
    return { entries, next: page.next };
  }
}

/** The (type, value) pairs of a DN with single-valued RDNs. */
function rdnsOf(dn: Dn): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < dn.length; i++) {
    const rdn = dn.rdnAt(i);
    const k = [...rdn.keys()][0]!;
    out.push([k, String(rdn.getValue(k))]);
  }
  return out;
}

/** The canonical serial of an RDN value, or '' (matches nothing) when it is no hexadecimal serial. */
function safeSerial(v: string): string {
  try {
    return normalizeSerial(v);
  } catch {
    return '';
  }
}

/** The search criteria of a filter's hints. */
function hintCriteria(h: CertificateHints): CertificateCriteria {
  return {
    serial: h.impossible ? '' : h.serial,
    email: h.email,
    emailContains: h.emailContains,
    subjectContains: h.subjectContains.length ? h.subjectContains : undefined,
  };
}

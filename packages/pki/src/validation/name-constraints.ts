/**
 * Name constraints (RFC 5280 §4.2.1.10 and §6.1.3 (b)-(c), §6.1.4 (g)). Instead of computing the
 * intersection of permitted subtrees, the state keeps each certificate's permitted list: a name is
 * permitted when every list that constrains its name form holds a subtree containing it, which is
 * the same set without any subtree algebra. Excluded subtrees simply accumulate.
 */
import type { GeneralNameKind, GeneralNameValue } from './der-read.js';
import { nameText, nameWithin, normalizeName } from './names.js';
import type { PreparedCert, Subtree } from './prepared.js';

/** Why a name broke a constraint, for the person reading the result. */
export interface NameConstraintViolation {
  nameType: GeneralNameKind;
  name: string;
  constraint: string;
  /** "permitted": the name is outside every permitted subtree of its form; "excluded": it is inside an excluded one. */
  constraintType: 'permitted' | 'excluded';
}

/** The accumulated permitted and excluded subtrees along a path. */
export class NameConstraintState {
  private readonly permitted: Subtree[][] = [];
  private readonly excluded: Subtree[] = [];

  /** True when no constraint has been seen yet. */
  get isEmpty(): boolean {
    return this.permitted.length === 0 && this.excluded.length === 0;
  }

  /** Adds one certificate's nameConstraints (RFC 5280 §6.1.4 (g)). */
  add(nc: { permitted: Subtree[]; excluded: Subtree[] }): void {
    if (nc.permitted.length) this.permitted.push(nc.permitted);
    this.excluded.push(...nc.excluded);
  }

  /** Checks a certificate's subject name, e-mail attributes and alternative names; undefined when all are allowed. */
  check(p: PreparedCert): NameConstraintViolation | undefined {
    if (this.isEmpty) return undefined;
    const names: GeneralNameValue[] = [];
    if (!p.subject.empty) names.push({ kind: 'directory', bytes: p.subject.der, nameDer: p.subject.der });
    for (const email of p.subject.emails) names.push({ kind: 'email', text: email, bytes: Buffer.from(email, 'latin1') });
    names.push(...(p.subjectAltNames ?? []));
    for (const name of names) {
      const v = this.checkName(name);
      if (v) return v;
    }
    return undefined;
  }

  private checkName(name: GeneralNameValue): NameConstraintViolation | undefined {
    for (const ex of this.excluded) {
      if (ex.base.kind === name.kind && matches(name, ex.base, 'excluded')) return violation(name, ex.base, 'excluded');
    }
    for (const list of this.permitted) {
      const sameForm = list.filter((s) => s.base.kind === name.kind);
      if (sameForm.length && !sameForm.some((s) => matches(name, s.base, 'permitted'))) return violation(name, sameForm[0]!.base, 'permitted');
    }
    return undefined;
  }
}

function violation(name: GeneralNameValue, base: GeneralNameValue, constraintType: 'permitted' | 'excluded'): NameConstraintViolation {
  return { nameType: name.kind, name: describeName(name), constraint: describeName(base), constraintType };
}

/** Readable text for a GeneralName (for messages). */
export function describeName(n: GeneralNameValue): string {
  switch (n.kind) {
    case 'email':
    case 'dns':
    case 'uri':
      return n.text ?? '';
    case 'directory':
      return nameText(normalizeName(n.nameDer!));
    case 'ip':
      return describeIp(n.bytes);
    default:
      return `${n.kind}:${n.bytes.toString('hex')}`;
  }
}

function describeIp(b: Buffer): string {
  const part = (x: Buffer) => (x.length === 4 ? [...x].join('.') : [...Array(x.length / 2).keys()].map((i) => x.readUInt16BE(i * 2).toString(16)).join(':'));
  if (b.length === 4 || b.length === 16) return part(b);
  if (b.length === 8 || b.length === 32) return `${part(b.subarray(0, b.length / 2))}/${part(b.subarray(b.length / 2))}`;
  return b.toString('hex');
}

function matches(name: GeneralNameValue, base: GeneralNameValue, mode: 'permitted' | 'excluded'): boolean {
  switch (name.kind) {
    case 'directory':
      return nameWithin(normalizeName(name.nameDer!), normalizeName(base.nameDer!));
    case 'email':
      return emailMatches(name.text!, base.text!);
    case 'dns':
      return dnsMatches(name.text!, base.text!);
    case 'uri': {
      const host = uriHost(name.text!);
      // A URI without a host cannot be shown to be inside a permitted subtree nor outside an excluded one.
      if (host === undefined) return mode === 'excluded';
      return hostMatches(host, base.text!);
    }
    case 'ip':
      return ipMatches(name.bytes, base.bytes);
    default:
      // Forms whose matching rules this validator does not implement: only an identical value matches.
      return name.bytes.equals(base.bytes);
  }
}

/** rfc822Name constraints: a mailbox, a host (exact), or ".domain" (any host below it). */
function emailMatches(mailbox: string, constraint: string): boolean {
  const at = mailbox.lastIndexOf('@');
  if (at < 0) return false;
  const local = mailbox.slice(0, at);
  const host = mailbox.slice(at + 1).toLowerCase();
  const c = constraint.toLowerCase();
  if (constraint.includes('@')) {
    const cat = constraint.lastIndexOf('@');
    return local === constraint.slice(0, cat) && host === c.slice(cat + 1);
  }
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

/** dNSName constraints: the name itself or any name made by adding labels on the left. */
function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/\.$/, '');
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith('.' + c);
}

/** URI host constraints: a host (exact) or ".domain" (any host below it). */
function hostMatches(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return h.endsWith(c);
  return h === c;
}

/** The host part of a URI with an authority ("scheme://[user@]host[:port]/…"), or undefined. */
function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return undefined;
  let authority = m[1]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close > 0 ? authority.slice(1, close) : undefined;
  }
  const host = authority.replace(/:\d*$/, '');
  return host === '' ? undefined : host;
}

/** iPAddress constraints: address and mask of the same family. */
function ipMatches(addr: Buffer, constraint: Buffer): boolean {
  if (constraint.length !== addr.length * 2) return false;
  const base = constraint.subarray(0, addr.length);
  const mask = constraint.subarray(addr.length);
  for (let i = 0; i < addr.length; i++) if ((addr[i]! & mask[i]!) !== (base[i]! & mask[i]!)) return false;
  return true;
}

/**
 * `hpki verify`: builds and validates a certification path (RFC 5280 §6) for a certificate from
 * trust anchors, a bag of untrusted certificates and CRLs, and says why when it is not valid.
 * Exit codes: 0 valid, 1 invalid (the reason is printed), 2 bad usage or unreadable input.
 */
import type { Command } from 'commander';
import { Crl, OID, PathValidator, toDerList, type Certificate, type ValidationResult } from '@health-pki/pki';
import { collect, negativeResult, readCertificates, readInput, usageError, withContext, writeJson } from '../io.js';

interface VerifyOptions {
  anchor: string[];
  untrusted?: string[];
  crl?: string[];
  at?: string;
  policy?: string[];
  explicitPolicy?: boolean;
  inhibitMapping?: boolean;
  inhibitAny?: boolean;
  json?: boolean;
}

/** Every CRL in a file (PEM, possibly several, or one DER). */
function readCrls(path: string): Crl[] {
  const bytes = readInput(path, 'CRL');
  return withContext(`CRL "${path}"`, () => {
    const ders = toDerList(bytes, ['X509 CRL', 'CRL'], 'CRL');
    if (ders.length === 0) usageError(`no CRL found in "${path}"`);
    return ders.map((d) => Crl.parse(d));
  });
}

/** --at: an ISO 8601 time. */
function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(d.getTime())) usageError(`--at must be an ISO 8601 time such as 2026-01-31T12:00:00Z, not "${text}"`);
  return d;
}

/** --policy: dotted OIDs ("anyPolicy" is accepted as a name). */
function parsePolicies(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  return values.map((v) => {
    const t = v.trim();
    if (t.toLowerCase() === 'anypolicy') return OID.anyPolicy;
    if (!/^[0-2](\.\d+)+$/.test(t)) usageError(`--policy must be a dotted OID such as 1.2.156.112586.1.1, not "${v}"`);
    return t;
  });
}

function describeCert(c: Certificate): Record<string, string> {
  return {
    subject: c.subjectText,
    issuer: c.issuerText,
    serial: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
  };
}

/** The JSON form of a result: the path found, the policy outcome or the reason. */
function resultJson(r: ValidationResult): Record<string, unknown> {
  if (r.valid) {
    return {
      valid: true,
      path: r.path.map(describeCert),
      userConstrainedPolicySet: r.userConstrainedPolicySet,
      explicitPolicy: r.explicitPolicy,
      warnings: r.warnings,
    };
  }
  return {
    valid: false,
    reason: r.reason,
    path: r.path?.map(describeCert),
    otherFailures: r.otherFailures?.map((f) => ({ reason: f.reason, path: f.path.map((c) => c.subjectText) })),
  };
}

function policyText(set: string[]): string {
  if (set.length === 0) return 'none';
  return set.map((p) => (p === OID.anyPolicy ? 'anyPolicy' : p)).join(', ');
}

function printText(r: ValidationResult): void {
  const out: string[] = [];
  if (r.valid) {
    out.push(`valid: ${r.path[0]!.subjectText}`);
    out.push('path:');
    r.path.forEach((c, i) => out.push(`  ${i}: ${c.subjectText}${i === r.path.length - 1 ? '  [trust anchor]' : ''}`));
    out.push(`user-constrained policy set: ${policyText(r.userConstrainedPolicySet)}`);
    out.push(`explicit policy required: ${r.explicitPolicy ? 'yes' : 'no'}`);
    for (const w of r.warnings) out.push(`warning: ${w}`);
  } else {
    const reason = r.reason;
    out.push(`invalid (${reason.code}): ${reason.message}`);
    if (reason.certIndex !== undefined) out.push(`  at certificate ${reason.certIndex}${reason.subject ? `: ${reason.subject}` : ''}`);
    if (r.path) {
      out.push('path tried:');
      r.path.forEach((c, i) => out.push(`  ${i}: ${c.subjectText}${i === r.path!.length - 1 ? '  [trust anchor]' : ''}`));
    }
    for (const f of r.otherFailures ?? []) out.push(`also tried: ${f.path.map((c) => c.subjectText).join(' <- ')}: ${f.reason.code}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

function verify(leafPath: string, opts: VerifyOptions): void {
  const time = parseTime(opts.at);
  const initialPolicySet = parsePolicies(opts.policy);
  const leafFile = readCertificates(leafPath);
  const anchors = opts.anchor.flatMap((f) => readCertificates(f));
  // Extra certificates in the leaf's file join the untrusted bag, so "leaf + chain" PEMs work.
  const untrusted = [...leafFile.slice(1), ...(opts.untrusted ?? []).flatMap((f) => readCertificates(f))];
  const crls = (opts.crl ?? []).flatMap((f) => readCrls(f));
  const validator = withContext('trust anchors', () => new PathValidator({ anchors, intermediates: untrusted, crls }));
  const result = validator.validate(leafFile[0]!, {
    time,
    initialPolicySet,
    explicitPolicy: opts.explicitPolicy,
    inhibitPolicyMapping: opts.inhibitMapping,
    inhibitAnyPolicy: opts.inhibitAny,
  });
  if (opts.json) writeJson(resultJson(result));
  else printText(result);
  if (!result.valid) negativeResult();
}

/** Registers `hpki verify`. */
export function register(program: Command): void {
  program
    .command('verify')
    .description('build and validate a certification path (RFC 5280): exit 0 valid, 1 invalid (with the reason), 2 bad usage')
    .argument('<cert>', 'the certificate to validate (PEM or DER; further certificates in a PEM file are used as untrusted)')
    .requiredOption('--anchor <file>', 'trust anchor certificate(s), PEM or DER (repeatable; a PEM file may hold several)', collect)
    .option('--untrusted <file>', 'untrusted intermediate or CRL-signer certificates, in any order (repeatable)', collect)
    .option('--crl <file>', 'CRL, complete or delta (repeatable); with any CRL given, every certificate on the path must be covered', collect)
    .option('--at <time>', 'validation time, ISO 8601 (default: now)')
    .option('--policy <oid>', 'acceptable certificate policy, user-initial-policy-set (repeatable; default anyPolicy)', collect)
    .option('--explicit-policy', 'initial-explicit-policy: require a valid policy on the whole path')
    .option('--inhibit-mapping', 'initial-policy-mapping-inhibit: refuse policy mappings')
    .option('--inhibit-any', 'initial-any-policy-inhibit: anyPolicy in certificates does not match')
    .option('--json', 'print the result as JSON (path, user-constrained policy set, reason)')
    .addHelpText('after', '\nExample:\n  $ hpki verify --anchor root.pem --untrusted ca.pem --crl ca.crl --crl root.crl staff.pem')
    .action((cert: string, opts: VerifyOptions) => verify(cert, opts));
}

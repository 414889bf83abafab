/** `hpki cert create` (issue under a profile) and `hpki cert show` (decode a certificate). */
import type { Command } from 'commander';
import { getProfile, issueFromProfile, type PrivateKey, type PublicKey, type Certificate } from '@health-pki/pki';
import type { Name } from '@peculiar/asn1-x509';
import { collect, listOption, readCertificate, readCsr, readPrivateKey, readPublicKey, usageError, writeJson, writeOutput } from '../io.js';
import { certificateReport, certificateReportText } from './cert-report.js';
import { addIdentityOptions, addSanOption, identityFromOptions, parseAltNames, parseDays, parseSubject, requestedIdentityAndNames } from './common.js';

interface CreateOptions {
  profile: string;
  subject?: string;
  key?: string;
  passFile?: string;
  pubkey?: string;
  csr?: string;
  caCert?: string;
  caKey?: string;
  caPassFile?: string;
  days?: string;
  san?: string[];
  crlUrl?: string[];
  ocspUrl?: string[];
  caIssuersUrl?: string[];
  cpsUrl?: string;
  out?: string;
  der?: boolean;
  [flag: string]: unknown;
}

/** Where the subject's name and key come from: a CSR (checked for proof of possession), a key file, or a public key file. */
function subjectAndKey(opts: CreateOptions): { subject?: Name; publicKey: PublicKey; fromCsr?: ReturnType<typeof requestedIdentityAndNames> } {
  const sources = [opts.csr, opts.key, opts.pubkey].filter((s) => s !== undefined).length;
  if (sources !== 1) usageError('give exactly one of --csr, --key or --pubkey for the subject key');
  if (opts.csr !== undefined) {
    const csr = readCsr(opts.csr);
    if (!csr.verifySignature()) usageError(`certification request "${opts.csr}": its signature does not verify (no proof of possession of the key)`);
    return { subject: csr.subject, publicKey: csr.publicKey, fromCsr: requestedIdentityAndNames(csr.requestedExtensions) };
  }
  if (opts.key !== undefined) return { publicKey: readPrivateKey(opts.key, opts.passFile).publicKey };
  return { publicKey: readPublicKey(opts.pubkey!) };
}

function create(opts: CreateOptions): void {
  const profile = getProfile(opts.profile);
  const days = parseDays(opts.days);
  let issuerKey: PrivateKey;
  let issuerCert: Certificate | undefined;
  let publicKey: PublicKey;
  let subject: Name | undefined = opts.subject !== undefined ? parseSubject(opts.subject) : undefined;
  let fromCsr: ReturnType<typeof requestedIdentityAndNames> | undefined;
  if (profile.class === 'root-ca') {
    if (opts.caCert !== undefined || opts.caKey !== undefined || opts.csr !== undefined || opts.pubkey !== undefined) {
      usageError('a root CA certificate is self-signed: give --key and --subject, not --csr, --pubkey, --ca-cert or --ca-key');
    }
    if (opts.key === undefined) usageError('the root-ca profile needs --key (the root\'s own private key)');
    issuerKey = readPrivateKey(opts.key, opts.passFile);
    publicKey = issuerKey.publicKey;
  } else {
    if (opts.caCert === undefined || opts.caKey === undefined) usageError(`the ${profile.name} profile needs --ca-cert and --ca-key of the issuing CA`);
    const s = subjectAndKey(opts);
    publicKey = s.publicKey;
    subject ??= s.subject;
    fromCsr = s.fromCsr;
    issuerCert = readCertificate(opts.caCert);
    issuerKey = readPrivateKey(opts.caKey, opts.caPassFile);
  }
  if (subject === undefined) usageError('give --subject (or a --csr that carries one)');
  // Flags override what the CSR asked for, field by field; SANs from flags replace the CSR's.
  const identity = { ...(fromCsr?.identity ?? {}), ...identityFromOptions(opts) };
  const flagNames = parseAltNames(opts.san);
  const altNames = flagNames.length ? flagNames : (fromCsr?.altNames ?? []);
  const cert = issueFromProfile({
    profile,
    subject,
    publicKey,
    issuerCert,
    issuerKey,
    validityDays: days,
    identity,
    altNames,
    urls: { crlUrls: listOption(opts.crlUrl), ocspUrls: listOption(opts.ocspUrl), caIssuersUrls: listOption(opts.caIssuersUrl), cpsUrl: opts.cpsUrl },
  });
  writeOutput(opts.der ? cert.der : cert.toPem(), opts.out);
}

/** Registers `hpki cert create` and `hpki cert show`. */
export function register(program: Command): void {
  const cert = program
    .command('cert')
    .description('issue certificates under a health profile, and show certificates')
    .addHelpText('after', '\nExamples:\n  $ hpki cert create --profile root-ca --key root.key --subject "C=CN,O=某CA,CN=Root CA" --out root.pem\n  $ hpki cert show staff.pem');

  const createCmd = cert
    .command('create')
    .description('issue a certificate under a profile: a self-signed root (--key), or from a CSR, key or public key signed by a CA')
    .requiredOption('--profile <name>', 'certificate profile (see `hpki profiles`)')
    .option('--subject <dn>', 'subject "C=CN,O=…,CN=…" (required for root-ca; overrides the CSR subject)')
    .option('--key <file>', 'root-ca: the root\'s private key; otherwise: the subject\'s private key (instead of --csr)')
    .option('--pass-file <file>', 'passphrase of --key')
    .option('--pubkey <file>', 'the subject public key, e.g. an encryption key made by the KMC (instead of --csr)')
    .option('--csr <file>', 'certification request (PEM or DER); its identity and SAN extensions are used unless flags override them')
    .option('--ca-cert <file>', 'issuing CA certificate')
    .option('--ca-key <file>', 'issuing CA private key')
    .option('--ca-pass-file <file>', 'passphrase of --ca-key')
    .option('--days <n>', 'validity in days (default and maximum come from the profile)');
  addIdentityOptions(createCmd);
  addSanOption(createCmd);
  createCmd
    .option('--crl-url <url>', 'CRL distribution point (repeatable)', collect)
    .option('--ocsp-url <url>', 'OCSP responder URL for AIA (repeatable)', collect)
    .option('--ca-issuers-url <url>', 'URL of the issuing CA certificate for AIA (repeatable)', collect)
    .option('--cps-url <url>', 'CPS URI added to the certificate policies')
    .option('--out <file>', 'write the certificate here instead of stdout')
    .option('--der', 'write DER instead of PEM')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ hpki cert create --profile root-ca --key root.key --subject "C=CN,O=某认证中心,CN=Health Root CA" --days 7305 --out root.pem\n' +
        '  $ hpki cert create --profile sub-ca --csr sub.csr --ca-cert root.pem --ca-key root.key --out sub.pem\n' +
        '  $ hpki cert create --profile staff-sign --csr staff.csr --ca-cert sub.pem --ca-key sub.key \\\n' +
        '      --crl-url http://crl.example.cn/sub.crl --ocsp-url http://ocsp.example.cn --out staff.pem',
    )
    .action((opts: CreateOptions) => create(opts));

  cert
    .command('show')
    .description('show every field of a certificate (PEM or DER), extensions and health identity numbers decoded')
    .argument('<file>', 'certificate file ("-" for stdin)')
    .option('--json', 'print a stable JSON object')
    .addHelpText('after', '\nExamples:\n  $ hpki cert show staff.pem\n  $ hpki cert show --json staff.der')
    .action((file: string, opts: { json?: boolean }) => {
      const report = certificateReport(readCertificate(file));
      if (opts.json) writeJson(report);
      else writeOutput(certificateReportText(report));
    });
}

/** `hpki req`: make a PKCS#10 request carrying the subject, identity numbers and alternative names. */
import type { Command } from 'commander';
import { IDENTITY_LABELS, buildCsr, checkRequest, getProfile, identityExtensions, identityViolations, subjectAltNameExt, type IdentityField, type Profile } from '@health-pki/pki';
import { readPrivateKey, usageError, withContext, writeOutput } from '../io.js';
import { addIdentityOptions, addSanOption, identityFromOptions, parseAltNames, parseSubject } from './common.js';

interface ReqOptions {
  key: string;
  passFile?: string;
  subject: string;
  profile?: string;
  san?: string[];
  out?: string;
  der?: boolean;
  [flag: string]: unknown;
}

/** Registers `hpki req`. */
export function register(program: Command): void {
  const cmd = program
    .command('req')
    .description('create a certification request (PKCS#10) signed by the key; identity numbers and SANs go into requested extensions')
    .requiredOption('--key <file>', 'the private key that signs the request (PEM or DER)')
    .option('--pass-file <file>', 'passphrase of an encrypted key')
    .requiredOption('--subject <dn>', 'subject, most significant first: "C=CN,O=…,OU=…,CN=…" (or "/C=CN/O=…")')
    .option('--profile <name>', 'check the request against this profile first (see `hpki profiles`)');
  addIdentityOptions(cmd);
  addSanOption(cmd);
  cmd
    .option('--out <file>', 'write the request here instead of stdout')
    .option('--der', 'write DER instead of PEM')
    .addHelpText('after', '\nExample:\n  $ hpki req --key staff.key --subject "C=CN,O=北京协和医院,OU=心内科,CN=张三" \\\n      --profile staff-sign --resident-id 110108199003071238 --san email:zhangsan@example.cn --out staff.csr')
    .action((opts: ReqOptions) => {
      const key = readPrivateKey(opts.key, opts.passFile);
      const subject = parseSubject(opts.subject);
      const identity = identityFromOptions(opts);
      const altNames = parseAltNames(opts.san);
      if (opts.profile !== undefined) {
        const profile = getProfile(opts.profile);
        checkRequest(profile, { subject, publicKey: key.publicKey, identity, altNames });
      } else {
        // Without a profile, still refuse malformed numbers (wrong check character, bad characters).
        const anyField = { identity: { required: false, oneOf: [], allowed: Object.keys(IDENTITY_LABELS) as IdentityField[] } } as unknown as Profile;
        const bad = identityViolations(anyField, identity)[0];
        if (bad) usageError(`${bad.message} [${bad.rule}]`);
      }
      const extensions = withContext('request extensions', () => [...(altNames.length ? [subjectAltNameExt(altNames)] : []), ...identityExtensions(identity)]);
      if (subject.length === 0) usageError('--subject must not be empty');
      const csr = buildCsr(subject, key, extensions);
      writeOutput(opts.der ? csr.der : csr.toPem(), opts.out);
    });
}

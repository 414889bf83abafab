/** `hpki enroll`: submit a CSR to the service as an application, have it approved, and write the certificate. */
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CertificationRequestDoc, nameAttributes } from '@health-pki/pki';
import { collect, readInput, usageError, withContext, writeJson, writeOutput, negativeResult } from '../io.js';
import { addOnlineOptions, callApi, ServiceAnswerError, type OnlineOptions } from '../online.js';

interface EnrollOptions extends OnlineOptions {
  ca: string;
  profile: string;
  csr: string;
  out?: string;
  chainOut?: string;
  applicant?: string;
  material?: string[];
  days?: string;
  dual?: boolean;
  outDir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.webp': 'image/webp',
  '.ofd': 'application/ofd',
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.xml': 'application/xml',
};

/** Reads --material FILE (content type from the extension) or FILE:type/subtype. */
function readMaterial(spec: string): { name: string; contentType: string; data: string } {
  const m = /^(.*):([a-z]+\/[a-z0-9.+-]+)$/i.exec(spec);
  const file = m ? m[1]! : spec;
  const contentType = m ? m[2]! : CONTENT_TYPES[extname(file).toLowerCase()];
  if (!contentType) usageError(`--material "${file}": cannot tell its content type from the extension; write FILE:type/subtype`);
  return { name: file.split('/').pop()!, contentType, data: readInput(file, 'material').toString('base64') };
}

/** Registers `hpki enroll`. */
export function register(program: Command): void {
  const cmd = program
    .command('enroll')
    .description('apply for a certificate with a CSR (and materials), approve it, and write the certificate; identity numbers come from the CSR')
    .requiredOption('--ca <name>', 'the CA, e.g. demo-sm2 (see `hpki ca list`)')
    .requiredOption('--profile <name>', 'certificate profile, e.g. staff-sign (see `hpki profiles`)')
    .requiredOption('--csr <file>', 'certification request (PEM or DER), e.g. from `hpki req`')
    .option('--applicant <name>', "applicant's name for the RA record (default: the CSR subject's CN)")
    .option('--material <file>', 'application material to attach (scan, form), repeatable; FILE or FILE:type/subtype', collect)
    .option('--days <n>', 'validity in days (default from the profile)')
    .option('--out <file>', 'write the certificate (PEM) here instead of stdout')
    .option('--chain-out <file>', 'also write the issuing CA and root certificates (PEM)')
    .option('--dual', 'also issue the encryption certificate (SM2 CA, *-sign profile): the KMC makes its key and envelopes it to the CSR key')
    .option('--out-dir <dir>', 'with --dual: write DIR/sign.crt, DIR/enc.crt (PEM) and DIR/enc-key.env (the SM2EnvelopedKey, DER)');
  addOnlineOptions(cmd, { token: true })
    .addHelpText(
      'after',
      '\nExample:\n  $ hpki enroll --server http://127.0.0.1:8080 --token-file data/admin.token \\\n      --ca demo-sm2 --profile staff-sign --csr staff.csr --out staff.pem\n\nWith an officer token, approval needs a second officer (maker-checker): the application is entered and left for review.',
    )
    .action(async (opts: EnrollOptions) => {
      const csrBytes = readInput(opts.csr, 'certification request');
      const csr = withContext(`certification request "${opts.csr}"`, () => CertificationRequestDoc.parse(csrBytes));
      if (opts.outDir !== undefined && !opts.dual) usageError('--out-dir is for --dual (sign.crt, enc.crt, enc-key.env); use --out for one certificate');
      const days = opts.days === undefined ? undefined : Number(opts.days);
      if (days !== undefined && !(Number.isInteger(days) && days > 0)) usageError(`--days must be a positive whole number, not "${opts.days}"`);
      const applicant = opts.applicant ?? nameAttributes(csr.subject, 'CN')[0] ?? csr.subjectText;
      const ca = encodeURIComponent(opts.ca);
      const application = await callApi(opts, 'POST', `/api/v1/cas/${ca}/applications`, {
        profile: opts.profile,
        csr: csr.toPem(),
        applicant: { name: applicant.slice(0, 128) },
        materials: (opts.material ?? []).map(readMaterial),
        ...(days !== undefined ? { validityDays: days } : {}),
        ...(opts.dual ? { dual: true } : {}),
      });
      let approved: any;
      try {
        approved = await callApi(opts, 'POST', `/api/v1/cas/${ca}/applications/${application.id}/approve`, {});
      } catch (e) {
        if (e instanceof ServiceAnswerError && e.code === 'ra.maker-checker') {
          if (opts.json) writeJson({ application, certificate: null });
          process.stderr.write(`hpki: application ${application.id} entered; another officer must approve it (maker-checker)\n`);
          negativeResult();
          return;
        }
        throw e;
      }
      if (opts.dual && opts.outDir) {
        mkdirSync(opts.outDir, { recursive: true });
        writeOutput(approved.certificate.pem, join(opts.outDir, 'sign.crt'));
        writeOutput(approved.encryption.certificate.pem, join(opts.outDir, 'enc.crt'));
        writeOutput(Buffer.from(approved.encryption.envelopedKey, 'base64'), join(opts.outDir, 'enc-key.env'));
      } else {
        writeOutput(approved.certificate.pem, opts.out);
        if (opts.dual) writeOutput(approved.encryption.certificate.pem);
      }
      if (opts.chainOut) writeOutput(approved.chainPem, opts.chainOut);
      if (opts.json) {
        writeJson({ application: approved.application, certificate: { ...approved.certificate }, ...(approved.encryption ? { encryption: approved.encryption } : {}) });
      } else if (opts.out) {
        const note = approved.application.selfApproved ? ' (self-approved by the bootstrap administrator)' : '';
        process.stderr.write(`issued ${approved.certificate.serial} by ${opts.ca} for ${approved.certificate.subject}${note} → ${opts.out}\n`);
      }
    });
}

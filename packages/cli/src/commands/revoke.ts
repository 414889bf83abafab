/** `hpki revoke`: revoke a certificate at the service with an RFC 5280 reason. */
import type { Command } from 'commander';
import { usageError, writeJson } from '../io.js';
import { addOnlineOptions, callApi, type OnlineOptions } from '../online.js';

const REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'];

interface RevokeOptions extends OnlineOptions {
  ca: string;
  serial: string;
  reason: string;
  comment?: string;
}

/** Registers `hpki revoke`. */
export function register(program: Command): void {
  const cmd = program
    .command('revoke')
    .description('revoke a certificate (loss or damage of the medium: keyCompromise or superseded)')
    .requiredOption('--ca <name>', 'the CA that issued it')
    .requiredOption('--serial <hex>', 'serial number, hexadecimal (colons allowed)')
    .requiredOption('--reason <reason>', `RFC 5280 reason: ${REASONS.join(', ')}`)
    .option('--comment <text>', 'note for the RA record');
  addOnlineOptions(cmd, { token: true })
    .addHelpText('after', '\nExample:\n  $ hpki revoke --server http://127.0.0.1:8080 --token-file data/admin.token --ca demo-sm2 --serial 5f0e… --reason keyCompromise')
    .action(async (opts: RevokeOptions) => {
      if (!REASONS.includes(opts.reason)) usageError(`--reason "${opts.reason}" is not one of ${REASONS.join(', ')}`);
      const serial = opts.serial.replace(/^0x/i, '').replace(/:/g, '');
      if (!/^[0-9a-fA-F]{1,64}$/.test(serial)) usageError(`--serial "${opts.serial}" is not hexadecimal`);
      const record = await callApi(opts, 'POST', `/api/v1/cas/${encodeURIComponent(opts.ca)}/certificates/${serial}/revoke`, {
        reason: opts.reason,
        ...(opts.comment ? { comment: opts.comment } : {}),
      });
      if (opts.json) writeJson(record);
      else process.stdout.write(`revoked ${record.serial} (${record.reason}) at ${record.revokedAt}\n`);
    });
}

#!/usr/bin/env node
/**
 * hpki: the health-pki command line. Each command group lives in src/commands/ and exports
 * `register(program)`; this file only wires them together and maps failures to exit codes.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, reportError } from './io.js';
import { register as registerKeygen } from './commands/keygen.js';
import { register as registerReq } from './commands/req.js';
import { register as registerCert } from './commands/cert.js';
import { register as registerProfiles } from './commands/profiles.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerStart } from './commands/start.js';
import { register as registerEnroll } from './commands/enroll.js';
import { register as registerRevoke } from './commands/revoke.js';
import { register as registerCa } from './commands/ca.js';
import { register as registerToken } from './commands/token.js';
import { register as registerBackup } from './commands/backup.js';
import { register as registerAudit } from './commands/audit.js';
import { register as registerKmc } from './commands/kmc.js';
import { register as registerPlatform } from './commands/platform.js';
import { register as registerRenew } from './commands/renew.js';

/** Builds the program with every command group registered. */
export function buildProgram(): Command {
  const program = new Command('hpki')
    .description('health-pki toolkit: keys, requests, certificates and health certificate profiles (SM2 first)')
    .version('0.1.0')
    .showSuggestionAfterError()
    .addHelpText('after', '\nExample:\n  $ hpki keygen --alg sm2 --out staff.key\n  $ hpki <command> --help');
  // Inherited by every subcommand created after this point: throw instead of exiting, so that
  // usage errors get exit code 2 rather than commander's default 1 (which means "negative result").
  program.exitOverride();
  program.configureOutput({ outputError: (text, write) => write(`hpki: ${text.replace(/^error: /, '')}`) });
  registerKeygen(program);
  registerReq(program);
  registerCert(program);
  registerProfiles(program);
  registerVerify(program);
  registerStart(program);
  registerEnroll(program);
  registerRevoke(program);
  registerCa(program);
  registerToken(program);
  registerBackup(program);
  registerAudit(program);
  registerKmc(program);
  registerPlatform(program);
  registerRenew(program);
  return program;
}

/** Runs the CLI with the given argv (process.argv form) and sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its own one-line message (or the help text).
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    reportError(e);
  }
}

await main(process.argv);

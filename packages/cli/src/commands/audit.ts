/**
 * `hpki audit verify`: checks the audit log of a deployment straight from its database (read-only),
 * with or without the service running: the hash chain, the head and the signed checkpoints.
 * Prints OK or every fault with its kind and place; exit code 1 when there is any fault.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CliError, negativeResult, readCertificates, usageError, writeJson } from '../io.js';

interface VerifyOptions {
  data?: string;
  db?: string;
  json?: boolean;
  trustCert?: string;
}

/** Registers `hpki audit` and its subcommands. */
export function register(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log of a deployment');
  audit
    .command('verify')
    .description('verify the audit log (hash chain, head, signed checkpoints) reading the database directly, read-only')
    .option('--data <dir>', 'data directory of an SQLite deployment')
    .option('--db <url>', 'PostgreSQL URL of the deployment (postgres://user@host:5432/db)')
    .option('--trust-cert <file>', 'the pinned audit signing certificate (DATA_DIR/audit-signing.crt as first written): checkpoints signed by any other key are faults')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExit code: 0 when the log is intact, 1 when a fault was found, 2 for bad usage.\n\nExamples:\n  $ hpki audit verify --data ./data\n  $ hpki audit verify --db postgres://postgres@127.0.0.1:5432/hpki --trust-cert audit-signing.crt --json')
    .action(async (opts: VerifyOptions) => {
      if ((opts.data === undefined) === (opts.db === undefined)) usageError('give exactly one of --data DIR or --db URL');
      const { openReadOnlyDatabase, verifyAuditLog, isPostgresUrl, redactUrl } = await import('@health-pki/server');
      if (opts.db !== undefined && !isPostgresUrl(opts.db)) usageError(`--db must be a postgres:// URL, not "${redactUrl(opts.db)}"`);
      const trusted = opts.trustCert ? readCertificates(opts.trustCert) : undefined;
      let store: ReturnType<typeof openReadOnlyDatabase>;
      try {
        store = openReadOnlyDatabase(opts.db !== undefined ? { url: opts.db } : { dataDir: resolve(opts.data!) });
      } catch (e) {
        throw new CliError(e instanceof Error ? e.message : String(e));
      }
      let report: Awaited<ReturnType<typeof verifyAuditLog>>;
      try {
        report = await verifyAuditLog(store.db, { trusted });
      } catch (e) {
        throw new CliError(`cannot read the audit log of ${store.description}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        await store.close();
      }
      if (opts.json) writeJson(report);
      else {
        const cp = report.checkpoints;
        const lines = [
          `${report.ok ? 'OK' : 'FAULTS'}: ${report.entries} entries, head seq ${report.head?.seq ?? 'none'}, ${cp.valid}/${cp.count} checkpoints valid${cp.last ? ` (last at seq ${cp.last.seq}, ${cp.last.at})` : ''}`,
          ...report.keys.map((k) => `  audit key ${k.id}: ${k.subject}, certificate SHA-256 ${k.sha256}${k.trusted === null ? ' (not pinned: compare it with a copy kept elsewhere, or pass --trust-cert)' : k.trusted ? ' (pinned)' : ' (NOT the pinned certificate)'}`),
          ...report.faults.map((f) => `  ${f.kind}${f.seq !== undefined ? ` at seq ${f.seq}${f.toSeq !== undefined ? `..${f.toSeq}` : ''}` : ''}${f.id ? ` (id ${f.id})` : ''}: ${f.message}`),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (!report.ok) negativeResult();
    });
}

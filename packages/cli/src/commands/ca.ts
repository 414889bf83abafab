/** `hpki ca`: list, inspect and create the CAs of a running service. */
import type { Command } from 'commander';
import { KEY_ALGORITHMS } from '@health-pki/pki';
import { usageError, writeJson, writeOutput } from '../io.js';
import { addOnlineOptions, callApi, type OnlineOptions } from '../online.js';

interface CaView {
  name: string;
  displayName: string;
  algorithm: string;
  organization: string;
  issuers: Array<{ label: string; role: string; active: boolean; subject: string; serial: string; notAfter: string; pem: string; url: string }>;
}

function describe(ca: CaView): string {
  const lines = [`${ca.name}  ${ca.algorithm}  ${ca.displayName}`];
  for (const i of ca.issuers) lines.push(`  ${i.label.padEnd(10)} ${i.role.padEnd(8)}${i.active ? ' active ' : '        '} ${i.subject}  (until ${i.notAfter.slice(0, 10)})`);
  return lines.join('\n');
}

/** Registers `hpki ca list|show|create`. */
export function register(program: Command): void {
  const ca = program.command('ca').description('the CAs of a running certification service');

  addOnlineOptions(ca.command('list').description('list the CAs and their hierarchies'), { token: false }).action(async (opts: OnlineOptions) => {
    const { cas } = await callApi<{ cas: CaView[] }>(opts, 'GET', '/api/v1/cas');
    if (opts.json) writeJson(cas);
    else process.stdout.write(cas.length ? cas.map(describe).join('\n') + '\n' : 'no CAs\n');
  });

  addOnlineOptions(
    ca
      .command('show')
      .description('show one CA; --root-out writes its root certificate (the trust anchor)')
      .argument('<name>', 'the CA')
      .option('--root-out <file>', 'write the root CA certificate (PEM) here')
      .option('--chain-out <file>', 'write the active issuing CA and root certificates (PEM) here'),
    { token: false },
  ).action(async (name: string, opts: OnlineOptions & { rootOut?: string; chainOut?: string }) => {
    const view = await callApi<CaView>(opts, 'GET', `/api/v1/cas/${encodeURIComponent(name)}`);
    const root = view.issuers.find((i) => i.role === 'root');
    const active = view.issuers.find((i) => i.active);
    if (opts.rootOut && root) writeOutput(root.pem, opts.rootOut);
    if (opts.chainOut && active && root) writeOutput(active.pem + root.pem, opts.chainOut);
    if (opts.json) writeJson(view);
    else if (!opts.rootOut && !opts.chainOut) process.stdout.write(describe(view) + '\n');
  });

  addOnlineOptions(
    ca
      .command('create')
      .description('create a CA: a root CA and an issuing CA with fresh keys (administrator)')
      .requiredOption('--name <name>', 'URL-safe name, e.g. city-health-ca')
      .requiredOption('--org <organization>', 'organisation name (the O of the CA certificates)')
      .option('--alg <alg>', 'key algorithm: sm2, p256, p384, rsa3072', 'sm2')
      .option('--display-name <text>', 'name shown to people'),
    { token: true },
  ).action(async (opts: OnlineOptions & { name: string; org: string; alg: string; displayName?: string }) => {
    if (!(KEY_ALGORITHMS as readonly string[]).includes(opts.alg)) usageError(`--alg "${opts.alg}" is not one of ${KEY_ALGORITHMS.join(', ')}`);
    const view = await callApi<CaView>(opts, 'POST', '/api/v1/cas', { name: opts.name, algorithm: opts.alg, organization: opts.org, ...(opts.displayName ? { displayName: opts.displayName } : {}) });
    if (opts.json) writeJson(view);
    else process.stdout.write(describe(view) + '\n');
  });
}

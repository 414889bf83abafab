/** `hpki profiles`: list the health certificate profiles, or show one in full. */
import type { Command } from 'commander';
import { KEY_ALGORITHM_LABELS, getProfile, listProfiles, policyOidsFor, type Profile } from '@health-pki/pki';
import { writeJson, writeOutput } from '../io.js';

/** A profile as JSON, with its resolved policy OIDs. */
function profileJson(p: Profile): object {
  return { ...p, policyOids: policyOidsFor(p) };
}

function keyUsageText(p: Profile): string {
  const entries = Object.entries(p.keyUsage);
  const distinct = new Set(entries.map(([, ku]) => ku.join('+')));
  if (distinct.size === 1) return entries[0]![1].join('+');
  return entries.map(([family, ku]) => `${family}: ${ku.join('+')}`).join('; ');
}

/** One profile in full, as readable text. */
export function profileText(p: Profile): string {
  const attrs = Object.entries(p.subject.attributes)
    .map(([a, r]) => `${a}${r.required ? ' (required)' : ''}${r.values ? ` = ${r.values.join('|')}` : ''} ≤${r.maxLength}${(r.maxCount ?? 1) > 1 ? ` ×${r.maxCount}` : ''}${r.pattern ? ` /${r.pattern}/` : ''}`)
    .join('\n    ');
  const id = p.identity;
  return [
    `${p.name}: ${p.displayName['zh-CN']} / ${p.displayName.en}`,
    `  ${p.description['zh-CN']}`,
    `  ${p.description.en}`,
    `  class: ${p.class}, variant: ${p.variant}`,
    `  subject attributes:\n    ${attrs}`,
    `  identity: ${id.required ? `required one of ${id.oneOf.join(', ')}` : 'optional'}${id.allowed.length || (!id.required && id.oneOf.length) ? `; also allowed: ${[...(id.required ? [] : id.oneOf), ...id.allowed].join(', ')}` : ''}`,
    `  key algorithms: ${p.keyAlgorithms.map((a) => KEY_ALGORITHM_LABELS[a]).join(', ')}`,
    `  key usage (critical): ${keyUsageText(p)}`,
    `  extended key usage: ${p.extKeyUsage ? `${p.extKeyUsage.purposes.join(', ')}${p.extKeyUsage.critical ? ' (critical)' : ''}` : 'none'}`,
    `  basic constraints: ${p.basicConstraints ? `cA${p.basicConstraints.pathLen !== undefined ? `, pathLen ${p.basicConstraints.pathLen}` : ''} (critical)` : 'none (end entity)'}`,
    `  subject alternative names: ${p.subjectAltName.allowed.join(', ') || 'none'}`,
    `  validity: default ${p.validity.defaultDays} days, at most ${p.validity.maxDays} days`,
    `  policies: ${policyOidsFor(p).join(', ') || 'none'}`,
    `  CRL/AIA pointers: ${p.revocationInfo ? 'yes, when URLs are given' : 'no'}${p.ocspNoCheck ? '; id-pkix-ocsp-nocheck' : ''}`,
    '',
  ].join('\n');
}

/** All profiles as an aligned table. */
export function profilesTable(profiles: Profile[]): string {
  const rows = profiles.map((p) => [p.name, p.variant, p.keyAlgorithms.join(','), `${p.validity.maxDays}d`, `${p.displayName['zh-CN']} / ${p.displayName.en}`]);
  const header = ['NAME', 'VARIANT', 'KEYS', 'MAX', 'DISPLAY NAME'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Registers `hpki profiles`. */
export function register(program: Command): void {
  program
    .command('profiles')
    .description('list the health certificate profiles, or show one profile in full')
    .argument('[name]', 'show this profile in full')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ hpki profiles\n  $ hpki profiles staff-sign\n  $ hpki profiles --json')
    .action((name: string | undefined, opts: { json?: boolean }) => {
      if (name !== undefined) {
        const p = getProfile(name);
        if (opts.json) writeJson(profileJson(p));
        else writeOutput(profileText(p));
        return;
      }
      const all = listProfiles();
      if (opts.json) writeJson(all.map(profileJson));
      else writeOutput(profilesTable(all));
    });
}

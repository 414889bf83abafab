// Runs every compiled benchmark module (packages/*/dist/bench/*.bench.js) and writes
// docs/benchmarks.md. Each module's default export returns BenchSection[] (packages/pki/bench/harness.ts).
//
//   node scripts/bench.mjs            all modules; rewrites the whole file
//   node scripts/bench.mjs sm2        only modules whose file name contains "sm2"; their blocks are
//                                     replaced and the other modules' blocks are kept as they were
//
// Progress goes to stderr. Exits 1 if a module failed (its block then says so).
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'docs', 'benchmarks.md');
const filter = process.argv[2];

function benchFiles() {
  const files = [];
  const pkgs = join(root, 'packages');
  for (const pkg of existsSync(pkgs) ? readdirSync(pkgs).sort() : []) {
    const dir = join(pkgs, pkg, 'dist', 'bench');
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.bench.js')) files.push(join(dir, name));
    }
  }
  return files;
}

function machine() {
  let cpu = 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    cpu = cpus()[0]?.model ?? cpu;
  }
  let opensslCli = 'not found';
  try {
    opensslCli = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // keep "not found"
  }
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: (totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    nodeOpenssl: process.versions.openssl,
    opensslCli,
  };
}

function formatNumber(x) {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 4;
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function cell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function sectionMarkdown(section) {
  const lines = [`### ${section.title}`, '', '| name | value | ratio vs reference | target met? |', '| --- | ---: | --- | --- |'];
  for (const row of section.rows ?? []) {
    const ratio = row.ratio ? `${formatNumber(row.ratio.value)}× ${row.ratio.against}` : '—';
    const target = row.target ? `${row.target.met ? 'yes' : '**NO**'} (${row.target.text})` : '—';
    lines.push(`| ${cell(row.name)} | ${formatNumber(row.value)} ${cell(row.unit)} | ${cell(ratio)} | ${cell(target)} |`);
  }
  if (section.notes?.length) {
    lines.push('');
    for (const note of section.notes) lines.push(`- ${note}`);
  }
  return lines.join('\n');
}

const BLOCK_RE = /<!-- bench:(\S+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g;

function blockFor(id, body) {
  return `<!-- bench:${id} -->\n${body}\n<!-- /bench:${id} -->`;
}

function existingBlocks() {
  const blocks = new Map();
  if (!existsSync(outFile)) return blocks;
  for (const m of readFileSync(outFile, 'utf8').matchAll(BLOCK_RE)) blocks.set(m[1], m[0]);
  return blocks;
}

const m = machine();
const started = new Date();
const all = benchFiles();
const selected = all.filter((f) => !filter || f.split('/').pop().includes(filter));
if (selected.length === 0) {
  console.error(filter ? `bench: no benchmark file name contains "${filter}"` : 'bench: no compiled benchmarks found; did `tsc -b` run?');
  process.exit(1);
}

const blocks = filter ? existingBlocks() : new Map();
let failed = 0;
for (const file of selected) {
  const id = relative(join(root, 'packages'), file).replace('/dist/bench/', '/');
  console.error(`bench: ${id} ...`);
  const t0 = performance.now();
  let body;
  try {
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod.default !== 'function') throw new Error('no default export function (Benchmark)');
    const sections = await mod.default();
    if (!Array.isArray(sections)) throw new Error('default export did not return BenchSection[]');
    body = [`## ${id}`, '', `_Measured ${new Date().toISOString()} on ${m.cpu} (${m.cores} cores) with Node ${m.node}, ${m.opensslCli}._`, '', ...sections.map(sectionMarkdown).flatMap((s) => [s, ''])].join('\n').trimEnd();
    console.error(`bench: ${id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${sections.length} sections)`);
  } catch (e) {
    failed++;
    const msg = e instanceof Error ? e.stack ?? e.message : String(e);
    console.error(`bench: ${id} FAILED: ${msg}`);
    body = `## ${id}\n\n**Failed** on ${new Date().toISOString()}: \`${cell(e instanceof Error ? e.message : String(e))}\``;
  }
  blocks.set(id, blockFor(id, body));
}

const header = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (scripts/bench.mjs) from the modules `packages/*/bench/*.bench.ts`. Ratios compare with a',
  'reference measured in the same run on the same machine; do not compare numbers across machines (each block names the CPU it ran on; the table below describes the machine of the last run).',
  '',
  `Last run: ${started.toISOString()}${filter ? ` (only modules matching "${filter}"; other blocks keep their own dates)` : ''}.`,
  '',
  '| machine | |',
  '| --- | --- |',
  `| CPU | ${cell(m.cpu)} |`,
  `| cores | ${m.cores} |`,
  `| memory | ${m.memoryGiB} GiB |`,
  `| Node.js | ${m.node} (its OpenSSL ${m.nodeOpenssl}) |`,
  `| OpenSSL CLI | ${cell(m.opensslCli)} |`,
  '',
];
const ordered = [...blocks.keys()].sort();
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${header.join('\n')}\n${ordered.map((id) => blocks.get(id)).join('\n\n')}\n`);
console.error(`bench: wrote ${relative(root, outFile)} (${ordered.length} modules${failed ? `, ${failed} failed` : ''})`);
process.exit(failed ? 1 : 0);

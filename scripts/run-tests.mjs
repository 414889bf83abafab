// Runs every compiled test file (packages/*/dist/test/**/*.test.js, examples/*/dist/test/**/*.test.js) with Node's test runner.
// Node 20's --test takes no globs, so the files are listed here. Extra arguments filter by path.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [];
for (const pkg of readdirSync('packages')) {
  const dir = join('packages', pkg, 'dist', 'test');
  if (existsSync(dir)) walk(dir, files);
}
// Examples (examples/<name>, compiled by their own tsconfig) have tests too.
if (existsSync('examples')) {
  for (const ex of readdirSync('examples')) {
    const dir = join('examples', ex, 'dist', 'test');
    if (existsSync(dir)) walk(dir, files);
  }
}
const selected = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (selected.length === 0) {
  console.error('no test files found; did the build run?');
  process.exit(1);
}
// Two files at a time by default: most tests wait on fsync, child processes, Java or the browser,
// so overlapping two takes about 9 minutes instead of 14.5 on a 2-core machine.
// HPKI_TEST_CONCURRENCY=1 runs one file at a time (to tell a timing problem from a real one).
const concurrency = process.env.HPKI_TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...selected], { stdio: 'inherit' });
process.exit(r.status ?? 1);

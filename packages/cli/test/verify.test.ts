/**
 * `hpki verify` run as a user runs it (a child process): a diverse sample of NIST PKITS cases
 * (DER files, CRLs, policy flags) must give PKITS's answer with the right reason; chains made by
 * OpenSSL (P-256, SM2) validate from PEM bundles and a revoked certificate is reported with its
 * reason; bad usage and unreadable input exit 2 with one line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to packages/cli/dist/test/verify.test.js; the CLI is packages/cli/dist/src/main.js.
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
// The tests run from the repository root; shared/ lies beside the clone (as in CI).
const PKITS = process.env.PKITS_DIR ?? resolve(process.cwd(), '..', 'shared', 'pkits');
const PKITS_AT = '2011-04-15T00:00:00Z';

interface OpensslChain {
  dir: string;
  root: string;
  intermediate: string;
  leaf: string;
  revokedLeaf: string;
  expiredLeaf: string;
  rootCrl: string;
  intermediateCrl: string;
}
// The OpenSSL chain maker of the library's validation tests (compiled beside this package's dist).
const chainMaker = new URL('../../../pki/dist/test/validation/openssl-chain.js', import.meta.url).href;
const { makeOpensslChain } = (await import(chainMaker)) as { makeOpensslChain: (alg: 'p256' | 'sm2' | 'rsa') => OpensslChain };

let dir: string;
const made: string[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpki-verify-test-'));
});
after(() => [dir, ...made].forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function hpki(args: string[]): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface PkitsCase {
  id: string;
  name: string;
  anchor: string;
  path: string[];
  extraCerts?: string[];
  crls: string[];
  settings: { initialPolicySet: string[]; initialExplicitPolicy: boolean; initialPolicyMappingInhibit: boolean; initialAnyPolicyInhibit: boolean };
  expected: 'valid' | 'invalid';
  userConstrainedPolicySet?: string[];
}

const table = JSON.parse(readFileSync(join(PKITS, 'testcases.json'), 'utf8')) as PkitsCase[];

/** The PKITS sample: one or more per section, valid and invalid, with the reason each must give. */
const SAMPLE: Array<[id: string, code: string | null]> = [
  ['4.1.1', null],
  ['4.1.2', 'badSignature'],
  ['4.2.2', 'notYetValid'],
  ['4.3.1', 'noPath'],
  ['4.3.9', null],
  ['4.4.1', 'revocationUnknown'],
  ['4.4.3', 'revoked'],
  ['4.5.6', null],
  ['4.6.5', 'pathLength'],
  ['4.7.1', 'keyUsage'],
  ['4.8.1b', null],
  ['4.8.6c', 'policy'],
  ['4.10.1c', 'policy'],
  ['4.10.7', 'policyMapping'],
  ['4.12.3b', 'policy'],
  ['4.13.22', 'nameConstraints'],
  ['4.14.30', null],
  ['4.14.31', 'revoked'],
];

function pkitsArgs(c: PkitsCase): string[] {
  const args = ['verify', '--json', '--at', PKITS_AT, '--anchor', join(PKITS, 'certs', c.anchor)];
  for (const f of [...c.path.slice(0, -1), ...(c.extraCerts ?? [])].reverse()) args.push('--untrusted', join(PKITS, 'certs', f));
  for (const f of c.crls) args.push('--crl', join(PKITS, 'crls', f));
  const s = c.settings;
  if (!(s.initialPolicySet.length === 1 && s.initialPolicySet[0] === '2.5.29.32.0')) for (const p of s.initialPolicySet) args.push('--policy', p);
  if (s.initialExplicitPolicy) args.push('--explicit-policy');
  if (s.initialPolicyMappingInhibit) args.push('--inhibit-mapping');
  if (s.initialAnyPolicyInhibit) args.push('--inhibit-any');
  args.push(join(PKITS, 'certs', c.path[c.path.length - 1]!));
  return args;
}

for (const [id, code] of SAMPLE) {
  test(`PKITS ${id} through the CLI: ${code ?? 'valid'}`, () => {
    const c = table.find((t) => t.id === id);
    assert.ok(c, `PKITS ${id} is in the table`);
    assert.equal(c.expected, code === null ? 'valid' : 'invalid');
    const r = hpki(pkitsArgs(c));
    assert.equal(r.code, code === null ? 0 : 1, `exit code; stderr: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { valid: boolean; reason?: { code: string }; path?: Array<{ subject: string }>; userConstrainedPolicySet?: string[] };
    assert.equal(out.valid, code === null);
    if (code === null) {
      assert.equal(out.path?.length, c.path.length + 1);
      if (c.userConstrainedPolicySet) assert.deepEqual(out.userConstrainedPolicySet, [...c.userConstrainedPolicySet].sort());
    } else assert.equal(out.reason?.code, code);
  });
}

for (const alg of ['p256', 'sm2'] as const) {
  test(`${alg}: OpenSSL-made chain from PEM bundles; revoked and expired certificates exit 1 with the reason`, () => {
    const pki = makeOpensslChain(alg);
    made.push(pki.dir);
    const bundle = join(dir, `${alg}-leaf-and-chain.pem`);
    writeFileSync(bundle, readFileSync(pki.leaf, 'utf8') + readFileSync(pki.intermediate, 'utf8'));
    const anchors = join(dir, `${alg}-anchors.pem`);
    const other = makeOpensslChain(alg);
    made.push(other.dir);
    writeFileSync(anchors, readFileSync(other.root, 'utf8') + readFileSync(pki.root, 'utf8'));
    const crls = join(dir, `${alg}-crls.pem`);
    writeFileSync(crls, readFileSync(pki.rootCrl, 'utf8') + readFileSync(pki.intermediateCrl, 'utf8'));

    const good = hpki(['verify', '--anchor', anchors, '--crl', crls, bundle]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^valid: /);
    assert.match(good.stdout, /\[trust anchor\]/);

    const revoked = hpki(['verify', '--anchor', pki.root, '--untrusted', pki.intermediate, '--crl', pki.rootCrl, '--crl', pki.intermediateCrl, '--json', pki.revokedLeaf]);
    assert.equal(revoked.code, 1, revoked.stderr);
    const rj = JSON.parse(revoked.stdout) as { reason: { code: string; certIndex: number; details: { reason: string } } };
    assert.equal(rj.reason.code, 'revoked');
    assert.equal(rj.reason.certIndex, 0);
    assert.equal(rj.reason.details.reason, 'keyCompromise');

    const expired = hpki(['verify', '--anchor', pki.root, '--untrusted', pki.intermediate, pki.expiredLeaf]);
    assert.equal(expired.code, 1);
    assert.match(expired.stdout, /^invalid \(expired\): /);
    // The same certificate was valid in 2020, before the CRLs existed, so revocation is left out.
    const back = hpki(['verify', '--anchor', pki.root, '--untrusted', pki.intermediate, '--at', '2020-06-01T00:00:00Z', pki.expiredLeaf]);
    assert.equal(back.code, 1, 'the intermediate did not exist yet in 2020');
    assert.match(back.stdout, /notYetValid/);
  });
}

test('bad usage and unreadable input exit 2 with one line', () => {
  const leaf = join(PKITS, 'certs', 'ValidCertificatePathTest1EE.crt');
  const anchor = join(PKITS, 'certs', 'TrustAnchorRootCertificate.crt');
  writeFileSync(join(dir, 'garbage.pem'), 'this is not a certificate\n');
  writeFileSync(join(dir, 'truncated.der'), readFileSync(leaf).subarray(0, 200));
  writeFileSync(join(dir, 'garbage.crl'), Buffer.from([0x30, 0x03, 0x02, 0x01]));
  const cases: Array<[string[], RegExp]> = [
    [['verify', leaf], /--anchor/],
    [['verify', '--anchor', 'missing.pem', leaf], /no such file/],
    [['verify', '--anchor', anchor, join(dir, 'garbage.pem')], /garbage\.pem/],
    [['verify', '--anchor', anchor, join(dir, 'truncated.der')], /truncated\.der/],
    [['verify', '--anchor', anchor, '--crl', join(dir, 'garbage.crl'), leaf], /garbage\.crl/],
    [['verify', '--anchor', anchor, '--at', 'next tuesday', leaf], /--at/],
    [['verify', '--anchor', anchor, '--policy', 'gold', leaf], /--policy/],
  ];
  for (const [args, pattern] of cases) {
    const r = hpki(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

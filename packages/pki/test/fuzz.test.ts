// A small seeded fuzzing run inside the normal suite: every target gets mutated inputs and may only
// throw its expected (typed) errors, never crash or take over a second. `npm run fuzz` runs 100,000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzTarget, formatReport, type FuzzTarget } from './fuzz/run.js';
import { targets } from './fuzz/targets.js';
import { caseRng, corruptLength, deepNesting, encodeTree, mulberry32, nested, parseTree, treeEdit } from './fuzz/mutate.js';

const CASES = 2000;
const SEED = 20261128;

for (const target of targets) {
  test(`fuzz ${target.name}: ${CASES} seeded cases, only expected errors, none slow`, () => {
    const r = fuzzTarget(target, { cases: CASES, seed: SEED });
    assert.equal(r.cases, CASES);
    assert.ok(r.rejected > CASES / 10, `mutations should be rejected often:\n${formatReport(r)}`);
    assert.equal(r.unexpectedCount, 0, formatReport(r));
    assert.equal(r.slow.length, 0, formatReport(r));
  });
}

test('fuzz runner: reports an unexpected exception type and a slow case (it can fail)', () => {
  const fragile: FuzzTarget = {
    name: 'fragile',
    seeds: [Buffer.from('300602010102010a', 'hex')],
    isExpectedError: (e) => e instanceof SyntaxError,
    parse(input) {
      if (input.length > 8) throw new TypeError('too long');
      if (input.length < 8) throw new SyntaxError('too short');
      if (input[7] === 0x0b) {
        const end = performance.now() + 30;
        while (performance.now() < end);
      }
      return input;
    },
  };
  const r = fuzzTarget(fragile, { cases: 500, seed: 7, slowMs: 20 });
  assert.ok(r.unexpectedCount > 0 && r.unexpected[0]!.error.startsWith('TypeError'), formatReport(r));
  assert.ok(r.rejected > 0, formatReport(r));
  assert.ok(r.slow.length > 0, formatReport(r));
});

test('fuzz mutators: same seed, same cases; structural edits keep outer DER consistent', () => {
  const a = caseRng(1, 5);
  const b = caseRng(1, 5);
  assert.deepEqual([a.u32(), a.u32()], [b.u32(), b.u32()]);
  assert.notEqual(caseRng(1, 6).u32(), caseRng(1, 5).u32());

  const overrun = Buffer.from('300a020101', 'hex'); // claims 10 bytes, holds 3
  const fixed = Buffer.from('300d020101300806032a0304040100', 'hex');
  assert.deepEqual(encodeTree(parseTree(fixed)!), fixed, 'parse and re-encode is the identity on DER');
  assert.equal(parseTree(overrun), undefined, 'a length past the end is not a tree');
  const rng = mulberry32(3);
  for (let i = 0; i < 200; i++) {
    const out = treeEdit.apply(fixed, rng, [fixed]);
    // Lengths are recomputed, so the output is always a well-formed TLV sequence (or empty).
    assert.ok(out.length === 0 || parseTree(out), `tree edit broke the outer structure: ${out.toString('hex')}`);
  }
  const deep = nested(10_000, Buffer.from([0x05, 0x00]));
  let t = parseTree(deep)![0]!;
  for (let d = 1; d < 40; d++) t = t.children![0]!;
  assert.equal(t.tag[0], 0x30, '10,000 nested SEQUENCEs decode level by level');
  assert.ok(deepNesting.apply(fixed, mulberry32(9), []).length > 0);
  const lengths = new Set<string>();
  for (let i = 0; i < 100; i++) lengths.add(corruptLength.apply(fixed, mulberry32(i), []).toString('hex'));
  assert.ok([...lengths].some((h) => h.includes('84ffffffff')), 'huge long-form lengths are among the corruptions');
});

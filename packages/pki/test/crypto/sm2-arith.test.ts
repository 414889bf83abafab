import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SM2_CURVE, curvePoint, linearCombinationXPlain, mod, toBig } from '../../src/crypto/sm2-core.js';
import { Comb, PublicKeyEntry, TABLE_AFTER_USES, isExceptional, linearCombination, multiplyBase, multiplySecret, publicKeyEntry, toAffine, xMatchesModN } from '../../src/crypto/sm2-arith.js';

const { n } = SM2_CURVE;
const Point = curvePoint(SM2_CURVE);
const scalar = () => mod(toBig(randomBytes(40)), n - 1n) + 1n;

function randomPoint() {
  const P = Point.BASE.multiply(scalar());
  return { bytes: P.toBytes(false), ...P.toAffine() };
}

test('s·G + t·P: sliding-window and comb paths equal noble for random scalars', () => {
  const tables = [randomPoint()].map((P) => ({ P, table: new Comb(P.x, P.y) }));
  for (let i = 0; i < 150; i++) {
    const s = scalar();
    const t = scalar();
    const P = randomPoint();
    const plain = linearCombinationXPlain(SM2_CURVE, s, t, P.bytes);
    const sum = linearCombination(s, t, new PublicKeyEntry(P.x, P.y));
    assert.equal(isExceptional(sum), false);
    assert.equal(toAffine(sum)!.x, plain);
    assert.equal(xMatchesModN(sum!, mod(plain!, n)), true);
    assert.equal(xMatchesModN(sum!, mod(plain! + 1n, n)), false);
    for (const { P: Q, table } of tables) {
      const entry = new PublicKeyEntry(Q.x, Q.y);
      entry.table = table;
      assert.equal(toAffine(linearCombination(s, t, entry))!.x, linearCombinationXPlain(SM2_CURVE, s, t, Q.bytes));
    }
  }
});

test('k·G by the comb equals noble for random scalars', () => {
  for (let i = 0; i < 200; i++) {
    const k = scalar();
    assert.deepEqual(multiplyBase(k), Point.BASE.multiply(k).toAffine());
  }
});

test('the comb flags its exceptional scalars, and multiplyBase is still right for them', () => {
  // Sums of the top windows pass n for these scalars (found by analysis of the recoding).
  const special = [(1n << 256n) - n, 254n << 248n];
  const comb = new Comb(SM2_CURVE.Gx, SM2_CURVE.Gy);
  for (const k of [...special, ...special.map((x) => n - x)]) {
    assert.equal(isExceptional(comb.addMultiple(undefined, k)), true, `k=${k.toString(16)}`);
    assert.deepEqual(multiplyBase(k), Point.BASE.multiply(k).toAffine());
  }
});

test('scalars at the edges (1, 2, small, n − 1, the comb\'s exceptional ones) agree with noble', () => {
  const P = randomPoint();
  const entry = new PublicKeyEntry(P.x, P.y);
  entry.table = new Comb(P.x, P.y);
  const plainEntry = new PublicKeyEntry(P.x, P.y);
  const edges = [1n, 2n, 3n, 15n, 16n, 17n, 255n, 256n, 257n, n - 1n, n - 2n, n - 17n, (1n << 255n) + 1n, (1n << 256n) - n, 254n << 248n];
  for (const s of edges) {
    for (const t of edges) {
      const plain = linearCombinationXPlain(SM2_CURVE, s, t, P.bytes);
      for (const e of [entry, plainEntry]) {
        const sum = linearCombination(s, t, e);
        // Either the fast path is right, or it reports the case as exceptional (and callers recompute).
        if (!isExceptional(sum)) assert.equal(toAffine(sum)!.x, plain, `s=${s} t=${t}`);
      }
    }
    assert.deepEqual(multiplyBase(s), Point.BASE.multiply(s).toAffine());
  }
});

test('a sum that passes through infinity is reported as exceptional, never as a wrong point', () => {
  // t·P = −s·G exactly: the final comb additions hit the inverse point.
  const d = scalar();
  const P = Point.BASE.multiply(d).toAffine();
  const t = scalar();
  const s = mod(-t * d, n);
  assert.equal(isExceptional(linearCombination(s, t, new PublicKeyEntry(P.x, P.y))), true);
  assert.equal(linearCombinationXPlain(SM2_CURVE, s, t, Point.fromAffine(P).toBytes(false)), undefined);
});

test('multiplySecret equals noble multiply, including every scalar within 40 of 0 and of n', () => {
  const P = randomPoint();
  const Q = Point.fromAffine({ x: P.x, y: P.y });
  const ks = Array.from({ length: 100 }, scalar);
  for (let i = 1n; i <= 40n; i++) ks.push(i, n - i);
  for (const k of ks) assert.deepEqual(multiplySecret(P.x, P.y, k), Q.multiply(k).toAffine(), `k=${k}`);
});

test('publicKeyEntry validates points, caches them and builds a comb table after repeated use', () => {
  const P = randomPoint();
  const first = publicKeyEntry(P.bytes)!;
  assert.ok(first);
  assert.equal(first.table, undefined);
  for (let i = 1; i < TABLE_AFTER_USES; i++) assert.equal(publicKeyEntry(P.bytes), first);
  assert.ok(first.table);
  const bad = Uint8Array.from(P.bytes);
  bad[1]! ^= 1;
  assert.equal(publicKeyEntry(bad), undefined);
  assert.equal(publicKeyEntry(P.bytes.subarray(0, 64)), undefined);
  const tooBig = Uint8Array.from(P.bytes);
  tooBig.fill(0xff, 1, 33);
  assert.equal(publicKeyEntry(tooBig), undefined);
});

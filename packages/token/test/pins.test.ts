/**
 * Retry counters as separate programs meet them: wrong PINs tried by several processes add up and
 * lock the PIN for every later process; a try is spent on disk before the PIN is checked, so
 * killing the process while it derives the PIN key gives no free try; processes trying at the same
 * time each spend their own try (the lock file serialises them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { PinIncorrectError, PinLockedError, SoftToken } from '../src/index.js';
import { FAST_KDF, runChild, startChild, withScratch } from './helpers.js';

/** Child code: tries `pin` `times` times and prints what happened, one line each. */
function tryPins(path: string, role: 'user' | 'admin', pin: string, times: number): string {
  return `
const t = lib.SoftToken.open(${JSON.stringify(path)});
for (let i = 0; i < ${times}; i++) {
  try { t.verifyPin('HPKI', ${JSON.stringify(role)}, ${JSON.stringify(pin)}); console.log('ok'); }
  catch (e) { console.log(e.code + (e.remaining !== undefined ? ':' + e.remaining : '')); }
}`;
}

function remainingOnDisk(path: string, role: 'user' | 'admin'): number {
  return JSON.parse(readFileSync(path, 'utf8')).applications[0][role].remaining as number;
}

test('wrong PINs from several processes add up, and the lock holds for every later process', async () => {
  await withScratch((s) => {
    const path = s.path('t.tok');
    SoftToken.init(path, { userPin: '314159', adminPin: 'ADMIN-PIN-1000', kdf: FAST_KDF });
    let r = runChild(tryPins(path, 'user', '000000', 2));
    assert.deepEqual(r.stdout.trim().split('\n'), ['token.pin.incorrect:5', 'token.pin.incorrect:4'], r.stderr);
    r = runChild(tryPins(path, 'user', '999999', 3));
    assert.deepEqual(r.stdout.trim().split('\n'), ['token.pin.incorrect:3', 'token.pin.incorrect:2', 'token.pin.incorrect:1']);
    r = runChild(tryPins(path, 'user', '123123', 2));
    assert.deepEqual(r.stdout.trim().split('\n'), ['token.pin.incorrect:0', 'token.pin.locked']);
    // Even the right PIN is refused now, in this process and in a new one.
    r = runChild(tryPins(path, 'user', '314159', 1));
    assert.equal(r.stdout.trim(), 'token.pin.locked');
    assert.throws(() => SoftToken.open(path).login('HPKI', '314159'), PinLockedError);
    assert.deepEqual(SoftToken.open(path).pinStatus('HPKI', 'user'), { maxRetries: 6, remaining: 0, locked: true });
    // The admin PIN is counted separately and still works; it locks after its own 10 tries.
    r = runChild(tryPins(path, 'admin', 'not-the-admin-pin', 10));
    assert.equal(r.stdout.trim().split('\n').at(-1), 'token.pin.incorrect:0');
    assert.throws(() => SoftToken.open(path).unblockPin('HPKI', 'ADMIN-PIN-1000', 'whatever1'), PinLockedError);
  });
});

test('a right PIN restores the counter; wrong tries before it still counted', async () => {
  await withScratch((s) => {
    const path = s.path('t.tok');
    const t = SoftToken.init(path, { userPin: '271828', adminPin: 'ADMIN-PIN-1001', kdf: FAST_KDF, userMaxRetries: 4 });
    assert.throws(() => t.verifyPin('HPKI', 'user', '000000'), (e: unknown) => e instanceof PinIncorrectError && e.remaining === 3);
    assert.equal(runChild(tryPins(path, 'user', '271828', 1)).stdout.trim(), 'ok');
    assert.equal(remainingOnDisk(path, 'user'), 4);
  });
});

test('killing the process while it checks a PIN does not give the try back', async () => {
  await withScratch(async (s) => {
    const path = s.path('slow.tok');
    // A deliberately slow KDF (about a second per derivation) leaves time to kill mid-check.
    SoftToken.init(path, { userPin: '161803', adminPin: 'ADMIN-PIN-1002', kdf: { alg: 'pbkdf2-sm3', iterations: 700_000 } });
    for (const pin of ['161803', '000000']) {
      const before = remainingOnDisk(path, 'user');
      const child = startChild(tryPins(path, 'user', pin, 1));
      const exited = once(child, 'exit');
      // Wait until the spent try is on disk, then kill at once: the check is still running.
      const deadline = Date.now() + 20_000;
      while (remainingOnDisk(path, 'user') === before) {
        assert.ok(Date.now() < deadline, 'the child never spent its try');
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, 'SIGKILL', `the child finished before the kill (code ${code}); the KDF is too fast for this test`);
      assert.equal(remainingOnDisk(path, 'user'), before - 1, `${pin}: the try stays spent`);
    }
    // The stale lock of the killed process does not block the next one.
    SoftToken.open(path).verifyPin('HPKI', 'user', '161803');
    assert.equal(remainingOnDisk(path, 'user'), 6);
  });
});

test('processes trying PINs at the same time each spend a try (no lost update)', async () => {
  await withScratch(async (s) => {
    const path = s.path('t.tok');
    SoftToken.init(path, { userPin: '577215', adminPin: 'ADMIN-PIN-1003', kdf: FAST_KDF, userMaxRetries: 20 });
    const children = [0, 1, 2, 3].map(() => startChild(tryPins(path, 'user', '000000', 3)));
    const outs = await Promise.all(
      children.map(async (c) => {
        let out = '';
        c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
        await once(c, 'exit');
        return out.trim().split('\n');
      }),
    );
    const lines = outs.flat();
    // Under a loaded machine a try may wait out the lock and be refused as busy; that spends nothing.
    // Every other try must be a counted wrong PIN with its own counter value.
    const said = `the children said: ${lines.join(', ')}`;
    assert.equal(lines.length, 12, said);
    assert.ok(lines.every((l) => l === 'token.busy' || /^token\.pin\.incorrect:\d+$/.test(l)), said);
    const remainders = lines.filter((l) => l !== 'token.busy').map((l) => Number(l.split(':')[1]));
    const spent = remainders.length;
    assert.ok(spent >= 8, `most tries must get through the lock; ${said}`);
    const expected = Array.from({ length: spent }, (_, i) => 19 - i);
    assert.deepEqual([...remainders].sort((a, b) => b - a), expected, `every try got its own counter value; ${said}`);
    assert.equal(remainingOnDisk(path, 'user'), 20 - spent);
  });
});

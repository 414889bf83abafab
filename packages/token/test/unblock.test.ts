/**
 * PIN unblock through the CA: a locked token asks, the CA (holding the admin PIN recorded at
 * issuance) answers, the token sets a new user PIN. And every way it must fail: no request, a wrong
 * or altered response, a replayed one, one for an older request or another token, a CA with the
 * wrong admin PIN or another token's id, an expired request, absurd KDF parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PinIncorrectError, PinLockedError, SoftToken, TokenError, answerUnblockChallenge, generateAdminPin, type UnblockResponse } from '../src/index.js';
import { FAST_KDF, runChild, withScratch } from './helpers.js';

const isCode = (code: string) => (e: unknown) => e instanceof TokenError && e.code === code;

function lockUser(t: SoftToken): void {
  for (let i = 0; i < 6; i++) assert.throws(() => t.verifyPin('HPKI', 'user', 'wrong-pin'), PinIncorrectError);
  assert.throws(() => t.verifyPin('HPKI', 'user', 'wrong-pin'), PinLockedError);
}

test('unblock: locked token → request → CA answer with the admin PIN → new user PIN, counter reset (request and apply in separate processes)', async () => {
  await withScratch((s) => {
    const adminPin = generateAdminPin();
    assert.match(adminPin, /^[A-Z2-9]{24}$/);
    const path = s.path('t.tok');
    const token = SoftToken.init(path, { userPin: 'forgotten', adminPin, kdf: FAST_KDF });
    const session = token.login('HPKI', 'forgotten');
    session.createContainer('c');
    const pub = session.generateKeyPair('c');
    lockUser(token);

    // The holder's software makes the request in one process …
    const r = runChild(`console.log(JSON.stringify(lib.SoftToken.open(${JSON.stringify(path)}).requestUnblock('HPKI')));`);
    assert.equal(r.code, 0, r.stderr);
    const requestJson = r.stdout.trim();
    assert.ok(!requestJson.includes(adminPin), 'the request does not carry the admin PIN');
    assert.ok(token.info().applications[0]!.unblockPending);

    // … the CA answers after the RA's authorisation …
    const response = answerUnblockChallenge(adminPin, token.tokenId, requestJson);
    const responseJson = JSON.stringify(response);
    assert.ok(!responseJson.includes(adminPin) && !responseJson.includes('forgotten'));

    // … and the holder applies it in another process, choosing the new PIN locally.
    const a = runChild(`lib.SoftToken.open(${JSON.stringify(path)}).applyUnblock('HPKI', ${JSON.stringify(responseJson)}, 'remembered'); console.log('done');`);
    assert.equal(a.stdout.trim(), 'done', a.stderr);
    assert.deepEqual(token.pinStatus('HPKI', 'user'), { maxRetries: 6, remaining: 6, locked: false });
    assert.equal(token.info().applications[0]!.unblockPending, undefined);
    const again = token.login('HPKI', 'remembered');
    assert.deepEqual(again.publicKey('c', 'signing')?.spki, pub.spki, 'the keys survive the unblock');
    again.sign('c', Buffer.from('still works'));
    assert.throws(() => token.verifyPin('HPKI', 'user', 'forgotten'), PinIncorrectError);

    // Replaying the same response is refused, and changes nothing.
    assert.throws(() => token.applyUnblock('HPKI', response, 'attacker-pin'), isCode('token.unblock.challenge'));
    token.verifyPin('HPKI', 'user', 'remembered');
  });
});

test('unblock refused: no request, altered responses, older requests, another token', async () => {
  await withScratch((s) => {
    const adminPin = 'ADMIN-PIN-2000-XYZ';
    const token = SoftToken.init(s.path('a.tok'), { userPin: 'user-pin-a', adminPin, kdf: FAST_KDF });
    const other = SoftToken.init(s.path('b.tok'), { userPin: 'user-pin-b', adminPin, kdf: FAST_KDF });
    lockUser(token);

    // No pending request: nothing to answer.
    const bReq = other.requestUnblock('HPKI');
    const bResp = answerUnblockChallenge(adminPin, other.tokenId, bReq);
    assert.throws(() => token.applyUnblock('HPKI', bResp, 'new-pin-1'), isCode('token.unblock.challenge'), "another token's response");
    // Even relabelled with this token's id it matches neither the challenge nor the key.
    token.requestUnblock('HPKI');
    assert.throws(() => token.applyUnblock('HPKI', { ...bResp, tokenId: token.tokenId }, 'new-pin-1'), isCode('token.unblock.challenge'));

    // An older request's answer, after a newer request replaced it.
    const old = token.requestUnblock('HPKI');
    const oldResp = answerUnblockChallenge(adminPin, token.tokenId, old);
    token.requestUnblock('HPKI');
    assert.throws(() => token.applyUnblock('HPKI', oldResp, 'new-pin-1'), isCode('token.unblock.challenge'), 'answer to a replaced request');

    // Altered responses: the MAC, the encrypted key. Each spends the pending challenge (one attempt per challenge).
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[b.length - 1]! ^= 1;
      return b.toString('base64');
    };
    for (const alter of [(r: UnblockResponse) => ({ ...r, mac: flip(r.mac) }), (r: UnblockResponse) => ({ ...r, encryptedKey: flip(r.encryptedKey) })]) {
      const req = token.requestUnblock('HPKI');
      const good = answerUnblockChallenge(adminPin, token.tokenId, req);
      assert.throws(() => token.applyUnblock('HPKI', alter(good), 'new-pin-1'), isCode('token.unblock.response'));
      assert.throws(() => token.applyUnblock('HPKI', good, 'new-pin-1'), isCode('token.unblock.challenge'), 'the challenge was spent by the failed attempt');
    }
    // Malformed responses are refused before anything is touched.
    token.requestUnblock('HPKI');
    assert.throws(() => token.applyUnblock('HPKI', '{not json', 'new-pin-1'), isCode('token.unblock.response'));
    assert.throws(() => token.applyUnblock('HPKI', JSON.stringify({ format: 'hpki-unblock-response', version: 1 }), 'new-pin-1'), isCode('token.unblock.response'));

    // An expired request, judged by the token.
    const req = token.requestUnblock('HPKI', { validForMs: 60_000 });
    const resp = answerUnblockChallenge(adminPin, token.tokenId, req);
    assert.throws(() => token.applyUnblock('HPKI', resp, 'new-pin-1', { now: new Date(Date.now() + 120_000) }), isCode('token.unblock.expired'));
    // A new PIN that breaks the rules is refused without spending the challenge.
    assert.throws(() => token.applyUnblock('HPKI', resp, '12'), isCode('token.pin.policy'));
    token.applyUnblock('HPKI', resp, 'new-pin-1');
    token.verifyPin('HPKI', 'user', 'new-pin-1');
  });
});

test('the CA refuses: wrong admin PIN, another token id, altered or expired requests, absurd KDF cost', async () => {
  await withScratch((s) => {
    const a = SoftToken.init(s.path('a.tok'), { userPin: 'user-pin-a', adminPin: 'ADMIN-OF-A-0001', kdf: FAST_KDF });
    const b = SoftToken.init(s.path('b.tok'), { userPin: 'user-pin-b', adminPin: 'ADMIN-OF-B-0002', kdf: FAST_KDF });
    const reqA = a.requestUnblock('HPKI');
    const reqB = b.requestUnblock('HPKI');

    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-9999', a.tokenId, reqA), isCode('token.unblock.adminPin'));
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', b.tokenId, reqA), isCode('token.unblock.tokenMismatch'));
    // B's request relabelled as A's: the CA uses A's admin PIN, and the wrap names token B.
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, { ...reqB, tokenId: a.tokenId }), isCode('token.unblock.adminPin'));
    // A's request with B's wrapped key swapped in.
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, { ...reqA, adminWrappedKey: reqB.adminWrappedKey, adminSalt: reqB.adminSalt }), isCode('token.unblock.adminPin'));
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, reqA, { now: new Date(Date.parse(reqA.expiresAt) + 1000) }), isCode('token.unblock.expired'));
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, { ...reqA, kdf: { alg: 'scrypt', N: 2 ** 30, r: 8, p: 1 } }), isCode('token.unblock.request'), 'a KDF that would exhaust the CA');
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, { ...reqA, ephemeralPublicKey: Buffer.alloc(65, 4).toString('base64') }), isCode('token.unblock.request'));
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, 'garbage'), isCode('token.unblock.request'));
    assert.throws(() => answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, { ...reqA, challenge: 'AAAA' }), isCode('token.unblock.request'));
    // The genuine request is answered.
    const resp = answerUnblockChallenge('ADMIN-OF-A-0001', a.tokenId, reqA);
    a.applyUnblock('HPKI', resp, 'fresh-pin-a');
    a.verifyPin('HPKI', 'user', 'fresh-pin-a');
    // The admin PIN on the token itself was never needed and is still counted separately.
    assert.equal(a.pinStatus('HPKI', 'admin').remaining, 10);
  });
});

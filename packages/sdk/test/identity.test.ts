/**
 * The holder's identity read in one normalised form from certificates of both demo CAs (SM2 and
 * P-256) and several profiles: the same person or organisation gets the same key whichever CA
 * issued, an old organisation code and a credit code of the same unit match, 15-digit resident ID
 * numbers are converted, a number in the subject serialNumber is read as a fallback, and numbers
 * with a bad check digit are reported instead of trusted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, buildCertificate, generateKey, identityExtensions, parseName, randomSerial, type HealthIdentity } from '@health-pki/pki';
import { normalizeResidentId, readHolderIdentity } from '../src/index.js';
import { RESIDENT_ID, startDeployment, type Deployment } from './helpers/deployment.js';

/** The organisation code 12345678-8 and a credit code containing it (check digits computed per GB 11714 / GB 32100). */
const ORG_CODE = '123456788';
const CREDIT_CODE = '12440000123456788B';

/** A self-signed certificate with the given subject and identity extensions (test data, not from a CA). */
function selfMade(subject: string, identity: HealthIdentity = {}) {
  const key = generateKey('p256');
  const now = new Date();
  return buildCertificate({ serialNumber: randomSerial(), subject: parseName(subject), notBefore: now, notAfter: addDays(now, 1), publicKey: key.publicKey, extensions: identityExtensions(identity) }, key);
}

describe('holder identity', () => {
  let d: Deployment;
  before(async () => {
    d = await startDeployment();
  });
  after(async () => {
    await d?.close();
  });

  test('a member of staff: the same person key from the SM2 and the P-256 CA, with name, unit and class', async () => {
    const subject = 'C=CN,O=示例医院,OU=心内科,OU=门诊部,title=主任医师,CN=张三';
    const a = readHolderIdentity((await d.issue('demo-sm2', { subject })).certificate);
    const b = readHolderIdentity((await d.issue('demo-p256', { subject })).certificate);
    for (const id of [a, b]) {
      assert.equal(id.kind, 'person');
      assert.equal(id.key, `person:resident-id:${RESIDENT_ID}`);
      assert.equal(id.residentId, RESIDENT_ID);
      assert.equal(id.name, '张三');
      assert.equal(id.organization, '示例医院');
      assert.deepEqual(id.units, ['心内科', '门诊部']);
      assert.equal(id.title, '主任医师');
      assert.equal(id.profile, 'staff-sign');
      assert.equal(id.certificateClass, 'internal-staff');
      assert.deepEqual(id.problems, []);
    }
    assert.notEqual(a.certificate.issuer, b.certificate.issuer);
  });

  test('an organisation: a credit-code certificate and an organisation-code certificate of the same unit share the key', async () => {
    const subject = 'C=CN,O=示例医院,CN=示例医院';
    const byCredit = readHolderIdentity((await d.issue('demo-sm2', { profile: 'org-sign', subject, identity: { unifiedSocialCreditCode: CREDIT_CODE } })).certificate);
    const byCode = readHolderIdentity((await d.issue('demo-p256', { profile: 'org-sign', subject, identity: { organizationCode: ORG_CODE } })).certificate);
    assert.equal(byCredit.kind, 'organization');
    assert.equal(byCredit.certificateClass, 'internal-organization');
    assert.equal(byCredit.unifiedSocialCreditCode, CREDIT_CODE);
    assert.equal(byCredit.organizationCode, ORG_CODE, 'derived from characters 9-17 of the credit code');
    assert.equal(byCredit.key, `org:${ORG_CODE}`);
    assert.equal(byCode.key, byCredit.key);
  });

  test('a member of the public (person-sign) is an external person', async () => {
    const id = readHolderIdentity((await d.issue('demo-p256', { profile: 'person-sign', subject: 'C=CN,CN=王五' })).certificate);
    assert.equal(id.certificateClass, 'external-person');
    assert.equal(id.kind, 'person');
    assert.equal(id.key, `person:resident-id:${RESIDENT_ID}`);
    assert.equal(id.organization, undefined);
    assert.deepEqual(id.units, []);
  });

  test('other CAs\' forms: a 15-digit resident ID, a number in the subject serialNumber, passports', () => {
    assert.equal(normalizeResidentId('110105491231002'), RESIDENT_ID);
    assert.equal(normalizeResidentId(RESIDENT_ID.toLowerCase()), RESIDENT_ID);
    assert.equal(normalizeResidentId('110105194912310021'), undefined, 'wrong check character');
    assert.equal(normalizeResidentId('11010519491331002X'), undefined, 'no 13th month');
    const old = readHolderIdentity(selfMade('C=CN,CN=张三', { residentId: '110105491231002' }));
    assert.equal(old.key, `person:resident-id:${RESIDENT_ID}`);
    assert.equal(old.profile, undefined, 'no health policy OID: the class is unknown, the kind comes from the number');
    const inSubject = readHolderIdentity(selfMade(`C=CN,CN=张三,serialNumber=${RESIDENT_ID}`));
    assert.equal(inSubject.key, `person:resident-id:${RESIDENT_ID}`);
    const orgInSubject = readHolderIdentity(selfMade(`C=CN,O=示例医院,CN=示例医院,serialNumber=${CREDIT_CODE}`));
    assert.equal(orgInSubject.key, `org:${ORG_CODE}`);
    const passport = readHolderIdentity(selfMade('C=CN,CN=John Smith', { passportNumber: 'e12345678' }));
    assert.equal(passport.key, 'person:passport:E12345678');
  });

  test('numbers failing their check digit are reported, not used; no number means no key', () => {
    const bad = readHolderIdentity(selfMade('C=CN,CN=张三', { residentId: '110105194912310021' }));
    assert.equal(bad.key, undefined);
    assert.equal(bad.residentId, undefined);
    assert.match(bad.problems.join(), /fails its GB 11643 check/);
    const badOrg = readHolderIdentity(selfMade('C=CN,CN=某单位', { unifiedSocialCreditCode: '12440000123456788C' }));
    assert.equal(badOrg.key, undefined);
    assert.match(badOrg.problems.join(), /GB 32100/);
    const conflicting = readHolderIdentity(selfMade('C=CN,CN=某单位', { unifiedSocialCreditCode: CREDIT_CODE, organizationCode: '87654321X' }));
    assert.equal(conflicting.key, `org:${ORG_CODE}`, 'the credit code wins');
    const nothing = readHolderIdentity(selfMade('C=CN,CN=nobody'));
    assert.equal(nothing.kind, 'unknown');
    assert.equal(nothing.key, undefined);
  });
});

/**
 * Registration by identity against the real demo deployment: a holder registered after logging in
 * keeps the account and roles after renewal, after a reissue with a new key, and with a
 * certificate from the other CA (SM2 ↔ P-256); an organisation keeps its account when its
 * certificate moves from an organisation code to a credit code. A CA not on the trust list, or
 * dropped from it, never reaches the registry. Bad registrations are refused with a code; the
 * JSON file storage survives a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { addDays, buildCertificate, generateKey, parseName, randomSerial, signData } from '@health-pki/pki';
import {
  AccountRegistry,
  CertificateValidator,
  JsonFileAccountStorage,
  LoginVerifier,
  MemoryAccountStorage,
  readHolderIdentity,
  RegistryError,
  TrustStore,
  type LoginFailure,
  type LoginSuccess,
} from '../src/index.js';
import { RESIDENT_ID, startDeployment, type Deployment, type Holder } from './helpers/deployment.js';

describe('account registry', () => {
  let d: Deployment;
  let trust: TrustStore;
  let verifier: LoginVerifier;
  let registry: AccountRegistry;
  let file: string;
  let session = 0;

  const login = async (h: Holder): Promise<LoginSuccess | LoginFailure> => {
    const id = `s${++session}`;
    const ch = await verifier.challenge(id);
    return verifier.verify(id, h.certificate, signData(h.key, ch.toBeSigned).signature, h.chain);
  };
  const mustLogin = async (h: Holder): Promise<LoginSuccess> => {
    const r = await login(h);
    assert.equal(r.ok, true, (r as LoginFailure).reason);
    return r as LoginSuccess;
  };

  before(async () => {
    d = await startDeployment();
    trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
    assert.equal((await trust.refresh()).accepted, true);
    verifier = new LoginVerifier({ validator: new CertificateValidator({ trust }) });
    file = join(d.tmpDir, 'accounts.json');
    registry = new AccountRegistry(new JsonFileAccountStorage(file));
  });
  after(async () => {
    await d?.close();
  });

  test('registered once; renewal, reissue with a new key, and the other CA map to the same account and roles', async () => {
    const first = await d.issue('demo-sm2', { name: '张三' });
    const l1 = await mustLogin(first);
    assert.equal(await registry.signIn(l1.identity), undefined, 'not registered yet');
    const rec = await registry.register(l1.identity, 'dr-zhang', ['doctor', 'prescriber'], { ca: l1.validation.ca });
    assert.equal(rec.identityKey, `person:resident-id:${RESIDENT_ID}`);
    assert.deepEqual(rec.roles, ['doctor', 'prescriber']);

    const renewed = await d.renew(first);
    assert.notEqual(renewed.serial, first.serial);
    const reissued = await d.issue('demo-sm2', { name: '张三' });
    const otherCa = await d.issue('demo-p256', { name: '张三' });
    for (const h of [renewed, reissued, otherCa]) {
      const l = await mustLogin(h);
      const acct = await registry.signIn(l.identity, { ca: l.validation.ca });
      assert.equal(acct?.account, 'dr-zhang', `${h.ca}/${h.serial}`);
      assert.deepEqual(acct?.roles, ['doctor', 'prescriber']);
      assert.equal(acct?.lastCertificate?.serial, h.certificate.serialHex);
      assert.equal(acct?.lastCertificate?.ca, h.ca);
      assert.equal(await registry.hasRole(l.identity, 'doctor'), true);
      assert.equal(await registry.hasRole(l.identity, 'admin'), false);
    }
    // One registration, whatever the certificate.
    assert.equal((await registry.identitiesOf('dr-zhang')).length, 1);
  });

  test('an organisation registered by credit code keeps its account with an organisation-code certificate', async () => {
    const subject = 'C=CN,O=示例医院,CN=示例医院';
    const byCredit = await d.issue('demo-p256', { profile: 'org-sign', subject, identity: { unifiedSocialCreditCode: '12440000123456788B' } });
    const byCode = await d.issue('demo-sm2', { profile: 'org-sign', subject, identity: { organizationCode: '123456788' } });
    await registry.register((await mustLogin(byCredit)).identity, 'hospital-1', ['submitter']);
    assert.equal((await registry.signIn((await mustLogin(byCode)).identity))?.account, 'hospital-1');
  });

  test('a CA not on the trust list, and a CA dropped from it, never reach the registry', async () => {
    await d.createUnadmittedCa('rogue-reg', 'p256');
    const rogue = await d.issue('rogue-reg', { alg: 'p256', name: '张三' });
    // Same resident ID as the registered doctor: the identity alone must not let it in.
    assert.equal(readHolderIdentity(rogue.certificate).key, `person:resident-id:${RESIDENT_ID}`);
    const r = await login(rogue);
    assert.equal(r.ok, false);
    assert.match((r as LoginFailure).reason, /not issued by a CA on the platform's trust list/);

    const p256 = await d.issue('demo-p256', { name: '张三' });
    await mustLogin(p256);
    await d.setPlatformStatus('demo-p256', 'suspend');
    try {
      await trust.refresh();
      const dropped = await login(p256);
      assert.equal(dropped.ok, false);
      assert.match((dropped as LoginFailure).reason, /not issued by a CA on the platform's trust list/);
    } finally {
      await d.setPlatformStatus('demo-p256', 'resume');
      await trust.refresh();
    }
  });

  test('refused registrations: another account for a registered identity, no identity number, bad names', async () => {
    const h = await d.issue('demo-sm2', { name: '张三' });
    const id = (await mustLogin(h)).identity;
    await assert.rejects(registry.register(id, 'someone-else'), (e: unknown) => e instanceof RegistryError && e.code === 'identity.registered' && /already registered to account "dr-zhang"/.test(e.message));
    // The same account again adds roles.
    assert.deepEqual((await registry.register(id, 'dr-zhang', ['auditor'])).roles, ['auditor', 'doctor', 'prescriber']);

    const key = generateKey('p256');
    const now = new Date();
    const anonymous = readHolderIdentity(buildCertificate({ serialNumber: randomSerial(), subject: parseName('C=CN,CN=nobody'), notBefore: now, notAfter: addDays(now, 1), publicKey: key.publicKey }, key));
    await assert.rejects(registry.register(anonymous, 'x'), (e: unknown) => e instanceof RegistryError && e.code === 'identity.none');
    const mem = new AccountRegistry(new MemoryAccountStorage());
    await assert.rejects(mem.register(id, '  '), (e: unknown) => e instanceof RegistryError && e.code === 'account.invalid');
    await assert.rejects(mem.register(id, 'a', ['bad role!']), (e: unknown) => e instanceof RegistryError && e.code === 'role.invalid');
    await assert.rejects(mem.grant('person:resident-id:nobody', ['x']), (e: unknown) => e instanceof RegistryError && e.code === 'identity.unknown');
  });

  test('the JSON file keeps registrations across a restart; roles are granted and withdrawn; unregister removes', async () => {
    const again = new AccountRegistry(new JsonFileAccountStorage(file));
    const key = `person:resident-id:${RESIDENT_ID}`;
    assert.equal((await again.resolve(key))?.account, 'dr-zhang');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);
    assert.deepEqual((await again.withdraw(key, ['auditor', 'prescriber'])).roles, ['doctor']);
    assert.deepEqual((await again.grant(key, ['head-of-department'])).roles, ['doctor', 'head-of-department']);
    assert.deepEqual((await new AccountRegistry(new JsonFileAccountStorage(file)).resolve(key))?.roles, ['doctor', 'head-of-department']);
    assert.equal(await again.unregister(key), true);
    assert.equal(await new AccountRegistry(new JsonFileAccountStorage(file)).resolve(key), undefined);
  });
});

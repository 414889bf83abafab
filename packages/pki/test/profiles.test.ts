/**
 * Health certificate profiles: every profile issues, for every key algorithm it allows, a
 * certificate that OpenSSL and BouncyCastle accept and that OpenSSL reads with the expected key
 * usage; every rule rejects a request that breaks it, naming the rule; certificates built by hand
 * with a broken extension fail the post-issuance check with the rule named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Extension as X509Extension, type Extension } from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import {
  EXT,
  KEY_ALGORITHMS,
  OID,
  ProfileError,
  POLICY_OIDS,
  addDays,
  basicConstraintsExt,
  buildCertificate,
  certificateExtensionsFor,
  certificateViolations,
  checkCertificate,
  checkRequest,
  signData,
  extKeyUsageExt,
  generateKey,
  getProfile,
  identityExtensions,
  importPrivateKey,
  isValidOrganizationCode,
  isValidResidentId,
  isValidSocialCreditCode,
  issueFromProfile,
  keyUsageExt,
  listProfiles,
  needsSignatureCheckEachTime,
  pairwiseConsistent,
  parseName,
  policyOidsFor,
  validateProfileData,
  wholeSeconds,
  Certificate,
  type AltName,
  type HealthIdentity,
  type KeyAlgorithm,
  type PrivateKey,
  type Profile,
  type PublicKey,
} from '../src/index.js';
import { bcCheck, openssl, opensslVerifyCert, opensslVerifySignedDer } from './helpers/outside.js';

// Valid identity numbers (their check characters are asserted below with the library's checkers).
const RESIDENT_ID = '110108199003071238';
const USCC = '12100000400000624D';
const ORG_CODE = '400000624';

/** A request that satisfies each profile: subject, identity and alternative names. */
function goodRequest(p: Profile): { subject: string; identity?: HealthIdentity; altNames?: AltName[] } {
  switch (p.class) {
    case 'root-ca':
      return { subject: 'C=CN,O=健康医疗测试认证中心,CN=Health Test Root CA' };
    case 'sub-ca':
      return { subject: 'C=CN,O=健康医疗测试认证中心,OU=签发中心,CN=Health Test Issuing CA' };
    case 'ocsp-signing':
      return { subject: 'C=CN,O=健康医疗测试认证中心,CN=Health Test OCSP Responder', identity: { unifiedSocialCreditCode: USCC } };
    case 'time-stamping':
      return { subject: 'C=CN,O=健康医疗测试认证中心,CN=Health Test TSA' };
    case 'internal-organization':
    case 'external-organization':
      return { subject: 'C=CN,ST=北京市,L=东城区,O=北京协和医院,CN=北京协和医院', identity: { unifiedSocialCreditCode: USCC, organizationCode: ORG_CODE }, altNames: [{ type: 'email', value: 'office@pumch.example.cn' }] };
    case 'internal-staff':
      return { subject: 'C=CN,O=北京协和医院,OU=心内科,title=主任医师,CN=张三', identity: { residentId: RESIDENT_ID }, altNames: [{ type: 'email', value: 'zhangsan@pumch.example.cn' }] };
    case 'external-person':
      return { subject: 'C=CN,ST=浙江省,L=杭州市,CN=李四', identity: { passportNumber: 'E12345678' }, altNames: [{ type: 'email', value: 'lisi@example.cn' }] };
    case 'internal-device':
    case 'external-device':
      return { subject: 'C=CN,O=北京协和医院,OU=信息中心,CN=emr-01.pumch.example.cn', identity: { organizationCode: ORG_CODE }, altNames: [{ type: 'dns', value: 'emr-01.pumch.example.cn' }, { type: 'ip', value: '10.1.2.3' }] };
  }
}

/** The `openssl verify -purpose` that each profile's certificates must pass. */
function purposeFor(p: Profile, alg: KeyAlgorithm): string | undefined {
  if (p.class === 'time-stamping') return 'timestampsign';
  if (p.class === 'ocsp-signing') return 'ocsphelper';
  if (p.class === 'sub-ca' || p.class === 'root-ca') return 'any';
  const eku = p.extKeyUsage!.purposes;
  if (eku.includes('serverAuth')) return 'sslserver';
  if (p.variant === 'sign') return 'smimesign';
  // OpenSSL's smimeencrypt purpose insists on keyEncipherment, which RFC 5480 forbids for ECDSA-curve keys.
  return alg === 'p256' || alg === 'p384' ? 'any' : 'smimeencrypt';
}

// OpenSSL's display names of key usage bits and EKU purposes.
const OPENSSL_KU: Record<string, string> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  crlSign: 'CRL Sign',
};
const OPENSSL_EKU: Record<string, string> = {
  serverAuth: 'TLS Web Server Authentication',
  clientAuth: 'TLS Web Client Authentication',
  emailProtection: 'E-mail Protection',
  timeStamping: 'Time Stamping',
  ocspSigning: 'OCSP Signing',
};

/** The value lines after an extension heading in `openssl x509 -text` output. */
function textExtension(text: string, heading: string): { critical: boolean; value: string } | undefined {
  const m = new RegExp(`${heading}:( critical)? *\\n\\s+(.+)`).exec(text);
  return m ? { critical: m[1] !== undefined, value: m[2]!.trim() } : undefined;
}

const caAlgFor = (alg: KeyAlgorithm): KeyAlgorithm => (getProfile('root-ca').keyAlgorithms.includes(alg) ? alg : 'rsa3072');

interface Chain {
  rootKey: PrivateKey;
  root: Certificate;
  subKey: PrivateKey;
  sub: Certificate;
}
const chains = new Map<KeyAlgorithm, Chain>();
const keys = new Map<KeyAlgorithm, PrivateKey>();
function keyFor(alg: KeyAlgorithm): PrivateKey {
  if (!keys.has(alg)) keys.set(alg, generateKey(alg));
  return keys.get(alg)!;
}
function chainFor(alg: KeyAlgorithm): Chain {
  const caAlg = caAlgFor(alg);
  if (!chains.has(caAlg)) {
    const rootKey = generateKey(caAlg);
    const root = issueFromProfile({ profile: 'root-ca', subject: parseName(`C=CN,O=健康医疗测试认证中心,CN=Health Test Root CA ${caAlg}`), publicKey: rootKey.publicKey, issuerKey: rootKey });
    const subKey = generateKey(caAlg);
    const sub = issueFromProfile({
      profile: 'sub-ca',
      subject: parseName(`C=CN,O=健康医疗测试认证中心,CN=Health Test Issuing CA ${caAlg}`),
      publicKey: subKey.publicKey,
      issuerKey: rootKey,
      issuerCert: root,
      urls: { crlUrls: ['http://crl.example.cn/root.crl'], caIssuersUrls: ['http://ca.example.cn/root.cer'] },
    });
    chains.set(caAlg, { rootKey, root, subKey, sub });
  }
  return chains.get(caAlg)!;
}

/** Issues a certificate under `p` for a key of `alg`, from the chain of the same algorithm. */
function issue(p: Profile, alg: KeyAlgorithm): { cert: Certificate; chain: Chain } {
  const chain = chainFor(alg);
  const r = goodRequest(p);
  if (p.class === 'root-ca') return { cert: chain.root, chain };
  if (p.class === 'sub-ca') return { cert: chain.sub, chain };
  const cert = issueFromProfile({
    profile: p,
    subject: parseName(r.subject),
    publicKey: keyFor(alg).publicKey,
    issuerKey: chain.subKey,
    issuerCert: chain.sub,
    identity: r.identity,
    altNames: r.altNames,
    urls: { crlUrls: ['http://crl.example.cn/sub.crl'], ocspUrls: ['http://ocsp.example.cn'], caIssuersUrls: ['http://ca.example.cn/sub.cer'], cpsUrl: 'https://ca.example.cn/cps' },
  });
  return { cert, chain };
}

test('profile data: 16 profiles load, with names, classes, both languages and placeholder policy OIDs', () => {
  assert.ok(isValidResidentId(RESIDENT_ID) && isValidSocialCreditCode(USCC) && isValidOrganizationCode(ORG_CODE));
  const profiles = listProfiles();
  assert.equal(profiles.length, 16);
  assert.equal(new Set(profiles.map((p) => p.name)).size, 16);
  const classes = new Set(profiles.map((p) => p.class));
  for (const c of ['internal-organization', 'internal-staff', 'internal-device', 'external-organization', 'external-person', 'external-device']) {
    assert.ok(classes.has(c as Profile['class']), c);
    const variants = profiles.filter((p) => p.class === c).map((p) => p.variant).sort();
    assert.deepEqual(variants, ['enc', 'sign'], `${c} has a signing and an encryption profile`);
  }
  for (const p of profiles) {
    assert.match(p.displayName['zh-CN'], /[\u4e00-\u9fff]/, `${p.name} zh-CN name`);
    assert.ok(p.displayName.en.length > 3 && p.description.en.length > 10 && p.description['zh-CN'].length > 5);
    for (const oid of policyOidsFor(p)) assert.ok(oid === OID.anyPolicy || oid.startsWith(POLICY_OIDS.arc + '.'), `${p.name} policy ${oid}`);
    assert.equal(p.keyAlgorithms[0], 'sm2', `${p.name} prefers SM2`);
  }
  assert.equal(POLICY_OIDS.placeholder, true);
  assert.equal(getProfile('tsa').extKeyUsage?.critical, true);
});

test('profile data: a malformed profile is refused when loaded', () => {
  const good = structuredClone(getProfile('staff-sign')) as unknown as Record<string, unknown>;
  assert.doesNotThrow(() => validateProfileData(good));
  const badKu = structuredClone(good);
  (badKu.keyUsage as Record<string, string[]>).sm2 = ['digitalSignature', 'signEverything'];
  assert.throws(() => validateProfileData(badKu), /keyUsage.sm2 has unknown entry "signEverything"/);
  const badPolicy = { ...structuredClone(good), policies: ['no-such-policy'] };
  assert.throws(() => validateProfileData(badPolicy), /policies has unknown entry/);
  const noZh = { ...structuredClone(good), displayName: { en: 'x' } };
  assert.throws(() => validateProfileData(noZh), /displayName needs zh-CN and en/);
});

test('getProfile names the known profiles when asked for an unknown one', () => {
  assert.throws(() => getProfile('doctor'), (e: unknown) => e instanceof ProfileError && e.rule === 'unknown' && /known profiles: root-ca, sub-ca/.test(e.message));
});

test('every profile issues a conforming certificate for every allowed key algorithm; OpenSSL and BouncyCastle accept it', async () => {
  const issued: Array<{ p: Profile; alg: KeyAlgorithm; cert: Certificate; chain: Chain }> = [];
  for (const p of listProfiles()) {
    for (const alg of p.keyAlgorithms) {
      const { cert, chain } = issue(p, alg);
      checkCertificate(p, cert, p.class === 'root-ca' ? undefined : p.class === 'sub-ca' ? chain.root : chain.sub);
      issued.push({ p, alg, cert, chain });
    }
  }
  // Every allowed algorithm of every profile, and at least SM2 and P-256 everywhere.
  assert.ok(issued.length >= 16 * 4);
  for (const p of listProfiles()) for (const a of ['sm2', 'p256'] as const) assert.ok(issued.some((i) => i.p === p && i.alg === a), `${p.name} ${a}`);

  // openssl verify: the chain to the root (SM2 link by link with the standard user ID), then the
  // purpose each profile serves, asked of the certificate alone against its issuer (-partial_chain),
  // because the link-by-link SM2 check would also ask it of the intermediate.
  const verdicts = await Promise.all(
    issued.map(async ({ p, alg, cert, chain }) => {
      const isRoot = p.class === 'root-ca';
      const isSub = p.class === 'sub-ca';
      const name = `${p.name}/${alg}`;
      const path = await opensslVerifyCert({
        leaf: cert.der,
        chain: isRoot || isSub ? [] : [chain.sub.der],
        trusted: chain.root.der,
        // OpenSSL 3.0 checks a trusted root's self-signature without the SM2 user ID, so SM2 roots
        // have their self-signature checked with `openssl dgst` (opensslVerifySignedDer) instead.
        checkSelfSigned: isRoot && alg !== 'sm2',
      });
      if (!path.ok) return { name, ...path };
      if (isRoot) return { name: `${name} self-signature`, ...(await opensslVerifySignedDer(cert.der, cert.der)) };
      const issuer = isSub ? chain.root : chain.sub;
      const purpose = purposeFor(p, alg);
      return { name: `${name} purpose ${purpose}`, ...(await opensslVerifyCert({ leaf: cert.der, trusted: issuer.der, purpose, extraArgs: ['-partial_chain'] })) };
    }),
  );
  const failed = verdicts.filter((v) => !v.ok);
  assert.deepEqual(failed.map((v) => `${v.name}: ${v.output}`), []);

  // openssl x509 -text shows exactly the profile's key usage, EKU and basic constraints.
  await Promise.all(
    issued.map(async ({ p, alg, cert }) => {
      const r = await openssl(['x509', '-noout', '-text', '-inform', 'DER', '-in', 'c.der'], { files: { 'c.der': cert.der } });
      assert.equal(r.code, 0, r.stderr);
      const family = alg === 'sm2' ? 'sm2' : alg.startsWith('rsa') ? 'rsa' : 'ec';
      const ku = textExtension(r.stdout, 'X509v3 Key Usage');
      assert.ok(ku?.critical, `${p.name}/${alg} key usage critical`);
      assert.deepEqual(ku!.value.split(', ').sort(), p.keyUsage[family]!.map((u) => OPENSSL_KU[u]).sort(), `${p.name}/${alg} key usage`);
      const eku = textExtension(r.stdout, 'X509v3 Extended Key Usage');
      if (p.extKeyUsage) {
        assert.deepEqual(eku!.value.split(', ').sort(), p.extKeyUsage.purposes.map((u) => OPENSSL_EKU[u]).sort(), `${p.name} EKU`);
        assert.equal(eku!.critical, p.extKeyUsage.critical, `${p.name} EKU criticality`);
      } else assert.equal(eku, undefined);
      const bc = textExtension(r.stdout, 'X509v3 Basic Constraints');
      if (p.basicConstraints) assert.equal(bc?.value, p.basicConstraints.pathLen === undefined ? 'CA:TRUE' : `CA:TRUE, pathlen:${p.basicConstraints.pathLen}`);
      else assert.equal(bc, undefined);
      if (p.ocspNoCheck) assert.match(r.stdout, /OCSP No Check/);
      for (const oid of policyOidsFor(p)) assert.match(r.stdout, new RegExp(`Policy: ${oid === OID.anyPolicy ? 'X509v3 Any Policy' : oid.replace(/\./g, '\\.')}`));
    }),
  );

  // BouncyCastle PKIX validation of the whole path (it uses the SM2 standard user ID at every link).
  const jobs = issued.map(({ p, cert, chain }) => ({
    kind: 'path' as const,
    anchor: chain.root.der,
    chain: p.class === 'root-ca' ? [cert.der] : p.class === 'sub-ca' ? [cert.der] : [cert.der, chain.sub.der],
  }));
  const bc = await bcCheck(jobs);
  bc.forEach((v, i) => assert.ok(v.ok, `BouncyCastle ${issued[i]!.p.name}/${issued[i]!.alg}: ${v.output}`));
});

/** Asserts that `fn` throws a ProfileError for `rule`, with an English and a Chinese sentence. */
function assertRule(fn: () => unknown, rule: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProfileError, `expected a ProfileError, got ${String(e)}`);
    assert.equal(e.rule, rule, e.message);
    assert.match(e.message, /^profile [\w-]+: [A-Za-z"]/);
    assert.match((e as ProfileError & { messageZh: string }).messageZh, /^证书模板 [\w-]+：/);
    return true;
  });
}

test('each request rule rejects a request that breaks it and names the rule', () => {
  const sm2 = generateKey('sm2').publicKey;
  const p521 = importPrivateKey(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey.export({ type: 'pkcs8', format: 'der' })).publicKey;
  const rsa2048 = keyFor('rsa2048').publicKey;
  const staff = getProfile('staff-sign');
  const staffReq = (over: Partial<{ subject: string; publicKey: PublicKey; identity: HealthIdentity; altNames: AltName[]; validityDays: number }>) => () =>
    checkRequest(staff, {
      subject: parseName(over.subject ?? 'C=CN,O=北京协和医院,CN=张三'),
      publicKey: over.publicKey ?? sm2,
      identity: over.identity ?? { residentId: RESIDENT_ID },
      altNames: over.altNames,
      validityDays: over.validityDays,
    });
  // The good request passes.
  staffReq({})();
  const cases: Array<[string, () => unknown]> = [
    ['subject.required.O', staffReq({ subject: 'C=CN,CN=张三' })],
    ['subject.required.CN', staffReq({ subject: 'C=CN,O=北京协和医院' })],
    ['subject.required.C', staffReq({ subject: 'O=北京协和医院,CN=张三' })],
    ['subject.C.value', staffReq({ subject: 'C=US,O=Mayo Clinic,CN=John' })],
    ['subject.allowed.emailAddress', staffReq({ subject: 'C=CN,O=北京协和医院,CN=张三,E=zs@example.cn' })],
    ['subject.allowed.O', () => checkRequest(getProfile('person-sign'), { subject: parseName('C=CN,O=某公司,CN=李四'), publicKey: sm2, identity: { residentId: RESIDENT_ID } })],
    ['subject.CN.length', staffReq({ subject: `C=CN,O=北京协和医院,CN=${'张'.repeat(65)}` })],
    ['subject.O.length', staffReq({ subject: `C=CN,O=${'医'.repeat(65)},CN=张三` })],
    ['subject.OU.count', staffReq({ subject: 'C=CN,O=北京协和医院,OU=a,OU=b,OU=c,OU=d,OU=e,CN=张三' })],
    ['subject.CN.characters', staffReq({ subject: 'C=CN,O=北京协和医院,CN=张\u0001三' })],
    ['subject.multiValuedRdn', staffReq({ subject: 'C=CN,O=北京协和医院,CN=张三+title=医生' })],
    ['subject.CN.pattern', () => checkRequest(getProfile('device-sign'), { subject: parseName('C=CN,O=北京协和医院,CN=EMR server 01'), publicKey: sm2 })],
    ['key.algorithm', staffReq({ publicKey: p521 })],
    ['key.algorithm', () => checkRequest(getProfile('root-ca'), { subject: parseName('C=CN,O=CA,CN=Root'), publicKey: rsa2048 })],
    ['identity.required', staffReq({ identity: {} })],
    ['identity.residentId.format', staffReq({ identity: { residentId: '11010819900307123' } })],
    ['identity.residentId.checksum', staffReq({ identity: { residentId: '110108199003071239' } })],
    ['identity.residentId.checksum', staffReq({ identity: { residentId: '110108199002301230' } })],
    ['identity.passportNumber.format', staffReq({ identity: { passportNumber: 'e 123' } })],
    ['identity.identifyCode.single', staffReq({ identity: { residentId: RESIDENT_ID, passportNumber: 'E12345678' } })],
    ['identity.insuranceNumber.format', staffReq({ identity: { residentId: RESIDENT_ID, insuranceNumber: '社保123' } })],
    ['identity.unifiedSocialCreditCode.allowed', staffReq({ identity: { residentId: RESIDENT_ID, unifiedSocialCreditCode: USCC } })],
    ['identity.residentId.allowed', () => checkRequest(getProfile('org-sign'), { subject: parseName('C=CN,O=医院,CN=医院'), publicKey: sm2, identity: { unifiedSocialCreditCode: USCC, residentId: RESIDENT_ID } })],
    ['identity.required', () => checkRequest(getProfile('ext-org-enc'), { subject: parseName('C=CN,O=公司,CN=公司'), publicKey: sm2, identity: {} })],
    ['identity.unifiedSocialCreditCode.checksum', () => checkRequest(getProfile('org-sign'), { subject: parseName('C=CN,O=医院,CN=医院'), publicKey: sm2, identity: { unifiedSocialCreditCode: '12100000400000624E' } })],
    ['identity.unifiedSocialCreditCode.format', () => checkRequest(getProfile('org-sign'), { subject: parseName('C=CN,O=医院,CN=医院'), publicKey: sm2, identity: { unifiedSocialCreditCode: '12100000400000624' } })],
    ['identity.organizationCode.checksum', () => checkRequest(getProfile('org-sign'), { subject: parseName('C=CN,O=医院,CN=医院'), publicKey: sm2, identity: { organizationCode: '400000625' } })],
    ['san.allowed.dns', staffReq({ altNames: [{ type: 'dns', value: 'zhangsan.example.cn' }] })],
    ['san.email.format', staffReq({ altNames: [{ type: 'email', value: 'not-an-address' }] })],
    ['san.dns.format', () => checkRequest(getProfile('device-sign'), { subject: parseName('C=CN,O=医院,CN=emr-01'), publicKey: sm2, altNames: [{ type: 'dns', value: 'bad_host..cn' }] })],
    ['san.ip.format', () => checkRequest(getProfile('device-sign'), { subject: parseName('C=CN,O=医院,CN=emr-01'), publicKey: sm2, altNames: [{ type: 'ip', value: '10.1.2.300' }] })],
    ['san.uri.format', () => checkRequest(getProfile('device-sign'), { subject: parseName('C=CN,O=医院,CN=emr-01'), publicKey: sm2, altNames: [{ type: 'uri', value: 'no scheme here' }] })],
    ['san.allowed.email', () => checkRequest(getProfile('tsa'), { subject: parseName('C=CN,O=CA,CN=TSA'), publicKey: sm2, altNames: [{ type: 'email', value: 'tsa@example.cn' }] })],
    ['validity.max', staffReq({ validityDays: 731 })],
    ['validity.min', staffReq({ validityDays: 0 })],
    ['validity.max', () => checkRequest(getProfile('root-ca'), { subject: parseName('C=CN,O=CA,CN=Root'), publicKey: sm2, validityDays: 31 * 366 })],
  ];
  for (const [rule, fn] of cases) assertRule(fn, rule);
});

test('issuing checks the issuer: key match, CA status, pathLen, self-signing, validity nesting', () => {
  const chain = chainFor('sm2');
  const key = keyFor('sm2');
  const staff = goodRequest(getProfile('staff-sign'));
  const base = { profile: 'staff-sign', subject: parseName(staff.subject), publicKey: key.publicKey, identity: staff.identity };
  const leaf = issueFromProfile({ ...base, issuerKey: chain.subKey, issuerCert: chain.sub });
  assertRule(() => issueFromProfile({ ...base, issuerKey: chain.rootKey, issuerCert: chain.sub }), 'issuer.key');
  assertRule(() => issueFromProfile({ ...base, issuerKey: key, issuerCert: leaf }), 'issuer.ca');
  assertRule(() => issueFromProfile({ ...base, issuerKey: chain.subKey }), 'issuer.missing');
  assertRule(() => issueFromProfile({ ...base, issuerKey: chain.subKey, issuerCert: chain.sub, validityDays: 730, notBefore: addDays(chain.sub.notAfter, -100) }), 'validity.issuer');
  const ca = { profile: 'sub-ca', subject: parseName('C=CN,O=CA,CN=Another Sub'), publicKey: generateKey('sm2').publicKey };
  assertRule(() => issueFromProfile({ ...ca, issuerKey: chain.subKey, issuerCert: chain.sub }), 'issuer.pathLen');
  const root = { profile: 'root-ca', subject: parseName('C=CN,O=CA,CN=Root'), publicKey: key.publicKey };
  assertRule(() => issueFromProfile({ ...root, issuerKey: chain.rootKey }), 'issuer.key');
  assertRule(() => issueFromProfile({ ...root, issuerKey: key, issuerCert: chain.root }), 'issuer.unexpected');
  assertRule(() => issueFromProfile({ ...base, profile: 'no-such-profile', issuerKey: chain.subKey, issuerCert: chain.sub }), 'unknown');
});

/**
 * Builds a staff-sign (or other) certificate by hand, with the profile's extensions changed by
 * `edit`, signed by the SM2 issuing CA — what a buggy or malicious issuer might produce.
 */
function handMade(
  profileName: string,
  edit: (exts: Extension[]) => Extension[],
  opts: { subject?: string; days?: number; signer?: PrivateKey; identity?: HealthIdentity; issuer?: Certificate } = {},
): { profile: Profile; cert: Certificate; issuer: Certificate } {
  const chain = chainFor('sm2');
  const profile = getProfile(profileName);
  const r = goodRequest(profile);
  const key = keyFor('sm2');
  const issuerCert = opts.issuer ?? (profile.class === 'sub-ca' ? chain.root : chain.sub);
  const exts = certificateExtensionsFor(profile, { subjectKey: key.publicKey, issuerCert, identity: r.identity, altNames: r.altNames });
  const notBefore = wholeSeconds(new Date());
  const cert = buildCertificate(
    {
      subject: parseName(opts.subject ?? r.subject),
      issuer: issuerCert.subject,
      notBefore,
      notAfter: addDays(notBefore, opts.days ?? 365),
      publicKey: key.publicKey,
      extensions: edit(exts),
    },
    opts.signer ?? (profile.class === 'sub-ca' ? chain.rootKey : chain.subKey),
  );
  return { profile, cert, issuer: issuerCert };
}

const nonCritical = (e: Extension) => Object.assign(e, { critical: false });
const without = (oid: string) => (exts: Extension[]) => exts.filter((e) => e.extnID !== oid);
const replace = (oid: string, ext: Extension) => (exts: Extension[]) => exts.map((e) => (e.extnID === oid ? ext : e));

test('a certificate tampered with after issue fails checkCertificate with the rule named', () => {
  // The unmodified hand-made certificate passes, so each failure below is due to its one change.
  const ok = handMade('staff-sign', (e) => e);
  assert.deepEqual(certificateViolations(ok.profile, ok.cert, ok.issuer), []);

  const otherKey = generateKey('sm2');
  const cases: Array<[string, ReturnType<typeof handMade>]> = [
    ['keyUsage.bits', handMade('staff-sign', replace(EXT.keyUsage, keyUsageExt(['digitalSignature', 'keyEncipherment'])))],
    ['keyUsage.bits', handMade('staff-enc', replace(EXT.keyUsage, keyUsageExt(['digitalSignature', 'nonRepudiation'])))],
    ['keyUsage.critical', handMade('staff-sign', replace(EXT.keyUsage, nonCritical(keyUsageExt(['digitalSignature', 'nonRepudiation']))))],
    ['keyUsage.missing', handMade('staff-sign', without(EXT.keyUsage))],
    ['extKeyUsage.missing', handMade('staff-sign', without(EXT.extKeyUsage))],
    ['extKeyUsage.purposes', handMade('staff-sign', replace(EXT.extKeyUsage, extKeyUsageExt([OID.kpServerAuth])))],
    ['extKeyUsage.critical', handMade('tsa', replace(EXT.extKeyUsage, extKeyUsageExt([OID.kpTimeStamping], false)))],
    ['extKeyUsage.unexpected', handMade('sub-ca', (e) => [...e, extKeyUsageExt([OID.kpServerAuth])])],
    ['basicConstraints.pathLen', handMade('sub-ca', replace(EXT.basicConstraints, basicConstraintsExt(true, 1)))],
    ['basicConstraints.missing', handMade('sub-ca', without(EXT.basicConstraints))],
    ['basicConstraints.ca', handMade('staff-sign', (e) => [basicConstraintsExt(true), ...e])],
    ['subjectKeyIdentifier.missing', handMade('staff-sign', without(EXT.subjectKeyIdentifier))],
    ['authorityKeyIdentifier.missing', handMade('staff-sign', without(EXT.authorityKeyIdentifier))],
    ['policies.mismatch', handMade('staff-sign', without(EXT.certificatePolicies))],
    ['ocspNoCheck.missing', handMade('ocsp-signing', without(OID.ocspNoCheck))],
    ['extensions.unexpected', handMade('staff-sign', (e) => [...e, new X509Extension({ extnID: '1.2.3.4.5', critical: false, extnValue: new OctetString(new Uint8Array([5, 0])) })])],
    ['identity.required', handMade('staff-sign', without(OID.identityCode))],
    ['identity.residentId.checksum', handMade('staff-sign', (e) => [...without(OID.identityCode)(e), ...identityExtensions({ residentId: '110108199003071239' })])],
    ['validity.max', handMade('staff-sign', (e) => e, { days: 800 })],
    ['subject.C.value', handMade('staff-sign', (e) => e, { subject: 'C=US,O=Mayo Clinic,CN=John' })],
    ['subject.required.O', handMade('staff-sign', (e) => e, { subject: 'C=CN,CN=张三' })],
    ['signature.invalid', handMade('staff-sign', (e) => e, { signer: otherKey })],
  ];
  for (const [rule, { profile, cert, issuer }] of cases) {
    assertRule(() => checkCertificate(profile, cert, issuer), rule);
    assert.ok(certificateViolations(profile, cert, issuer).some((v) => v.rule === rule), rule);
  }

  // AKI naming some other key: wrong relative to the issuer.
  const chain = chainFor('sm2');
  const wrongAki = handMade('staff-sign', (e) => e, { issuer: chain.root, signer: chain.subKey });
  const vs = certificateViolations(wrongAki.profile, wrongAki.cert, chain.sub).map((v) => v.rule);
  assert.ok(vs.includes('authorityKeyIdentifier.mismatch'), vs.join(' '));
});

test('pairwise consistency test: a key signs for its own public key only; a tested software key is not re-verified per certificate, SM2 and device keys still are', () => {
  for (const alg of ['p256', 'rsa2048', 'sm2'] as const) {
    const key = generateKey(alg);
    assert.equal(pairwiseConsistent(key, key.publicKey), true, alg);
    assert.equal(pairwiseConsistent(key, generateKey(alg).publicKey), false, `${alg}: another key's public half`);
  }
  assert.equal(needsSignatureCheckEachTime(generateKey('p256')), false);
  assert.equal(needsSignatureCheckEachTime(generateKey('rsa2048')), false);
  assert.equal(needsSignatureCheckEachTime(generateKey('sm2')), true);
  const p256 = generateKey('p256');
  const device: PrivateKey = { ...p256, signer: { description: 'test device', sign: (data) => signData(p256, data).signature } } as PrivateKey;
  assert.equal(needsSignatureCheckEachTime(device), true);

  // signatureKnownGood narrows only the signature check: a wrong signature then passes, every other rule still holds.
  const otherKey = generateKey('sm2');
  const badSig = handMade('staff-sign', (e) => e, { signer: otherKey });
  assert.ok(certificateViolations(badSig.profile, badSig.cert, badSig.issuer).some((v) => v.rule === 'signature.invalid'));
  assert.deepEqual(certificateViolations(badSig.profile, badSig.cert, badSig.issuer, { signatureKnownGood: true }), []);
  const noKu = handMade('staff-sign', without(EXT.keyUsage));
  assert.ok(certificateViolations(noKu.profile, noKu.cert, noKu.issuer, { signatureKnownGood: true }).some((v) => v.rule === 'keyUsage.missing'));

  // issueFromProfile with a tested P-256 issuer key: the certificate still verifies (checked here, outside the lint).
  const rootKey = generateKey('p256');
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName('C=CN,O=t,CN=t root'), publicKey: rootKey.publicKey, issuerKey: rootKey });
  const holder = generateKey('p256');
  const cert = issueFromProfile({ profile: 'staff-sign', subject: parseName('C=CN,O=示例医院,CN=张三'), publicKey: holder.publicKey, issuerCert: root, issuerKey: rootKey, identity: { residentId: '11010519491231002X' }, issuerKeyTested: true });
  assert.equal(cert.verifySignature(root.publicKey), true);
});

test('checkCertificate reads OpenSSL-made certificates and names what breaks the profile', async () => {
  const r = await openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-subj', '/C=CN/O=Test CA/CN=OpenSSL Root', '-days', '3650', '-out', 'c.pem'],
    { outputs: ['c.pem'] },
  );
  assert.equal(r.code, 0, r.stderr);
  const cert = Certificate.parse(r.outputs['c.pem']!);
  // OpenSSL's default v3_ca root has basicConstraints, SKI and AKI but no key usage.
  const rules = certificateViolations(getProfile('root-ca'), cert).map((v) => v.rule);
  assert.deepEqual(rules, ['keyUsage.missing']);
  const asStaff = certificateViolations(getProfile('staff-sign'), cert).map((v) => v.rule);
  for (const rule of ['identity.required', 'keyUsage.missing', 'extKeyUsage.missing', 'basicConstraints.ca', 'validity.max', 'policies.mismatch']) {
    assert.ok(asStaff.includes(rule), `${rule} in ${asStaff.join(' ')}`);
  }
});

test('key usage follows the key family in encryption profiles (RFC 5480 for ECDSA curves, GM/T 0015 practice for SM2)', () => {
  const enc = getProfile('staff-enc');
  for (const [alg, expected] of [
    ['sm2', ['keyEncipherment', 'dataEncipherment', 'keyAgreement']],
    ['p256', ['keyAgreement']],
    ['rsa2048', ['keyEncipherment', 'dataEncipherment']],
  ] as const) {
    const { cert } = issue(enc, alg);
    assert.deepEqual(cert.keyUsage?.sort(), [...expected].sort(), alg);
  }
  const sign = issue(getProfile('staff-sign'), 'sm2').cert;
  assert.deepEqual(sign.keyUsage, ['digitalSignature', 'nonRepudiation']);
  assert.deepEqual(sign.identity, { residentId: RESIDENT_ID });
  assert.deepEqual(sign.policies, [POLICY_OIDS.policies['staff-sign']]);
  assert.ok(KEY_ALGORITHMS.every((a) => enc.keyAlgorithms.includes(a)));
});

test('docs/profiles.md lists every profile with its key usage, maximum validity and policy OID', async () => {
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile(new URL('../../../../docs/profiles.md', import.meta.url), 'utf8');
  for (const p of listProfiles()) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${p.name}\` |`));
    assert.ok(row, `${p.name} has a row`);
    assert.ok(row.includes(`/ ${p.validity.maxDays} |`), `${p.name} max validity`);
    for (const oid of policyOidsFor(p)) assert.ok(row.includes(oid), `${p.name} policy ${oid}`);
    for (const ku of Object.values(p.keyUsage).flat()) assert.ok(row.includes(ku), `${p.name} key usage ${ku}`);
  }
  assert.match(doc, /national office .* must assign the sector's real policy OIDs/s);
});

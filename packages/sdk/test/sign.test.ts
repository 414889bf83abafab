/**
 * Signed records against the real demo deployment (CA service with OCSP, CRLs and TSA; the
 * platform's signed trust list), for both demo CAs: sign + time-stamp + archive, verify; revoked
 * after signing still verifies, revoked before does not; tampered records and wrong time-stamps
 * are refused with their reason; OpenSSL (P-256) and BouncyCastle (SM2) read what we write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignedDataDoc, generateKey, signData, type CmsAttribute } from '@health-pki/pki';
import { startDeployment, type Deployment, type Holder } from './helpers/deployment.js';
import { TrustStore } from '../src/trust/index.js';
import { TsaClient } from '../src/timestamp/index.js';
import { SigningError, readUnsignedAttributes, signRecord, verifyRecord, withUnsignedAttributes } from '../src/signing/index.js';
import { ATTR, decodeCertValues, decodeRevocationValues, fetchOcsp } from '../src/evidence/index.js';

const outsideUrl = new URL('../../../pki/dist/test/helpers/outside.js', import.meta.url);
type Verdict = { ok: boolean; output: string };
interface Outside {
  opensslCmsVerify(cms: Uint8Array, o: { content?: Uint8Array; trusted?: Uint8Array[]; purpose?: string }): Promise<Verdict>;
  bcCheck(jobs: Array<{ kind: 'cms'; cms: Uint8Array; content?: Uint8Array } | { kind: 'tsp'; token: Uint8Array; data?: Uint8Array }>): Promise<Verdict[]>;
  openssl(args: string[], opts?: { files?: Record<string, Uint8Array | string> }): Promise<{ code: number; stdout: string; stderr: string }>;
}
const outside = async () => (await import(outsideUrl.href)) as Outside;

const RECORD = Buffer.from('门诊病历 2026-11-28: 张三, 诊断: 高血压; 处方: 氨氯地平 5mg qd', 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let d: Deployment;
let trust: TrustStore;

before(async () => {
  d = await startDeployment();
  trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
  const u = await trust.refresh();
  assert.ok(u.accepted, u.reason);
});
after(async () => {
  await d?.close();
});

const CASES = [
  { ca: 'demo-p256', tsaPath: '/tsa', hash: 'sha256' as const },
  { ca: 'demo-sm2', tsaPath: '/tsa/sm2', hash: 'sm3' as const },
];

function tsa(path: string, hash: 'sha256' | 'sm3'): TsaClient {
  return new TsaClient({ url: d.ca.url + path, trusted: trust.certificates().map((c) => c.certificate), hash });
}

/** Waits until the CA's OCSP responder says revoked (the responder drops cached answers within ~0.2 s). */
async function untilRevoked(h: Holder): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await fetchOcsp(h.certificate, h.chain[0]!);
    if (r.response?.responseFor(h.certificate, h.chain[0]!)?.status === 'revoked') return;
    await sleep(100);
  }
  throw new Error('OCSP never said revoked');
}

for (const c of CASES) {
  describe(`signed records, ${c.ca}`, () => {
    const sign = (h: Holder, data = RECORD) => signRecord(data, { key: h.key, certificate: h.certificate, chain: h.chain }, { tsa: tsa(c.tsaPath, c.hash), trust });

    test('sign + time-stamp + archive, then verify: who, what, when', async () => {
      const h = await d.issue(c.ca);
      const s = await sign(h);
      assert.deepEqual(s.warnings, []);
      assert.ok(s.timeStamp);
      assert.ok(s.archived.certificates >= 3 && s.archived.ocspResponses >= 2, JSON.stringify(s.archived));
      const doc = SignedDataDoc.parse(s.der);
      assert.ok(doc.isDetached);
      assert.equal(doc.isGm, c.ca === 'demo-sm2'); // GM/T 0010 OIDs for SM2
      const attrs = readUnsignedAttributes(s.der).map((a) => a.type).sort();
      assert.deepEqual(attrs, [ATTR.signatureTimeStampToken, ATTR.certValues, ATTR.revocationValues].sort());

      const v = await verifyRecord(RECORD, s.der, { trust });
      assert.ok(v.valid, JSON.stringify(v.reason));
      assert.equal(v.signer!.serialHex, h.certificate.serialHex);
      assert.equal(v.signer!.identity.residentId, '11010519491231002X');
      assert.equal(v.signingTime!.getTime(), s.timeStamp!.genTime.getTime());
      assert.ok(Math.abs(v.claimedSigningTime!.getTime() - v.signingTime!.getTime()) < 5000);
      assert.equal(v.revocation!.status, 'good');
      assert.equal(v.path!.length, 3);
      // Offline: the archived OCSP responses alone decide.
      const off = await verifyRecord(RECORD, s.der, { trust, online: false });
      assert.ok(off.valid, JSON.stringify(off.reason));
      assert.equal(off.revocation!.fromArchive, true);
      // PEM in is accepted as well.
      assert.ok((await verifyRecord(RECORD, doc.toPem(), { trust, online: false })).valid);
    });

    test('revoked after signing: still valid (online: the revocation time is after genTime; offline: the archive)', async () => {
      const h = await d.issue(c.ca);
      const s = await sign(h);
      await sleep(1100); // revocation times are whole seconds: keep them clearly after genTime
      await d.revoke(h);
      await untilRevoked(h);
      const v = await verifyRecord(RECORD, s.der, { trust });
      assert.ok(v.valid, JSON.stringify(v.reason));
      assert.equal(v.revocation!.status, 'revoked');
      assert.ok(v.revocation!.revokedAt! > v.signingTime!);
      assert.equal(v.revocation!.fromArchive, false);
      const off = await verifyRecord(RECORD, s.der, { trust, online: false });
      assert.ok(off.valid, JSON.stringify(off.reason));
      assert.equal(off.revocation!.status, 'good');
      // A record signed after the revocation is refused.
      const late = await sign(h);
      assert.match(late.warnings.join('\n'), /revoked .* before this signature/);
      const lv = await verifyRecord(RECORD, late.der, { trust });
      assert.equal(lv.reason?.code, 'revokedBeforeSigning');
    });

    test('revoked before signing: refused online and offline, with the revocation time', async () => {
      const h = await d.issue(c.ca);
      await d.revoke(h, 'keyCompromise');
      await untilRevoked(h);
      const s = await sign(h);
      for (const online of [true, false]) {
        const v = await verifyRecord(RECORD, s.der, { trust, online });
        assert.equal(v.valid, false);
        assert.equal(v.reason!.code, 'revokedBeforeSigning', JSON.stringify(v.reason));
        assert.match(v.reason!.message, /signer's certificate was revoked at .* \(keyCompromise\), at or before the signing time/);
      }
    });

    test('tampered data, tampered records and wrong time-stamps are refused with the reason', async () => {
      const h = await d.issue(c.ca);
      const s = await sign(h);
      const other = await sign(h, Buffer.from('another record'));

      const changed = Buffer.from(RECORD);
      changed[changed.length - 1] ^= 1;
      assert.equal((await verifyRecord(changed, s.der, { trust })).reason?.code, 'tampered');

      // The signature value flipped: the signature no longer verifies.
      const doc = SignedDataDoc.parse(s.der);
      const sig = doc.signerInfos[0]!.signature;
      const at = s.der.indexOf(sig);
      const flipped = Buffer.from(s.der);
      flipped[at + 10] ^= 0x01;
      const fv = await verifyRecord(RECORD, flipped, { trust });
      assert.ok(fv.reason?.code === 'badSignature' || fv.reason?.code === 'malformed', JSON.stringify(fv.reason));

      // Another record's time-stamp grafted onto this signature: it stamps another signature.
      const attrs = readUnsignedAttributes(s.der);
      const foreign = readUnsignedAttributes(other.der).find((a) => a.type === ATTR.signatureTimeStampToken)!;
      const grafted = withUnsignedAttributes(s.der, attrs.map((a) => (a.type === ATTR.signatureTimeStampToken ? foreign : a)));
      const gv = await verifyRecord(RECORD, grafted, { trust });
      assert.equal(gv.reason?.code, 'badTimestamp');
      assert.match(gv.reason!.message, /imprintMismatch/);

      // No time-stamp at all: refused by default, accepted (claimed time) only when asked.
      const bare = withUnsignedAttributes(s.der, attrs.filter((a) => a.type !== ATTR.signatureTimeStampToken));
      assert.equal((await verifyRecord(RECORD, bare, { trust })).reason?.code, 'noTimestamp');
      const allowed = await verifyRecord(RECORD, bare, { trust, allowUntimestamped: true });
      assert.ok(allowed.valid, JSON.stringify(allowed.reason));
      assert.equal(allowed.timeStamp, undefined);

      // A TSA nobody trusts: a pinned other certificate.
      const stranger = trust.certificates().find((x) => x.ca !== c.ca)!.certificate;
      const tv = await verifyRecord(RECORD, s.der, { trust, tsaCert: stranger });
      assert.equal(tv.reason?.code, 'badTimestamp');

      // Two tokens: ambiguous, refused.
      const twice = withUnsignedAttributes(s.der, [...attrs, foreign]);
      assert.equal((await verifyRecord(RECORD, twice, { trust })).reason?.code, 'badTimestamp');

      // Garbage in: a reason, never an exception.
      for (const junk of [Buffer.alloc(0), Buffer.from('not cms'), s.der.subarray(0, s.der.length - 7)]) {
        assert.equal((await verifyRecord(RECORD, junk, { trust })).reason?.code, 'malformed');
      }
      // Offline with the archived revocation data stripped: nothing says whether it was revoked.
      const stripped = withUnsignedAttributes(s.der, attrs.filter((a) => a.type !== ATTR.revocationValues));
      const sv = await verifyRecord(RECORD, stripped, { trust, online: false });
      assert.equal(sv.reason?.code, 'revocationUnknown');
      assert.ok((await verifyRecord(RECORD, stripped, { trust })).valid); // online, fetched afresh

      // A signer claiming a signing time long after the time-stamp.
      const future = await signRecord(RECORD, { key: h.key, certificate: h.certificate }, { tsa: tsa(c.tsaPath, c.hash), trust, signingTime: new Date(Date.now() + 3_600_000) });
      assert.equal((await verifyRecord(RECORD, future.der, { trust })).reason?.code, 'signingTimeAfterTimestamp');

      // A corrupted archive is a reason too.
      const badArchive = withUnsignedAttributes(s.der, [...attrs.filter((a) => a.type !== ATTR.certValues), { type: ATTR.certValues, values: [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])] } satisfies CmsAttribute]);
      assert.equal((await verifyRecord(RECORD, badArchive, { trust })).reason?.code, 'malformed');
    });

    test('a signer from a CA not on the trust list is refused', async () => {
      const h = await d.issue(c.ca);
      const s = await sign(h);
      const others = trust.certificates().filter((x) => x.ca !== c.ca).map((x) => x.certificate);
      const v = await verifyRecord(RECORD, s.der, { trust: others, tsaTrust: trust });
      assert.equal(v.reason?.code, 'untrustedSigner');
      assert.equal((await verifyRecord(RECORD, s.der, { trust: [] })).reason?.code, 'untrustedSigner');
    });

    test('a token-held key signs through a callback; a callback with the wrong key is refused at signing', async () => {
      const h = await d.issue(c.ca);
      let calls = 0;
      const s = await signRecord(
        RECORD,
        {
          certificate: h.certificate,
          chain: h.chain,
          async sign(tbs, hash) {
            calls++;
            return signData(h.key, tbs, { hash }).signature;
          },
        },
        { tsa: tsa(c.tsaPath, c.hash), trust },
      );
      assert.equal(calls, 1);
      assert.ok((await verifyRecord(RECORD, s.der, { trust })).valid);
      const wrong = generateKey(h.alg);
      await assert.rejects(signRecord(RECORD, { certificate: h.certificate, sign: (tbs, hash) => signData(wrong, tbs, { hash }).signature }, {}), SigningError);
      await assert.rejects(signRecord(RECORD, { certificate: h.certificate, sign: () => Promise.reject(new Error('PIN locked')) }, {}), /PIN locked/);
    });

    test('the archive holds the signer and TSA paths and their OCSP responses', async () => {
      const h = await d.issue(c.ca);
      const s = await sign(h);
      const attrs = readUnsignedAttributes(s.der);
      const certs = decodeCertValues(attrs.find((a) => a.type === ATTR.certValues)!.values[0]!);
      assert.ok(certs.some((x) => x.der.equals(h.certificate.der)));
      assert.ok(certs.some((x) => x.der.equals(s.timeStamp!.tsaCert.der)));
      const rev = decodeRevocationValues(attrs.find((a) => a.type === ATTR.revocationValues)!.values[0]!);
      assert.ok(rev.ocsp.some((r) => r.responseFor(h.certificate, h.chain[0]!)?.status === 'good'));
    });
  });
}

describe('outside verifiers', () => {
  test('openssl cms -verify accepts a P-256 signed record with its time-stamp attribute, and refuses other data', async () => {
    const o = await outside();
    const h = await d.issue('demo-p256');
    const s = await signRecord(RECORD, { key: h.key, certificate: h.certificate, chain: h.chain }, { tsa: tsa('/tsa', 'sha256'), trust });
    const root = h.chain[h.chain.length - 1]!;
    const ok = await o.opensslCmsVerify(s.der, { content: RECORD, trusted: [root.der] });
    assert.ok(ok.ok, ok.output);
    const printed = await o.openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'r.der'], { files: { 'r.der': s.der } });
    assert.match(printed.stdout, /id-smime-aa-timeStampToken/);
    const bad = await o.opensslCmsVerify(s.der, { content: Buffer.from('other'), trusted: [root.der] });
    assert.equal(bad.ok, false);
  });

  test('BouncyCastle verifies SM2 (GM/T 0010) and P-256 records and the SM2 signature time-stamp', async () => {
    const o = await outside();
    const sm2 = await d.issue('demo-sm2');
    const p256 = await d.issue('demo-p256');
    const s1 = await signRecord(RECORD, { key: sm2.key, certificate: sm2.certificate, chain: sm2.chain }, { tsa: tsa('/tsa/sm2', 'sm3'), trust });
    const s2 = await signRecord(RECORD, { key: p256.key, certificate: p256.certificate, chain: p256.chain }, { tsa: tsa('/tsa', 'sha256'), trust });
    const token = readUnsignedAttributes(s1.der).find((a) => a.type === ATTR.signatureTimeStampToken)!.values[0]!;
    const sigValue = SignedDataDoc.parse(s1.der).signerInfos[0]!.signature;
    const r = await o.bcCheck([
      { kind: 'cms', cms: s1.der, content: RECORD },
      { kind: 'cms', cms: s2.der, content: RECORD },
      { kind: 'tsp', token, data: sigValue },
      { kind: 'cms', cms: s1.der, content: Buffer.from('other') },
    ]);
    assert.ok(r[0]!.ok, r[0]!.output);
    assert.ok(r[1]!.ok, r[1]!.output);
    assert.ok(r[2]!.ok, r[2]!.output);
    assert.equal(r[3]!.ok, false);
  });
});


/**
 * The GM/T 0020-style SOF_ facade against the demo deployment: containers and PIN login, raw and
 * CMS signatures (SM2 and P-256), certificate items, validation against the trust list, the
 * time-stamp functions, and bad input answered with a SOR_ code and a message, never an exception.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '@health-pki/pki';
import { startDeployment, RESIDENT_ID, type Deployment, type Holder } from './helpers/deployment.js';
import { TrustStore } from '../src/trust/index.js';
import { TsaClient } from '../src/timestamp/index.js';
import { fetchOcsp } from '../src/evidence/index.js';
import { SGD_CERT, SIGNED_MESSAGE_INFO, SOF_FLAG, SOR, STF, Sof, VALIDATE_CERT, softContainer } from '../src/sof/index.js';

let d: Deployment;
let trust: TrustStore;
let sof: Sof;
const holders: Record<string, Holder> = {};
const PIN = '123456';
const TEXT = '住院医嘱: 张三 2026-11-28 静脉滴注 0.9% 氯化钠 250ml';

before(async () => {
  d = await startDeployment();
  trust = new TrustStore({ platformUrl: d.platformUrl, platformCertificate: d.platformCertificate });
  assert.ok((await trust.refresh()).accepted);
  holders.sm2 = await d.issue('demo-sm2', { name: '李四' });
  holders.p256 = await d.issue('demo-p256', { name: '王五' });
  sof = new Sof({
    trust,
    tsa: new TsaClient({ url: d.ca.url + '/tsa/sm2', trusted: trust.certificates().map((c) => c.certificate), hash: 'sm3' }),
    containers: Object.entries(holders).map(([name, h]) => softContainer(name, { key: h.key, certificate: h.certificate, chain: h.chain, pin: PIN, maxRetries: 3 })),
  });
});
after(async () => {
  await d?.close();
});

/** The last error as [code, message], asserting a message is there whenever the code is not OK. */
function lastError(): number {
  const code = sof.SOF_GetLastError();
  if (code !== SOR.OK) assert.ok(sof.SOF_GetLastErrorMessage().length > 10, sof.SOF_GetLastErrorMessage());
  return code;
}

describe('containers and login', () => {
  test('user list, certificate export, PIN login with retries', async () => {
    assert.equal(sof.SOF_GetUserList(), '李四||sm2&&&王五||p256');
    assert.equal(sof.SOF_ExportUserCert('sm2'), holders.sm2!.certificate.der.toString('base64'));
    assert.equal(sof.SOF_ExportUserCert('nope'), '');
    assert.equal(lastError(), SOR.KEYNOTFOUNTERR);
    assert.equal(sof.SOF_ExportExChangeUserCert('sm2'), '');
    assert.equal(lastError(), SOR.CERTNOTFOUNTERR);

    assert.equal(await sof.SOF_SignData('p256', TEXT), '');
    assert.equal(lastError(), SOR.NOTLOGINERR);
    assert.equal(await sof.SOF_Login('p256', '000000'), false);
    assert.equal(lastError(), SOR.PINERR);
    assert.equal(await sof.SOF_GetPinRetryCount('p256'), 2);
    assert.equal(await sof.SOF_Login('p256', PIN), true);
    assert.equal(lastError(), SOR.OK);
    assert.equal(await sof.SOF_GetPinRetryCount('p256'), 3);
    assert.equal(await sof.SOF_Login('sm2', PIN), true);
  });
});

describe('signatures', () => {
  for (const c of ['sm2', 'p256'] as const) {
    test(`${c}: SOF_SignData / SOF_VerifySignedData`, async () => {
      await sof.SOF_Login(c, PIN);
      const cert = sof.SOF_ExportUserCert(c);
      const sig = await sof.SOF_SignData(c, TEXT);
      assert.ok(sig.length > 60, String(sof.SOF_GetLastErrorMessage()));
      assert.equal(await sof.SOF_VerifySignedData(cert, TEXT, sig), true, sof.SOF_GetLastErrorMessage());
      assert.equal(await sof.SOF_VerifySignedData(cert, TEXT + '.', sig), false);
      assert.equal(lastError(), SOR.VERIFYSIGNERR);
      assert.equal(await sof.SOF_VerifySignedData(cert, TEXT, 'not base64!'), false);
      assert.equal(lastError(), SOR.INDATAERR);
      assert.equal(await sof.SOF_VerifySignedData('garbage', TEXT, sig), false);
      assert.equal(lastError(), SOR.INDATAERR);
    });

    test(`${c}: SOF_SignMessage detached and attached, time-stamped; SOF_VerifySignedMessage; SOF_GetInfoFromSignedMessage`, async () => {
      await sof.SOF_Login(c, PIN);
      const detached = await sof.SOF_SignMessage(SOF_FLAG.DETACHED, c, TEXT);
      assert.ok(detached, sof.SOF_GetLastErrorMessage());
      assert.equal(await sof.SOF_VerifySignedMessage(detached, TEXT), true, sof.SOF_GetLastErrorMessage());
      assert.equal(await sof.SOF_VerifySignedMessage(detached, TEXT + '!'), false);
      assert.equal(lastError(), SOR.HASHNOTEQUALERR);
      assert.equal(await sof.SOF_VerifySignedMessage(detached), false);
      assert.equal(lastError(), SOR.INDATAERR);
      assert.equal(sof.SOF_GetInfoFromSignedMessage(detached, SIGNED_MESSAGE_INFO.CONTENT), '');

      const attached = await sof.SOF_SignMessage(SOF_FLAG.ATTACHED, c, TEXT);
      assert.equal(await sof.SOF_VerifySignedMessage(attached), true, sof.SOF_GetLastErrorMessage());
      assert.equal(await sof.SOF_VerifySignedMessage(attached, TEXT + '!'), false);
      assert.equal(lastError(), SOR.HASHNOTEQUALERR);
      assert.equal(Buffer.from(sof.SOF_GetInfoFromSignedMessage(attached, SIGNED_MESSAGE_INFO.CONTENT), 'base64').toString('utf8'), TEXT);
      assert.equal(sof.SOF_GetInfoFromSignedMessage(attached, SIGNED_MESSAGE_INFO.SIGNER_CERT), sof.SOF_ExportUserCert(c));
      assert.ok(sof.SOF_GetInfoFromSignedMessage(attached, SIGNED_MESSAGE_INFO.SIGNATURE).length > 60);
      assert.equal(sof.SOF_GetInfoFromSignedMessage(attached, 9), '');
      assert.equal(lastError(), SOR.PARAMETERNOTSUPPORTERR);
      assert.equal(await sof.SOF_SignMessage(7, c, TEXT), '');
      assert.equal(lastError(), SOR.PARAMETERNOTSUPPORTERR);
    });
  }

  test('a signed message whose bytes were changed is refused with a code', async () => {
    await sof.SOF_Login('sm2', PIN);
    const msg = Buffer.from(await sof.SOF_SignMessage(SOF_FLAG.ATTACHED, 'sm2', TEXT), 'base64');
    const at = msg.indexOf(Buffer.from(TEXT, 'utf8'));
    msg[at] ^= 1;
    assert.equal(await sof.SOF_VerifySignedMessage(msg.toString('base64')), false);
    assert.equal(lastError(), SOR.HASHNOTEQUALERR);
    assert.equal(await sof.SOF_VerifySignedMessage('AAAA'), false);
    assert.equal(lastError(), SOR.INDATAERR);
  });
});

describe('certificates', () => {
  test('SOF_GetCertInfo and SOF_GetCertInfoByOid', () => {
    const b64 = sof.SOF_ExportUserCert('sm2');
    const cert = Certificate.parse(Buffer.from(b64, 'base64'));
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.SUBJECT_CN), '李四');
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.SUBJECT_O), '示例医院');
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.SUBJECT_OU), '信息科');
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.SERIAL), cert.serialHex.toUpperCase());
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.VERSION), 'V3');
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.SUBJECT), cert.subjectText);
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.ISSUER), cert.issuerText);
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.NOTAFTER_TIME), cert.notAfter.toISOString());
    assert.equal(sof.SOF_GetCertInfo(b64, SGD_CERT.DER_PUBLIC_KEY), cert.spkiDer.toString('base64'));
    assert.ok(Buffer.from(sof.SOF_GetCertInfo(b64, SGD_CERT.DER_EXTENSIONS), 'base64')[0] === 0x30);
    assert.equal(sof.SOF_GetCertInfo(cert.toPem(), SGD_CERT.SUBJECT_CN), '李四'); // PEM is accepted too
    assert.equal(sof.SOF_GetCertInfo(b64, 0x7777), '');
    assert.equal(lastError(), SOR.PARAMETERNOTSUPPORTERR);
    assert.equal(sof.SOF_GetCertInfo('AAAA', SGD_CERT.SUBJECT_CN), '');
    assert.equal(lastError(), SOR.CERTENCODEERR);

    assert.equal(sof.SOF_GetCertInfoByOid(b64, '1.2.156.10260.4.1.1'), RESIDENT_ID);
    assert.equal(sof.SOF_GetCertInfoByOid(b64, '1.2.3.4'), '');
    assert.equal(lastError(), SOR.PARAMETERNOTSUPPORTERR);
  });

  test('SOF_ValidateCert: 0 for a good certificate, -3 once revoked, -1 from a CA not on the trust list', async () => {
    const h = await d.issue('demo-p256');
    const b64 = h.certificate.der.toString('base64');
    assert.equal(await sof.SOF_ValidateCert(b64), VALIDATE_CERT.OK, sof.SOF_GetLastErrorMessage());
    await d.revoke(h);
    for (let i = 0; i < 50 && (await fetchOcsp(h.certificate, h.chain[0]!)).response?.responseFor(h.certificate, h.chain[0]!)?.status !== 'revoked'; i++) await new Promise((r) => setTimeout(r, 100));
    const fresh = new Sof({ trust, containers: [] }); // no cached OCSP answer
    assert.equal(await fresh.SOF_ValidateCert(b64), VALIDATE_CERT.REVOKED);
    assert.equal(fresh.SOF_GetLastError(), SOR.CERTREVOKEDERR);

    await d.createUnadmittedCa('rogue-ca', 'p256');
    const rogue = await d.issue('rogue-ca', { alg: 'p256' });
    assert.equal(await sof.SOF_ValidateCert(rogue.certificate.der.toString('base64')), VALIDATE_CERT.UNTRUSTED);
    assert.equal(lastError(), SOR.CERTVERIFYERR);
    assert.equal(await sof.SOF_ValidateCert('%%%'), VALIDATE_CERT.OTHER);
    assert.equal(lastError(), SOR.INDATAERR);
  });
});

describe('time-stamps and the trust list', () => {
  test('request → TSA response → verify; items; wrong data refused', async () => {
    const req = sof.SOF_CreateTimeStampRequest(TEXT);
    assert.ok(req);
    const resp = await sof.SOF_CreateTimeStampResponse(req);
    assert.ok(resp, sof.SOF_GetLastErrorMessage());
    assert.equal(await sof.SOF_VerifyTimeStamp(TEXT, resp), true, sof.SOF_GetLastErrorMessage());
    assert.equal(await sof.SOF_VerifyTimeStamp(TEXT + '.', resp), false);
    assert.equal(lastError(), SOR.TSAERR);
    assert.match(sof.SOF_GetLastErrorMessage(), /imprintMismatch/);
    const time = new Date(sof.SOF_GetTimeStampInfo(resp, STF.TIME_OF_STAMP));
    assert.ok(Math.abs(time.getTime() - Date.now()) < 60_000);
    assert.ok(sof.SOF_GetTimeStampInfo(resp, STF.CN_OF_TSSIGNER).length > 0);
    assert.ok(Certificate.parse(Buffer.from(sof.SOF_GetTimeStampInfo(resp, STF.CERT_OF_TSSERVER), 'base64')));
    assert.equal(sof.SOF_GetTimeStampInfo(resp, STF.TIME_PRECISION), '1');
    assert.equal(sof.SOF_GetTimeStampInfo(resp, 0x999), '');
    assert.equal(lastError(), SOR.PARAMETERNOTSUPPORTERR);
    assert.equal(await sof.SOF_CreateTimeStampResponse('@@'), '');
    assert.equal(lastError(), SOR.INDATAERR);
    assert.equal(sof.SOF_GetTimeStampInfo('AAAA', STF.TIME_OF_STAMP), '');
    assert.equal(lastError(), SOR.INDATAERR);
    const noTsa = new Sof({ trust, containers: [] });
    assert.equal(noTsa.SOF_CreateTimeStampRequest(TEXT), '');
    assert.equal(noTsa.SOF_GetLastError(), SOR.NOTINITIALIZEERR);
  });

  test('trust list, random, version', async () => {
    assert.equal(await sof.SOF_UpdateTrustList(), true);
    const list = JSON.parse(sof.SOF_GetTrustList());
    assert.deepEqual(list.cas.map((c: { name: string }) => c.name).sort(), ['demo-p256', 'demo-sm2']);
    assert.equal(typeof list.version, 'number');
    assert.equal(Buffer.from(sof.SOF_GenRandom(16), 'base64').length, 16);
    assert.equal(sof.SOF_GenRandom(0), '');
    assert.equal(lastError(), SOR.INDATALENERR);
    assert.equal(sof.SOF_GetVersion(), '1.0');
  });
});

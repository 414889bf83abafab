/**
 * The hand-written readers of the issuance path (CSR parsing, the extension getters the profile
 * lint uses, the identity extensions) against the @peculiar schema decoders they replaced: the
 * same input must read the same, and what the hand path leaves alone is still read by the schema.
 * Random mutations of real requests compare both CSR readers wherever both accept the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import {
  Certificate,
  CertificationRequestDoc,
  EXT,
  OID,
  ParseError,
  PkiError,
  buildCsr,
  extKeyUsageExt,
  generateKey,
  identityExtensions,
  keyUsageNames,
  nameDer,
  parseName,
  readIdentity,
  readKeyUsageNames,
  subjectAltNameExt,
  type HealthIdentity,
} from '../src/index.js';
import { derTlv } from '../src/encoding/der-writer.js';
import { mulberry32, mutate } from './fuzz/mutate.js';
import { pkitsCertificateFiles } from './validation/pkits.js';

// The schema classes identity.ts decodes with, rebuilt here as the reference.
@AsnType({ type: AsnTypeTypes.Choice })
class IdentifyCode {
  @AsnProp({ type: AsnPropTypes.PrintableString, context: 0, implicit: true }) residenterCardNumber?: string;
  @AsnProp({ type: AsnPropTypes.Utf8String, context: 1, implicit: true }) militaryOfficerCardNumber?: string;
  @AsnProp({ type: AsnPropTypes.PrintableString, context: 2, implicit: true }) passportNumber?: string;
  constructor(params: Partial<IdentifyCode> = {}) {
    Object.assign(this, params);
  }
}
@AsnType({ type: AsnTypeTypes.Choice })
class PrintableValue {
  @AsnProp({ type: AsnPropTypes.PrintableString }) value = '';
  constructor(value = '') {
    this.value = value;
  }
}

/** What the getters gave when every extension was decoded with its schema. */
function schemaView(c: Certificate) {
  const dec = <T extends object>(oid: string, type: new () => T): T | undefined => {
    const e = c.extension(oid);
    return e ? AsnConvert.parse(e.extnValue, type) : undefined;
  };
  const ku = dec(EXT.keyUsage, x.KeyUsage);
  const eku = dec(EXT.extKeyUsage, x.ExtendedKeyUsage);
  const ski = dec(EXT.subjectKeyIdentifier, x.SubjectKeyIdentifier);
  const aki = dec(EXT.authorityKeyIdentifier, x.AuthorityKeyIdentifier);
  return {
    keyUsage: ku ? keyUsageNames(ku) : undefined,
    extKeyUsage: eku ? [...eku] : undefined,
    basicConstraints: dec(EXT.basicConstraints, x.BasicConstraints),
    subjectKeyId: ski ? Buffer.from(ski.buffer) : undefined,
    authorityKeyId: aki?.keyIdentifier ? Buffer.from(aki.keyIdentifier.buffer) : undefined,
    policies: [...(dec(EXT.certificatePolicies, x.CertificatePolicies) ?? [])].map((p) => p.policyIdentifier),
  };
}

function getterView(c: Certificate) {
  return { keyUsage: c.keyUsage, extKeyUsage: c.extKeyUsage, basicConstraints: c.basicConstraints, subjectKeyId: c.subjectKeyId, authorityKeyId: c.authorityKeyId, policies: c.policies };
}

test('extension getters read every NIST PKITS certificate as the schema decoders do', () => {
  const files = pkitsCertificateFiles();
  assert.ok(files.length > 400);
  let compared = 0;
  for (const { name: f, der } of files) {
    const c = Certificate.parse(der);
    let expected: ReturnType<typeof schemaView>;
    try {
      expected = schemaView(c);
    } catch {
      // A malformed extension: the getter must then fail as a ParseError too.
      assert.throws(() => getterView(c), ParseError, f);
      continue;
    }
    assert.deepEqual(getterView(c), expected, f);
    compared++;
  }
  assert.ok(compared > 400);
});

test('key usage bit strings of every length and unused-bit count read as the schema reads them', () => {
  const rng = mulberry32(7);
  for (let i = 0; i < 3000; i++) {
    const len = 1 + rng.int(6);
    const bytes = Buffer.from(Array.from({ length: len }, () => rng.int(256)));
    bytes[0] = rng.int(8);
    const der = derTlv(0x03, [bytes]);
    let expected: string[] | undefined;
    try {
      expected = keyUsageNames(AsnConvert.parse(der, x.KeyUsage));
    } catch {
      expected = undefined;
    }
    const fast = readKeyUsageNames(der);
    if (fast !== undefined) assert.deepEqual(fast, expected, der.toString('hex'));
  }
});

test('unusual extension encodings are left to the schema decoder and read as before', () => {
  const withExt = (e: x.Extension[]) => {
    const root = generateKey('p256');
    return Certificate.parse(Buffer.from(AsnConvert.serialize(new x.Certificate({
      tbsCertificate: new x.TBSCertificate({ version: 2, serialNumber: new Uint8Array([1]).buffer, signature: new x.AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), issuer: parseName('CN=i'), validity: new x.Validity({ notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') }), subject: parseName('CN=s'), subjectPublicKeyInfo: AsnConvert.parse(root.publicKey.spki, x.SubjectPublicKeyInfo), extensions: new x.Extensions(e) }),
      signatureAlgorithm: new x.AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
      signatureValue: new Uint8Array([0]).buffer,
    }))));
  };
  const raw = (oid: string, der: Buffer) => new x.Extension({ extnID: oid, critical: false, extnValue: new OctetString(der) });
  // Trailing bytes after the value, a long-form length, an AKI with an issuer and serial, a negative pathLen, a user notice.
  const cases = [
    raw(EXT.keyUsage, Buffer.from('03020186' + '00', 'hex')),
    raw(EXT.subjectKeyIdentifier, Buffer.from('04810401020304', 'hex')),
    raw(EXT.authorityKeyIdentifier, Buffer.from('3000', 'hex')),
    raw(EXT.extKeyUsage, Buffer.from('3000', 'hex')),
    raw(EXT.authorityKeyIdentifier, Buffer.from(AsnConvert.serialize(new x.AuthorityKeyIdentifier({ keyIdentifier: new x.KeyIdentifier(new Uint8Array([1, 2])), authorityCertIssuer: [new x.GeneralName({ dNSName: 'a' })], authorityCertSerialNumber: new Uint8Array([5]).buffer })))),
    raw(EXT.basicConstraints, Buffer.from('30060101ff0201ff', 'hex')),
    raw(EXT.certificatePolicies, Buffer.from(AsnConvert.serialize(new x.CertificatePolicies([new x.PolicyInformation({ policyIdentifier: '2.999.1', policyQualifiers: [new x.PolicyQualifierInfo({ policyQualifierId: x.id_qt_unotice, qualifier: AsnConvert.serialize(new x.UserNotice({ explicitText: new x.DisplayText({ utf8String: '说明' }) })) })] })])))),
    extKeyUsageExt(['1.3.6.1.5.5.7.3.2']),
  ];
  for (const e of cases) {
    const c = withExt([e]);
    let expected: unknown;
    try {
      expected = schemaView(c);
    } catch (err) {
      expected = err;
    }
    if (expected instanceof Error) assert.throws(() => getterView(c), ParseError, e.extnID);
    else assert.deepEqual(getterView(c), expected, e.extnID);
  }
});

test('identity extensions are written and read as the schema encoder and decoder do', () => {
  const rng = mulberry32(11);
  const alphabet = 'AZaz09 -./:?X\u00e9\u4e2d\u00ff\u0100';
  const text = () => Array.from({ length: rng.int(20) }, () => rng.pick([...alphabet])).join('');
  for (let i = 0; i < 300; i++) {
    const id: HealthIdentity = { residentId: rng.chance(0.5) ? text() : undefined, passportNumber: text(), militaryOfficerId: rng.chance(0.3) ? text() : undefined, insuranceNumber: text(), unifiedSocialCreditCode: text() };
    const exts = identityExtensions(id);
    const code = id.residentId ? new IdentifyCode({ residenterCardNumber: id.residentId }) : id.militaryOfficerId ? new IdentifyCode({ militaryOfficerCardNumber: id.militaryOfficerId }) : id.passportNumber ? new IdentifyCode({ passportNumber: id.passportNumber }) : undefined;
    const expected = [
      ...(code ? [{ oid: OID.identityCode, der: AsnConvert.serialize(code) }] : []),
      ...(id.insuranceNumber ? [{ oid: OID.insuranceNumber, der: AsnConvert.serialize(new PrintableValue(id.insuranceNumber)) }] : []),
      ...(id.unifiedSocialCreditCode ? [{ oid: OID.unifiedSocialCreditCode, der: AsnConvert.serialize(new PrintableValue(id.unifiedSocialCreditCode)) }] : []),
    ];
    assert.deepEqual(exts.map((e) => ({ oid: e.extnID, der: Buffer.from(e.extnValue.buffer).toString('hex') })), expected.map((e) => ({ oid: e.oid, der: Buffer.from(e.der).toString('hex') })));
    // Reading: the schema's decode of the same bytes.
    const read = readIdentity(exts);
    const ref: HealthIdentity = {};
    for (const e of exts) {
      if (e.extnID === OID.identityCode) {
        const c = AsnConvert.parse(e.extnValue, IdentifyCode);
        if (c.residenterCardNumber) ref.residentId = c.residenterCardNumber;
        if (c.militaryOfficerCardNumber) ref.militaryOfficerId = c.militaryOfficerCardNumber;
        if (c.passportNumber) ref.passportNumber = c.passportNumber;
      } else if (e.extnID === OID.insuranceNumber) ref.insuranceNumber = AsnConvert.parse(e.extnValue, PrintableValue).value;
      else if (e.extnID === OID.unifiedSocialCreditCode) ref.unifiedSocialCreditCode = AsnConvert.parse(e.extnValue, PrintableValue).value;
    }
    assert.deepEqual(read, ref);
  }
});

/** What the schema decoder made of a CSR, in the shape the hand reader gives. */
function schemaCsr(der: Buffer) {
  const asn = AsnConvert.parse(der, CertificationRequest);
  const info = asn.certificationRequestInfo;
  const attr = info.attributes?.find((a) => a.type === OID.extensionRequest);
  const extensions = attr && attr.values.length ? [...AsnConvert.parse(attr.values[0]!, x.Extensions)] : [];
  return { subject: info.subject, spki: Buffer.from(AsnConvert.serialize(info.subjectPKInfo)), extensions, algorithm: asn.signatureAlgorithm.algorithm, signature: Buffer.from(asn.signature) };
}

function handCsr(r: CertificationRequestDoc) {
  return { subject: r.subject, spki: r.spkiDer, extensions: r.requestedExtensions, algorithm: r.asn.signatureAlgorithm.algorithm, signature: Buffer.from(r.asn.signature) };
}

test('CSRs read by hand as by the schema decoder, for every key type and with requested extensions', () => {
  const subjects = ['C=CN,O=某医院,OU=信息科,CN=张三', 'CN=a+serialNumber=1,DC=example', 'C=CN', ''];
  for (const alg of ['p256', 'p384', 'rsa2048', 'sm2'] as const) {
    const key = generateKey(alg);
    for (const s of subjects) {
      const exts = [...identityExtensions({ residentId: '11010519491231002X', insuranceNumber: 'A1' }), subjectAltNameExt([{ type: 'dns', value: 'a.example' }, { type: 'email', value: 'z@example.cn' }])];
      const csr = buildCsr(parseName(s), key, s ? exts : []);
      const again = CertificationRequestDoc.parse(csr.der);
      assert.deepEqual(handCsr(again), schemaCsr(csr.der), `${alg} ${s}`);
      assert.ok(again.verifySignature(), `${alg} ${s}`);
      assert.deepEqual(nameDer(again.subject), Buffer.from(AsnConvert.serialize(again.subject)));
    }
  }
});

test('mutated CSRs: a hand-read request reads as the schema reads it; refusals are ParseErrors', () => {
  const seeds = (['p256', 'rsa2048', 'sm2'] as const).map((alg) => buildCsr(parseName('C=CN,O=某医院,CN=张三'), generateKey(alg), identityExtensions({ residentId: '11010519491231002X' })).der);
  const rng = mulberry32(2026);
  let agreed = 0;
  for (let i = 0; i < 3000; i++) {
    const { input } = mutate(seeds, rng);
    let hand: ReturnType<typeof handCsr> | undefined;
    try {
      const r = CertificationRequestDoc.parse(input);
      hand = handCsr(r);
      r.verifySignature();
    } catch (e) {
      assert.ok(e instanceof PkiError, `${input.toString('hex')}: ${String(e)}`);
      continue;
    }
    let schema: ReturnType<typeof schemaCsr> | undefined;
    try {
      schema = schemaCsr(input);
    } catch {
      continue; // the schema refused what the hand reader accepts: only ever the stricter of the two may differ
    }
    assert.deepEqual(hand, schema, input.toString('hex'));
    agreed++;
  }
  assert.ok(agreed > 100, `only ${agreed} mutated requests were read by both`);
});

test('a CSR whose key uses a BER length form is refused: the key goes into the certificate as received', () => {
  const key = generateKey('p256');
  const asn = AsnConvert.parse(buildCsr(parseName('CN=x'), key).der, CertificationRequest);
  // The SPKI's outer length 0x59 written in long form (0x81 0x59), which BER allows and DER does not.
  const spki = Buffer.concat([Buffer.from([0x30, 0x81]), key.publicKey.spki.subarray(1)]);
  const info = derTlv(0x30, [Buffer.from('020100', 'hex'), Buffer.from(AsnConvert.serialize(asn.certificationRequestInfo.subject)), spki]);
  const bad = derTlv(0x30, [info, Buffer.from('300a06082a8648ce3d040302', 'hex'), Buffer.from('03020000', 'hex')]);
  assert.throws(() => CertificationRequestDoc.parse(bad), (e: unknown) => e instanceof ParseError && /non-DER length/.test((e as Error).message));
});

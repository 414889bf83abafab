/**
 * The parsers the fuzzer attacks. Each target names its seeds (valid inputs) and the errors it may
 * throw; anything else is a bug. Add a target by appending to `targets`.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Certificate,
  CertificationRequestDoc,
  Crl,
  OcspRequest,
  OcspResponse,
  PkiError,
  SignedDataDoc,
  addDays,
  authorityInfoAccessExt,
  basicConstraintsExt,
  buildCertificate,
  buildCrl,
  buildCsr,
  buildOcspErrorResponse,
  buildOcspRequest,
  buildOcspResponse,
  buildSm2EnvelopedKey,
  encodeKmcRequestBody,
  encodeKmcResponseBody,
  kmcSignatureValid,
  parseKmcRequestBody,
  parseKmcResponseBody,
  parseSignedKmcMessage,
  signKmcMessage,
  envelopePrivateKey,
  openEnvelopedPrivateKey,
  openSm2EnvelopedKey,
  certId,
  certificatePoliciesExt,
  crlDistributionPointsExt,
  exportPrivateKey,
  extKeyUsageExt,
  generateKey,
  identityExtensions,
  importPrivateKey,
  issueFromProfile,
  issueTimeStamp,
  keyAlgorithmOf,
  buildTimeStampRequest,
  timeStampRejection,
  verifyTimeStampToken,
  TimeStampRequest,
  TimeStampResponse,
  importPublicKey,
  keyUsageExt,
  nameToDer,
  parseName,
  publicKeyFromSpki,
  signCms,
  subjectAltNameExt,
  subjectKeyIdentifierExt,
  toPem,
  verifyCms,
  type KeyAlgorithm,
  type PrivateKey,
} from '../../src/index.js';
import type { FuzzTarget } from './run.js';

/** Library errors are the only ones callers are promised. */
const isPkiError = (e: unknown): boolean => e instanceof PkiError;

function keySeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  const algs: KeyAlgorithm[] = ['sm2', 'p256', 'p384', 'rsa2048'];
  for (const alg of algs) {
    const key = generateKey(alg);
    seeds.push(key.pkcs8, key.publicKey.spki);
    seeds.push(Buffer.from(toPem('PRIVATE KEY', key.pkcs8)), Buffer.from(toPem('PUBLIC KEY', key.publicKey.spki)));
    // The legacy forms importPrivateKey also reads: SEC1 for EC keys, PKCS#1 for RSA.
    const node = createPrivateKey({ key: key.pkcs8, format: 'der', type: 'pkcs8' });
    if (alg === 'rsa2048') {
      seeds.push(node.export({ type: 'pkcs1', format: 'der' }));
    } else if (alg !== 'sm2') {
      seeds.push(node.export({ type: 'sec1', format: 'der' }));
      seeds.push(Buffer.from(node.export({ type: 'sec1', format: 'pem' })));
    }
  }
  // Password-encrypted PKCS#8 (no passphrase is given while fuzzing: it must be refused cleanly).
  seeds.push(exportPrivateKey(generateKey('p256'), 'der', 'fuzz-pass'), exportPrivateKey(generateKey('sm2'), 'pem', 'fuzz-pass'));
  return seeds;
}

function looksLikePem(input: Buffer): boolean {
  return input.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

/**
 * Key import: PEM or DER private keys (PKCS#8, SEC1, PKCS#1, encrypted PKCS#8) and public keys
 * (SubjectPublicKeyInfo). Every entry point sees every input; each may only throw PkiError.
 */
export const keyImport: FuzzTarget = {
  name: 'key-import',
  seeds: keySeeds(),
  isExpectedError: isPkiError,
  parse(input) {
    const calls: Array<() => unknown> = looksLikePem(input)
      ? [() => importPrivateKey(input), () => importPublicKey(input)]
      : [() => importPrivateKey(input), () => publicKeyFromSpki(input), () => importPublicKey(input)];
    let accepted = 0;
    for (const call of calls) {
      try {
        call();
        accepted++;
      } catch (e) {
        if (!isPkiError(e)) throw e;
      }
    }
    // Reported to the runner as an expected rejection when no entry point took the input.
    if (accepted === 0) throw new PkiError('fuzz.rejected', 'no entry point accepted the input');
    return accepted;
  },
};

/** A small hierarchy per algorithm whose objects (certificates, CSR, CRL, OCSP, CMS) seed the DER targets. */
interface Material {
  ca: Certificate;
  caKey: PrivateKey;
  leaf: Certificate;
  csr: CertificationRequestDoc;
}

function material(alg: KeyAlgorithm): Material {
  const now = new Date('2026-01-01T00:00:00Z');
  const caKey = generateKey(alg);
  const ca = buildCertificate(
    {
      subject: parseName('C=CN,O=模糊测试认证机构,CN=Fuzz CA'),
      notBefore: now,
      notAfter: addDays(now, 3650),
      publicKey: caKey.publicKey,
      extensions: [basicConstraintsExt(true, 0), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(caKey.publicKey)],
    },
    caKey,
  );
  const holder = generateKey(alg);
  const csr = buildCsr(parseName('C=CN,O=某医院,OU=信息科,CN=张三'), holder, [
    ...identityExtensions({ residentId: '11010519491231002X', unifiedSocialCreditCode: '91350100M000100Y43' }),
    subjectAltNameExt([{ type: 'email', value: 'zhang@example.cn' }]),
  ]);
  const leaf = buildCertificate(
    {
      subject: csr.subject,
      issuer: ca.subject,
      notBefore: now,
      notAfter: addDays(now, 365),
      publicKey: csr.publicKey,
      extensions: [
        basicConstraintsExt(false),
        keyUsageExt(['digitalSignature', 'nonRepudiation']),
        extKeyUsageExt(['1.3.6.1.5.5.7.3.2']),
        certificatePoliciesExt([{ oid: '2.999.1.1', cps: 'http://ca.example.cn/cps' }]),
        crlDistributionPointsExt(['http://ca.example.cn/crl']),
        authorityInfoAccessExt(['http://ca.example.cn/ocsp'], ['http://ca.example.cn/ca.crt']),
        ...csr.requestedExtensions,
      ],
    },
    caKey,
  );
  return { ca, caKey, leaf, csr };
}

const MATERIAL = (['p256', 'sm2', 'rsa2048'] as const).map(material);

/** Real-world DER from NIST PKITS (beside the repository as ../shared/pkits), when present. */
function pkitsFiles(sub: 'certs' | 'crls', max: number): Buffer[] {
  const dir = process.env.PKITS_DIR ?? resolve(process.cwd(), '..', 'shared', 'pkits');
  try {
    return readdirSync(join(dir, sub)).sort().slice(0, max).map((f) => readFileSync(join(dir, sub, f)));
  } catch {
    return [];
  }
}

/** Certificates: parse, then touch every lazily decoded part, as a validator or `cert show` would. */
export const certificate: FuzzTarget = {
  name: 'certificate',
  seeds: [...MATERIAL.flatMap((m) => [m.ca.der, m.leaf.der, Buffer.from(m.leaf.toPem())]), ...pkitsFiles('certs', 40)],
  isExpectedError: isPkiError,
  parse(input) {
    const c = Certificate.parse(input);
    const seen: unknown[] = [c.subjectText, c.issuerText, c.serialHex, c.notBefore, c.notAfter, c.isSelfIssued, c.version];
    seen.push(c.basicConstraints, c.keyUsage, c.extKeyUsage, c.subjectKeyId, c.authorityKeyId, c.subjectAltNames, c.policies, c.crlUrls, c.aia, c.identity);
    seen.push(c.verifySignature(c.publicKey));
    return seen;
  },
};

/** PKCS#10 requests: parse, requested extensions, proof of possession. */
export const certificationRequest: FuzzTarget = {
  name: 'csr',
  seeds: MATERIAL.flatMap((m) => [m.csr.der, Buffer.from(m.csr.toPem())]),
  isExpectedError: isPkiError,
  parse(input) {
    const r = CertificationRequestDoc.parse(input);
    return [r.subjectText, r.requestedExtensions.length, r.verifySignature()];
  },
};

function crlSeed(m: Material, delta: boolean): Buffer {
  const entries = Array.from({ length: 5 }, (_, i) => ({
    serial: Buffer.from([0x10, i + 1]),
    revocationDate: new Date('2026-02-01T00:00:00Z'),
    reason: i % 2 ? ('keyCompromise' as const) : undefined,
    invalidityDate: i === 3 ? new Date('2026-01-15T00:00:00Z') : undefined,
  }));
  return buildCrl({
    issuer: m.ca,
    signer: m.caKey,
    thisUpdate: new Date('2026-02-02T00:00:00Z'),
    nextUpdate: new Date('2026-02-09T00:00:00Z'),
    crlNumber: 9n,
    deltaOf: delta ? 8n : undefined,
    entries,
    issuingDistributionPoint: { urls: ['http://ca.example.cn/crl'], onlyContainsUserCerts: true },
  }).der;
}

/** CRLs: parse, every entry, the extensions a validator reads, the signature. */
export const crl: FuzzTarget = {
  name: 'crl',
  seeds: [...MATERIAL.flatMap((m) => [crlSeed(m, false), crlSeed(m, true)]), ...pkitsFiles('crls', 30)],
  isExpectedError: isPkiError,
  parse(input) {
    const c = Crl.parse(input);
    const seen: unknown[] = [c.thisUpdate, c.nextUpdate, c.crlNumber, c.baseCrlNumber, c.issuingDistributionPoint, c.isDelta, c.revoked.length];
    seen.push(c.findRevoked(Buffer.from([0x10, 0x02])), c.verifySignature(MATERIAL[0]!.ca.publicKey));
    return seen;
  },
};

/** OCSP requests as a responder receives them. */
export const ocspRequest: FuzzTarget = {
  name: 'ocsp-request',
  seeds: MATERIAL.flatMap((m) => [
    buildOcspRequest({ certIds: [certId(m.leaf, m.ca, 'sha1')] }).der,
    buildOcspRequest({ certIds: [certId(m.leaf, m.ca, 'sha256'), certId(m.ca, m.ca, 'sm3')], nonce: Buffer.alloc(16, 7) }).der,
  ]),
  isExpectedError: isPkiError,
  parse(input) {
    const r = OcspRequest.parse(input);
    return [r.requests.length, r.nonce];
  },
};

/** OCSP responses as a relying party receives them. */
export const ocspResponse: FuzzTarget = {
  name: 'ocsp-response',
  seeds: [
    ...MATERIAL.map(
      (m) =>
        buildOcspResponse({
          responderCert: m.ca,
          signer: m.caKey,
          producedAt: new Date('2026-02-02T00:00:00Z'),
          responses: [
            { certId: certId(m.leaf, m.ca, 'sha1'), status: 'good', thisUpdate: new Date('2026-02-02T00:00:00Z'), nextUpdate: new Date('2026-02-03T00:00:00Z') },
            {
              certId: certId(m.ca, m.ca, 'sha256'),
              status: 'revoked',
              revocationTime: new Date('2026-02-01T00:00:00Z'),
              reason: 'keyCompromise',
              thisUpdate: new Date('2026-02-02T00:00:00Z'),
            },
          ],
          nonce: Buffer.alloc(16, 3),
          certs: [m.ca],
        }).der,
    ),
    buildOcspErrorResponse('malformedRequest').der,
  ],
  isExpectedError: isPkiError,
  parse(input) {
    const r = OcspResponse.parse(input);
    return r.isSuccessful ? [r.producedAt, r.responses.length, r.extensions.length] : r.status;
  },
};

/** CMS SignedData: parse and verify, attached and detached, standard and GM/T 0010 forms. */
export const cms: FuzzTarget = {
  name: 'cms',
  seeds: MATERIAL.flatMap((m) => [
    signCms({ content: Buffer.from('病历 record 1'), signer: m.caKey, cert: m.ca, signingTime: new Date('2026-02-02T00:00:00Z') }).der,
    signCms({ content: Buffer.from('detached'), signer: m.caKey, cert: m.ca, detached: true }).der,
  ]),
  isExpectedError: isPkiError,
  parse(input) {
    const doc = SignedDataDoc.parse(input);
    return verifyCms(doc, { content: doc.content ? undefined : Buffer.from('detached') });
  },
};

/** A TSA certificate (profile `tsa`) under each fuzz CA, for the time-stamp targets. */
const TSA = MATERIAL.map((m) => {
  const key = generateKey(keyAlgorithmOf(m.caKey)!);
  const cert = issueFromProfile({ profile: 'tsa', subject: parseName('C=CN,O=模糊测试认证机构,CN=Fuzz TSA'), publicKey: key.publicKey, issuerKey: m.caKey, issuerCert: m.ca, notBefore: new Date('2026-01-01T00:00:00Z') });
  return { key, cert, ca: m.ca };
});
const TSA_DATA = Buffer.from('时间戳 fuzz data');

function issueFuzzTimeStamp(request: Uint8Array, tsa = TSA[0]!): Buffer {
  return issueTimeStamp({ request, tsaCert: tsa.cert, tsaKey: tsa.key, serial: 0x0102030405060708090an, genTime: new Date('2026-03-01T08:30:15.25Z'), policy: '1.2.3.4.1', accuracy: { seconds: 1, millis: 5 } });
}

/**
 * RFC 3161 requests as a TSA receives them: parsing may only throw PkiError, and issueTimeStamp
 * must answer every input with a TimeStampResp (a rejection for bad requests), never throw.
 */
export const tspRequest: FuzzTarget = {
  name: 'tsp-request',
  seeds: [
    buildTimeStampRequest({ data: TSA_DATA }).der,
    buildTimeStampRequest({ data: TSA_DATA, hash: 'sm3', nonce: 0x1234567890abcdefn, certReq: true, reqPolicy: '1.2.3.4.1' }).der,
    buildTimeStampRequest({ data: TSA_DATA, hash: 'sha512', nonce: -5n, extensions: [{ oid: '1.2.3.9', critical: true, value: Buffer.from([5, 0]) }] }).der,
    Buffer.from(buildTimeStampRequest({ data: TSA_DATA, hash: 'sha384', certReq: true }).toPem()),
  ],
  isExpectedError: isPkiError,
  parse(input) {
    let resp: TimeStampResponse;
    try {
      resp = TimeStampResponse.parse(issueFuzzTimeStamp(input));
    } catch (e) {
      // Not a PkiError on purpose: the runner must count this as a bug, not a rejection.
      throw new Error(`issueTimeStamp did not answer with a TimeStampResp: ${String(e)}`);
    }
    const req = TimeStampRequest.parse(input);
    return [resp.status, resp.failInfo, req.messageImprint.hashAlgorithm, req.nonce, req.extensions.length];
  },
};

/** RFC 3161 responses and bare tokens as a relying party receives them: parse, then verify. */
export const tspResponse: FuzzTarget = {
  name: 'tsp-response',
  seeds: [
    ...TSA.map((t) => issueFuzzTimeStamp(buildTimeStampRequest({ data: TSA_DATA, hash: t.key.kind === 'sm2' ? 'sm3' : 'sha256', nonce: 7n, certReq: true }).der, t)),
    TimeStampResponse.parse(issueFuzzTimeStamp(buildTimeStampRequest({ data: TSA_DATA, certReq: true }).der)).token!.der,
    issueFuzzTimeStamp(buildTimeStampRequest({ data: TSA_DATA, hash: 'sha1' }).der),
    timeStampRejection('systemFailure', '系统故障'),
  ],
  isExpectedError: isPkiError,
  parse(input) {
    const v = verifyTimeStampToken(input, { data: TSA_DATA, trusted: TSA.map((t) => t.ca), nonce: 7n });
    return v.valid ? [v.genTime, v.serialNumber, v.policy] : [v.code, v.message];
  },
};

const ENVELOPE_HOLDERS = { sm2: generateKey('sm2'), p256: MATERIAL[0]!, rsa: MATERIAL[2]! };

/**
 * Key envelopes as a holder's token receives them: the GM/T 0009 SM2EnvelopedKey and CMS
 * EnvelopedData, opened with the holder's key (so decryption of mangled ciphertext is exercised too).
 */
export const envelope: FuzzTarget = {
  name: 'envelope',
  seeds: [
    buildSm2EnvelopedKey(generateKey('sm2'), ENVELOPE_HOLDERS.sm2.publicKey),
    envelopePrivateKey(generateKey('p256'), ENVELOPE_HOLDERS.p256.ca),
    envelopePrivateKey(generateKey('rsa2048'), ENVELOPE_HOLDERS.rsa.ca),
  ],
  isExpectedError: isPkiError,
  parse(input) {
    const openers = [
      () => openSm2EnvelopedKey(input, ENVELOPE_HOLDERS.sm2),
      () => openEnvelopedPrivateKey(input, ENVELOPE_HOLDERS.p256.caKey, ENVELOPE_HOLDERS.p256.ca),
      () => openEnvelopedPrivateKey(input, ENVELOPE_HOLDERS.rsa.caKey, ENVELOPE_HOLDERS.rsa.ca),
    ];
    for (const open of openers) {
      try {
        return open().kind;
      } catch (e) {
        if (!isPkiError(e)) throw e;
      }
    }
    throw new PkiError('fuzz.rejected', 'no holder could open the input');
  },
};

const KMC_SIGNER = generateKey('sm2');
const KMC_T0 = new Date('2026-11-28T08:00:00Z');

/**
 * CA–KMC messages as the KMC (requests) and the CA (responses) receive them: the signed wrapper,
 * its signature check and the body, in that order, as the services read them.
 */
export const kmcMessage: FuzzTarget = {
  name: 'kmc-message',
  seeds: [
    signKmcMessage(
      encodeKmcRequestBody({
        caName: nameToDer(parseName('C=CN,O=CA,CN=KMC access')),
        requests: [
          { type: 'apply', keyType: 'sm2', userCertNo: 0x1234n, recipientSpki: ENVELOPE_HOLDERS.sm2.publicKey.spki, notBefore: KMC_T0, notAfter: addDays(KMC_T0, 730), userName: '李四' },
          { type: 'restore', userCertNo: 0x1234n, recipientSpki: ENVELOPE_HOLDERS.sm2.publicKey.spki },
          { type: 'revoke', userCertNo: 9n },
        ],
        requestTime: KMC_T0,
        taskNo: 1n,
      }),
      KMC_SIGNER,
    ),
    signKmcMessage(
      encodeKmcResponseBody({
        kmName: nameToDer(parseName('C=CN,CN=KMC')),
        responses: [
          { type: 'key', userCertNo: 0x1234n, publicSpki: KMC_SIGNER.publicKey.spki, envelope: buildSm2EnvelopedKey(generateKey('sm2'), ENVELOPE_HOLDERS.sm2.publicKey) },
          { type: 'revoked', userCertNo: 9n },
          { type: 'error', code: 3, description: 'no such key' },
        ],
        respondTime: KMC_T0,
        taskNo: 1n,
      }),
      KMC_SIGNER,
    ),
  ],
  isExpectedError: isPkiError,
  parse(input) {
    const msg = parseSignedKmcMessage(input);
    const valid = kmcSignatureValid(msg, KMC_SIGNER.publicKey);
    try {
      return [valid, parseKmcRequestBody(msg.body).requests.length];
    } catch (e) {
      if (!isPkiError(e)) throw e;
      return [valid, parseKmcResponseBody(msg.body).responses.length];
    }
  },
};

/** Every fuzz target; `npm run fuzz` runs them all, `--target NAME` one of them. */
export const targets: FuzzTarget[] = [keyImport, certificate, certificationRequest, crl, ocspRequest, ocspResponse, cms, envelope, tspRequest, tspResponse, kmcMessage];

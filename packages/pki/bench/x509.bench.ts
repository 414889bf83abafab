/**
 * Issuing X.509 objects: certificate issuance (build + sign + encode + re-parse) as a fraction of
 * the raw signature rate of the same key, CRL building for large revocation lists, and OCSP
 * response signing.
 */
import { randomBytes } from 'node:crypto';
import { type Benchmark, type BenchRow, opsPerSecond } from './harness.js';
import { generateKey, type KeyAlgorithm, type PrivateKey } from '../src/crypto/keys.js';
import { signData } from '../src/crypto/signature.js';
import { type Certificate } from '../src/x509/certificate.js';
import { buildCertificate, randomSerial } from '../src/x509/certificate-build.js';
import { buildCrl, type CrlOptions } from '../src/x509/crl.js';
import {
  authorityKeyIdentifierExt,
  basicConstraintsExt,
  crlDistributionPointsExt,
  extKeyUsageExt,
  keyUsageExt,
  subjectAltNameExt,
  subjectKeyIdentifierExt,
} from '../src/x509/extensions.js';
import { parseName } from '../src/x509/name.js';
import { certId } from '../src/ocsp/cert-id.js';
import { buildOcspResponse } from '../src/ocsp/response.js';
import { OID } from '../src/oids.js';

const ISSUANCE_TARGET = '>= 70% of the raw signature rate';

function makeCa(alg: KeyAlgorithm): { key: PrivateKey; cert: Certificate } {
  const key = generateKey(alg);
  const cert = buildCertificate(
    {
      subject: parseName(`C=CN,O=卫生健康委员会,CN=Bench CA ${alg}`),
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      publicKey: key.publicKey,
      extensions: [basicConstraintsExt(true), keyUsageExt(['keyCertSign', 'crlSign']), subjectKeyIdentifierExt(key.publicKey)],
    },
    key,
  );
  return { key, cert };
}

/** Issuance of a typical end-entity certificate against the raw signing rate over a TBS-sized message. */
function issuanceRows(alg: KeyAlgorithm, label: string): BenchRow[] {
  const ca = makeCa(alg);
  const subjectKey = generateKey(alg).publicKey;
  const extensions = [
    basicConstraintsExt(false),
    keyUsageExt(['digitalSignature', 'nonRepudiation']),
    extKeyUsageExt([OID.kpClientAuth, OID.kpEmailProtection]),
    subjectKeyIdentifierExt(subjectKey),
    authorityKeyIdentifierExt(ca.cert.subjectKeyId!),
    subjectAltNameExt([{ type: 'email', value: 'doctor@hospital.example.cn' }]),
    crlDistributionPointsExt(['http://crl.example.cn/ca.crl']),
  ];
  const subject = parseName('C=CN,O=某某医院,OU=心内科,CN=张三');
  const issue = () =>
    buildCertificate(
      { subject, issuer: ca.cert.subject, notBefore: new Date(), notAfter: new Date(Date.now() + 365 * 86_400_000), publicKey: subjectKey, extensions },
      ca.key,
    );
  const tbsSize = issue().tbsDer.length;
  const message = randomBytes(tbsSize);
  const seconds = alg.startsWith('rsa') ? 3 : 2;
  const raw = opsPerSecond(() => signData(ca.key, message), seconds);
  const issued = opsPerSecond(issue, seconds);
  const ratio = issued / raw;
  return [
    { name: `${label} raw signature (${tbsSize}-byte message)`, value: raw, unit: 'ops/s' },
    {
      name: `${label} certificate issuance (build + sign + encode + parse)`,
      value: issued,
      unit: 'certs/s',
      ratio: { against: `${label} raw signature`, value: ratio },
      target: { text: ISSUANCE_TARGET, met: ratio >= 0.7 },
    },
  ];
}

/** Wall time of buildCrl for `n` entries (a third with a reason code); the entry list is made beforehand. */
function crlBuild(n: number, ca: { key: PrivateKey; cert: Certificate }): { ms: number; bytes: number; retainedMB: number } {
  const now = Date.now();
  const entries: CrlOptions['entries'] = Array.from({ length: n }, (_, i) => ({
    serial: randomSerial(),
    revocationDate: new Date(now - i * 1000),
    reason: i % 3 === 0 ? 'keyCompromise' : undefined,
  }));
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const before = used();
  const start = performance.now();
  const crl = buildCrl({ issuer: ca.cert, signer: ca.key, thisUpdate: new Date(now), nextUpdate: new Date(now + 86_400_000), crlNumber: 1n, entries });
  const ms = performance.now() - start;
  const retainedMB = (used() - before) / 2 ** 20;
  if (crl.revokedCount !== n) throw new Error('CRL lost entries');
  return { ms, bytes: crl.der.length, retainedMB };
}

const bench: Benchmark = async () => {
  const issuance = [...issuanceRows('p256', 'P-256'), ...issuanceRows('rsa2048', 'RSA-2048'), ...issuanceRows('sm2', 'SM2')];

  const crlCa = makeCa('p256');
  crlBuild(1000, crlCa); // warm-up
  const c100k = crlBuild(100_000, crlCa);
  const c1m = crlBuild(1_000_000, crlCa);

  const ocspCa = makeCa('p256');
  const leaf = buildCertificate(
    { subject: parseName('CN=leaf'), issuer: ocspCa.cert.subject, notBefore: new Date('2025-01-01'), notAfter: new Date('2030-01-01'), publicKey: generateKey('p256').publicKey },
    ocspCa.key,
  );
  const id = certId(leaf, ocspCa.cert);
  const nonce = randomBytes(16);
  const rawP256 = opsPerSecond(() => signData(ocspCa.key, randomBytes(200)));
  const ocsp = opsPerSecond(() => {
    const now = new Date();
    buildOcspResponse({
      responderCert: ocspCa.cert,
      signer: ocspCa.key,
      producedAt: now,
      responses: [{ certId: id, status: 'good', thisUpdate: now, nextUpdate: new Date(now.getTime() + 3_600_000) }],
      nonce,
    });
  });

  return [
    {
      title: 'Certificate issuance vs raw signature rate',
      rows: issuance,
      notes: [
        'Issuance = buildCertificate for an end-entity certificate with 7 extensions: TBSCertificate from @peculiar schemas, signature, DER, and the re-parse that returns a Certificate. Single thread.',
        'The raw rate signs a random message of the same length as the TBSCertificate with the same key (Node crypto; SM2 with the GM/T 0009 user ID through the library).',
      ],
    },
    {
      title: 'CRL building',
      rows: [
        { name: 'buildCrl, 100,000 entries', value: c100k.ms, unit: 'ms' },
        { name: 'buildCrl, 100,000 entries: CRL size', value: c100k.bytes / 2 ** 20, unit: 'MiB' },
        { name: 'buildCrl, 1,000,000 entries', value: c1m.ms, unit: 'ms', target: { text: '<= 3000 ms (later issue)', met: c1m.ms <= 3000 } },
        { name: 'buildCrl, 1,000,000 entries: CRL size', value: c1m.bytes / 2 ** 20, unit: 'MiB' },
        { name: 'buildCrl, 1,000,000 entries: memory held after the build (heap + buffers, incl. garbage)', value: c1m.retainedMB, unit: 'MiB' },
      ],
      notes: [
        'P-256 issuer; 16-byte random serials, distinct revocation times, a reasonCode on every third entry. The entry list is built before timing.',
        'Includes signing and the re-parse of the result (the revoked list is walked, not decoded). The input entry objects themselves (~1M Buffers and Dates) are not counted.',
      ],
    },
    {
      title: 'OCSP responses',
      rows: [
        { name: 'P-256 raw signature', value: rawP256, unit: 'ops/s' },
        { name: 'P-256 OCSP response build + sign (1 SingleResponse, nonce)', value: ocsp, unit: 'responses/s', ratio: { against: 'P-256 raw signature', value: ocsp / rawP256 } },
      ],
    },
  ];
};

export default bench;
